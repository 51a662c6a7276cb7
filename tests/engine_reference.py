"""Reference implementation of the nightly engine (SPEC §4), for the tests only.

Deliberately simple: plain loops over students and dates, exact Fractions, no vectorisation.
`tiers.engine.compute` must agree with it on every column (tests/test_engine_properties.py), and
tests/test_engine_rules.py checks both against hand-computed numbers. Readability over speed.

Decisions where SPEC §4 and the semantics agreed with the lead left room:

1. Tardy day under fractional counting: a date with a tardy/early-dismissal record is a tardy day
   when its district-level weight is below 1, so a tardy that counted as 1/4 of a day is a tardy
   day too (SPEC's "did not count as absent" read as "did not count as a whole absent day").
2. A tardy/early-dismissal record without minutes still makes its date a tardy day (the record is
   counted; only its minutes are missing). It is also reported as partial_without_minutes.
3. absences_left = max(0, ceil(t·N − absent) − 1) with N = membership + remaining. For whole days
   this equals SPEC's ceil(t·N) − 1 − absent; for fractional absent days it is still the largest
   whole number of further absences that ends the year below t (SPEC's form would be fractional).
4. The rate with no membership is 0 everywhere it is used (absence_rate, chronic, band, the rate
   rules), so a student with 0 membership days is never chronic, even under a minimum of 0.
5. prior_year_chronic and chronic_years start from the latest prior year on file, whether or not
   it is the year just before the as-of date (the inputs do not name the current school year).
   A prior year is chronic by this policy's numbers (days_enrolled ≥ minimum and days_absent ≥
   t·days_enrolled); the input carries no chronic column. One row per (student, school_year).
6. remaining_days counts the current school's calendar to its end even when that enrollment has a
   future exit date (SPEC: "assuming enrollment continues").
7. student_schools has a row for every (student, school) with an enrollment there, even with 0
   membership days (e.g. an enrollment that starts after the as-of date).
8. Every record is checked, present and suspension_in_school included: a present row on a
   Saturday is reported as non_school_day.
9. A calendar day with 0 minutes (malformed data) cannot be missed through minutes: weight 0.
10. absence_rate is rounded half-up from the exact fraction (1/32 → 0.0313, where Python's
   round(0.03125, 4) gives 0.0312). The other floats are not rounded.
"""

import dataclasses
import datetime
import math
from collections import defaultdict
from fractions import Fraction

import pandas as pd

from tiers.engine_io import STUDENT_COLUMNS, STUDENT_SCHOOL_COLUMNS, EngineInput, EngineResult
from tiers.policy import BAND_EDGES, BANDS, DEFAULT_RULES, INSUFFICIENT_DAYS, WHOLE_DAYS, Policy

ABSENT_CATEGORIES = ("absent_excused", "absent_unexcused", "suspension_out_of_school")
MINUTE_CATEGORIES = ("tardy", "early_dismissal", "partial_day")
TARDY_CATEGORIES = ("tardy", "early_dismissal")
# When one date is marked at two schools with the same weight, the most serious kind is kept.
KIND_RANK = {"partial": 0, "absent_excused": 1, "absent_unexcused": 2, "suspension_out_of_school": 3}
KIND_COLUMNS = {
    "absent_excused": "absent_excused",
    "absent_unexcused": "absent_unexcused",
    "suspension_out_of_school": "absent_suspension",
    "partial": "absent_partial",
}


def compute(
    inputs: EngineInput, *, as_of: datetime.date, policy: Policy, tier2_plans: pd.DataFrame | None = None
) -> EngineResult:
    school_days = _read_calendar(inputs.calendar)
    enrollments = _read_enrollments(inputs.enrollments)
    membership = _school_membership(enrollments, school_days, as_of, policy)
    counted, skipped = _sort_records(inputs.records, school_days, enrollments, as_of, policy)

    school_marks = {}  # (student, school, date) -> (weight, kind)
    for (student, school, day), records in counted.items():
        school_marks[student, school, day] = _school_day_mark(records, school_days[school][day], policy)
    district_marks = _district_marks(school_marks)
    tardy_dates = _tardy_dates(counted, district_marks)
    prior_years = _read_prior_years(inputs.prior_years)
    plans = _read_plans(tier2_plans)

    rows, absences = {}, []
    for student in [int(s) for s in inputs.students["student_id"]]:
        dates = sorted(set().union(*(days for (s, _), days in membership.items() if s == student)))
        year = StudentYear(dates, district_marks.get(student, {}), tardy_dates.get(student, set()), policy)
        rows[student] = _student_row(
            student,
            year,
            enrollments.get(student, []),
            school_days,
            prior_years.get(student, []),
            plans.get(student, []),
            as_of,
            policy,
        )
        absences += [
            (student, day, ordinal, _number(weight, policy), kind) for day, ordinal, weight, kind in year.absent_days()
        ]
    return EngineResult(
        students=_students_frame(rows, policy),
        student_schools=_student_schools_frame(membership, school_marks, policy),
        absences=_frame(absences, ABSENCE_TYPES | {"weight": _count_dtype(policy)}),
        skipped=_frame(skipped, SKIPPED_TYPES),
    )


