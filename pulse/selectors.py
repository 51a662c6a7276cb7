"""Reads of the pulse app. Every function runs inside the district's scope; attendance figures
come from tiers (and follow-through from outreach and cases) through their selectors."""

import dataclasses
import datetime

from districts.models import District, School
from tiers.selectors import current_run, student_classification

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
    from .board import board_get

    run = current_run()
    return board_get(district=district, run=run) if run is not None else None


def school_get(*, school_id: int) -> School:
    """A school of the district in scope; another district's id is a 404 like a missing one."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(School, pk=school_id)


def school_flagged_students(*, access, school: School, limit: int = 200):
    """The students the user may see with an open flag whose current school (current run) is
    `school`, highest tier and rate first, each with their open flags; and how many there are.
    Step by step with id lists: one school's students are a few thousand at most, and nested
    subqueries over a 200,000-student run cost PostgreSQL seconds."""
    from students.selectors import student_list_visible
    from tiers.models import Flag, StudentMetrics

    run = current_run()
    if run is None:
        return [], 0
    at_school = StudentMetrics.objects.filter(run=run, current_school=school)
    ids = list(at_school.values_list("student_id", flat=True))
    flags = Flag.objects.filter(status__in=Flag.OPEN_STATUSES, student_id__in=ids)
    if not access.sees_all_schools:
        flags = flags.filter(student__in=student_list_visible(access=access))
    by_student: dict[int, list] = {}
    for flag in flags.only("student_id", "rule", "tier", "first_met").order_by("-tier", "first_met", "id"):
        by_student.setdefault(flag.student_id, []).append(flag)
    flagged = set(by_student)
    metrics = (
        at_school.filter(student_id__in=flagged)
        .select_related("student")
        .order_by("-tier", "-absence_rate", "student__last_name", "student_id")
    )
    shown = list(metrics[:limit])
    return [(row, by_student.get(row.student_id, [])) for row in shown], len(flagged)


@dataclasses.dataclass
class CheckLine:
    """One school or grade of a pulse check, this year beside last year."""

    key: str  # "" for the district, the school's SIS id, or the grade
    label_school: School | None
    grade: str
    now: object | None  # PulseCheck
    before: object | None  # PulseCheck

    @property
    def change(self):
        if self.now is None or self.before is None or self.now.share is None or self.before.share is None:
            return None
        return self.now.share - self.before.share


@dataclasses.dataclass
class CheckComparison:
    school_year: str
    prior_school_year: str
    checkpoint: int
    taken_on: datetime.date | None
    schools: list[CheckLine]  # the district first
    grades: list[CheckLine]


def pulse_check_comparison(
    *, district: District, today: datetime.date, school: School | None = None
) -> list[CheckComparison]:
    """Each checkpoint this school year (the year holding `today`) beside the year before; the
    grades are the district's, or with `school` that school's."""
    from students.models import GRADE_ORDER
    from tiers.aggregates import a_year_before

    from .checks import CHECKPOINTS, school_year_label, school_year_of
    from .models import PulseCheck

    year = school_year_of(district, today)
    this, last = school_year_label(year), school_year_label(school_year_of(district, a_year_before(year.start)))
    stored = list(PulseCheck.objects.filter(school_year__in=[this, last]).select_related("school"))
    comparisons = []
    for checkpoint in CHECKPOINTS:
        rows = {(row.school_year, row.school_id, row.grade): row for row in stored if row.checkpoint == checkpoint}
        schools_by_id = {row.school_id: row.school for row in stored if row.school_id}
        school_ids = sorted(
            {key[1] for key in rows if key[1] is not None and key[2] == ""}, key=lambda pk: schools_by_id[pk].name
        )
        schools = [CheckLine("", None, "", rows.get((this, None, "")), rows.get((last, None, "")))] + [
            CheckLine(str(pk), schools_by_id[pk], "", rows.get((this, pk, "")), rows.get((last, pk, "")))
            for pk in school_ids
        ]
        at = school.pk if school is not None else None
        grade_keys = sorted(
            {key[2] for key in rows if key[1] == at and key[2]},
            key=lambda grade: (GRADE_ORDER.get(grade, len(GRADE_ORDER)), grade),
        )
        grades = [
            CheckLine(grade, None, grade, rows.get((this, at, grade)), rows.get((last, at, grade)))
            for grade in grade_keys
        ]
        now = rows.get((this, None, ""))
        comparisons.append(CheckComparison(this, last, checkpoint, now.taken_on if now else None, schools, grades))
    return comparisons


def pulse_check_list():
    from .models import PulseCheck

    return PulseCheck.objects.select_related("school").order_by("-school_year", "checkpoint", "school__name", "grade")
