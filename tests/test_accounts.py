"""Adding people (issue 9 and 10): a new person gets the email to set their password, shown
on the page with one-click resend; someone with an account in another district gets an
invitation they accept, and the inviting district sees only what it entered. The district's
sign-in settings, and the idle sign-out."""

import re
import time

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from districts import sessions
from districts.models import Invitation, Membership, Role, RoleGrant

from .factories import PASSWORD, UserFactory


def _people(tenant) -> str:
    return reverse("districts:people", kwargs={"district": tenant.district.slug})


def _add(client, tenant, **data):
    return client.post(_people(tenant), {"role": Role.MENTOR, **data})


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body)[0]


def test_a_new_person_gets_the_email_to_set_their_password(tenant_a, login, client):
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    response = _add(admin, tenant_a, email="New.Mentor@Example.org", first_name="Nia", last_name="Okoro")
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["new.mentor@example.org"] and "Set your password" in message.subject
    page = admin.get(_people(tenant_a)).content.decode()
    assert "Nia Okoro" in page and "Invited: email sent" in page and "Resend" in page

    with scope(district=tenant_a.district):
        membership = Membership.objects.get(user__email="new.mentor@example.org")
    admin.post(reverse("districts:welcome_resend", kwargs={"district": "alpha", "membership_id": membership.pk}))
    assert len(mail.outbox) == 2  # one click, a fresh link

    admin.logout()
    form = client.get(_link(mail.outbox[1]), follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "sunny-garden-path-42", "new_password2": "sunny-garden-path-42"}
    )
    assert done.status_code == 302
    assert client.login(username="new.mentor@example.org", password="sunny-garden-path-42")
    client.logout()
    page = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(_people(tenant_a)).content.decode()
    assert "Invited: email sent" not in page


def test_someone_with_an_account_elsewhere_is_invited_and_their_name_stays_theirs(tenant_a, tenant_b, login, client):
    outsider = tenant_b.user(Role.COUNSELOR)
    outsider.first_name, outsider.last_name = "Private", "Person"
    outsider.save()
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    response = _add(
        admin, tenant_a, email=outsider.email, first_name="Typed", last_name="Name", role=Role.DISTRICT_STAFF
    )
    assert response.status_code == 302
    with scope(district=tenant_a.district):
        assert not Membership.objects.filter(user=outsider).exists()
        invitation = Invitation.objects.get()
    page = admin.get(_people(tenant_a)).content.decode()
    assert "Typed Name" in page and "Private" not in page and "Invited: email sent" in page
    (message,) = mail.outbox
    assert message.to == [outsider.email] and "Invitation to join Alpha County Schools" in message.subject
    link = _link(message)

    # Another signed-in person cannot use the link; the anonymous are asked to sign in.
    assert login(tenant_a.user(Role.MENTOR)).get(link).status_code == 404
    client.logout()
    assert client.get(link)["Location"].startswith(reverse("login"))

    invited = login(outsider)
    assert "Join Alpha County Schools" in invited.get(link).content.decode()
    accepted = invited.post(link, {"answer": "accept"})
    assert accepted.status_code == 302
    with scope(district=tenant_a.district):
        assert RoleGrant.objects.filter(membership__user=outsider, role=Role.DISTRICT_STAFF).exists()
        invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invited.get(link).status_code == 404  # answered: the link is spent


def test_the_page_words_an_invitation_like_a_new_account(tenant_a, tenant_b, login):
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    new = _add(admin, tenant_a, email="fresh@example.org")
    invited = _add(admin, tenant_a, email=tenant_b.user(Role.MENTOR).email)
    notices = [list(admin.get(_people(tenant_a)).context["messages"]) for _ in range(1)]
    assert new.status_code == invited.status_code == 302
    texts = [str(m) for m in notices[0]]
    assert texts == [
        "We emailed fresh@example.org a link: they join as Mentor when they use it.",
        f"We emailed {tenant_b.user(Role.MENTOR).email} a link: they join as Mentor when they use it.",
    ]


