"""SPEC §4 rule by rule, on tiny hand-built districts with hand-computed numbers.

Every test runs against the reference implementation (tests/engine_reference.py) and against
the real engine (tiers/engine.py), so a wrong expectation and a wrong engine both show up.

Calendars are weekdays from Monday 1 September 2025: school day n is `day(n)`, and for a student
enrolled from day 1 it is also membership ordinal n. Day n is a Monday when n % 5 == 1 and a
Friday when n % 5 == 0. Days have 360 instructional minutes unless a test says otherwise.
"""

import dataclasses
import datetime
from fractions import Fraction

import pandas as pd
import pytest

from tests import engine_reference
from tests.engine_reference import make_input, school_days
from tiers.engine_io import STUDENT_COLUMNS, STUDENT_SCHOOL_COLUMNS
from tiers.policy import DEFAULT_RULES, FRACTIONAL_DAYS, Policy

DAYS = school_days(datetime.date(2025, 9, 1), 60)
POLICY = Policy()
FRACTIONAL = Policy(partial_days=FRACTIONAL_DAYS)
INCLUSIVE = Policy(exit_date_inclusive=True)
SATURDAY = datetime.date(2025, 9, 6)


def day(n: int) -> datetime.date:
    return DAYS[n - 1]


@pytest.fixture(params=["reference", "engine"])
def compute(request):
    if request.param == "reference":
        return engine_reference.compute
    from tiers import engine

    return engine.compute


def calendar(school: int = 1, count: int = 20, minutes: int = 360, holidays=()) -> list:
    return [(school, d, minutes) for d in DAYS[:count] if d not in holidays]


def absent(ordinals, category="absent_unexcused", student=1, school=1) -> list:
    return [(student, school, day(n), category, None) for n in ordinals]


def run(compute, *, days, absences=(), records=(), calendar_days=None, policy=POLICY, prior_years=(), plans=None):
    """Student 1 enrolled at school 1 from day 1 (open), as of day `days`: `days` membership days."""
    inputs = make_input(
        calendar=calendar(count=calendar_days or days),
        enrollments=[(1, 1, day(1), None)],
        records=absent(absences) + list(records),
        prior_years=[(1, *year) for year in prior_years],
        students=[1],
    )
    return compute(inputs, as_of=day(days), policy=policy, tier2_plans=plans)


def student(result, student_id: int = 1) -> dict:
    # Column by column: a row Series would turn current_school_id's <NA> into None.
    return {column: values.loc[student_id] for column, values in result.students.items()}


def school_rows(result) -> list[tuple]:
    frame = result.student_schools.sort_values(["student_id", "school_id"])
    return [tuple(row) for row in frame[STUDENT_SCHOOL_COLUMNS].itertuples(index=False)]


def skipped_rows(result) -> set[tuple]:
    return {
        (int(r.student_id), int(r.school_id), pd.Timestamp(r.date).date(), r.category, r.reason)
        for r in result.skipped.itertuples(index=False)
    }


def absence_rows(result) -> list[tuple]:
    frame = result.absences.sort_values(["student_id", "date"])
    return [
        (int(r.student_id), pd.Timestamp(r.date).date(), int(r.ordinal), r.weight, r.kind)
        for r in frame.itertuples(index=False)
    ]


def with_rule(policy: Policy, rule_id: str, **changes) -> Policy:
    rules = dict(policy.rules) | {rule_id: dataclasses.replace(policy.rule(rule_id), **changes)}
    return dataclasses.replace(policy, rules=rules)


# --- output shape -----------------------------------------------------------------------------


