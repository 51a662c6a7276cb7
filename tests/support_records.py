"""A support request from a district's leads' school, naming its student, made on first use:
the isolation matrix fills the support routes' URL kwargs from it."""

import datetime

from django.utils import timezone
from django_scopes import scope

from districts.models import Membership, Role
from pulse import support_services


def support_request_of(records):
    """Cached on the DistrictRecords object, so one request's kwargs name the same row."""
    cached = getattr(records, "_support_request", None)
    if cached is None:
        cached = records._support_request = _create(records)
    return cached


def _create(records):
    district, student = records.district, records.student
    with scope(district=district):
        school = student.enrollments.get().school
        lead = Membership.objects.get(grants__role=Role.ATTENDANCE_LEAD, grants__school=school)
        staff = Membership.objects.get(grants__role=Role.DISTRICT_STAFF)
        request = support_services.support_request_create(
            school=school, by=lead, category="transportation", subject="Bus stop moved",
            description="Three families lost their stop.", students=[student],
            requested_at=timezone.now() - datetime.timedelta(days=9),
        )  # fmt: skip
        support_services.support_request_assign(
            request=request, by=staff, owner=staff, due_on=timezone.localdate() - datetime.timedelta(days=2)
        )
        support_services.support_comment_add(request=request, by=lead, body="Any news?")
    return request
