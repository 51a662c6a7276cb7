"""Chronic absence by district, school, grade, grade band, subgroup and week (SPEC §4), with the
prior year beside each group.

Computed in pandas from the current run's stored rows when first asked for, then cached under
the run's id — not computed and stored by the run itself. A run is immutable once current, so
the cache never goes stale (the next run has a new id), the nightly run stays as fast as the
issue's budget needs, and no extra table has to be kept in step with the swap.

The prior year is the prior year to date (SPEC §4) when the district loaded last year's daily
attendance (calendar, enrollments and absences in last year's window): the same engine and this year's
policy, as of the same date a year earlier, with the category split. Without that, it falls back
to PriorYearSummary, full-year totals (days enrolled, days absent) with no category split; the
report's `prior_year_basis` says which one it is. Groups are this year's: a student counts in
their current grade and subgroups for both years.
"""

import dataclasses
import datetime

import pandas as pd
from django.core.cache import cache

from districts.models import District
from districts.tenancy import district_cache_key, district_fetchall, district_frame

from . import engine
from .classification import chronic_status, classify, thousandths
from .loading import SchoolYear, load_year
from .models import MetricsRun
from .policy import BANDS, INSUFFICIENT_DAYS, Policy

CACHE_SECONDS = 24 * 60 * 60
DIMENSIONS = ["district", "school", "grade", "grade_band", "subgroup", "race_ethnicity", "week"]
GRADE_BANDS = {
    "K": "K–2", "1": "K–2", "2": "K–2", "3": "3–5", "4": "3–5", "5": "3–5", "6": "6–8", "7": "6–8", "8": "6–8",
    "9": "9–12", "10": "9–12", "11": "9–12", "12": "9–12",
}  # fmt: skip
SUBGROUPS = {
    "econ_disadvantaged": "Economically disadvantaged",
    "disability": "Students with disabilities",
    "english_learner": "English learners",
    "homeless": "McKinney-Vento / homeless",
    "foster": "In foster care",
}
PRIOR_YEAR_BASIS = (
    "Full prior school year {year} from the prior-year summaries (days enrolled and absent); "
    "the prior year to date and its absence categories are not on record. Students are grouped as they are this year."
)
PRIOR_YEAR_TO_DATE_BASIS = (
    "Prior year to date: {year} through {as_of:%b} {as_of.day}, {as_of.year}, computed from last year's daily attendance "
    "with this year's policy. Students are grouped as they are this year."
)
ALL_BANDS = [*BANDS, INSUFFICIENT_DAYS]

METRICS_SQL = """
    SELECT m.student_id, m.current_school_id, m.membership_days, m.absent_days, m.absent_excused,
           m.absent_unexcused, m.absent_suspension, m.absent_partial, m.chronic, m.band, m.absences_left, m.tier
    FROM tiers_studentmetrics m
    WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.membership_days > 0
"""
SCHOOL_SQL = """
    SELECT sm.student_id, sm.school_id, sm.membership_days, sm.absent_days, sm.chronic, sm.band
    FROM tiers_studentschoolmetrics sm
    WHERE sm.district_id = %(district_id)s AND sm.run_id = %(run_id)s AND sm.membership_days > 0
"""
STUDENTS_SQL = """
    SELECT id, grade, econ_disadvantaged, disability, english_learner, homeless, foster, race_ethnicity
    FROM students_student WHERE district_id = %(district_id)s
"""
SCHOOLS_SQL = "SELECT id, name FROM districts_school WHERE district_id = %(district_id)s"
PRIOR_SQL = """
    SELECT student_id, days_enrolled, days_absent FROM students_prioryearsummary
    WHERE district_id = %(district_id)s AND school_year = %(school_year)s
"""
# Last year counts as on record when its window holds instructional days, enrollments and
# attendance events: a calendar alone would make everyone look perfectly present.
PRIOR_DAILY_SQL = """
    SELECT
      EXISTS (SELECT 1 FROM students_calendarday
        WHERE district_id = %(district_id)s AND instructional AND date BETWEEN %(start)s AND %(as_of)s),
      EXISTS (SELECT 1 FROM students_enrollment
        WHERE district_id = %(district_id)s AND entry_date <= %(as_of)s AND (exit_date IS NULL OR exit_date >= %(start)s)),
      EXISTS (SELECT 1 FROM students_attendancerecord
        WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(as_of)s)
"""
WEEKS_SQL = """
    SELECT week_start, student_id, membership_days, absent_days, band FROM tiers_weeklysnapshot
    WHERE district_id = %(district_id)s AND membership_days > 0 AND week_start BETWEEN %(start)s AND %(end)s
"""


