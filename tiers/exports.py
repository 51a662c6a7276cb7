"""The metrics CSV columns the issue fixes, shared by the command and the browser export."""

from collections.abc import Iterator

from .models import MetricsRun, StudentMetrics, StudentSchoolMetrics

DISTRICT_COLUMNS = [
    "student_sis_id",
    "school_sis_id",
    "membership_days",
    "absent_days",
    "absence_rate",
    "chronic",
    "band",
    "tier",
    "flags",
    "projected_rate",
    "absences_left_before_chronic",
]
SCHOOL_COLUMNS = [
    "student_sis_id",
    "school_sis_id",
    "membership_days",
    "absent_days",
    "absence_rate",
    "chronic",
    "band",
]


def _days(value) -> str:
    return f"{value.normalize():f}"


def district_rows(run: MetricsRun) -> Iterator[list]:
    metrics = (
        StudentMetrics.objects.filter(run=run)
        .select_related("student", "current_school")
        .order_by("student__sis_id")
        .iterator(chunk_size=5000)
    )
    for m in metrics:
        yield [
            m.student.sis_id,
            m.current_school.sis_id if m.current_school else "",
            m.membership_days,
            _days(m.absent_days),
            f"{m.absence_rate:.4f}",
            "true" if m.chronic else "false",
            m.band,
            m.tier,
            ";".join(m.rules),
            f"{m.projected_rate:.4f}",
            m.absences_left,
        ]


def school_rows(run: MetricsRun) -> Iterator[list]:
    metrics = (
        StudentSchoolMetrics.objects.filter(run=run)
        .select_related("student", "school")
        .order_by("student__sis_id", "school__sis_id")
        .iterator(chunk_size=5000)
    )
    for m in metrics:
        yield [
            m.student.sis_id,
            m.school.sis_id,
            m.membership_days,
            _days(m.absent_days),
            f"{m.absence_rate:.4f}",
            "true" if m.chronic else "false",
            m.band,
        ]