def test_output_shape(compute):
    inputs = make_input(
        calendar=calendar(),
        enrollments=[(1, 1, day(1), None), (2, 1, day(1), day(5))],
        records=absent([2]) + [(1, 1, SATURDAY, "absent_excused", None)],
        students=[1, 2, 3],
    )
    result = compute(inputs, as_of=day(10), policy=POLICY)
    students = result.students
    assert list(students.columns) == STUDENT_COLUMNS
    assert students.index.name == "student_id"
    assert sorted(students.index) == [1, 2, 3]
    assert str(students["current_school_id"].dtype) == "Int64"
    for column in ["membership_days", "absent_days", "tardy_days", "remaining_days", "absences_left", "tier"]:
        assert pd.api.types.is_integer_dtype(students[column]), column
    assert pd.api.types.is_bool_dtype(students["chronic"])
    assert isinstance(students.loc[1, "rules"], tuple)
    assert list(result.student_schools.columns) == STUDENT_SCHOOL_COLUMNS
    assert list(result.absences.columns) == ["student_id", "date", "ordinal", "weight", "kind"]
    assert list(result.skipped.columns) == ["student_id", "school_id", "date", "category", "reason"]


# --- membership -------------------------------------------------------------------------------


def test_membership_counts_instructional_days_only(compute):
    holiday = day(5)
    inputs = make_input(
        calendar=calendar(count=12, holidays=[holiday]),
        enrollments=[(1, 1, day(1), None)],
        records=[(1, 1, holiday, "absent_unexcused", None)],
    )
    result = compute(inputs, as_of=day(12), policy=POLICY)
    assert student(result)["membership_days"] == 11
    assert student(result)["absent_days"] == 0
    assert skipped_rows(result) == {(1, 1, holiday, "absent_unexcused", "non_school_day")}


def test_mid_year_entry(compute):
    inputs = make_input(
        calendar=calendar(count=20),
        enrollments=[(1, 1, day(6), None)],
        records=absent([3, 6]),
    )
    result = compute(inputs, as_of=day(20), policy=POLICY)
    row = student(result)
    assert (row["membership_days"], row["absent_days"], row["first10_absent"]) == (15, 1, 1)
    assert absence_rows(result) == [(1, day(6), 1, 1, "absent_unexcused")]
    assert skipped_rows(result) == {(1, 1, day(3), "absent_unexcused", "outside_enrollment")}


def transfer_input():
    """Student 1 leaves school 1 for school 2 on day 11 (exit date = first day at the new school)."""
    return make_input(
        calendar=calendar(1, 20) + calendar(2, 20),
        enrollments=[(1, 1, day(1), day(11)), (1, 2, day(11), None)],
        records=absent([3, 11], school=1) + absent([12, 13], school=2),
    )


def test_transfer_district_and_school_levels(compute):
    result = compute(transfer_input(), as_of=day(20), policy=POLICY)
    row = student(result)
    assert (row["membership_days"], row["absent_days"], row["absence_rate"]) == (20, 3, 0.15)
    assert (row["chronic"], row["band"], row["current_school_id"]) == (True, "moderate", 2)
    assert school_rows(result) == [(1, 1, 10, 1, 0.1, True, "moderate"), (1, 2, 10, 2, 0.2, True, "severe")]
    assert [r[2] for r in absence_rows(result)] == [3, 12, 13]
    assert skipped_rows(result) == {(1, 1, day(11), "absent_unexcused", "outside_enrollment")}


def test_transfer_with_inclusive_exit_counts_the_shared_date_once(compute):
    result = compute(transfer_input(), as_of=day(20), policy=INCLUSIVE)
    row = student(result)
    # Day 11 is in membership at both schools; the district counts it once.
    assert (row["membership_days"], row["absent_days"], row["absence_rate"]) == (20, 4, 0.2)
    assert row["current_school_id"] == 2
    assert school_rows(result) == [(1, 1, 11, 2, 0.1818, True, "moderate"), (1, 2, 10, 2, 0.2, True, "severe")]
    assert [r[2] for r in absence_rows(result)] == [3, 11, 12, 13]
    assert skipped_rows(result) == set()


@pytest.mark.parametrize(
    "policy, membership, counted, current_on_exit_day",
    [(POLICY, 5, 0, pd.NA), (INCLUSIVE, 6, 1, 1)],
    ids=["exclusive", "inclusive"],
)
def test_exit_date_setting(compute, policy, membership, counted, current_on_exit_day):
    inputs = make_input(calendar=calendar(), enrollments=[(1, 1, day(1), day(6))], records=absent([6]))
    row = student(compute(inputs, as_of=day(10), policy=policy))
    assert (row["membership_days"], row["absent_days"]) == (membership, counted)
    assert row["current_school_id"] is pd.NA and row["remaining_days"] == 0
    on_exit_day = student(compute(inputs, as_of=day(6), policy=policy))
    assert (on_exit_day["current_school_id"],) == (current_on_exit_day,)  # tuples: pd.NA matches itself