@dataclasses.dataclass(frozen=True)
class ClassifiedStudents:
    """Every student's classification as the engine made it, with what groups them.

    `students`: one row per student with membership (district level): student_id,
    current_school_id, membership_days, absent_days and its categories, chronic, band,
    absences_left, tier, and the student record's grade, grade_band, subgroup flags and
    race_ethnicity. `schools`: one row per student and school with membership there (school
    level): student_id, school_id, membership_days, absent_days, chronic, band."""

    as_of: datetime.date
    policy_version: int
    stored: bool  # the current run's rows, or computed in memory for another date
    students: pd.DataFrame
    schools: pd.DataFrame


def classified_students(*, district: District, run: MetricsRun) -> ClassifiedStudents:
    """The run's stored rows: nothing is classified again here."""
    params = {"run_id": run.pk}
    metrics = _flags(district_frame(district, METRICS_SQL, params, columns=_columns(METRICS_SQL)), ["chronic"])
    schools = _flags(district_frame(district, SCHOOL_SQL, params, columns=_columns(SCHOOL_SQL)), ["chronic"])
    students = metrics.merge(_students(district), on="student_id", how="left")
    return ClassifiedStudents(run.as_of, run.policy.version, True, students, schools)


def classified_students_as_of(*, district: District, as_of: datetime.date, policy_version: int, policy: Policy):
    """The same frames for a date no run was stored for: one engine pass in memory, nothing written."""
    result = engine.compute(load_year(district, SchoolYear.containing(district, as_of)), as_of=as_of, policy=policy)
    frame = result.students.reset_index()
    frame = frame[frame["membership_days"] > 0][["student_id", *_columns(METRICS_SQL)[1:]]]
    students = frame.astype({"current_school_id": "float64"}).merge(_students(district), on="student_id", how="left")
    schools = result.student_schools
    schools = schools[schools["membership_days"] > 0][_columns(SCHOOL_SQL)].reset_index(drop=True)
    return ClassifiedStudents(as_of, policy_version, False, students.reset_index(drop=True), schools)


def district_aggregates(*, district: District, run: MetricsRun) -> dict:
    """Every group of every dimension for the run, cached under the run's id."""
    key = district_cache_key(district, "tiers", "aggregates", run.pk)
    report = cache.get(key)
    if report is None:
        report = _compute(district, run)
        cache.set(key, report, CACHE_SECONDS)
    return report


def _compute(district: District, run: MetricsRun) -> dict:
    policy = run.policy.as_policy()
    classified = classified_students(district=district, run=run)
    metrics, school_rows = classified.students, classified.schools
    year = SchoolYear.containing(district, run.as_of)
    last = prior_year_students(district=district, run=run)
    previous, prior = last.school_year, last.students
    basis = (
        PRIOR_YEAR_TO_DATE_BASIS.format(year=previous, as_of=last.as_of)
        if last.to_date
        else PRIOR_YEAR_BASIS.format(year=previous)
    )
    prior_shares = "absent_excused" in prior.columns
    schools = dict(district_fetchall(district, SCHOOLS_SQL))

    groups = [_group("district", "all", district.name, metrics, prior, prior_shares=prior_shares)]
    for school_id, rows in school_rows.groupby("school_id"):
        groups.append(
            _group("school", str(school_id), schools.get(school_id, str(school_id)), rows, prior, shares=False)
        )
    for grade, rows in metrics[metrics["grade"] != ""].groupby("grade"):
        groups.append(_group("grade", grade, f"Grade {grade}", rows, prior, prior_shares=prior_shares))
    for band, rows in metrics[metrics["grade_band"] != ""].groupby("grade_band"):
        groups.append(_group("grade_band", band, f"Grades {band}", rows, prior, prior_shares=prior_shares))
    for flag, label in SUBGROUPS.items():
        groups.append(_group("subgroup", flag, label, metrics[metrics[flag]], prior, prior_shares=prior_shares))
    for race, rows in metrics[metrics["race_ethnicity"] != ""].groupby("race_ethnicity"):
        groups.append(_group("race_ethnicity", race, race, rows, prior, prior_shares=prior_shares))
    groups += _weeks(district, policy, year)
    return {
        "run_id": run.pk,
        "as_of": run.as_of,
        "policy_version": run.policy.version,
        "prior_year": previous,
        "prior_year_basis": basis,
        "prior_year_through": last.as_of if last.to_date else None,  # the page words the basis itself
        "groups": sorted(groups, key=lambda group: (DIMENSIONS.index(group["dimension"]), _order(group))),
    }


