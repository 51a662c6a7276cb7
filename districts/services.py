"""Writes for districts, people and the audit log. Management commands and views share these."""

import dataclasses
import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from .emails import invitation_email_send, welcome_email_send
from .models import SCHOOL_ROLES, AuditEvent, District, Invitation, Membership, Role, RoleGrant, School
from .tenancy import district_scope
from .tokens import api_tokens_revoke_all

User = get_user_model()


def district_create(
    *,
    slug: str,
    name: str,
    timezone: str = "America/New_York",
    school_year_start: datetime.date | None = None,
    school_year_end: datetime.date | None = None,
) -> District:
    district = District(
        slug=slug, name=name, timezone=timezone, school_year_start=school_year_start, school_year_end=school_year_end
    )
    district.full_clean()
    district.save()
    return district


def school_create(*, district: District, sis_id: str, name: str, grade_low: str = "", grade_high: str = "") -> School:
    school = School(district=district, sis_id=sis_id, name=name, grade_low=grade_low, grade_high=grade_high)
    school.full_clean()
    school.save()
    return school


@transaction.atomic
def member_add(
    *,
    district: District,
    email: str,
    role: str,
    school: School | None = None,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> RoleGrant:
    """Give a person a role in the district, creating their account if it is new.

    Without a password the account has none usable: the person sets one through the
    password-reset email, so no administrator ever knows it.
    """
    _check_role_school(district=district, role=role, school=school)
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, first_name=first_name, last_name=last_name)
        user.set_password(password) if password else user.set_unusable_password()
        user.full_clean()
        user.save()
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership, _ = Membership.objects.get_or_create(district=district, user=user)
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    grant, _ = RoleGrant.objects.get_or_create(district=district, membership=membership, role=role, school=school)
    return grant


@dataclasses.dataclass(frozen=True)
class PersonAdded:
    """What adding a person did: a role given (a new account, or someone already in the
    district) or an invitation sent (an account that exists elsewhere)."""

    grant: RoleGrant | None = None
    invitation: Invitation | None = None
    emailed: bool = False

    @property
    def email(self) -> str:
        return self.grant.membership.user.email if self.grant else self.invitation.email


def person_add(
    *,
    district: District,
    email: str,
    role: str,
    school: School | None = None,
    first_name: str = "",
    last_name: str = "",
    invited_by: Membership | None = None,
    base_url: str = "",
) -> PersonAdded:
    """The people page's "Add": a new person gets an account and the email to set a password;
    someone already in the district gets the role; someone with an account in another district
    gets an invitation, and this district learns nothing about them until they accept."""
    _check_role_school(district=district, role=role, school=school)
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        grant = member_add(
            district=district, email=email, role=role, school=school, first_name=first_name, last_name=last_name
        )
        welcome_email_resend(membership=grant.membership, base_url=base_url)
        return PersonAdded(grant=grant, emailed=True)
    if Membership.objects.filter(district=district, user=user).exists():
        return PersonAdded(grant=member_add(district=district, email=email, role=role, school=school))
    invitation = Invitation.objects.filter(
        district=district, email=email, role=role, school=school, accepted_at__isnull=True, declined_at__isnull=True
    ).first() or Invitation(district=district, email=email, role=role, school=school)
    invitation.first_name, invitation.last_name, invitation.invited_by = first_name, last_name, invited_by
    invitation_send(invitation=invitation, language=user.language, base_url=base_url)
    return PersonAdded(invitation=invitation, emailed=True)


def welcome_email_resend(*, membership: Membership, base_url: str = "") -> None:
    """(Re)send a new account's password-set link; a fresh link each time."""
    welcome_email_send(membership=membership, base_url=base_url)
    membership.welcome_sent_at = timezone.now()
    membership.save(update_fields=["welcome_sent_at"])


def invitation_send(*, invitation: Invitation, language: str = "", base_url: str = "") -> Invitation:
    """(Re)send an invitation with a new token: only the newest email's link works."""
    token = secrets.token_urlsafe(32)
    invitation.token_digest = _digest(token)
    invitation.save()
    invitation_email_send(invitation=invitation, token=token, language=language, base_url=base_url)
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The pending, unexpired invitation a link names (any district: the link is the key)."""
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("district", "school")
            .filter(token_digest=_digest(token), accepted_at__isnull=True, declined_at__isnull=True)
            .first()
        )
    if invitation is None or invitation.sent_at is None:
        return None
    if timezone.now() - invitation.sent_at > datetime.timedelta(days=INVITATION_DAYS):
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> RoleGrant:
    if user.email != invitation.email:
        raise ValidationError(_("This invitation is for another account."))
    with district_scope(invitation.district):
        grant = member_add(
            district=invitation.district, email=user.email, role=invitation.role, school=invitation.school
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return grant


def invitation_decline(*, invitation: Invitation, user) -> None:
    if user.email != invitation.email:
        raise ValidationError(_("This invitation is for another account."))
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


INVITATION_DAYS = 14


def _check_role_school(*, district: District, role: str, school: School | None) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    if role in SCHOOL_ROLES and school is None:
        raise ValidationError({"school": f"{Role(role).label} is a school role: name the school."})
    if role not in SCHOOL_ROLES and school is not None:
        raise ValidationError({"school": f"{Role(role).label} is not bound to a school."})
    if school is not None and school.district_id != district.pk:
        raise ValidationError({"school": "That school belongs to another district."})


@transaction.atomic
def role_grant_remove(*, grant: RoleGrant) -> None:
    """Remove one role; a membership left with no role is deactivated, not deleted (audit history)."""
    membership = grant.membership
    grant.delete()
    if not membership.grants.exists():
        membership_deactivate(membership=membership)


def membership_deactivate(*, membership: Membership) -> None:
    """The person leaves the district (their history stays). With no district left, their API
    tokens are revoked: nothing they could reach remains."""
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    with scopes_disabled():  # their memberships elsewhere: ids only
        elsewhere = Membership.objects.filter(user_id=membership.user_id, is_active=True).exists()
    if not elsewhere:
        api_tokens_revoke_all(user=membership.user)


def district_settings_update(*, district: District, user, request=None, **values) -> District:
    """Change some of the district's preferences (District.settings), leaving the others alone."""
    before = {key: (district.settings or {}).get(key) for key in values}
    district.settings = {**(district.settings or {}), **values}
    district.save(update_fields=["settings"])
    audit_record(
        district=district, user=user, action=AuditEvent.Action.CHANGE, object_type="district_settings",
        object_id=district.pk, object_label=district.name, request=request, detail={"before": before, "after": values},
    )  # fmt: skip
    return district


def audit_record(
    *,
    district: District,
    user,
    action: str,
    object_type: str,
    object_id: object = "",
    object_label: str = "",
    request=None,
    detail: dict | None = None,
    students: list[int] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        district=district,
        user=user if getattr(user, "is_authenticated", False) else None,
        user_email=getattr(user, "email", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        detail=detail or {},
        students=students or [],
    )
    if request is not None:
        event.path = request.get_full_path()[:500]
        event.ip_address = client_ip(request)
        event.user_agent = request.headers.get("User-Agent", "")[:300]
    event.save()
    return event


def client_ip(request) -> str | None:
    """The client's address for the audit log and the sign-in throttle.

    X-Forwarded-For is written by whoever sends the request, so only the hops added by our own
    proxies (TRUSTED_PROXY_COUNT of them, counted from the right) can be believed; with none
    configured the connection's own address is the client.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    if proxies and len(hops) >= proxies:
        return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None