def test_re_entry_after_a_gap(compute):
    inputs = make_input(
        calendar=calendar(count=20),
        enrollments=[(1, 1, day(1), day(6)), (1, 1, day(11), None)],
        records=absent([8, 11]),
    )
    result = compute(inputs, as_of=day(15), policy=POLICY)
    row = student(result)
    assert (row["membership_days"], row["absent_days"], row["current_school_id"]) == (10, 1, 1)
    assert absence_rows(result) == [(1, day(11), 6, 1, "absent_unexcused")]  # 5 days before the gap
    assert school_rows(result) == [(1, 1, 10, 1, 0.1, True, "moderate")]
    assert skipped_rows(result) == {(1, 1, day(8), "absent_unexcused", "outside_enrollment")}


def test_overlapping_enrollments_count_each_date_once(compute):
    inputs = make_input(
        calendar=calendar(1) + calendar(2),
        enrollments=[(1, 1, day(1), None), (1, 2, day(1), None)],
        records=[(1, 1, day(2), "absent_excused", None), (1, 2, day(2), "partial_day", 200)],
    )
    result = compute(inputs, as_of=day(10), policy=POLICY)
    row = student(result)
    assert (row["membership_days"], row["absent_days"], row["absent_excused"], row["absent_partial"]) == (10, 1, 1, 0)
    assert school_rows(result) == [(1, 1, 10, 1, 0.1, True, "moderate"), (1, 2, 10, 1, 0.1, True, "moderate")]


# --- what a record counts ---------------------------------------------------------------------

WHOLE_DAY_CASES = [
    # records on day 3 (360 minutes), then absent_days, absent_partial, tardy_days
    ([("partial_day", 180)], 1, 1, 0),  # exactly half a day
    ([("partial_day", 179)], 0, 0, 0),
    ([("tardy", 100), ("early_dismissal", 80)], 1, 1, 0),  # minutes add up across records
    ([("tardy", 100), ("early_dismissal", 79)], 0, 0, 1),
    ([("early_dismissal", 400)], 1, 1, 0),
    ([("absent_excused", 10)], 1, 0, 0),  # an absent category counts 1 whatever its minutes
]


@pytest.mark.parametrize("records, absent_days, partial, tardy", WHOLE_DAY_CASES)
def test_partial_days_whole_day_policy(compute, records, absent_days, partial, tardy):
    row = student(run(compute, days=10, records=[(1, 1, day(3), c, m) for c, m in records]))
    assert (row["absent_days"], row["absent_partial"], row["tardy_days"]) == (absent_days, partial, tardy)


def test_half_day_rule_uses_that_days_minutes(compute):
    inputs = make_input(
        calendar=[(1, d, 240 if d == day(3) else 360) for d in DAYS[:10]],  # day 3 is an early release
        enrollments=[(1, 1, day(1), None)],
        records=[(1, 1, day(3), "tardy", 120), (1, 1, day(4), "tardy", 120)],
    )
    row = student(compute(inputs, as_of=day(10), policy=POLICY))
    assert (row["absent_days"], row["tardy_days"]) == (1, 1)


FRACTIONAL_CASES = [
    # records on day 3 (360 minutes), then absent_days, absent_partial, tardy_days
    ([("partial_day", 90)], 0.25, 0.25, 0),
    ([("partial_day", 180)], 0.5, 0.5, 0),
    ([("tardy", 100), ("early_dismissal", 80)], 0.5, 0.5, 1),  # part of a day: still a tardy day
    ([("partial_day", 400)], 1.0, 1.0, 0),  # at most 1
    ([("tardy", 360)], 1.0, 1.0, 0),  # a whole day missed is not a tardy day
    ([("absent_excused", 30)], 1.0, 0.0, 0),
]


