"""Reads for districts, people and the audit log. Callers run inside the district's scope."""

import datetime

from django.db.models import Prefetch, QuerySet

from .access import DistrictAccess
from .models import AuditEvent, District, Membership, Role, RoleGrant, School


def school_list() -> QuerySet[School]:
    return School.objects.all()


def membership_list(*, include_inactive: bool = False) -> QuerySet[Membership]:
    memberships = Membership.objects.select_related("user").prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.select_related("school"))
    )
    return memberships if include_inactive else memberships.filter(is_active=True)


def district_access_get(*, district: District, user) -> DistrictAccess | None:
    """The user's standing in the district, or None when they are not an active member (the API
    checks this after authenticating, since token users are anonymous to the middleware)."""
    membership = (
        Membership.objects.select_related("district")
        .prefetch_related("grants")
        .filter(district=district, user=user, is_active=True)
        .first()
    )
    return DistrictAccess.for_membership(membership) if membership else None


def role_grant_list(*, membership: Membership) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(membership=membership).select_related("school")


def school_staff_list(*, school: School, roles: tuple[str, ...] = (Role.ATTENDANCE_LEAD, Role.COUNSELOR)):
    return membership_list().filter(grants__school=school, grants__role__in=roles).distinct()


def audit_event_list(
    *,
    user_email: str = "",
    action: str = "",
    object_type: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if user_email:
        events = events.filter(user_email__icontains=user_email.strip())
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events


def audit_object_types() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct())
