"""Chronic absence by district, school, grade, grade band, subgroup and week (SPEC §4), with the
prior year beside each group.

Computed from the current run's stored rows when first asked for (or by the nightly run after
its swap), as sums: in SQL, and a chunk of students at a time for the prior year, so the memory
it takes does not grow with the district (see _compute); then cached under the run's id — not
computed and stored by the run itself. A run is immutable once current, so the cache never goes
stale (the next run has a new id), the nightly run stays as fast as the issue's budget needs,
and no extra table has to be kept in step with the swap.

The prior year is the prior year to date (SPEC §4) when the district loaded last year's daily
attendance (calendar, enrollments and absences in last year's window): the same engine and this year's
policy, as of the same date a year earlier, with the category split. Without that, it falls back
to PriorYearSummary, full-year totals (days enrolled, days absent) with no category split; the
report's `prior_year_basis` says which one it is. Groups are this year's: a student counts in
their current grade and subgroups for both years.
"""

import dataclasses
import datetime
import decimal
import math

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
    """The report from sums, never from every student's row at once (issue 14: bounded whatever
    the district's size). This year's figures are SQL GROUP BYs over the run's stored rows — per
    grade, race and subgroup flags, band and chronic status, a few thousand rows whatever the
    district's size — combined here by dimension; the weeks are one week's GROUP BY at a time.
    The prior year, which needs each student's own prior figures, is read a chunk of students at
    a time (tiers.chunks: a chunk's engine pass when it is the prior year to date) and its sums
    added up. Every figure is a count or a sum of days in exact thousandths, divided once at the
    end: the same figures the whole-district frames gave (tests/test_aggregates_bounded.py), with
    the average and shares now independent of the order the database returns rows in."""
    policy = run.policy.as_policy()
    year = SchoolYear.containing(district, run.as_of)
    previous = _previous_year(year)
    to_date = _prior_daily_on_record(district, year, run.as_of)
    basis = (
        PRIOR_YEAR_TO_DATE_BASIS.format(year=previous, as_of=_a_year_before(run.as_of))
        if to_date
        else PRIOR_YEAR_BASIS.format(year=previous)
    )
    params = {"run_id": run.pk}
    this_year = _student_tallies(district_fetchall(district, TALLY_SQL, params))
    schools_now = _school_tallies(district_fetchall(district, SCHOOL_TALLY_SQL, params))
    prior, prior_schools = _prior_tallies(district, run, year, policy, to_date=to_date, previous=previous)
    schools = dict(district_fetchall(district, SCHOOLS_SQL))

    def group(dimension, key, label, tally, prior_tally, *, shares=True):
        prior_year = None
        if prior_tally is not None and prior_tally["students"]:
            prior_year = {
                **_tally_figures(prior_tally),
                "shares": _tally_shares(prior_tally) if shares and to_date else None,
            }
        return {
            "dimension": dimension,
            "key": key,
            "label": label,
            **_tally_figures(tally),
            "shares": _tally_shares(tally) if shares else None,
            "prior_year": prior_year,
        }

    groups = [
        group("district", "all", district.name, this_year["district"].get("all", EMPTY), prior["district"].get("all"))
    ]
    for school_id in sorted(schools_now):
        groups.append(
            group("school", str(school_id), schools.get(school_id, str(school_id)), schools_now[school_id],
                  prior_schools.get(school_id), shares=False)
        )  # fmt: skip
    for grade in sorted(this_year["grade"]):
        groups.append(group("grade", grade, f"Grade {grade}", this_year["grade"][grade], prior["grade"].get(grade)))
    for band in sorted(this_year["grade_band"]):
        groups.append(
            group("grade_band", band, f"Grades {band}", this_year["grade_band"][band], prior["grade_band"].get(band))
        )
    for flag, label in SUBGROUPS.items():
        groups.append(
            group("subgroup", flag, label, this_year["subgroup"].get(flag, EMPTY), prior["subgroup"].get(flag))
        )
    for race in sorted(this_year["race_ethnicity"]):
        groups.append(
            group("race_ethnicity", race, race, this_year["race_ethnicity"][race], prior["race_ethnicity"].get(race))
        )
    groups += _weeks(district, policy, year)
    return {
        "run_id": run.pk,
        "as_of": run.as_of,
        "policy_version": run.policy.version,
        "prior_year": previous,
        "prior_year_basis": basis,
        "prior_year_through": _a_year_before(run.as_of) if to_date else None,  # the page words the basis itself
        "groups": sorted(groups, key=lambda group: (DIMENSIONS.index(group["dimension"]), _order(group))),
    }