@pytest.mark.parametrize("records, absent_days, partial, tardy", FRACTIONAL_CASES)
def test_partial_days_fractional_policy(compute, records, absent_days, partial, tardy):
    result = run(compute, days=10, records=[(1, 1, day(3), c, m) for c, m in records], policy=FRACTIONAL)
    row = student(result)
    assert (row["absent_days"], row["absent_partial"], row["tardy_days"]) == (absent_days, partial, tardy)
    assert row["absence_rate"] == round(absent_days / 10, 4)


def test_partial_record_without_minutes_counts_zero_and_is_reported(compute):
    records = [
        (1, 1, day(3), "tardy", None),
        (1, 1, day(4), "partial_day", None),
        (1, 1, day(4), "partial_day", 180),
    ]
    result = run(compute, days=10, records=records)
    row = student(result)
    assert (row["absent_days"], row["absent_partial"], row["tardy_days"]) == (1, 1, 1)
    assert skipped_rows(result) == {
        (1, 1, day(3), "tardy", "partial_without_minutes"),
        (1, 1, day(4), "partial_day", "partial_without_minutes"),
    }


def test_out_of_school_suspension_is_absent_in_school_suspension_is_present(compute):
    records = absent([2], "suspension_out_of_school") + absent([3], "suspension_in_school") + absent([4], "present")
    result = run(compute, days=10, records=records)
    row = student(result)
    assert (row["absent_days"], row["absent_suspension"], row["absent_excused"], row["absent_unexcused"]) == (
        1,
        1,
        0,
        0,
    )
    assert absence_rows(result) == [(1, day(2), 2, 1, "suspension_out_of_school")]
    assert skipped_rows(result) == set()


def test_records_not_counted_and_their_reasons(compute):
    inputs = make_input(
        calendar=calendar(1, 20) + calendar(2, 20),
        enrollments=[(1, 1, day(3), None)],
        records=[
            (1, 1, SATURDAY, "absent_unexcused", None),  # weekend
            (1, 1, day(2), "absent_unexcused", None),  # before entry
            (1, 2, day(5), "absent_unexcused", None),  # a school the student is not enrolled at
            (1, 1, day(11), "absent_unexcused", None),  # after the as-of date
            (1, 1, datetime.date(2025, 9, 13), "present", None),  # after as-of on a Saturday: first reason wins
        ],
    )
    result = compute(inputs, as_of=day(10), policy=POLICY)
    assert student(result)["absent_days"] == 0
    assert student(result)["membership_days"] == 8
    assert skipped_rows(result) == {
        (1, 1, SATURDAY, "absent_unexcused", "non_school_day"),
        (1, 1, day(2), "absent_unexcused", "outside_enrollment"),
        (1, 2, day(5), "absent_unexcused", "outside_enrollment"),
        (1, 1, day(11), "absent_unexcused", "after_as_of"),
        (1, 1, datetime.date(2025, 9, 13), "present", "after_as_of"),
    }


@pytest.mark.parametrize(
    "categories, kind",
    [
        (["absent_excused", "absent_unexcused"], "absent_unexcused"),
        (["absent_excused", "suspension_out_of_school"], "suspension_out_of_school"),
        (["absent_excused", "absent_excused"], "absent_excused"),
        (["tardy", "absent_excused"], "absent_excused"),
    ],
)
def test_two_records_on_one_day_count_once(compute, categories, kind):
    result = run(compute, days=10, records=[(1, 1, day(4), c, 30) for c in categories])
    row = student(result)
    assert (row["absent_days"], row["tardy_days"]) == (1, 0)
    assert absence_rows(result) == [(1, day(4), 4, 1, kind)]


# --- rate, chronic, band ----------------------------------------------------------------------


def test_exactly_ten_percent_is_chronic(compute):
    row = student(run(compute, days=20, absences=[4, 9]))
    assert (row["absence_rate"], row["chronic"], row["band"]) == (0.1, True, "moderate")
    below = student(run(compute, days=21, absences=[4, 9]))
    assert (below["absence_rate"], below["chronic"], below["band"]) == (0.0952, False, "at_risk")