# --- reading the inputs into plain Python ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Enrollment:
    school_id: int
    entry: datetime.date
    exit: datetime.date | None  # None = still enrolled

    def covers(self, day: datetime.date, policy: Policy) -> bool:
        if day < self.entry:
            return False
        if self.exit is None or day < self.exit:
            return True
        return policy.exit_date_inclusive and day == self.exit


def _day(value) -> datetime.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _read_calendar(calendar: pd.DataFrame) -> dict[int, dict[datetime.date, int]]:
    school_days = defaultdict(dict)
    for row in calendar.itertuples(index=False):
        school_days[int(row.school_id)][_day(row.date)] = int(row.minutes)
    return school_days


def _read_enrollments(enrollments: pd.DataFrame) -> dict[int, list[Enrollment]]:
    by_student = defaultdict(list)
    for row in enrollments.itertuples(index=False):
        by_student[int(row.student_id)].append(
            Enrollment(int(row.school_id), _day(row.entry_date), _day(row.exit_date))
        )
    return by_student


def _read_prior_years(prior_years: pd.DataFrame) -> dict[int, list[tuple[str, int, int]]]:
    by_student = defaultdict(list)
    for row in prior_years.itertuples(index=False):
        by_student[int(row.student_id)].append((str(row.school_year), int(row.days_enrolled), int(row.days_absent)))
    return by_student


def _read_plans(tier2_plans: pd.DataFrame | None) -> dict[int, list[tuple[datetime.date, int]]]:
    by_student = defaultdict(list)
    if tier2_plans is not None:
        for row in tier2_plans.itertuples(index=False):
            by_student[int(row.student_id)].append((_day(row.started), int(row.supports)))
    return by_student


# --- membership, records, day weights -----------------------------------------------------------


def _school_membership(enrollments, school_days, as_of, policy) -> dict[tuple[int, int], set]:
    """(student, school) -> the dates in membership there; several enrollments at one school union."""
    membership = {}
    for student, student_enrollments in enrollments.items():
        for enrollment in student_enrollments:
            days = membership.setdefault((student, enrollment.school_id), set())
            for day in school_days.get(enrollment.school_id, {}):
                if day <= as_of and enrollment.covers(day, policy):
                    days.add(day)
    return membership


def _skip_reason(student, school, day, school_days, enrollments, as_of, policy) -> str | None:
    # The order matters: one reason per record, the first that applies.
    if day > as_of:
        return "after_as_of"
    if day not in school_days.get(school, {}):
        return "non_school_day"
    if not any(e.school_id == school and e.covers(day, policy) for e in enrollments.get(student, [])):
        return "outside_enrollment"
    return None


def _sort_records(records, school_days, enrollments, as_of, policy):
    """Counted records grouped by (student, school, date), and the rows for the import-health page."""
    counted, skipped = defaultdict(list), []
    for row in records.itertuples(index=False):
        student, school, day = int(row.student_id), int(row.school_id), _day(row.date)
        minutes = None if pd.isna(row.minutes) else Fraction(float(row.minutes))
        reason = _skip_reason(student, school, day, school_days, enrollments, as_of, policy)
        if reason is None:
            counted[student, school, day].append((row.category, minutes))
            if row.category in MINUTE_CATEGORIES and minutes is None:
                reason = "partial_without_minutes"  # counted (as 0) but reported
        if reason is not None:
            skipped.append((student, school, day, row.category, reason))
    return counted, skipped


def _school_day_mark(records, day_minutes: int, policy: Policy) -> tuple[Fraction, str | None]:
    """The weight of one (student, school, date) and its kind, from that day's counted records."""
    absent_kinds = [category for category, _ in records if category in ABSENT_CATEGORIES]
    if absent_kinds:
        return Fraction(1), max(absent_kinds, key=KIND_RANK.get)
    missed = sum((m for category, m in records if category in MINUTE_CATEGORIES and m is not None), Fraction(0))
    if missed <= 0 or day_minutes <= 0:  # nothing missed, or a (malformed) day without minutes
        return Fraction(0), None
    if policy.partial_days == WHOLE_DAYS:
        weight = Fraction(1) if 2 * missed >= day_minutes else Fraction(0)  # the half-day rule
    else:
        weight = min(Fraction(1), missed / day_minutes)
    return weight, ("partial" if weight > 0 else None)


