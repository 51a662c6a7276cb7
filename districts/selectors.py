"""Reads for districts, people and the audit log. Callers run inside the district's scope."""

import dataclasses
import datetime
from collections.abc import Iterable

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from .access import DistrictAccess
from .models import AuditEvent, District, Invitation, Membership, Role, RoleGrant, School


def school_list() -> QuerySet[School]:
    return School.objects.all()


def membership_list(*, include_inactive: bool = False) -> QuerySet[Membership]:
    memberships = Membership.objects.select_related("user").prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.select_related("school"))
    )
    return memberships if include_inactive else memberships.filter(is_active=True)


def invitation_list_pending() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, declined_at__isnull=True).select_related("school")


@dataclasses.dataclass
class PersonRow:
    """A row of the people page: a member, or someone invited who has not answered yet. Both
    look alike: the district sees what it entered, and that an email went out."""

    name: str
    email: str
    grants: list
    invitations: list
    membership: Membership | None = None
    waiting: bool = False  # has not set a password or accepted yet
    email_sent_at: datetime.datetime | None = None


def people_rows() -> list[PersonRow]:
    rows: dict[str, PersonRow] = {}
    for membership in membership_list():
        user = membership.user
        waiting = not user.has_usable_password()
        rows[user.email] = PersonRow(
            name=user.get_full_name(), email=user.email, grants=list(membership.grants.all()), invitations=[],
            membership=membership, waiting=waiting, email_sent_at=membership.welcome_sent_at if waiting else None,
        )  # fmt: skip
    for invitation in invitation_list_pending():
        row = rows.get(invitation.email)
        if row is None:
            name = f"{invitation.first_name} {invitation.last_name}".strip()
            row = rows[invitation.email] = PersonRow(
                name=name, email=invitation.email, grants=[], invitations=[], waiting=True
            )
        row.invitations.append(invitation)
        if row.membership is None:
            row.email_sent_at = max(filter(None, [row.email_sent_at, invitation.sent_at]), default=None)
    return sorted(rows.values(), key=lambda row: row.email)


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
    student_ids: Iterable[int] | None = None,
) -> QuerySet[AuditEvent]:
    """The district's audit entries, newest first; with `student_ids`, those that showed any of
    these students ("who saw student X between these dates")."""
    events = AuditEvent.objects.all()
    if student_ids is not None:
        events = events.filter(_showed_any(list(student_ids)))
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


def _showed_any(ids: list[int]) -> Q:
    # Entries from before the students column named one student as the object (AuditEvent rows
    # cannot be updated to backfill it).
    legacy = Q(object_type="student", object_id__in=[str(pk) for pk in ids])
    if not ids:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":  # jsonb containment, served by the GIN index
        shown = Q()
        for pk in ids:
            shown |= Q(students__contains=[pk])
        return shown | legacy
    placeholders = ", ".join(["%s"] * len(ids))
    matching = RawSQL(
        f"SELECT e.id FROM districts_auditevent e, json_each(e.students) j WHERE j.value IN ({placeholders})",
        ids,
    )
    return Q(pk__in=matching) | legacy


def audit_object_types() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct())