def test_under_the_minimum_days_is_insufficient_and_not_chronic(compute):
    row = student(run(compute, days=9, absences=[1, 2, 3, 4, 5]))
    assert (row["absence_rate"], row["chronic"], row["band"]) == (0.5556, False, "insufficient_days")
    at_minimum = student(run(compute, days=10, absences=[1]))
    assert (at_minimum["chronic"], at_minimum["band"]) == (True, "moderate")


def test_threshold_and_minimum_come_from_the_policy(compute):
    policy = Policy(chronic_threshold=Fraction(1, 20), min_membership_days=5)
    row = student(run(compute, days=5, absences=[1], policy=policy))
    assert (row["chronic"], row["band"]) == (True, "severe")  # band edges are fixed: 20% is severe


@pytest.mark.parametrize(
    "membership, absences, band",
    [
        (20, 0, "satisfactory"),
        (21, 1, "satisfactory"),  # 4.76%
        (20, 1, "at_risk"),  # 5%
        (21, 2, "at_risk"),  # 9.52%
        (20, 2, "moderate"),  # 10%
        (21, 4, "moderate"),  # 19.05%
        (20, 4, "severe"),  # 20%
        (21, 6, "severe"),  # 28.57%
        (20, 6, "acute"),  # 30%
        (20, 20, "acute"),
    ],
)
def test_band_edges(compute, membership, absences, band):
    assert student(run(compute, days=membership, absences=range(1, absences + 1)))["band"] == band


def test_rate_is_rounded_half_up_to_four_decimals(compute):
    assert student(run(compute, days=32, absences=[7]))["absence_rate"] == 0.0313  # 1/32 = 0.03125


# --- remaining days, absences left, projection ------------------------------------------------


@pytest.mark.parametrize(
    "calendar_days, as_of_day, absences, remaining, left",
    [
        (40, 20, [], 20, 3),
        (40, 20, [1], 20, 2),  # 1 + 2 = 3 of 40 stays below 10%; a 4th makes 10%
        (35, 20, [1], 15, 2),  # t × 35 = 3.5
        (40, 20, [1, 2, 3, 4], 20, 0),
        (40, 40, [1, 2], 0, 1),
        (40, 40, [1, 2, 3], 0, 0),
    ],
)
def test_remaining_days_and_absences_left(compute, calendar_days, as_of_day, absences, remaining, left):
    row = student(run(compute, days=as_of_day, calendar_days=calendar_days, absences=absences))
    assert (row["remaining_days"], row["absences_left"]) == (remaining, left)


def test_absences_left_is_zero_when_exited_at_the_limit(compute):
    inputs = make_input(calendar=calendar(count=40), enrollments=[(1, 1, day(1), day(21))], records=absent([1]))
    row = student(compute(inputs, as_of=day(30), policy=POLICY))
    # Exited: no remaining days, 1 absence of 20; a 2nd would make 10%.
    assert (row["membership_days"], row["current_school_id"], row["remaining_days"], row["absences_left"]) == (
        20, pd.NA, 0, 0,
    )  # fmt: skip


def test_absences_left_is_zero_without_membership_or_remaining_days(compute):
    inputs = make_input(calendar=calendar(count=40), enrollments=[(1, 1, day(31), None)])
    row = student(compute(inputs, as_of=day(30), policy=POLICY))
    assert (row["membership_days"], row["current_school_id"], row["remaining_days"], row["absences_left"]) == (
        0, pd.NA, 0, 0,
    )  # fmt: skip


def test_absences_left_with_fractional_days(compute):
    records = [(1, 1, day(2), "partial_day", 180)]
    row = student(run(compute, days=20, calendar_days=40, absences=[1], records=records, policy=FRACTIONAL))
    assert (row["absent_days"], row["absences_left"]) == (1.5, 2)  # 1.5 + 2 < 4 = 10% of 40


def test_remaining_days_at_the_current_school_after_a_transfer(compute):
    inputs = make_input(
        calendar=calendar(1, 20) + calendar(2, 40),
        enrollments=[(1, 1, day(1), day(11)), (1, 2, day(11), None)],
    )
    row = student(compute(inputs, as_of=day(15), policy=POLICY))
    assert (row["current_school_id"], row["remaining_days"], row["absences_left"]) == (2, 25, 3)


