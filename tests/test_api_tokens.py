"""API tokens (districts/tokens.py, django-rest-knox): hashed, expiring after the district's
lifetime, revoked on password change or reset, deactivation and leaving the last district;
each person lists, creates and revokes theirs on /accounts/tokens/; DRF's old plain-text tokens
are converted by a migration and keep working until their new expiry."""

import datetime
import importlib
import re

from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_scopes import scope
from knox.models import AuthToken

from districts.models import Membership, Role, RoleGrant
from districts.services import role_grant_remove
from districts.tokens import api_token_issue

from .factories import PASSWORD, RoleGrantFactory


def _me(client, tenant, token):
    return client.get(f"/d/{tenant.district.slug}/api/me/", headers={"Authorization": f"Token {token}"})


def _obtain(client, user):
    response = client.post(
        reverse("api_token"), {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()


def test_a_token_expires_after_the_districts_lifetime(tenant_a, client):
    tenant_a.district.settings = {"api_token_days": 30}
    tenant_a.district.save()
    body = _obtain(client, tenant_a.user(Role.MENTOR))
    expiry = datetime.datetime.fromisoformat(body["expiry"])
    assert abs(expiry - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    assert _me(client, tenant_a, body["token"]).status_code == 200
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert _me(client, tenant_a, body["token"]).status_code == 401


def test_a_person_in_two_districts_gets_the_shorter_lifetime(tenant_a, tenant_b):
    tenant_a.district.settings = {"api_token_days": 60}
    tenant_a.district.save()
    tenant_b.district.settings = {"api_token_days": 7}
    tenant_b.district.save()
    user = tenant_a.user(Role.MENTOR)
    with scope(district=tenant_b.district):
        RoleGrantFactory(membership__district=tenant_b.district, membership__user=user, role=Role.MENTOR)
    row, _ = api_token_issue(user=user)
    assert (row.expiry - timezone.now()).days == 6  # 7 days less the seconds since


def test_changing_the_password_revokes_every_token(tenant_a, client):
    user = tenant_a.user(Role.COUNSELOR)
    first, second = _obtain(client, user)["token"], _obtain(client, user)["token"]
    user.set_password("a-brand-new-passphrase")
    user.save()
    assert [_me(client, tenant_a, token).status_code for token in (first, second)] == [401, 401]
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_password_reset_revokes_every_token(tenant_a, client):
    user = tenant_a.user(Role.COUNSELOR)
    token = _obtain(client, user)["token"]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    form_url = client.get(url)["Location"]  # Django moves the token into the session first
    response = client.post(
        form_url, {"new_password1": "correct-battery-staple-9", "new_password2": "correct-battery-staple-9"}
    )
    assert response.status_code == 302
    assert _me(client, tenant_a, token).status_code == 401


def test_deactivating_the_account_revokes_every_token(tenant_a, client):
    user = tenant_a.user(Role.COUNSELOR)
    token = _obtain(client, user)["token"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not AuthToken.objects.filter(user=user).exists()
    assert _me(client, tenant_a, token).status_code == 401


def test_leaving_the_last_district_revokes_tokens_but_leaving_one_of_two_does_not(tenant_a, tenant_b, client):
    user = tenant_a.user(Role.MENTOR)
    with scope(district=tenant_b.district):
        other = RoleGrantFactory(membership__district=tenant_b.district, membership__user=user, role=Role.MENTOR)
    token = _obtain(client, user)["token"]
    with scope(district=tenant_a.district):
        role_grant_remove(grant=RoleGrant.objects.get(membership__user=user))
    assert _me(client, tenant_b, token).status_code == 200  # still works where they still belong
    with scope(district=tenant_b.district):
        role_grant_remove(grant=other)
        assert not Membership.objects.get(user=user).is_active
    assert not AuthToken.objects.filter(user=user).exists()


def test_the_tokens_page_lists_creates_and_revokes_a_persons_own_tokens(tenant_a, login):
    user = tenant_a.user(Role.ATTENDANCE_LEAD)
    client = login(user)
    created = client.post(reverse("api_tokens"))
    assert created.status_code == 201 and "no-store" in created["Cache-Control"]
    token = re.search(r'id="new-token" type="text" readonly value="([0-9a-f]{64})"', created.content.decode())[1]
    assert _me(client, tenant_a, token).status_code == 200
    listing = client.get(reverse("api_tokens")).content.decode()
    assert f"{token[:8]}…" in listing and token not in listing  # the token itself is never shown again
    client.post(reverse("api_token_revoke", kwargs={"token_key": token[:15]}))
    assert _me(client, tenant_a, token).status_code == 401


def test_nobody_revokes_or_sees_another_persons_token(tenant_a, tenant_b, login):
    _, theirs = api_token_issue(user=tenant_b.user(Role.DISTRICT_ADMIN))
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    assert theirs[:8] not in client.get(reverse("api_tokens")).content.decode()
    assert client.post(reverse("api_token_revoke", kwargs={"token_key": theirs[:15]})).status_code == 404
    client.post(reverse("api_tokens_revoke_all"))
    assert AuthToken.objects.filter(user=tenant_b.user(Role.DISTRICT_ADMIN)).count() == 1


def test_the_tokens_page_asks_the_anonymous_to_sign_in(client):
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_migration_converts_drf_tokens_so_their_keys_keep_working_hashed(tenant_a, client):
    """An installation upgraded from DRF's authtoken: the plain-text table becomes knox digests."""
    user = tenant_a.user(Role.DISTRICT_STAFF)
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's 40-hex-character key
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, user.pk, timezone.now()])
    migration = importlib.import_module("districts.migrations.0005_api_tokens_to_knox")
    with connection.schema_editor(atomic=False) as editor:
        migration.convert_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    stored = AuthToken.objects.get(user=user)
    assert stored.digest != key and stored.expiry > timezone.now() + datetime.timedelta(days=89)
    assert _me(client, tenant_a, key).status_code == 200
