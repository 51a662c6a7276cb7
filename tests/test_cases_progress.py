"""Review figures against hand-computed cases (issue 11): days_since, rate_since, rate_before.

The year is tests/tiers_data.py's: every weekday from Mon 25 Aug 2025 is a school day of 360
minutes (district default calendar), and the latest computed as-of date is Fri 31 Oct 2025
unless a test says otherwise. So Oct 6–31 is 20 school days, Oct 1–31 is 23, Aug 25–Oct 31 is 50.
"""

import datetime
from decimal import Decimal

import pytest
from django_scopes import scope

from cases import progress, services
from students.models import AttendanceRecord, CalendarDay
from tiers.policy import FRACTIONAL_DAYS
from tiers.services import policy_update

from .cases_data import case_world, current_run
from .tiers_data import OCT_31


def day(month: int, number: int, year: int = 2025) -> datetime.date:
    return datetime.date(year, month, number)


@pytest.fixture
def world(tenant_a):
    return case_world(tenant_a)


def figures(world, student, start, review):
    with scope(district=world.district):
        result = progress.review_progress(
            district=world.district, student_id=student.pk, plan_started_on=start, review_date=review
        )
    return result.since.days, result.rate_since, result.before.days, result.rate_before


def test_a_student_absent_every_monday(world):
    # Oct 6–31: 20 days, absent the 4 Mondays. The 20 days before: Sep 8–Oct 3, 4 Mondays.
    assert figures(world, world.year.monday, day(10, 6), day(10, 31)) == (
        20, Decimal("0.8000"), 20, Decimal("0.8000"),
    )  # fmt: skip


def test_the_figures_stop_at_the_latest_computed_date(world):
    # Reviewed Nov 14, but the figures only run through Oct 31.
    assert figures(world, world.year.monday, day(10, 6), day(11, 14))[0] == 20
    with scope(district=world.district):
        current_run(world.district, day(11, 14))
    # Oct 6–Nov 14: 30 days, 6 absent Mondays. The 30 before: Aug 25–Oct 3, 5 absent Mondays.
    assert figures(world, world.year.monday, day(10, 6), day(11, 14)) == (
        30, Decimal("0.8000"), 30, Decimal("0.8333"),
    )  # fmt: skip


def test_a_transfer_counts_both_schools_and_nothing_after_the_exit(world):
    # `mover`: the first school until Oct 1 (exit exclusive), the second from Oct 1; absent Sep 15
    # at the first and Oct 15 at the second. A record at the first school on Oct 2 is after the
    # exit and does not count.
    with scope(district=world.district):
        AttendanceRecord.objects.create(
            district=world.district, student=world.year.mover, school=world.year.school, date=day(10, 2), code="U",
            category="absent_unexcused",
        )  # fmt: skip
    # Oct 1–31: 23 days, 1 absent → 22/23. The 23 days before Oct 1: Aug 29–Sep 30, 1 absent.
    assert figures(world, world.year.mover, day(10, 1), day(10, 31)) == (
        23, Decimal("0.9565"), 23, Decimal("0.9565"),
    )  # fmt: skip


def test_a_half_day_counts_under_the_half_day_rule(world):
    # `partial`: a 200-minute partial day on Oct 9 (≥ half of 360: absent), a 30-minute tardy on
    # Oct 10 (present). Oct 6–17: 10 days, 1 absent. The 10 days before: Sep 22–Oct 3, none.
    assert figures(world, world.year.partial, day(10, 6), day(10, 17)) == (
        10, Decimal("0.9000"), 10, Decimal("1.0000"),
    )  # fmt: skip


def test_a_half_day_under_fractional_counting(world):
    # 200/360 + 30/360 = 230/360 of a day absent over 10 days: (3600 − 230) / 3600 = 0.93611…
    with scope(district=world.district):
        policy_update(district=world.district, partial_days=FRACTIONAL_DAYS)
        current_run(world.district, OCT_31)
    assert figures(world, world.year.partial, day(10, 6), day(10, 17)) == (
        10, Decimal("0.9361"), 10, Decimal("1.0000"),
    )  # fmt: skip


def test_a_plan_started_on_a_holiday(world):
    # Mon Oct 13 is a holiday: the plan's days start Tue Oct 14. Oct 14–24: 9 days; `recent` was
    # absent Oct 14, 15, 16 → 6/9. The 9 days before: Sep 30–Oct 10, none absent.
    with scope(district=world.district):
        CalendarDay.objects.filter(school__isnull=True, date=day(10, 13)).update(instructional=False)
    assert figures(world, world.year.recent, day(10, 13), day(10, 24)) == (
        9, Decimal("0.6667"), 9, Decimal("1.0000"),
    )  # fmt: skip


def test_the_holiday_monday_record_does_not_count(world):
    # `monday` has a record on the Oct 13 holiday; Oct 13–24 has 9 school days with one
    # absent Monday (Oct 20). Before: Sep 30–Oct 10, one absent Monday (Oct 6).
    with scope(district=world.district):
        CalendarDay.objects.filter(school__isnull=True, date=day(10, 13)).update(instructional=False)
    assert figures(world, world.year.monday, day(10, 13), day(10, 24)) == (
        9, Decimal("0.8889"), 9, Decimal("0.8889"),
    )  # fmt: skip


def test_a_plan_older_than_the_years_data(world):
    # Started before the first school day: every membership day of the year is "since"
    # (Aug 25–Oct 31: 50 days, 9 absent Mondays) and there is nothing before it.
    assert figures(world, world.year.monday, day(3, 2), day(10, 31)) == (50, Decimal("0.8200"), 0, None)


def test_fewer_days_before_when_the_year_has_fewer(world):
    # Started Sep 1: 5 school days before it (Aug 25–29), against 45 since (Sep 1–Oct 31).
    since, rate_since, before, rate_before = figures(world, world.year.monday, day(9, 1), day(10, 31))
    assert (since, before, rate_before) == (45, 5, Decimal("1.0000"))
    assert rate_since == Decimal("0.8000")  # 36 of 45


def test_no_membership_yet_means_no_rate(world):
    # `steady` is enrolled, but a plan starting after the latest computed date has no days yet.
    assert figures(world, world.year.steady, day(11, 3), day(11, 7)) == (0, None, 0, None)


def test_the_review_stores_the_apps_figures(world):
    with scope(district=world.district):
        case = services.case_open(student=world.year.monday, by=world.counselor, opened_on=day(10, 1))
        services.case_plan_update(case=case, by=world.counselor, plan_started_on=day(10, 6))
        review = services.review_create(case=case, by=world.counselor, review_date=day(10, 31), notes="Mondays")
        assert (review.days_since, review.rate_since, review.days_before, review.rate_before) == (
            20, Decimal("0.8000"), 20, Decimal("0.8000"),
        )  # fmt: skip
        assert review.absent_since == Decimal("4.000") and review.through == OCT_31
        assert review.change == Decimal("0")
        case.refresh_from_db()
        assert case.next_review_on == day(11, 14)  # every 14 days from the last review