def test_current_school_is_the_latest_open_entry(compute):
    inputs = make_input(
        calendar=calendar(1) + calendar(2) + calendar(3),
        enrollments=[(1, 1, day(1), None), (1, 2, day(4), None), (1, 3, day(11), None), (2, 2, day(1), None),
                     (2, 1, day(1), None)],
    )  # fmt: skip
    result = compute(inputs, as_of=day(10), policy=POLICY)
    assert (student(result, 1)["current_school_id"], student(result, 2)["current_school_id"]) == (2, 2)


def test_recent_rate_trend_and_projection(compute):
    row = student(run(compute, days=30, calendar_days=50, absences=[3, 5, 25]))
    # recent = ordinals 11-30: 1/20; previous = ordinals 1-10: 2/10
    assert row["recent_rate"] == pytest.approx(0.05)
    assert row["previous_rate"] == pytest.approx(0.2)
    assert row["trend"] == pytest.approx(-0.15)
    assert row["projected_rate"] == pytest.approx((3 + 0.05 * 20) / 50)


def test_recent_rate_with_fewer_membership_days_than_the_window(compute):
    row = student(run(compute, days=8, calendar_days=20, absences=[2, 7]))
    assert (row["recent_rate"], row["previous_rate"], row["trend"]) == (0.25, 0.0, 0.25)
    assert row["projected_rate"] == pytest.approx((2 + 0.25 * 12) / 20)


def test_recent_and_previous_windows_follow_the_policy(compute):
    row = student(run(compute, days=12, absences=[3, 8, 12], policy=Policy(recent_window=5)))
    assert (row["recent_rate"], row["previous_rate"]) == (pytest.approx(0.4), pytest.approx(0.2))


# --- signals ----------------------------------------------------------------------------------


def test_signals(compute):
    tardies = [(1, 1, day(n), "tardy", 30) for n in [5, 12, 22, 29]]
    result = run(compute, days=30, absences=[1, 2, 10, 15, 21, 25, 26, 27], records=tardies)
    row = student(result)
    assert (row["absent_days"], row["first10_absent"], row["last10_absent"], row["last20_absent"]) == (8, 3, 4, 5)
    assert (row["tardy_days"], row["last10_tardy"], row["last20_tardy"]) == (4, 2, 3)
    # Mondays and Fridays: days 1, 10, 15, 21, 25, 26. Days 25 (Fri) - 26 (Mon) - 27 are consecutive school days.
    assert row["monday_friday_share"] == 0.75
    assert row["longest_streak"] == 3
    assert [r[2] for r in absence_rows(result)] == [1, 2, 10, 15, 21, 25, 26, 27]


def test_absences_frame_with_fractional_days(compute):
    records = [(1, 1, day(3), "tardy", 90), (1, 1, day(4), "tardy", 0)]
    result = run(compute, days=10, absences=[2], records=records, policy=FRACTIONAL)
    assert absence_rows(result) == [(1, day(2), 2, 1.0, "absent_unexcused"), (1, day(3), 3, 0.25, "partial")]
    assert student(result)["tardy_days"] == 2


# --- trigger rules: each fires at its number and not just below -------------------------------


def fired(compute, rule_id, **scenario) -> bool:
    return rule_id in student(run(compute, **scenario))["rules"]


def test_t2_first_10_days(compute):
    assert fired(compute, "t2_first_10_days", days=30, absences=[1, 10])
    assert not fired(compute, "t2_first_10_days", days=30, absences=[1, 11])


def test_t2_recent_absences(compute):
    assert fired(compute, "t2_recent_absences", days=30, absences=[11, 20, 30])
    assert not fired(compute, "t2_recent_absences", days=30, absences=[10, 20, 30])


def test_t2_at_risk_rate(compute):
    assert fired(compute, "t2_at_risk_rate", days=20, absences=[5])  # 5%
    assert not fired(compute, "t2_at_risk_rate", days=21, absences=[5])  # 4.76%
    assert not fired(compute, "t2_at_risk_rate", days=19, absences=[5])  # 5.26%, 19 days
    assert not fired(compute, "t2_at_risk_rate", days=20, absences=[5, 6])  # 10%