# ----------------------------------------------------------------------------- sums (tallies)
#
# A tally is a group's counts and sums: students, eligible, chronic, students in each band, and
# days absent (all, then by category) in exact thousandths of a day. Tallies of disjoint sets of
# students add up to the tally of their union, which is what lets the figures be summed in SQL
# and chunk by chunk, and the figures (_tally_figures) come from a tally alone.

PARTS = {
    "absent": "absent_days",
    "excused": "absent_excused",
    "unexcused": "absent_unexcused",
    "suspension": "absent_suspension",
    "partial_days": "absent_partial",
}
TALLY = ["students", "eligible", "chronic", *ALL_BANDS, *PARTS]
EMPTY = dict.fromkeys(TALLY, 0)
KEYS = ["grade", "race_ethnicity", *SUBGROUPS]
# This year's sums by everything that groups students: a few thousand rows at most (grades ×
# races × the subgroup flags × band × chronic), whatever the district's size.
TALLY_SQL = """
    SELECT coalesce(s.grade, ''), coalesce(s.race_ethnicity, ''), coalesce(s.econ_disadvantaged, false),
           coalesce(s.disability, false), coalesce(s.english_learner, false), coalesce(s.homeless, false),
           coalesce(s.foster, false), m.band, m.chronic, count(*), sum(m.absent_days), sum(m.absent_excused),
           sum(m.absent_unexcused), sum(m.absent_suspension), sum(m.absent_partial)
    FROM tiers_studentmetrics m JOIN students_student s ON s.id = m.student_id AND s.district_id = m.district_id
    WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.membership_days > 0
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""
SCHOOL_TALLY_SQL = """
    SELECT sm.school_id, sm.band, sm.chronic, count(*), sum(sm.absent_days)
    FROM tiers_studentschoolmetrics sm
    WHERE sm.district_id = %(district_id)s AND sm.run_id = %(run_id)s AND sm.membership_days > 0
    GROUP BY 1, 2, 3
"""
# One chunk of the run's students (tiers.chunks) with what groups them, for the prior year's sums.
IN_CHUNK = " AND (m.student_id %% %(chunks)s) = %(chunk)s"
CHUNK_KEYS_SQL = (
    """
    SELECT m.student_id, coalesce(s.grade, ''), coalesce(s.race_ethnicity, ''), coalesce(s.econ_disadvantaged, false),
           coalesce(s.disability, false), coalesce(s.english_learner, false), coalesce(s.homeless, false),
           coalesce(s.foster, false)
    FROM tiers_studentmetrics m JOIN students_student s ON s.id = m.student_id AND s.district_id = m.district_id
    WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.membership_days > 0
"""
    + IN_CHUNK
)
CHUNK_SCHOOLS_SQL = (
    """
    SELECT DISTINCT m.student_id, m.school_id FROM tiers_studentschoolmetrics m
    WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.membership_days > 0
"""
    + IN_CHUNK
)
CHUNK_PRIOR_SQL = """
    SELECT student_id, days_enrolled, days_absent FROM students_prioryearsummary
    WHERE district_id = %(district_id)s AND school_year = %(school_year)s AND (student_id %% %(chunks)s) = %(chunk)s
"""
PRIOR_SUMMARIES_SQL = """
    SELECT EXISTS (SELECT 1 FROM students_prioryearsummary WHERE district_id = %(district_id)s AND school_year = %(school_year)s)
"""
WEEK_STARTS_SQL = """
    SELECT DISTINCT week_start FROM tiers_weeklysnapshot
    WHERE district_id = %(district_id)s AND membership_days > 0 AND week_start BETWEEN %(start)s AND %(end)s
"""
# One week's snapshot rows grouped by what classifies them: as many rows as distinct figures.
WEEK_TALLY_SQL = """
    SELECT membership_days, absent_days, band, count(*) FROM tiers_weeklysnapshot
    WHERE district_id = %(district_id)s AND membership_days > 0 AND week_start = %(week)s
    GROUP BY 1, 2, 3
