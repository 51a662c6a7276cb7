"""The numbers a family message quotes, per student: days missed this year and this month,
school days so far (SPEC §4, district level), and for letters a typical classmate's days missed
and what 10% of the year is.

Letters are printed "as of" a date an operator names, so they run the nightly engine's own
calculation for that date in memory (nothing is written); notices and previews read the last
nightly results, which is what the rest of the product shows.
"""

import dataclasses
import datetime
import math

import pandas as pd
from django.db.models import Count

from districts.models import District
from students.models import WHOLE_DAY_ABSENT_CATEGORIES, AttendanceRecord
from tiers import engine, hooks
from tiers.loading import SchoolYear, load_year
from tiers.selectors import student_metrics_current
from tiers.services import policy_current


@dataclasses.dataclass(frozen=True)
class Figures:
    absent_days: float
    absent_this_month: float
    membership_days: int
    absence_rate: float
    current_school_id: int | None = None
    band: str = ""
    typical_absent: float | None = None  # the median classmate at the same school and grade
    year_days: int = 0  # the school year's instructional days at the student's school
    chronic_days: int = 0  # days missed that make a full year chronic (the threshold of year_days)
    by_month: tuple = ()  # ((first day of month, days missed), …) from the year's start to the as-of date


@dataclasses.dataclass(frozen=True)
class DistrictFigures:
    as_of: datetime.date
    students: dict[int, Figures]
    threshold: float


def figures_as_of(*, district: District, as_of: datetime.date, grades: dict[int, str]) -> DistrictFigures:
    """Every student's figures as of the date, by the engine (`grades`: student id -> grade)."""
    policy = policy_current(district=district).as_policy()
    year = SchoolYear.containing(district, as_of)
    inputs = load_year(district, year)
    result = engine.compute(
        inputs, as_of=as_of, policy=policy, tier2_plans=hooks.tier2_plans(district=district, as_of=as_of)
    )
    students = result.students
    absences = result.absences
    dates = pd.to_datetime(absences["date"])
    month_start = pd.Timestamp(as_of.replace(day=1))
    this_month = absences[dates >= month_start].groupby("student_id")["weight"].sum()
    months = absences.assign(month=dates.dt.to_period("M")).groupby(["student_id", "month"])["weight"].sum()
    year_days = inputs.calendar.groupby("school_id")["date"].nunique()
    typical = _typical(students, grades)
    threshold = float(policy.chronic_threshold)
    figures = {}
    for student_id, row in zip(students.index, students.itertuples()):
        school = None if pd.isna(row.current_school_id) else int(row.current_school_id)
        total = int(year_days.get(school, 0)) if school is not None else 0
        figures[int(student_id)] = Figures(
            absent_days=float(row.absent_days),
            absent_this_month=float(this_month.get(student_id, 0)),
            membership_days=int(row.membership_days),
            absence_rate=float(row.absence_rate),
            current_school_id=school,
            band=str(row.band),
            typical_absent=typical.get((school, grades.get(int(student_id), ""))),
            year_days=total,
            chronic_days=math.ceil(threshold * total),
            by_month=_by_month(months, student_id, year.start, as_of),
        )
    return DistrictFigures(as_of=as_of, students=figures, threshold=threshold)


def _typical(students: pd.DataFrame, grades: dict[int, str]) -> dict[tuple, float]:
    frame = students[["current_school_id", "absent_days", "membership_days"]].copy()
    frame = frame[frame["membership_days"] > 0].dropna(subset=["current_school_id"])
    frame["grade"] = [grades.get(int(student), "") for student in frame.index]
    medians = frame.groupby(["current_school_id", "grade"])["absent_days"].median()
    return {(int(school), grade): float(value) for (school, grade), value in medians.items()}


def _by_month(months: pd.Series, student_id, start: datetime.date, as_of: datetime.date) -> tuple:
    per_month = months.get(student_id) if student_id in months.index.get_level_values(0) else None
    shown, day = [], start.replace(day=1)
    while day <= as_of:
        missed = float(per_month.get(pd.Period(day, "M"), 0)) if per_month is not None else 0.0
        shown.append((day, missed))
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return tuple(shown)


def figures_current(*, student_ids: list[int], month_of: datetime.date) -> dict[int, Figures]:
    """From the last nightly run (notices, previews): no month breakdown beyond this month."""
    rows = student_metrics_current().filter(student_id__in=student_ids)
    month = dict(
        AttendanceRecord.objects.filter(
            student_id__in=student_ids,
            date__gte=month_of.replace(day=1),
            date__lte=month_of,
            category__in=WHOLE_DAY_ABSENT_CATEGORIES,
        )
        .values("student_id")
        .annotate(days=Count("date", distinct=True))
        .values_list("student_id", "days")
    )
    return {
        row.student_id: Figures(
            absent_days=float(row.absent_days),
            absent_this_month=float(month.get(row.student_id, 0)),
            membership_days=row.membership_days,
            absence_rate=float(row.absence_rate),
            current_school_id=row.current_school_id,
        )
        for row in rows
    }