def test_t2_chronic(compute):
    assert fired(compute, "t2_chronic", days=10, absences=[1])
    assert not fired(compute, "t2_chronic", days=11, absences=[1])


CHRONIC_LAST_YEAR = [("2024-25", 180, 18)]  # exactly 10%
NOT_CHRONIC_LAST_YEAR = [("2024-25", 180, 17)]


def test_t2_prior_year_chronic(compute):
    assert fired(compute, "t2_prior_year_chronic", days=20, absences=[3], prior_years=CHRONIC_LAST_YEAR)
    assert not fired(compute, "t2_prior_year_chronic", days=20, absences=[], prior_years=CHRONIC_LAST_YEAR)
    assert not fired(compute, "t2_prior_year_chronic", days=20, absences=[3], prior_years=NOT_CHRONIC_LAST_YEAR)
    assert not fired(compute, "t2_prior_year_chronic", days=20, absences=[3], prior_years=[("2024-25", 9, 9)])


def test_t2_monday_friday(compute):
    assert fired(compute, "t2_monday_friday", days=20, absences=[1, 5, 3])  # Mon, Fri, Wed: 2/3
    assert fired(compute, "t2_monday_friday", days=20, absences=[1, 5, 6, 3, 4])  # exactly 60%
    assert not fired(compute, "t2_monday_friday", days=20, absences=[1, 5, 2, 3, 4])  # 40%
    assert not fired(compute, "t2_monday_friday", days=20, absences=[1, 5])  # only 2 absent days


def test_t2_tardies(compute):
    def tardies(ordinals):
        return [(1, 1, day(n), "tardy", 10) for n in ordinals]

    assert fired(compute, "t2_tardies", days=30, records=tardies([11, 15, 20, 25, 30]))
    assert not fired(compute, "t2_tardies", days=30, records=tardies([10, 15, 20, 25, 30]))


def test_t3_severe_rate(compute):
    assert fired(compute, "t3_severe_rate", days=20, absences=[1, 2, 3, 4])  # 20%
    assert not fired(compute, "t3_severe_rate", days=21, absences=[1, 2, 3, 4])  # 19.05%
    assert not fired(compute, "t3_severe_rate", days=19, absences=[1, 2, 3, 4])  # 21%, 19 days


def test_t3_absent_days(compute):
    assert fired(compute, "t3_absent_days", days=40, absences=range(1, 16))
    assert not fired(compute, "t3_absent_days", days=40, absences=range(1, 15))