"""


def _units(value) -> int:
    """A stored sum of days as exact thousandths (a Decimal on PostgreSQL, a float on SQLite)."""
    if value is None:
        return 0
    return int((decimal.Decimal(str(value)) * 1000).to_integral_value())


def _tally_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`: rows of `n` students each (n, band, chronic, and the day sums in thousandths);
    the same rows as tallies."""
    n = frame["n"].astype("int64")
    rows = {
        "students": n,
        "eligible": n * (frame["band"] != INSUFFICIENT_DAYS),
        "chronic": n * frame["chronic"].astype(bool),
    }
    rows.update({band: n * (frame["band"] == band) for band in ALL_BANDS})
    rows.update({part: frame[part].astype("int64") if part in frame else 0 for part in PARTS})
    return pd.DataFrame(rows, index=frame.index).astype("int64")


def _by(frame: pd.DataFrame, tallies: pd.DataFrame, key: str | pd.Series, keep=None) -> dict:
    """{group key: tally} of the rows' tallies grouped by `key` (rows where `keep`, if given)."""
    if keep is not None:
        frame, tallies = frame[keep], tallies[keep]
    keys = frame[key] if isinstance(key, str) else key.loc[tallies.index]
    summed = tallies.groupby(keys.to_numpy(), sort=False).sum()
    return {group: {name: int(value) for name, value in row.items()} for group, row in summed.iterrows()}


def _dimensions(frame: pd.DataFrame, tallies: pd.DataFrame) -> dict[str, dict]:
    """Every student dimension's {key: tally} from rows carrying KEYS."""
    grade_band = frame["grade"].map(GRADE_BANDS).fillna("")
    return {
        "district": _by(frame, tallies, pd.Series("all", index=frame.index)),
        "grade": _by(frame, tallies, "grade", frame["grade"] != ""),
        "grade_band": _by(frame, tallies, grade_band, grade_band != ""),
        "subgroup": {
            flag: tally
            for flag in SUBGROUPS
            for tally in _by(frame, tallies, pd.Series(flag, index=frame.index), frame[flag].astype(bool)).values()
        },
        "race_ethnicity": _by(frame, tallies, "race_ethnicity", frame["race_ethnicity"] != ""),
    }


def _student_tallies(rows: list[tuple]) -> dict[str, dict]:
    frame = pd.DataFrame(rows, columns=[*KEYS, "band", "chronic", "n", *PARTS], dtype=object)
    for part in PARTS:
        frame[part] = frame[part].map(_units)
    return _dimensions(frame, _tally_rows(frame))


def _school_tallies(rows: list[tuple]) -> dict[int, dict]:
    frame = pd.DataFrame(rows, columns=["school_id", "band", "chronic", "n", "absent"], dtype=object)
    frame["absent"] = frame["absent"].map(_units)
    return _by(frame, _tally_rows(frame), "school_id")


def _add(total: dict, more: dict) -> None:
    for key, tally in more.items():
        into = total.setdefault(key, dict(EMPTY))
        for name, value in tally.items():
            into[name] += value


def _prior_tallies(district, run, year, policy, *, to_date: bool, previous: str) -> tuple[dict, dict]:
    """The prior year's tallies of this year's groups ({dimension: {key: tally}}, {school: tally}),
    a chunk of students at a time: each chunk's own prior figures, grouped as its students are
    this year. Nothing is read when the prior year is not on record."""
    from . import services  # the chunk size the runs use (services imports what imports this)

    prior = {dimension: {} for dimension in ("district", "grade", "grade_band", "subgroup", "race_ethnicity")}
    schools: dict = {}
    if not to_date and not district_fetchall(district, PRIOR_SUMMARIES_SQL, {"school_year": previous})[0][0]:
        return prior, schools
    chunks = max(1, math.ceil((run.students or 0) / services.CHUNK_STUDENTS))
    for chunk in range(chunks):
        part = {"run_id": run.pk, "chunk": chunk, "chunks": chunks}
        last = _prior_chunk(district, year, run.as_of, policy, previous, part, to_date=to_date)
        if last.empty:
            continue
        keys = pd.DataFrame(
            district_fetchall(district, CHUNK_KEYS_SQL, part), columns=["student_id", *KEYS], dtype=object
        )
        keys["student_id"] = keys["student_id"].astype("int64")
        rows = keys.merge(last, on="student_id")
        _merge_dimensions(prior, _dimensions(rows, _tally_rows(rows)))
        pairs = pd.DataFrame(district_fetchall(district, CHUNK_SCHOOLS_SQL, part), columns=["student_id", "school_id"])
        rows = pairs.astype("int64").merge(last, on="student_id")
        _add(schools, _by(rows, _tally_rows(rows), "school_id"))
    return prior, schools


