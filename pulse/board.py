"""The district dashboard's figures: computed once per metrics run, after the nightly run, and
cached under the run's id.

A run is immutable once current, so the figures never go stale (the next run has a new id), and
the page itself only reads a cached object: a 200,000-student district opens as fast as a small
one. Every count comes from the engine's stored classification (tiers.aggregates), this module
only groups and counts.
"""

import dataclasses
import datetime
from fractions import Fraction

from django.core.cache import cache

from districts.models import District, School
from districts.tenancy import district_cache_key, district_frame
from tiers.aggregates import a_year_before, classified_students, prior_year_students, weekly_figures
from tiers.classification import chronic_status, thousandths
from tiers.loading import SchoolYear
from tiers.models import MetricsRun

from .figures import GroupRow, pulse_rows

CACHE_SECONDS = 36 * 60 * 60  # past the next night's run, which replaces it
GROUP_LEVELS = ["school", "grade", "subgroup"]

# The snapshot of the last school week that ended before the month began: who was chronic then.
MONTH_BEFORE_SQL = """
    SELECT student_id, membership_days, absent_days FROM tiers_weeklysnapshot
    WHERE district_id = %(district_id)s AND week_start = (
        SELECT MAX(week_start) FROM tiers_weeklysnapshot
        WHERE district_id = %(district_id)s AND as_of >= %(start)s AND as_of < %(month_start)s
    )
"""
CHRONIC_NOW_SQL = """
    SELECT student_id FROM tiers_studentmetrics
    WHERE district_id = %(district_id)s AND run_id = %(run_id)s AND chronic
"""


@dataclasses.dataclass(frozen=True)
class Week:
    """The district at the end of one school week. `number` counts the year's weeks with figures
    (1 is the first), so this year and last year line up week for week."""

    number: int
    week_start: datetime.date
    students: int
    chronic: int

    @property
    def chronic_rate(self) -> Fraction | None:
        return Fraction(self.chronic, self.students) if self.students else None


@dataclasses.dataclass(frozen=True)
class SchoolName:
    pk: int
    name: str


@dataclasses.dataclass(frozen=True)
class Board:
    run_id: int
    as_of: datetime.date
    policy_version: int
    prior_school_year: str
    prior_to_date: bool  # last year to the same date (daily data), or its full-year summaries
    prior_as_of: datetime.date | None
    district: GroupRow
    levels: dict[str, list[GroupRow]]  # "school", "grade", "subgroup": rows unsuppressed
    schools: dict[str, SchoolName]  # a school row's group (its SIS id) to the school
    school_grades: dict[str, list[GroupRow]]  # each school's grades, school-level figures
    near_chronic: dict[str, int]  # by school: students two absences from chronic (at their current school)
    month_start: datetime.date
    newly_chronic: int
    this_year: list[Week]
    last_year: list[Week]

    def rows(self, level: str) -> list[GroupRow]:
        return [self.district] if level == "district" else self.levels[level]

    def school(self, row: GroupRow) -> SchoolName | None:
        return self.schools.get(row.group) if row.level == "school" else None

    def school_row(self, school_id: int) -> GroupRow | None:
        return next((row for row in self.levels["school"] if self.schools[row.group].pk == school_id), None)


def board_get(*, district: District, run: MetricsRun) -> Board:
    key = district_cache_key(district, "pulse", "board", run.pk)
    board = cache.get(key)
    if board is None:
        board = board_compute(district=district, run=run)
        cache.set(key, board, CACHE_SECONDS)
    return board