def plans(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "started": pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
            "supports": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


def test_t3_after_tier2(compute):
    as_of = day(20)
    four_weeks_ago = as_of - datetime.timedelta(days=28)
    chronic = {"days": 20, "absences": [1, 2]}
    assert fired(compute, "t3_after_tier2", **chronic, plans=plans((1, four_weeks_ago, 2)))
    assert not fired(compute, "t3_after_tier2", **chronic, plans=plans((1, four_weeks_ago + datetime.timedelta(1), 2)))
    assert not fired(compute, "t3_after_tier2", **chronic, plans=plans((1, four_weeks_ago, 1)))
    assert not fired(compute, "t3_after_tier2", **chronic, plans=plans((2, four_weeks_ago, 2)))
    assert not fired(compute, "t3_after_tier2", **chronic, plans=None)
    assert not fired(compute, "t3_after_tier2", days=20, absences=[1], plans=plans((1, four_weeks_ago, 2)))


def test_t3_repeat_chronic(compute):
    assert fired(compute, "t3_repeat_chronic", days=20, absences=[1, 2], prior_years=CHRONIC_LAST_YEAR)
    assert not fired(compute, "t3_repeat_chronic", days=20, absences=[1], prior_years=CHRONIC_LAST_YEAR)
    assert not fired(compute, "t3_repeat_chronic", days=20, absences=[1, 2], prior_years=NOT_CHRONIC_LAST_YEAR)


def test_a_disabled_rule_never_fires(compute):
    policy = with_rule(POLICY, "t2_chronic", enabled=False)
    assert not fired(compute, "t2_chronic", days=10, absences=[1], policy=policy)


def test_rule_numbers_come_from_the_policy(compute):
    policy = with_rule(POLICY, "t3_absent_days", days=2)
    assert fired(compute, "t3_absent_days", days=40, absences=[1, 2], policy=policy)
    assert not fired(compute, "t3_absent_days", days=40, absences=[1], policy=policy)


@pytest.mark.parametrize(
    "membership, absences, rules, tier",
    [
        (20, [], (), 0),
        (20, [15], ("t2_at_risk_rate",), 2),
        (20, [1, 2], ("t2_first_10_days", "t2_chronic"), 2),
        (20, [1, 2, 3, 4], ("t2_first_10_days", "t2_recent_absences", "t2_chronic", "t3_severe_rate"), 3),
    ],
)
def test_tier_precedence_and_rule_order(compute, membership, absences, rules, tier):
    row = student(run(compute, days=membership, absences=absences))
    assert (row["rules"], row["tier"]) == (rules, tier)
    assert list(row["rules"]) == [r for r in DEFAULT_RULES if r in rules]


# --- prior years ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prior_years, prior_rate, prior_chronic, chronic_years",
    [
        ([], 0.0, False, 1),
        ([("2024-25", 180, 20)], 20 / 180, True, 2),
        ([("2024-25", 180, 20), ("2023-24", 170, 30), ("2022-23", 175, 5)], 20 / 180, True, 3),
        ([("2024-25", 180, 20), ("2022-23", 180, 20)], 20 / 180, True, 2),  # 2023-24 missing
        ([("2024-25", 180, 10), ("2023-24", 180, 30)], 10 / 180, False, 1),
        ([("2023-24", 180, 30), ("2024-25", 180, 10)], 10 / 180, False, 1),  # latest year, not last row
    ],
)
def test_prior_years_and_chronic_years(compute, prior_years, prior_rate, prior_chronic, chronic_years):
    row = student(run(compute, days=20, absences=[1, 2], prior_years=prior_years))
    assert row["prior_rate"] == pytest.approx(prior_rate, abs=1e-12)
    assert (row["prior_year_chronic"], row["chronic_years"]) == (prior_chronic, chronic_years)


def test_chronic_years_is_zero_when_not_chronic_now(compute):
    row = student(run(compute, days=20, absences=[1], prior_years=[("2024-25", 180, 20)]))
    assert (row["prior_year_chronic"], row["chronic_years"]) == (True, 0)


def test_student_without_enrollment(compute):
    inputs = make_input(
        calendar=calendar(), enrollments=[(1, 1, day(1), None)], prior_years=[(2, "2024-25", 180, 40)], students=[1, 2]
    )
    result = compute(inputs, as_of=day(10), policy=POLICY)
    row = student(result, 2)
    assert (row["membership_days"], row["absent_days"], row["absence_rate"], row["chronic"]) == (0, 0, 0.0, False)
    assert (row["band"], row["current_school_id"], row["remaining_days"], row["absences_left"]) == (
        "insufficient_days", pd.NA, 0, 0,
    )  # fmt: skip
    assert (row["prior_year_chronic"], row["chronic_years"], row["rules"], row["tier"]) == (True, 0, (), 0)
    assert [r[:2] for r in school_rows(result)] == [(1, 1)]


def test_no_membership_is_never_chronic_even_with_a_zero_day_minimum(compute):
    """A policy may set the minimum to 0; a student with no school days still has no rate."""
    rules = {**DEFAULT_RULES, "t3_severe_rate": dataclasses.replace(DEFAULT_RULES["t3_severe_rate"], min_membership=0)}
    policy = Policy(min_membership_days=0, rules=rules)
    inputs = make_input(
        calendar=[(10, day, 360) for day in school_days(datetime.date(2025, 9, 1), 10)],
        enrollments=[],
        records=[],
        prior_years=[(1, "2024-25", 0, 0)],
        students=[1],
    )
    row = compute(inputs, as_of=datetime.date(2025, 9, 12), policy=policy).students.loc[1]
    assert (row["chronic"], row["band"], row["tier"], row["rules"]) == (False, "insufficient_days", 0, ())
