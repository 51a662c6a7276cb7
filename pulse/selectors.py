"""Reads of the pulse app. Every function runs inside the district's scope; attendance figures
come from tiers (and follow-through from outreach and cases) through their selectors."""

import dataclasses
import datetime

from districts.models import District, School
from tiers.selectors import student_classification

from .figures import GroupRow, pulse_rows, suppress


@dataclasses.dataclass(frozen=True)
class PulseTable:
    as_of: datetime.date
    policy_version: int
    by: str
    min_cell: int
    rows: list[GroupRow]


def pulse_table(*, district: District, by: str, min_cell: int = 0, as_of: datetime.date | None = None):
    """The groups of `by` with suppression at `min_cell` (0: none); None before the district's
    first run when no date is given."""
    classified = student_classification(district=district, as_of=as_of)
    if classified is None:
        return None
    sis_ids = dict(School.objects.values_list("pk", "sis_id"))
    rows = suppress(pulse_rows(classified, by=by, school_sis_ids=sis_ids), min_cell=min_cell)
    return PulseTable(classified.as_of, classified.policy_version, by, min_cell, rows)


def board_current(*, district: District):
    """The dashboard's figures for the district's current run (pulse.board), or None before its
    first run."""
    from tiers.selectors import current_run

    from .board import board_get

    run = current_run()
    return board_get(district=district, run=run) if run is not None else None


def school_get(*, school_id: int) -> School:
    """A school of the district in scope; another district's id is a 404 like a missing one."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(School, pk=school_id)


def school_flagged_students(*, access, school: School, limit: int = 200):
    """The students the user may see with an open flag whose current school (current run) is
    `school`, highest tier and rate first, each with their open flags; and how many there are."""
    from tiers.models import Flag
    from tiers.selectors import flag_list, student_metrics_current

    flags = flag_list(access=access, school=school).filter(status__in=Flag.OPEN_STATUSES)
    metrics = (
        student_metrics_current()
        .filter(current_school=school, student_id__in=flags.values("student_id"))
        .select_related("student")
        .order_by("-tier", "-absence_rate", "student__last_name", "student_id")
    )
    total = metrics.count()
    shown = list(metrics[:limit])
    by_student: dict[int, list] = {}
    for flag in flags.filter(student_id__in=[row.student_id for row in shown]):
        by_student.setdefault(flag.student_id, []).append(flag)
    return [(row, by_student.get(row.student_id, [])) for row in shown], total