def _district_marks(school_marks) -> dict[int, dict[datetime.date, tuple[Fraction, str]]]:
    """student -> date -> (weight, kind): the heaviest mark over the student's schools that date."""
    marks = defaultdict(dict)
    for (student, _school, day), (weight, kind) in school_marks.items():
        if weight == 0:
            continue
        best = marks[student].get(day)
        if best is None or (weight, KIND_RANK[kind]) > (best[0], KIND_RANK[best[1]]):
            marks[student][day] = (weight, kind)
    return marks


def _tardy_dates(counted, district_marks) -> dict[int, set]:
    tardy = defaultdict(set)
    for (student, _school, day), records in counted.items():
        weight = district_marks.get(student, {}).get(day, (Fraction(0), None))[0]
        if weight < 1 and any(category in TARDY_CATEGORIES for category, _ in records):
            tardy[student].add(day)
    return tardy


# --- one student's year at district level -------------------------------------------------------


class StudentYear:
    """A student's district membership dates numbered 1..M, with each date's weight and tardy mark."""

    def __init__(self, dates, marks, tardy_dates, policy: Policy):
        self.dates = dates
        self.marks = marks
        self.membership = len(dates)
        self.weights = [marks[d][0] if d in marks else Fraction(0) for d in dates]  # index = ordinal - 1
        self.tardies = [1 if d in tardy_dates else 0 for d in dates]
        self.absent = sum(self.weights, Fraction(0))
        self.rate = self.absent / self.membership if self.membership else Fraction(0)
        self.chronic = self.membership >= policy.min_membership_days and self.rate >= policy.chronic_threshold

    def absent_between(self, low: int, high: int) -> Fraction:
        """Weight of the absent days with low < ordinal ≤ high."""
        return sum(self.weights[max(0, low) : max(0, high)], Fraction(0))

    def absent_in_first(self, days: int) -> Fraction:
        return self.absent_between(0, days)

    def absent_in_last(self, days: int) -> Fraction:
        return self.absent_between(self.membership - days, self.membership)

    def tardy_in_last(self, days: int) -> int:
        return sum(self.tardies[max(0, self.membership - days) :])

    def rate_between(self, low: int, high: int) -> Fraction:
        count = max(0, high) - max(0, low)
        return self.absent_between(low, high) / count if count > 0 else Fraction(0)

    def kind_total(self, kind: str) -> Fraction:
        return sum((w for w, k in self.marks.values() if k == kind and w > 0), Fraction(0))

    def monday_friday(self) -> Fraction:
        return sum((w for d, w in zip(self.dates, self.weights) if d.weekday() in (0, 4)), Fraction(0))

    def longest_streak(self) -> int:
        longest = run = 0
        for weight in self.weights:
            run = run + 1 if weight > 0 else 0
            longest = max(longest, run)
        return longest

    def absent_days(self):
        for ordinal, (day, weight) in enumerate(zip(self.dates, self.weights), start=1):
            if weight > 0:
                yield day, ordinal, weight, self.marks[day][1]


def _student_row(student, year: StudentYear, enrollments, school_days, prior, plans, as_of, policy) -> dict:
    t, window, m = policy.chronic_threshold, policy.recent_window, year.membership
    current = _current_school(enrollments, as_of, policy)
    remaining = 0 if current is None else sum(1 for d in school_days.get(current, {}) if d > as_of)
    year_end = m + remaining
    recent = year.rate_between(m - window, m)
    previous = year.rate_between(m - 2 * window, m - window)
    prior_rate, prior_chronic, chronic_years = _prior_figures(prior, year.chronic, policy)
    row = {
        "membership_days": m,
        "absent_days": year.absent,
        **{column: year.kind_total(kind) for kind, column in KIND_COLUMNS.items()},
        "tardy_days": sum(year.tardies),
        "absence_rate": _round_half_up(year.rate),
        "chronic": year.chronic,
        "band": _band(m, year.rate, policy),
        "current_school_id": pd.NA if current is None else current,
        "remaining_days": remaining,
        "absences_left": max(0, math.ceil(t * year_end - year.absent) - 1) if year_end else 0,
        "recent_rate": float(recent),
        "projected_rate": float((year.absent + recent * remaining) / year_end) if year_end else 0.0,
        "first10_absent": year.absent_in_first(10),
        "last10_absent": year.absent_in_last(10),
        "last20_absent": year.absent_in_last(20),
        "last10_tardy": year.tardy_in_last(10),
        "last20_tardy": year.tardy_in_last(20),
        "monday_friday_share": float(year.monday_friday() / year.absent) if year.absent else 0.0,
        "longest_streak": year.longest_streak(),
        "previous_rate": float(previous),
        "trend": float(recent - previous),
        "prior_rate": float(prior_rate),
        "prior_year_chronic": prior_chronic,
        "chronic_years": chronic_years,
    }
    row["rules"] = _fired_rules(year, prior_chronic, plans, as_of, policy)
    row["tier"] = max((int(rule_id[1]) for rule_id in row["rules"]), default=0)
    return row


