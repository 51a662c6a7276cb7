"""Reads of stored results; all of them follow the district's current run."""

import dataclasses
import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from districts.access import DistrictAccess
from districts.models import District, School
from students.models import AttendanceRecord, CalendarDay, Student
from students.selectors import student_list_visible

from .models import SPEC_DEFAULTS_NOTE, CalculationPolicy, Flag, MetricsRun, StudentMetrics, WeeklySnapshot
from .policy_changes import policy_changes
from .services import INTERRUPTED_AFTER


def current_run() -> MetricsRun | None:
    return MetricsRun.objects.filter(is_current=True).select_related("policy").first()


def student_metrics_current() -> QuerySet[StudentMetrics]:
    return StudentMetrics.objects.filter(run__is_current=True)


def flag_list_open() -> QuerySet[Flag]:
    return Flag.objects.filter(status__in=Flag.OPEN_STATUSES)


# ----------------------------------------------------------------------------- policy


def policy_latest() -> CalculationPolicy | None:
    return CalculationPolicy.objects.select_related("created_by").order_by("-version").first()


def policy_shown(*, district: District) -> CalculationPolicy:
    """The newest version, or the SPEC defaults (unsaved) before the district's first run:
    looking at the policy page does not create version 1."""
    return policy_latest() or CalculationPolicy(district=district, version=1, note=SPEC_DEFAULTS_NOTE)


@dataclasses.dataclass(frozen=True)
class PolicyVersion:
    policy: CalculationPolicy
    changes: list[str]


def policy_history(*, limit: int = 50) -> list[PolicyVersion]:
    """Versions newest first, each with what it changed from the one before."""
    versions = list(CalculationPolicy.objects.select_related("created_by").order_by("-version")[: limit + 1])
    history = []
    for newer, older in zip(versions, [*versions[1:], None]):
        if len(history) == limit:
            break
        changes = [change.label for change in policy_changes(older.as_policy(), newer.as_policy())] if older else []
        history.append(PolicyVersion(newer, changes))
    return history


# ----------------------------------------------------------------------------- runs


def metrics_run_list(*, limit: int = 50) -> QuerySet[MetricsRun]:
    return MetricsRun.objects.select_related("policy").order_by("-created_at", "-id")[:limit]


def metrics_run_get(*, run_id: int) -> MetricsRun:
    run = MetricsRun.objects.select_related("policy").filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run.")
    return run


def metrics_run_in_progress() -> MetricsRun | None:
    """A queued or running run that may still finish (one stuck for hours was killed)."""
    since = timezone.now() - INTERRUPTED_AFTER
    return (
        MetricsRun.objects.filter(
            status__in=[MetricsRun.Status.QUEUED, MetricsRun.Status.RUNNING], created_at__gte=since
        )
        .order_by("-created_at")
        .first()
    )


def default_as_of() -> datetime.date:
    """Yesterday in the district's time zone (the request runs in it): the last full day."""
    return timezone.localdate() - datetime.timedelta(days=1)


# ----------------------------------------------------------------------------- one student


def student_metrics_get(*, student: Student) -> StudentMetrics | None:
    return student_metrics_current().filter(student=student).select_related("run__policy", "current_school").first()


def student_flag_list(*, student: Student) -> QuerySet[Flag]:
    return Flag.objects.filter(student=student).order_by("-currently_met", "-tier", "first_met", "id")


def student_snapshot_list(*, student: Student, since: datetime.date | None = None) -> QuerySet[WeeklySnapshot]:
    """The student's weekly figures, oldest first; `since` (a school year's first day) keeps last
    year's weeks, which the engine keeps too, out of this year's trend."""
    snapshots = WeeklySnapshot.objects.filter(student=student)
    if since is not None:
        snapshots = snapshots.filter(week_start__gte=since - datetime.timedelta(days=6))
    return snapshots.order_by("week_start")


# ----------------------------------------------------------------------------- flags


def flag_list(
    *, access: DistrictAccess, status: str = "", rule: str = "", tier: int | None = None, school: School | None = None
) -> QuerySet[Flag]:
    """Flags of the students the user may see. `school` is the student's current school in the
    current run — the school whose team acts on the flag."""
    flags = Flag.objects.filter(student__in=student_list_visible(access=access)).select_related("student")
    if status:
        flags = flags.filter(status=status)
    if rule:
        flags = flags.filter(rule=rule)
    if tier is not None:
        flags = flags.filter(tier=tier)
    if school is not None:
        flags = flags.filter(student__in=student_metrics_current().filter(current_school=school).values("student_id"))
    return flags.order_by("-tier", "first_met", "id")


def school_calendar_rows(*, school_ids: list[int], start: datetime.date, end: datetime.date) -> list[tuple]:
    """(school_id or None, date, instructional, minutes) of the schools and the district default."""
    rows = CalendarDay.objects.filter(date__range=(start, end)).filter(
        Q(school__isnull=True) | Q(school_id__in=school_ids)
    )
    return list(rows.values_list("school_id", "date", "instructional", "minutes"))


def student_attendance_rows(*, student: Student, start: datetime.date, end: datetime.date) -> list[tuple]:
    records = AttendanceRecord.objects.filter(student=student, date__range=(start, end))
    return list(records.values_list("school_id", "date", "category", "minutes_absent"))


def aggregate_report(*, district: District, dimension: str = "") -> dict | None:
    """The current run's aggregates (tiers.aggregates), optionally one dimension; None before
    the district's first run."""
    from .aggregates import district_aggregates  # pandas work, loaded when first asked for

    run = current_run()
    if run is None:
        return None
    report = district_aggregates(district=district, run=run)
    if dimension:
        report = {**report, "groups": [group for group in report["groups"] if group["dimension"] == dimension]}
    return report


def student_classification(*, district: District, as_of: datetime.date | None = None):
    """Every student's chronic status and band (tiers.aggregates.ClassifiedStudents): the current
    run's stored rows, or for another date one engine pass in memory with the current policy
    (nothing is stored, the current run stays current). None before the district's first run
    when no date is given."""
    from .aggregates import classified_students, classified_students_as_of

    run = current_run()
    if as_of is None or (run is not None and run.as_of == as_of):
        return classified_students(district=district, run=run) if run is not None else None
    policy = run.policy if run is not None else policy_shown(district=district)
    return classified_students_as_of(
        district=district, as_of=as_of, policy_version=policy.version, policy=policy.as_policy()
    )