def board_compute(*, district: District, run: MetricsRun) -> Board:
    classified = classified_students(district=district, run=run)
    prior = prior_year_students(district=district, run=run)
    last_year = prior.students[["chronic", "band"]].rename(columns={"chronic": "prior_chronic", "band": "prior_band"})
    students = classified.students.merge(last_year, left_on="student_id", right_index=True, how="left")
    school_frame = classified.schools.merge(last_year, left_on="student_id", right_index=True, how="left")
    with_prior = dataclasses.replace(classified, students=students, schools=school_frame)

    schools = list(School.objects.values_list("pk", "sis_id", "name"))
    sis_ids = {pk: sis_id or str(pk) for pk, sis_id, _name in schools}
    levels = {level: pulse_rows(with_prior, by=level, school_sis_ids=sis_ids) for level in GROUP_LEVELS}
    policy = run.policy.as_policy()
    year = SchoolYear.containing(district, run.as_of)
    before = SchoolYear(a_year_before(year.start), a_year_before(year.end))
    month_start = run.as_of.replace(day=1)
    return Board(
        run_id=run.pk,
        as_of=run.as_of,
        policy_version=run.policy.version,
        prior_school_year=prior.school_year,
        prior_to_date=prior.to_date,
        prior_as_of=prior.as_of,
        district=pulse_rows(with_prior, by="district", school_sis_ids=sis_ids)[0],
        levels=levels,
        schools={sis_ids[pk]: SchoolName(pk, name) for pk, _sis, name in schools},
        school_grades=_school_grades(with_prior, sis_ids),
        near_chronic=_near_chronic(classified.students, sis_ids, policy),
        month_start=month_start,
        newly_chronic=_newly_chronic(district, run, year, month_start, policy),
        this_year=_weeks(weekly_figures(district=district, policy=policy, year=year), until=run.as_of),
        last_year=_weeks(weekly_figures(district=district, policy=policy, year=before), until=None),
    )


def _school_grades(classified, sis_ids: dict[int, str]) -> dict[str, list[GroupRow]]:
    """Each school's grades from its school-level rows (a student's days at that school), the
    grade as the student record has it."""
    grades = classified.students[["student_id", "grade"]]
    rows = classified.schools.merge(grades, on="student_id", how="left")
    rows["grade"] = rows["grade"].fillna("")
    return {
        sis_ids.get(int(school_id), str(school_id)): pulse_rows(
            dataclasses.replace(classified, students=part), by="grade", school_sis_ids=sis_ids
        )
        for school_id, part in rows.groupby("school_id")
    }


def _near_chronic(students, sis_ids: dict[int, str], policy) -> dict[str, int]:
    """Students not chronic today whom two more days absent would make chronic, by current
    school: the engine's own test (tiers.classification) applied to their figures plus two days."""
    counted = students[students["current_school_id"].notna() & ~students["chronic"].astype(bool)]
    if counted.empty:
        return {}
    membership = counted["membership_days"].astype("int64")
    two_more = (
        chronic_status(thousandths(counted["absent_days"].astype(float) + 2), membership + 2, unit=1000, policy=policy)
        & (membership >= policy.min_membership_days).to_numpy()
    )
    near = counted.loc[two_more, "current_school_id"].astype("int64").value_counts()
    return {sis_ids.get(int(pk), str(pk)): int(count) for pk, count in near.items()}


def _newly_chronic(district, run, year: SchoolYear, month_start: datetime.date, policy) -> int:
    """Chronic in the current run and not at the end of the last school week before the month
    (everyone chronic now, in the year's first month)."""
    now = district_frame(district, CHRONIC_NOW_SQL, {"run_id": run.pk}, columns=["student_id"])
    then = district_frame(
        district, MONTH_BEFORE_SQL, {"start": year.start, "month_start": month_start},
        columns=["student_id", "membership_days", "absent_days"],
    )  # fmt: skip
    if then.empty:
        return len(now)
    was = chronic_status(
        thousandths(then["absent_days"]), then["membership_days"].astype("int64"), unit=1000, policy=policy
    )
    return int((~now["student_id"].isin(then.loc[was, "student_id"])).sum())


def _weeks(groups: list[dict], *, until: datetime.date | None) -> list[Week]:
    weeks = []
    for group in groups:
        week_start = datetime.date.fromisoformat(group["key"])
        if until is not None and week_start > until:
            break
        weeks.append(Week(len(weeks) + 1, week_start, group["students_eligible"], group["chronic"]))
    return weeks
