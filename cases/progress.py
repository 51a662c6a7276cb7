"""Measured progress of a Tier 3 plan, from the attendance data, never typed (issue 11).

With P the plan's start and R the review date:
- `days_since`: the student's district membership days from P through min(R, the latest
  computed as-of date);
- `rate_since`: present days / days_since;
- `rate_before`: the same over the `days_since` membership days just before P (fewer if the
  school year has fewer).
Membership and absent days follow SPEC §4 (half days, several records on a day, transfers)
through tiers.student_calendar, the day rules the student page's calendar uses. Rates are
fractions 0–1, exact until they are rounded to four places for storage and display.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db.models import Q

from districts.models import District
from students.models import AttendanceRecord, Enrollment
from tiers.loading import SchoolYear
from tiers.models import MetricsRun
from tiers.policy import Policy
from tiers.selectors import current_run, policy_shown, school_calendar_rows
from tiers.student_calendar import TeachingDays, membership_days

FOUR_PLACES = Decimal("0.0001")


def rate_decimal(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def days_decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class Stretch:
    """Membership days of one stretch and the absences in them."""

    days: int
    absent: Fraction

    @property
    def rate(self) -> Fraction | None:
        """The attendance rate: present days over membership days; None with no membership."""
        return Fraction(self.days - self.absent, self.days) if self.days else None

    @classmethod
    def of(cls, weights: list[Fraction]) -> "Stretch":
        return cls(len(weights), sum(weights, Fraction(0)))


@dataclasses.dataclass(frozen=True)
class Progress:
    plan_started_on: datetime.date
    through: datetime.date | None  # None: nothing computed yet
    since: Stretch
    before: Stretch

    @property
    def rate_since(self) -> Decimal | None:
        return rate_decimal(self.since.rate)

    @property
    def rate_before(self) -> Decimal | None:
        return rate_decimal(self.before.rate)

    @property
    def change(self) -> Decimal | None:
        if self.since.rate is None or self.before.rate is None:
            return None
        return rate_decimal(self.since.rate - self.before.rate)


def progress_of(days: dict[datetime.date, Fraction], *, plan_started_on: datetime.date, through) -> Progress:
    """`days`: membership day → absent weight, through `through` at least, in date order."""
    if through is None:
        return Progress(plan_started_on, None, Stretch(0, Fraction(0)), Stretch(0, Fraction(0)))
    since = [weight for day, weight in days.items() if plan_started_on <= day <= through]
    earlier = [weight for day, weight in days.items() if day < plan_started_on]
    before = earlier[len(earlier) - len(since) :] if since else []
    return Progress(plan_started_on, through, Stretch.of(since), Stretch.of(before))


# ----------------------------------------------------------------------------- reading the data


@dataclasses.dataclass(frozen=True)
class Window:
    """What the figures may read: the school year of the latest computed date, up to it."""

    year: SchoolYear
    as_of: datetime.date | None
    policy: Policy


def data_window(*, district: District, run: MetricsRun | None = None) -> Window:
    run = run or current_run()
    policy_row = run.policy if run else policy_shown(district=district)
    as_of = run.as_of if run else None
    year = SchoolYear.containing(district, as_of or datetime.date.today())
    return Window(year=year, as_of=as_of, policy=policy_row.as_policy())


def attendance_days(
    *, window: Window, student_ids: list[int], through: datetime.date | None = None
) -> dict[int, dict[datetime.date, Fraction]]:
    """Each student's membership days of the year, with their absent weights, up to `through`
    (default: the latest computed date). Three queries, whatever the number of students."""
    end = min(filter(None, [through, window.as_of, window.year.end]))
    start = window.year.start
    if not student_ids or end < start:
        return {student_id: {} for student_id in student_ids}
    enrollments: dict[int, list] = defaultdict(list)
    for student_id, school_id, entry, exit_date in (
        Enrollment.objects.filter(student_id__in=student_ids, entry_date__lte=end)
        .filter(Q(exit_date__isnull=True) | Q(exit_date__gte=start))
        .values_list("student_id", "school_id", "entry_date", "exit_date")
    ):
        enrollments[student_id].append((school_id, entry, exit_date))
    schools = sorted({school for stays in enrollments.values() for school, _, _ in stays})
    teaching = TeachingDays(school_calendar_rows(school_ids=schools, start=start, end=end))
    records: dict[int, list] = defaultdict(list)
    for student_id, *record in AttendanceRecord.objects.filter(
        student_id__in=student_ids, date__range=(start, end)
    ).values_list("student_id", "school_id", "date", "category", "minutes_absent"):
        records[student_id].append(tuple(record))
    return {
        student_id: membership_days(
            start=start,
            end=end,
            teaching=teaching,
            enrollments=enrollments.get(student_id, []),
            records=records.get(student_id, []),
            policy=window.policy,
        )  # fmt: skip
        for student_id in student_ids
    }


def review_progress(
    *, district: District, student_id: int, plan_started_on: datetime.date, review_date: datetime.date
) -> Progress:
    window = data_window(district=district)
    through = min(review_date, window.as_of) if window.as_of else None
    if through is None:
        return progress_of({}, plan_started_on=plan_started_on, through=None)
    days = attendance_days(window=window, student_ids=[student_id], through=through)[student_id]
    return progress_of(days, plan_started_on=plan_started_on, through=through)