def _current_school(enrollments, as_of, policy) -> int | None:
    open_now = [(e.entry, e.school_id) for e in enrollments if e.covers(as_of, policy)]
    return max(open_now)[1] if open_now else None


def _band(membership: int, rate: Fraction, policy: Policy) -> str:
    if membership == 0 or membership < policy.min_membership_days:  # no days is never a rate
        return INSUFFICIENT_DAYS
    return BANDS[sum(1 for edge in BAND_EDGES if rate >= edge)]


def _round_half_up(rate: Fraction) -> float:
    return float(Fraction(math.floor(rate * 10_000 + Fraction(1, 2)), 10_000))


def _year_is_chronic(days_enrolled: int, days_absent: int, policy: Policy) -> bool:
    if days_enrolled == 0 or days_enrolled < policy.min_membership_days:
        return False
    return days_absent >= policy.chronic_threshold * days_enrolled


def _prior_figures(prior, chronic_now: bool, policy: Policy) -> tuple[Fraction, bool, int]:
    """prior_rate and prior_year_chronic of the latest prior year; consecutive chronic years."""
    if not prior:
        return Fraction(0), False, int(chronic_now)
    latest_year, enrolled, absent = max(prior)
    prior_rate = Fraction(absent, enrolled) if enrolled else Fraction(0)
    prior_chronic = _year_is_chronic(enrolled, absent, policy)
    if not chronic_now:
        return prior_rate, prior_chronic, 0
    by_start = {int(year.split("-")[0]): (e, a) for year, e, a in prior}  # "2024-25" starts in 2024
    years, start = 1, int(latest_year.split("-")[0])
    while start in by_start and _year_is_chronic(*by_start[start], policy):
        years, start = years + 1, start - 1
    return prior_rate, prior_chronic, years


def _fired_rules(year: StudentYear, prior_chronic: bool, plans, as_of, policy: Policy) -> tuple[str, ...]:
    def after_tier2(rule):
        cutoff = as_of - datetime.timedelta(days=7 * rule.weeks)
        return year.chronic and any(started <= cutoff and supports >= rule.supports for started, supports in plans)

    fires = {
        "t2_first_10_days": lambda r: year.absent_in_first(r.window) >= r.days,
        "t2_recent_absences": lambda r: year.absent_in_last(r.window) >= r.days,
        "t2_at_risk_rate": lambda r: year.membership >= r.min_membership and r.rate_low <= year.rate < r.rate_high,
        "t2_chronic": lambda r: year.chronic,
        "t2_prior_year_chronic": lambda r: prior_chronic and year.absent >= r.days,
        "t2_monday_friday": lambda r: year.absent >= r.days and year.monday_friday() >= r.share * year.absent,
        "t2_tardies": lambda r: year.tardy_in_last(r.window) >= r.days,
        "t3_severe_rate": lambda r: year.membership >= r.min_membership and year.rate >= r.rate_low,
        "t3_absent_days": lambda r: year.absent >= r.days,
        "t3_after_tier2": after_tier2,
        "t3_repeat_chronic": lambda r: prior_chronic and year.chronic,
    }
    return tuple(
        rule_id for rule_id in DEFAULT_RULES if policy.enabled(rule_id) and fires[rule_id](policy.rule(rule_id))
    )


# --- output frames ------------------------------------------------------------------------------

# Day counts that are whole numbers under whole-day counting and fractions under fractional.
DAY_COUNT_COLUMNS = [
    "absent_days", "absent_excused", "absent_unexcused", "absent_suspension", "absent_partial",
    "first10_absent", "last10_absent", "last20_absent",
]  # fmt: skip


def _number(value: Fraction, policy: Policy):
    if policy.partial_days == WHOLE_DAYS:
        assert value.denominator == 1, value
        return int(value)
    return float(value)