@dataclasses.dataclass(frozen=True)
class PriorYear:
    """Each student's prior year as the figures compare with it: `students` indexed by student_id
    with absent_days, chronic and band (and the category split when `to_date`). `to_date`: the
    prior year to date from last year's daily attendance, as of `as_of`; otherwise the full year
    from the prior-year summaries."""

    school_year: str
    to_date: bool
    as_of: datetime.date | None
    students: pd.DataFrame


def prior_year_students(*, district: District, run: MetricsRun) -> PriorYear:
    policy = run.policy.as_policy()
    year = SchoolYear.containing(district, run.as_of)
    previous = _previous_year(year)
    prior, _basis = _prior_to_date(district, year, run.as_of, policy)
    if prior is not None:
        return PriorYear(previous, True, _a_year_before(run.as_of), prior)
    return PriorYear(previous, False, None, _prior(district, previous, policy))


def weekly_figures(*, district: District, policy: Policy, year: SchoolYear) -> list[dict]:
    """District-wide figures at the end of each school week of `year` (this year's or an earlier
    one), from the weekly snapshots, classified with `policy`."""
    return _weeks(district, policy, year)


def a_year_before(day: datetime.date) -> datetime.date:
    return _a_year_before(day)


def _columns(sql: str) -> list[str]:
    selected = sql.split("SELECT", 1)[1].split("FROM", 1)[0]
    return [name.strip().split(".")[-1] for name in selected.split(",")]


