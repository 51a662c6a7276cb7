"""The vectorised engine agrees with the plain-loop reference on random small districts.

Districts are drawn to hit the awkward corners on purpose: calendars with holes and short days,
enrollments that overlap, leave gaps or end before they start, records on weekends, outside
enrollments and after the as-of date, several records on one day, minutes missing, policies with
other thresholds, exit dates inclusive and fractional counting.
"""

import dataclasses
import datetime
import math
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import engine_reference
from tests.engine_reference import make_input, school_days
from tiers import engine
from tiers.engine_io import STUDENT_COLUMNS, STUDENT_SCHOOL_COLUMNS
from tiers.policy import DEFAULT_RULES, FRACTIONAL_DAYS, WHOLE_DAYS, Policy

FIRST_DAY = datetime.date(2025, 8, 25)  # a Monday
CATEGORIES = [
    "present", "absent_excused", "absent_unexcused", "suspension_out_of_school", "suspension_in_school",
    "tardy", "early_dismissal", "partial_day",
]  # fmt: skip
TOLERANCE = 1e-9


def shift(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


@st.composite
def calendars(draw, schools: list[int]) -> list[tuple]:
    rows = []
    for school in schools:
        days = school_days(shift(FIRST_DAY, draw(st.integers(0, 9))), draw(st.integers(5, 60)))
        holes = draw(st.sets(st.sampled_from(days), max_size=3))
        minutes = draw(st.sampled_from([360, 300, 390]))
        short_days = draw(st.sets(st.sampled_from(days), max_size=2))  # early releases
        rows += [(school, d, 180 if d in short_days else minutes) for d in days if d not in holes]
    return rows


@st.composite
def enrollments(draw, student: int, schools: list[int], calendar: list[tuple], dates) -> list[tuple]:
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        school = draw(st.sampled_from(schools))
        first_day = min(d for s, d, _ in calendar if s == school)
        entry = draw(st.just(first_day) | dates)
        exit_date = draw(
            st.none() | st.integers(-2, 45).map(lambda n, start=entry: shift(start, n))
        )  # may end before it starts
        rows.append((student, school, entry, exit_date))
    return rows


@st.composite
def records(draw, student: int, schools: list[int], calendar: list[tuple], enrolled: list[tuple], as_of, dates):
    """Mostly on school days up to the as-of date at a school of the student; some anywhere."""
    rows = []
    enrolled_schools = sorted({row[1] for row in enrolled}) or schools
    for _ in range(draw(st.integers(0, 20))):
        school = draw(st.sampled_from(enrolled_schools) | st.sampled_from(schools))
        likely_dates = [d for s, d, _ in calendar if s == school and d <= as_of] or [as_of]
        if rows and draw(st.integers(0, 4)) == 0:
            school, date = rows[-1][1], rows[-1][2]  # a second record on the same day
        else:
            date = draw(st.sampled_from(likely_dates) | st.sampled_from(likely_dates) | dates)
        day_minutes = next((m for s, d, m in calendar if (s, d) == (school, date)), 360)
        # Often exactly half (or a quarter: two make half) of that day, where the half-day rule turns.
        near_half = [0, day_minutes // 4, day_minutes // 2 - 1, day_minutes // 2, day_minutes, day_minutes + 40]
        minutes = draw(st.none() | st.sampled_from(near_half) | st.integers(0, 400))
        rows.append((student, school, date, draw(st.sampled_from(CATEGORIES)), minutes))
    return rows


@st.composite
def prior_years(draw, student: int) -> list[tuple]:
    rows = []
    for start in sorted(draw(st.sets(st.integers(2019, 2024), max_size=3)), reverse=True):
        enrolled = draw(st.sampled_from([0, 5, 9, 10, 20]) | st.integers(0, 180))
        absent = draw(st.integers(0, enrolled))
        rows.append((student, f"{start}-{(start + 1) % 100:02d}", enrolled, absent))
    return rows


@st.composite
def policies(draw) -> Policy:
    rules = dict(DEFAULT_RULES)
    for rule_id in draw(st.sets(st.sampled_from(list(DEFAULT_RULES)), max_size=3)):
        rule = rules[rule_id]
        rules[rule_id] = dataclasses.replace(
            rule,
            enabled=draw(st.booleans()),
            days=draw(st.integers(1, 4)) if rule.days else 0,
            window=draw(st.integers(1, 12)) if rule.window else 0,
            min_membership=draw(st.integers(1, 25)) if rule.min_membership else 0,
            weeks=draw(st.integers(0, 5)) if rule.weeks else 0,
            supports=draw(st.integers(0, 3)) if rule.supports else 0,
        )
    return Policy(
        chronic_threshold=draw(st.sampled_from([Fraction(1, 10), Fraction(1, 20), Fraction(3, 20), Fraction(1, 8)])),
        min_membership_days=draw(st.integers(1, 15)),
        partial_days=draw(st.sampled_from([WHOLE_DAYS, FRACTIONAL_DAYS])),
        exit_date_inclusive=draw(st.booleans()),
        recent_window=draw(st.sampled_from([20, 20, 5, 8])),
        rules=rules,
    )


@st.composite
def districts(draw):
    schools = list(range(1, draw(st.integers(1, 3)) + 1))
    calendar = draw(calendars(schools))
    all_days = sorted({d for _, d, _ in calendar})
    span = (all_days[-1] - FIRST_DAY).days + 6
    dates = st.integers(-3, span).map(lambda n: shift(FIRST_DAY, n))
    as_of = draw(st.sampled_from(all_days[len(all_days) // 3 :]) | dates)  # later in the year more often
    students = list(range(101, 101 + draw(st.integers(1, 8))))
    rows = {"enrollments": [], "records": [], "prior_years": []}
    for student in students:
        enrolled = draw(enrollments(student, schools, calendar, dates))
        rows["enrollments"] += enrolled
        rows["records"] += draw(records(student, schools, calendar, enrolled, as_of, dates))
        rows["prior_years"] += draw(prior_years(student))
    inputs = make_input(calendar=calendar, students=students, **rows)
    plans = draw(st.none() | tier2_plans(students, as_of))
    return inputs, as_of, draw(policies()), plans


@st.composite
def tier2_plans(draw, students: list[int], as_of: datetime.date) -> pd.DataFrame:
    rows = [
        (student, shift(as_of, -draw(st.integers(0, 45))), draw(st.integers(0, 3)))
        for student in draw(st.lists(st.sampled_from(students), max_size=4))
    ]
    return pd.DataFrame(
        {
            "student_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "started": pd.Series(
                pd.to_datetime(pd.Series([r[1] for r in rows], dtype="object")), dtype="datetime64[ns]"
            ),
            "supports": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


# --- comparing results ------------------------------------------------------------------------


def same_value(engine_value, reference_value) -> bool:
    if reference_value is pd.NA:
        return engine_value is pd.NA
    if isinstance(reference_value, float):
        return math.isclose(float(engine_value), reference_value, rel_tol=0, abs_tol=TOLERANCE)
    if isinstance(reference_value, tuple):
        return isinstance(engine_value, tuple) and engine_value == reference_value
    return engine_value == reference_value


def python_values(frame: pd.DataFrame, column: str) -> list:
    values = frame[column].tolist()  # Int64 keeps <NA>; numpy scalars become Python ones
    return [v.date() if isinstance(v, pd.Timestamp) else v for v in values]


def assert_frames_agree(name: str, engine_frame: pd.DataFrame, reference_frame: pd.DataFrame, keys: list[str]):
    assert list(engine_frame.columns) == list(reference_frame.columns), name
    assert len(engine_frame) == len(reference_frame), (
        f"{name}: {len(engine_frame)} rows, reference {len(reference_frame)}"
    )
    engine_frame = engine_frame.sort_values(keys, kind="stable").reset_index(drop=True)
    reference_frame = reference_frame.sort_values(keys, kind="stable").reset_index(drop=True)
    key_rows = list(zip(*(python_values(reference_frame, k) for k in keys)))
    for column in reference_frame.columns:
        got_values, want_values = python_values(engine_frame, column), python_values(reference_frame, column)
        for key, got, want in zip(key_rows, got_values, want_values):
            assert same_value(got, want), f"{name} {dict(zip(keys, key))} {column}: engine {got!r}, reference {want!r}"


def assert_results_agree(engine_result, reference_result):
    assert_frames_agree(
        "students",
        engine_result.students.reset_index(),
        reference_result.students.reset_index(),
        ["student_id"],
    )
    assert engine_result.students.index.name == "student_id"
    assert list(engine_result.students.columns) == STUDENT_COLUMNS
    assert_frames_agree(
        "student_schools", engine_result.student_schools, reference_result.student_schools, ["student_id", "school_id"]
    )
    assert list(engine_result.student_schools.columns) == STUDENT_SCHOOL_COLUMNS
    assert_frames_agree("absences", engine_result.absences, reference_result.absences, ["student_id", "date"])
    assert_frames_agree(
        "skipped",
        engine_result.skipped,
        reference_result.skipped,
        ["student_id", "school_id", "date", "category", "reason"],
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(districts())
def test_engine_agrees_with_the_reference(district):
    inputs, as_of, policy, plans = district
    reference_result = engine_reference.compute(inputs, as_of=as_of, policy=policy, tier2_plans=plans)
    engine_result = engine.compute(inputs, as_of=as_of, policy=policy, tier2_plans=plans)
    assert_results_agree(engine_result, reference_result)