def _students_frame(rows: dict, policy: Policy) -> pd.DataFrame:
    for row in rows.values():
        for column in DAY_COUNT_COLUMNS:
            row[column] = _number(row[column], policy)
    index = pd.Index(list(rows), dtype="int64", name="student_id")
    frame = pd.DataFrame(list(rows.values()), columns=STUDENT_COLUMNS, index=index)
    dtypes = {column: _count_dtype(policy) for column in DAY_COUNT_COLUMNS}
    dtypes |= {
        c: "int64"
        for c in [
            "membership_days",
            "tardy_days",
            "remaining_days",
            "absences_left",
            "last10_tardy",
            "last20_tardy",
            "longest_streak",
            "chronic_years",
            "tier",
        ]
    }
    dtypes |= {
        c: "float64"
        for c in [
            "absence_rate",
            "recent_rate",
            "projected_rate",
            "monday_friday_share",
            "previous_rate",
            "trend",
            "prior_rate",
        ]
    }
    dtypes |= {"chronic": "bool", "prior_year_chronic": "bool", "current_school_id": "Int64", "rules": "object"}
    return frame.astype(dtypes)


def _student_schools_frame(membership, school_marks, policy: Policy) -> pd.DataFrame:
    rows = []
    for (student, school), days in sorted(membership.items()):
        absent = sum((w for (s, sc, _), (w, _) in school_marks.items() if (s, sc) == (student, school)), Fraction(0))
        rate = absent / len(days) if days else Fraction(0)
        chronic = len(days) >= policy.min_membership_days and rate >= policy.chronic_threshold
        rows.append(
            (
                student,
                school,
                len(days),
                _number(absent, policy),
                _round_half_up(rate),
                chronic,
                _band(len(days), rate, policy),
            )
        )
    types = ["int64", "int64", "int64", _count_dtype(policy), "float64", "bool", "str"]
    return _frame(rows, dict(zip(STUDENT_SCHOOL_COLUMNS, types)))


ABSENCE_TYPES = {"student_id": "int64", "date": "datetime64[ns]", "ordinal": "int64", "weight": None, "kind": "str"}
SKIPPED_TYPES = {
    "student_id": "int64",
    "school_id": "int64",
    "date": "datetime64[ns]",
    "category": "str",
    "reason": "str",
}


def _count_dtype(policy: Policy) -> str:
    return "int64" if policy.partial_days == WHOLE_DAYS else "float64"


def _frame(rows, dtypes: dict) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(dtypes))
    for column, dtype in dtypes.items():
        if dtype == "datetime64[ns]":
            frame[column] = pd.to_datetime(frame[column])
        frame[column] = frame[column].astype(dtype)
    return frame


# --- building inputs by hand (for the tests) ----------------------------------------------------


def school_days(start: datetime.date, count: int) -> list[datetime.date]:
    """The first `count` weekdays on or after `start`."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def make_input(*, calendar=(), enrollments=(), records=(), prior_years=(), students=None) -> EngineInput:
    """An EngineInput from short lists of tuples, typed as tiers.engine_io describes.

    calendar (school_id, date, minutes) · enrollments (student_id, school_id, entry, exit|None) ·
    records (student_id, school_id, date, category, minutes|None) · prior_years (student_id,
    school_year, days_enrolled, days_absent) · students: ids (default: every id mentioned).
    """
    if students is None:
        students = sorted({row[0] for rows in (enrollments, records, prior_years) for row in rows})

    def frame(rows, columns, types):
        data = {c: [row[i] for row in rows] for i, c in enumerate(columns)}
        return pd.DataFrame({c: _typed(data[c], types[i]) for i, c in enumerate(columns)})

    return EngineInput(
        calendar=frame(calendar, ["school_id", "date", "minutes"], ["int", "date", "int"]),
        enrollments=frame(
            enrollments, ["student_id", "school_id", "entry_date", "exit_date"], ["int", "int", "date", "date"]
        ),
        records=frame(
            records, ["student_id", "school_id", "date", "category", "minutes"], ["int", "int", "date", "str", "float"]
        ),
        prior_years=frame(
            prior_years, ["student_id", "school_year", "days_enrolled", "days_absent"], ["int", "str", "int", "int"]
        ),
        students=pd.DataFrame({"student_id": pd.Series(list(students), dtype="int64")}),
    )


def _typed(values: list, kind: str) -> pd.Series:
    if kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype="object")), dtype="datetime64[ns]")
    if kind == "float":
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values, dtype={"int": "int64", "str": "str"}[kind])
