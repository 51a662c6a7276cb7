"""Writes for districts, people and the audit log. Management commands and views share these."""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django_scopes import scopes_disabled

from .models import SCHOOL_ROLES, AuditEvent, District, Membership, Role, RoleGrant, School
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
