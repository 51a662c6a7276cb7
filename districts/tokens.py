"""API tokens (django-rest-knox): stored as SHA-512 digests, never in plain text; each expires
after its district's lifetime (District.settings["api_token_days"], default 90); all of a
person's tokens are revoked when their password changes or is reset, when their account is
deactivated, and when they lose their last district. Each person lists and revokes theirs on
/accounts/tokens/.

A person in several districts gets the shortest lifetime among them: a token is the person's,
not one district's, and no district should trust it longer than it chose.
"""

import datetime

from django.db.models import QuerySet
from django_scopes import scopes_disabled
from knox.models import AuthToken

DEFAULT_TOKEN_DAYS = 90
TOKEN_DAYS_RANGE = (1, 365)


def token_days(district) -> int:
    value = (district.settings or {}).get("api_token_days", DEFAULT_TOKEN_DAYS)
    return int(value) if str(value).isdigit() else DEFAULT_TOKEN_DAYS


def api_token_lifetime(user) -> datetime.timedelta:
    from .models import Membership

    with scopes_disabled():  # the person's own memberships, across their districts
        districts = [
            m.district for m in Membership.objects.filter(user=user, is_active=True).select_related("district")
        ]
    days = min((token_days(district) for district in districts), default=DEFAULT_TOKEN_DAYS)
    return datetime.timedelta(days=days)


def api_token_issue(*, user) -> tuple[AuthToken, str]:
    """A new token: the row (digest, prefix, expiry) and the token itself, shown once."""
    return AuthToken.objects.create(user=user, expiry=api_token_lifetime(user))


def api_token_list(*, user) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user).order_by("-created")


def api_token_revoke(*, user, token_key: str) -> int:
    """Revoke one of the person's tokens by its public prefix; another person's prefix revokes nothing."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted


def api_tokens_revoke_all(*, user) -> int:
    if user.pk is None:
        return 0
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
