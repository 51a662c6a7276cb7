"""Reads of support requests. Every function runs inside the district's scope; a request
outside the caller's view is a 404 like a missing one."""

import dataclasses
import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from districts.access import DistrictAccess
from students.selectors import student_list_visible

from . import support_permissions as permissions
from .models import SupportComment, SupportRequest, SupportRequestStudent


def support_request_list_visible(*, access: DistrictAccess) -> QuerySet[SupportRequest]:
    requests = SupportRequest.objects.all()
    if permissions.answers_requests(access):
        return requests
    return requests.filter(school_id__in=permissions.filing_school_ids(access))


def support_request_list(
    *, access: DistrictAccess, today: datetime.date, status: str = "", school_id: int | None = None, mine=False
) -> QuerySet[SupportRequest]:
    """`status`: open, resolved, overdue (open and past its due date) or blank for all."""
    requests = support_request_list_visible(access=access).select_related("school", "owner__user", "requested_by__user")
    if status == "overdue":
        requests = requests.filter(status=SupportRequest.Status.OPEN, due_on__lt=today)
    elif status:
        requests = requests.filter(status=status)
    if school_id:
        requests = requests.filter(school_id=school_id)
    if mine:
        requests = requests.filter(owner=access.membership)
    counted = requests.annotate(
        student_count=Count("student_links", distinct=True), comment_count=Count("comments", distinct=True)
    )
    return counted.order_by("-requested_at", "-id")


def support_request_get_visible(*, access: DistrictAccess, request_id: int) -> SupportRequest:
    request = (
        support_request_list_visible(access=access)
        .select_related("school", "owner__user", "requested_by__user", "resolved_by__user")
        .prefetch_related(Prefetch("comments", queryset=SupportComment.objects.select_related("author__user")))
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise Http404("No such support request.")
    return request


def support_request_students(*, access: DistrictAccess, request: SupportRequest) -> list:
    """The students named on the request that this reader may see (a student who moved away
    from a lead's school stays on the request but leaves the lead's view)."""
    ids = SupportRequestStudent.objects.filter(request=request).values("student_id")
    return list(student_list_visible(access=access).filter(pk__in=ids).order_by("last_name", "first_name"))


def support_requests_overdue(*, access: DistrictAccess, today: datetime.date) -> list[SupportRequest]:
    return list(
        support_request_list_visible(access=access)
        .filter(status=SupportRequest.Status.OPEN, due_on__lt=today)
        .select_related("school", "owner__user")
        .order_by("due_on", "id")
    )


@dataclasses.dataclass(frozen=True)
class SupportSummary:
    open: int
    unassigned: int
    overdue: int
    resolved_last_30_days: int
    median_days_to_resolve: float | None


def support_summary(*, access: DistrictAccess, today: datetime.date) -> SupportSummary:
    requests = support_request_list_visible(access=access)
    open_ = Q(status=SupportRequest.Status.OPEN)
    counts = requests.aggregate(
        open=Count("pk", filter=open_),
        unassigned=Count("pk", filter=open_ & Q(owner__isnull=True)),
        overdue=Count("pk", filter=open_ & Q(due_on__lt=today)),
    )
    since = today - datetime.timedelta(days=30)
    resolved = list(
        requests.filter(status=SupportRequest.Status.RESOLVED, resolved_at__date__gte=since).values_list(
            "requested_at", "resolved_at"
        )
    )
    days = sorted((done - asked).total_seconds() / 86400 for asked, done in resolved)
    median = None
    if days:
        middle = len(days) // 2
        median = round(days[middle] if len(days) % 2 else (days[middle - 1] + days[middle]) / 2, 1)
    return SupportSummary(counts["open"], counts["unassigned"], counts["overdue"], len(days), median)
