"""Email sign-in with a throttle on failures, and role-based landing pages."""

import pytest
from django.test import override_settings
from django.urls import reverse

from districts.models import Role


def _sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.mark.parametrize(
    "role, landing",
    [
        (Role.DISTRICT_ADMIN, "districts:people"),
        (Role.DISTRICT_STAFF, "pulse:dashboard"),
        (Role.ATTENDANCE_LEAD, "outreach:huddle_current"),
        (Role.COUNSELOR, "cases:caseload"),
        (Role.MENTOR, "outreach:roster"),
    ],
)
def test_each_role_lands_on_its_own_page(tenant_a, client, password, role, landing):
    response = _sign_in(client, tenant_a.user(role).email.upper(), password)
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.request["PATH_INFO"] == reverse(landing, kwargs={"district": tenant_a.district.slug})


def test_a_member_of_two_districts_chooses(tenant_a, tenant_b, client, password, in_scope):
    from districts.services import member_add

    user = tenant_a.user(Role.DISTRICT_STAFF)
    with in_scope(tenant_b.district):
        member_add(district=tenant_b.district, email=user.email, role=Role.DISTRICT_STAFF)
    _sign_in(client, user.email, password)
    page = client.get(reverse("home")).content.decode()
    assert "Alpha County Schools" in page and "Beta City Schools" in page


@override_settings(LOGIN_RATE_LIMIT="3/5m")
def test_repeated_failures_lock_the_account_for_a_while(tenant_a, client, password):
    email = tenant_a.user(Role.COUNSELOR).email
    for _ in range(3):
        assert _sign_in(client, email, "wrong-password").status_code == 200
    locked = _sign_in(client, email, password)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()


@override_settings(LOGIN_RATE_LIMIT="3/5m")
def test_successful_sign_ins_do_not_count_against_the_limit(tenant_a, client, password):
    email = tenant_a.user(Role.COUNSELOR).email
    for _ in range(5):
        assert _sign_in(client, email, password).status_code == 302
        client.logout()


def test_sign_out_needs_post_and_ends_the_session(tenant_a, login):
    client = login(tenant_a.user(Role.MENTOR))
    client.post(reverse("logout"))
    assert client.get(f"/d/{tenant_a.district.slug}/students/").status_code == 302


def test_responses_carry_a_content_security_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_only_superusers_reach_the_platform_admin(tenant_a, login, django_user_model):
    admin_user = tenant_a.user(Role.DISTRICT_ADMIN)
    admin_user.is_staff = True
    admin_user.save()
    assert login(admin_user).get("/admin/").status_code == 302
    root = django_user_model.objects.create_superuser(email="root@example.org", password="x-very-long-pass")
    response = login(root).get("/admin/students/student/")
    assert response.status_code == 200
