"""District admins manage who may act in their district (service and page)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from districts.models import Membership, Role, RoleGrant
from districts.services import member_add, role_grant_remove


def test_member_add_creates_an_account_without_a_usable_password(tenant_a, in_scope):
    with in_scope(tenant_a.district):
        grant = member_add(
            district=tenant_a.district,
            email=" New.Lead@Example.org ",
            role=Role.ATTENDANCE_LEAD,
            school=tenant_a.school,
        )
    user = grant.membership.user
    assert user.email == "new.lead@example.org"
    assert not user.has_usable_password()
    assert grant.school == tenant_a.school


def test_member_add_is_idempotent_and_adds_roles_to_one_membership(tenant_a, in_scope):
    with in_scope(tenant_a.district):
        for _ in range(2):
            member_add(district=tenant_a.district, email="c@example.org", role=Role.COUNSELOR, school=tenant_a.school)
        member_add(district=tenant_a.district, email="c@example.org", role=Role.MENTOR)
        membership = Membership.objects.get(user__email="c@example.org")
        assert sorted(membership.grants.values_list("role", flat=True)) == [Role.COUNSELOR, Role.MENTOR]


@pytest.mark.parametrize(
    "role, with_school, field",
    [(Role.ATTENDANCE_LEAD, False, "school"), (Role.DISTRICT_STAFF, True, "school"), ("principal", False, "role")],
)
def test_member_add_refuses_a_role_school_mismatch(tenant_a, in_scope, role, with_school, field):
    with in_scope(tenant_a.district), pytest.raises(ValidationError) as error:
        member_add(
            district=tenant_a.district,
            email="x@example.org",
            role=role,
            school=tenant_a.school if with_school else None,
        )
    assert field in error.value.message_dict


def test_member_add_refuses_a_school_of_another_district(tenant_a, tenant_b, in_scope):
    with in_scope(tenant_a.district), pytest.raises(ValidationError):
        member_add(district=tenant_a.district, email="x@example.org", role=Role.COUNSELOR, school=tenant_b.school)


def test_removing_the_last_role_deactivates_the_membership(tenant_a, in_scope, login):
    user = tenant_a.user(Role.MENTOR)
    with in_scope(tenant_a.district):
        role_grant_remove(grant=RoleGrant.objects.get(membership__user=user))
        assert not Membership.objects.get(user=user).is_active
    assert login(user).get(f"/d/{tenant_a.district.slug}/students/").status_code == 404


def test_admin_adds_a_person_on_the_people_page(tenant_a, login, in_scope):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("districts:people", kwargs={"district": tenant_a.district.slug})
    response = client.post(url, {"email": "mentor2@example.org", "role": Role.MENTOR})
    assert response.status_code == 302
    with in_scope(tenant_a.district):
        assert RoleGrant.objects.filter(membership__user__email="mentor2@example.org", role=Role.MENTOR).exists()
    assert "mentor2@example.org" in client.get(url).content.decode()


def test_people_page_shows_the_error_for_a_school_role_without_school(tenant_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("districts:people", kwargs={"district": tenant_a.district.slug})
    response = client.post(url, {"email": "l@example.org", "role": Role.ATTENDANCE_LEAD})
    assert response.status_code == 400
    assert "is a school role" in response.content.decode()


def test_admin_cannot_remove_their_own_admin_role(tenant_a, login, in_scope):
    admin = tenant_a.user(Role.DISTRICT_ADMIN)
    with in_scope(tenant_a.district):
        grant = RoleGrant.objects.get(membership__user=admin)
    url = reverse("districts:role_grant_remove", kwargs={"district": tenant_a.district.slug, "grant_id": grant.pk})
    login(admin).post(url)
    with in_scope(tenant_a.district):
        assert RoleGrant.objects.filter(pk=grant.pk).exists()


def test_password_reset_sends_a_working_link(tenant_a, client, password):
    user = tenant_a.user(Role.COUNSELOR)
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    form_url = client.get(link.strip().split("testserver", 1)[1], follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"})
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")