def test_an_invitation_can_be_declined_resent_and_removed(tenant_a, tenant_b, login):
    outsider = tenant_b.user(Role.MENTOR)
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    _add(admin, tenant_a, email=outsider.email)
    with scope(district=tenant_a.district):
        invitation = Invitation.objects.get()
    kwargs = {"district": "alpha", "invitation_id": invitation.pk}
    admin.post(reverse("districts:invitation_resend", kwargs=kwargs))
    first, second = mail.outbox
    assert _link(first) != _link(second)
    assert login(outsider).get(_link(first)).status_code == 404  # only the newest link works
    login(outsider).post(_link(second), {"answer": "decline"})
    with scope(district=tenant_a.district):
        assert Invitation.objects.get().declined_at is not None
        assert not Membership.objects.filter(user=outsider).exists()

    _add(login(tenant_a.user(Role.DISTRICT_ADMIN)), tenant_a, email=outsider.email)
    with scope(district=tenant_a.district):
        pending = Invitation.objects.get(declined_at__isnull=True)
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    admin.post(reverse("districts:invitation_cancel", kwargs={**kwargs, "invitation_id": pending.pk}))
    assert outsider.email not in admin.get(_people(tenant_a)).content.decode().split("<table")[1]


def test_a_member_of_the_district_gets_the_role_at_once(tenant_a, login):
    mentor = tenant_a.user(Role.MENTOR)
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    _add(admin, tenant_a, email=mentor.email, role=Role.DISTRICT_STAFF)
    with scope(district=tenant_a.district):
        assert RoleGrant.objects.filter(membership__user=mentor, role=Role.DISTRICT_STAFF).exists()
    assert not mail.outbox


def test_the_district_sets_token_lifetime_and_idle_sign_out(tenant_a, login):
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("districts:security", kwargs={"district": "alpha"})
    assert 'value="90"' in admin.get(url).content.decode() and 'value="30"' in admin.get(url).content.decode()
    assert admin.post(url, {"api_token_days": 0, "session_idle_minutes": 30}).status_code == 400
    assert admin.post(url, {"api_token_days": 14, "session_idle_minutes": 10}).status_code == 302
    tenant_a.district.refresh_from_db()
    assert tenant_a.district.settings == {"api_token_days": 14, "session_idle_minutes": 10}
    with scopes_disabled():
        from districts.models import AuditEvent

        assert AuditEvent.objects.filter(object_type="district_settings").count() == 1


@pytest.fixture
def idle(monkeypatch):
    """Move the clock of the idle check forward by `seconds`."""
    offset = {"seconds": 0}
    real = time.time
    monkeypatch.setattr(sessions.time, "time", lambda: real() + offset["seconds"])
    return offset


def test_a_session_ends_after_the_districts_idle_period(tenant_a, client, idle):
    tenant_a.district.settings = {"session_idle_minutes": 10}
    tenant_a.district.save()
    client.login(username=tenant_a.user(Role.MENTOR).email, password=PASSWORD)
    roster = reverse("outreach:roster", kwargs={"district": "alpha"})
    assert client.get(roster).status_code == 200
    idle["seconds"] = 9 * 60
    assert client.get(roster).status_code == 200  # activity: the clock starts again
    idle["seconds"] = 18 * 60
    assert client.get(roster).status_code == 200
    idle["seconds"] = 18 * 60 + 11 * 60
    signed_out = client.get(roster)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith(reverse("login"))
    assert "after 10 minutes without activity" in client.get(signed_out["Location"]).content.decode()
    assert client.get(roster).status_code == 302  # the session is gone


def test_a_page_polling_by_itself_does_not_keep_the_session_alive(tenant_a, client, idle):
    client.login(username=tenant_a.user(Role.MENTOR).email, password=PASSWORD)
    roster = reverse("outreach:roster", kwargs={"district": "alpha"})
    client.get(roster)
    idle["seconds"] = 20 * 60
    client.get(roster, headers={"X-AttendNC-Background": "1", "HX-Request": "true"})
    idle["seconds"] = 31 * 60
    response = client.get(roster, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login"))


def test_the_shortest_idle_period_of_a_persons_districts_applies(tenant_a, tenant_b, in_scope):
    from .factories import RoleGrantFactory

    user = UserFactory(email="both@example.org")
    for tenant, minutes in ((tenant_a, 45), (tenant_b, 15)):
        tenant.district.settings = {"session_idle_minutes": minutes}
        tenant.district.save()
        with in_scope(tenant.district):
            RoleGrantFactory(membership__district=tenant.district, membership__user=user, role=Role.MENTOR)
    assert sessions.idle_minutes_for(user) == 15