def _merge_dimensions(total: dict, more: dict) -> None:
    for dimension, tallies in more.items():
        _add(total[dimension], tallies)


def _prior_chunk(district, year, as_of, policy, previous: str, part: dict, *, to_date: bool) -> pd.DataFrame:
    """One chunk's prior figures by student: student_id, n (1), band, chronic and the day sums
    in thousandths — as _prior_to_date and _prior give them for the whole district."""
    if to_date:
        last_year = SchoolYear(_a_year_before(year.start), _a_year_before(year.end))
        inputs = load_year(district, last_year, chunk=(part["chunk"], part["chunks"]))
        students = engine.compute(inputs, as_of=_a_year_before(as_of), policy=policy).students
        students = students[students["membership_days"] > 0].reset_index()
    else:
        frame = district_frame(
            district,
            CHUNK_PRIOR_SQL,
            {"school_year": previous, **part},
            columns=["student_id", "days_enrolled", "days_absent"],
        )
        enrolled, absent = frame["days_enrolled"].astype("int64"), frame["days_absent"].astype("int64")
        chronic, band = classify(absent, enrolled, unit=1, policy=policy)
        students = pd.DataFrame(
            {"student_id": frame["student_id"], "absent_days": absent, "chronic": chronic, "band": band}
        )
    last = pd.DataFrame(
        {
            "student_id": students["student_id"].astype("int64"),
            "n": 1,
            "band": students["band"],
            "chronic": students["chronic"],
        }
    )
    for part_name, column in PARTS.items():
        last[part_name] = thousandths(students[column]) if column in students else 0
    return last


def _prior_daily_on_record(district: District, year: SchoolYear, as_of: datetime.date) -> bool:
    """Whether last year's daily attendance is on record (PRIOR_DAILY_SQL), read without its engine pass."""
    start = _a_year_before(year.start)
    return all(district_fetchall(district, PRIOR_DAILY_SQL, {"start": start, "as_of": _a_year_before(as_of)})[0])


def _tally_figures(tally: dict) -> dict:
    """_figures from a tally: the average and the rate divided once, from exact sums."""
    students, eligible, chronic = tally["students"], tally["eligible"], tally["chronic"]
    return {
        "students": students,
        "students_eligible": eligible,
        "chronic": chronic,
        "chronic_rate": round(chronic / eligible, 4) if eligible else None,
        "bands": {band: tally[band] for band in ALL_BANDS},
        "average_days_missed": round(tally["absent"] / (1000 * students), 2) if students else None,
    }


def _tally_shares(tally: dict) -> dict | None:
    total = tally["absent"]
    if not total:
        return None
    return {name: round(tally[name] / total, 4) for name in ("excused", "unexcused", "suspension", "partial_days")}


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


def _weeks(district: District, policy: Policy, year: SchoolYear) -> list[dict]:
    """District-wide figures at the end of each school week of the year, from the weekly snapshots:
    one week at a time, its rows grouped by what classifies them (membership, days absent, band),
    so a week is as many rows as it has distinct figures, not one per student."""
    window = {"start": year.start - datetime.timedelta(days=6), "end": year.end}
    starts = sorted(pd.to_datetime([row[0] for row in district_fetchall(district, WEEK_STARTS_SQL, window)]).date)
    figures = []
    for week in starts:
        rows = district_frame(
            district, WEEK_TALLY_SQL, {"week": week}, columns=["membership_days", "absent_days", "band", "n"]
        )
        units = thousandths(rows["absent_days"])
        rows["chronic"] = chronic_status(units, rows["membership_days"].astype("int64"), unit=1000, policy=policy)
        rows["absent"] = rows["n"].astype("int64") * units
        tally = {name: int(value) for name, value in _tally_rows(rows).sum().items()}
        figures.append(
            {"dimension": "week", "key": week.isoformat(), "label": f"Week of {week:%b} {week.day}, {week.year}",
             **_tally_figures(tally), "shares": None, "prior_year": None}
        )  # fmt: skip
    return figures


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
