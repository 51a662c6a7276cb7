"""Writes of support requests. Callers run inside the district's scope and check who may act
(pulse.support_permissions); these functions check that every joined object shares the district
and write each change onto the request's thread, so the thread is its history."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import DISTRICT_WIDE_ROLES, Membership, RoleGrant, School
from students.models import Student

from .models import SupportCategory, SupportComment, SupportRequest, SupportRequestStudent


def _same_district(district_id: int, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and getattr(obj, "district_id", district_id) != district_id:
            raise ValidationError({name: _("That belongs to another district.")})


def _comment(request: SupportRequest, *, author: Membership, body: str, kind: str, at=None) -> SupportComment:
    comment = SupportComment(
        district_id=request.district_id, request=request, kind=kind, author=author, body=body,
        created_at=at or timezone.now(),
    )  # fmt: skip
    comment.full_clean(exclude=["request", "author"])
    comment.save()
    return comment


@transaction.atomic
def support_request_create(
    *,
    school: School,
    by: Membership,
    category: str,
    subject: str,
    description: str,
    students: list[Student] = (),
    requested_at: datetime.datetime | None = None,
) -> SupportRequest:
    """A school asks for help. Students named must belong to the same district (the caller has
    already limited them to the ones the requester sees)."""
    _same_district(school.district_id, by=by, **{f"student_{s.pk}": s for s in students})
    if category not in SupportCategory.values:
        raise ValidationError({"category": _("Choose a category.")})
    request = SupportRequest(
        district_id=school.district_id, school=school, category=category, subject=subject.strip(),
        description=description.strip(), requested_by=by, requested_at=requested_at or timezone.now(),
    )  # fmt: skip
    request.full_clean(exclude=["school", "requested_by"])
    request.save()
    SupportRequestStudent.objects.bulk_create(
        SupportRequestStudent(district_id=school.district_id, request=request, student=student)
        for student in {s.pk: s for s in students}.values()
    )
    return request


def district_owner_choices():
    """Who can own a request: active members holding a district-wide role."""
    holders = RoleGrant.objects.filter(role__in=DISTRICT_WIDE_ROLES).values("membership_id")
    return Membership.objects.filter(is_active=True, pk__in=holders).select_related("user")


@transaction.atomic
def support_request_assign(
    *, request: SupportRequest, by: Membership, owner: Membership | None, due_on: datetime.date | None, at=None
) -> SupportRequest:
    """Give the request an owner at the district and a due date (either may be cleared)."""
    _same_district(request.district_id, by=by, owner=owner)
    if owner is not None and not district_owner_choices().filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("The owner must be someone at the district office.")})
    if (owner, due_on) == (request.owner, request.due_on):
        return request
    request.owner, request.due_on = owner, due_on
    request.save(update_fields=["owner", "due_on", "updated_at"])
    owner_name = str(owner.user) if owner else _("nobody")
    due = due_on.isoformat() if due_on else _("no due date")
    body = _("Owner: %(owner)s. Due: %(due)s.") % {"owner": owner_name, "due": due}
    _comment(request, author=by, body=body, kind=SupportComment.Kind.ASSIGNED, at=at)
    return request


@transaction.atomic
def support_request_resolve(*, request: SupportRequest, by: Membership, resolution: str, at=None) -> SupportRequest:
    _same_district(request.district_id, by=by)
    if not request.is_open:
        raise ValidationError(_("This request is already resolved."))
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say how it was resolved.")})
    request.status, request.resolution = SupportRequest.Status.RESOLVED, resolution.strip()
    request.resolved_at, request.resolved_by = at or timezone.now(), by
    request.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "updated_at"])
    _comment(request, author=by, body=request.resolution, kind=SupportComment.Kind.RESOLVED, at=at)
    return request


@transaction.atomic
def support_request_reopen(*, request: SupportRequest, by: Membership, reason: str, at=None) -> SupportRequest:
    _same_district(request.district_id, by=by)
    if request.is_open:
        raise ValidationError(_("This request is already open."))
    if not reason.strip():
        raise ValidationError({"body": _("Say why it is reopened.")})
    request.status, request.resolved_at, request.resolved_by = SupportRequest.Status.OPEN, None, None
    request.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
    _comment(request, author=by, body=reason.strip(), kind=SupportComment.Kind.REOPENED, at=at)
    return request


def support_comment_add(*, request: SupportRequest, by: Membership, body: str, at=None) -> SupportComment:
    _same_district(request.district_id, by=by)
    if not body.strip():
        raise ValidationError({"body": _("Write a comment first.")})
    return _comment(request, author=by, body=body.strip(), kind=SupportComment.Kind.COMMENT, at=at)