def _flags(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Booleans as booleans: COPY on PostgreSQL reads them back as 't'/'f', SQLite as 0/1."""
    for column in columns:
        frame[column] = frame[column].map(lambda value: value in (True, 1, "t", "true", "True", "1")).astype(bool)
    return frame


def _students(district: District) -> pd.DataFrame:
    # Fetched as tuples, not through CSV: a CSV read would turn grade "07" into 7 and an empty
    # column of text into floats.
    rows = district_fetchall(district, STUDENTS_SQL)
    frame = pd.DataFrame(rows, columns=["student_id", *_columns(STUDENTS_SQL)[1:]], dtype=object)
    frame["student_id"] = frame["student_id"].astype("int64")
    frame = _flags(frame, list(SUBGROUPS))
    frame["grade"] = frame["grade"].fillna("").astype(str)
    frame["race_ethnicity"] = frame["race_ethnicity"].fillna("").astype(str)
    frame["grade_band"] = frame["grade"].map(GRADE_BANDS).fillna("")
    return frame


def _prior_to_date(district: District, year: SchoolYear, as_of: datetime.date, policy: Policy):
    """Each student's figures a year before `as_of`, from last year's daily attendance, or None
    when that year is not on record (see PRIOR_DAILY_SQL)."""
    last_year = SchoolYear(_a_year_before(year.start), _a_year_before(year.end))
    then = _a_year_before(as_of)
    if not all(district_fetchall(district, PRIOR_DAILY_SQL, {"start": last_year.start, "as_of": then})[0]):
        return None, None
    result = engine.compute(load_year(district, last_year), as_of=then, policy=policy)
    students = result.students[result.students["membership_days"] > 0]
    columns = [
        "absent_days",
        "absent_excused",
        "absent_unexcused",
        "absent_suspension",
        "absent_partial",
        "chronic",
        "band",
    ]
    basis = PRIOR_YEAR_TO_DATE_BASIS.format(year=_previous_year(year), as_of=then)
    return students[columns], basis


def _a_year_before(day: datetime.date) -> datetime.date:
    """The same date a year earlier; February 29 becomes February 28."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _previous_year(year: SchoolYear) -> str:
    start = year.start.year - 1
    return f"{start}-{str(start + 1)[-2:]}"


def _prior(district: District, school_year: str, policy: Policy) -> pd.DataFrame:
    """Each student's prior year as the engine judges it (tiers.classification)."""
    frame = district_frame(
        district, PRIOR_SQL, {"school_year": school_year}, columns=["student_id", "days_enrolled", "days_absent"]
    )
    enrolled, absent = frame["days_enrolled"].astype("int64"), frame["days_absent"].astype("int64")
    frame["chronic"], frame["band"] = classify(absent, enrolled, unit=1, policy=policy)
    return frame.rename(columns={"days_absent": "absent_days"}).set_index("student_id")


def _figures(rows: pd.DataFrame) -> dict:
    students = len(rows)
    eligible = int((rows["band"] != INSUFFICIENT_DAYS).sum())
    chronic = int(rows["chronic"].sum())
    return {
        "students": students,
        "students_eligible": eligible,  # enrolled at least the minimum days: the chronic rate's base
        "chronic": chronic,
        "chronic_rate": round(chronic / eligible, 4) if eligible else None,
        "bands": {band: int((rows["band"] == band).sum()) for band in ALL_BANDS},
        "average_days_missed": round(float(rows["absent_days"].astype(float).mean()), 2) if students else None,
    }


def _shares(rows: pd.DataFrame) -> dict | None:
    total = float(rows["absent_days"].astype(float).sum())
    if not total:
        return None
    parts = {
        "excused": "absent_excused",
        "unexcused": "absent_unexcused",
        "suspension": "absent_suspension",
        "partial_days": "absent_partial",
    }
    return {name: round(float(rows[column].astype(float).sum()) / total, 4) for name, column in parts.items()}


def _group(
    dimension: str,
    key: str,
    label: str,
    rows: pd.DataFrame,
    prior: pd.DataFrame,
    *,
    shares: bool = True,
    prior_shares: bool = False,
) -> dict:
    last_year = prior.loc[prior.index.intersection(rows["student_id"].unique())]
    prior_year = _figures(last_year) if len(last_year) else None
    if prior_year is not None:
        prior_year["shares"] = _shares(last_year) if shares and prior_shares else None
    return {
        "dimension": dimension,
        "key": key,
        "label": label,
        **_figures(rows),
        # School rows are school-level figures (SPEC §4), which are stored without a category split.
        "shares": _shares(rows) if shares else None,
        "prior_year": prior_year,
    }


def _weeks(district: District, policy: Policy, year: SchoolYear) -> list[dict]:
    """District-wide figures at the end of each school week of the year, from the weekly snapshots."""
    window = {"start": year.start - datetime.timedelta(days=6), "end": year.end}
    weeks = district_frame(
        district, WEEKS_SQL, window, columns=["week_start", "student_id", "membership_days", "absent_days", "band"]
    )
    if weeks.empty:
        return []
    weeks["chronic"] = chronic_status(
        thousandths(weeks["absent_days"]), weeks["membership_days"].astype("int64"), unit=1000, policy=policy
    )
    weeks["week_start"] = pd.to_datetime(weeks["week_start"]).dt.date
    return [
        {"dimension": "week", "key": week.isoformat(), "label": f"Week of {week:%b} {week.day}, {week.year}", **_figures(rows),
         "shares": None, "prior_year": None}
        for week, rows in weeks.groupby("week_start")
    ]  # fmt: skip


def _order(group: dict) -> tuple:
    """Grades and grade bands in school order, subgroups as listed, the rest by name or date."""
    known = {
        "grade": ["PK", *GRADE_BANDS],
        "grade_band": list(dict.fromkeys(GRADE_BANDS.values())),
        "subgroup": list(SUBGROUPS),
    }
    order = known.get(group["dimension"], [])
    return (
        order.index(group["key"]) if group["key"] in order else len(order),
        group["key"] if group["dimension"] == "week" else group["label"],
    )
