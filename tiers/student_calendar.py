"""A student's school year, day by day, for the calendar on their page.

Built in Python from three small lists (the school calendars, the student's enrollments, their
attendance records) so the page needs two queries, not one per day. The day rules are SPEC §4's
as the engine applies them: instructional days of the enrolled school, exit date exclusive unless
the policy says otherwise, whole-day absent categories count whatever their minutes, minutes of
partial days, tardies and early dismissals add up and count under the half-day rule.
"""

import bisect
import calendar
import dataclasses
import datetime
from collections import defaultdict
from fractions import Fraction

from django.utils import dateformat, formats
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from .policy import FRACTIONAL_DAYS, Policy

# status: (symbol shown in the cell, legend label). Every status has its own symbol, so the
# calendar never relies on colour alone.
STATUSES = {
    "present": ("·", _("Present")),
    "absent_excused": ("E", _("Absent, excused")),
    "absent_unexcused": ("U", _("Absent, unexcused")),
    "suspension": ("S", _("Out-of-school suspension")),
    "partial_absent": ("H", _("Partial day, counted absent")),
    "partial": ("h", _("Partial day, under half a day")),
    "tardy": ("T", _("Tardy or left early")),
    "no_school": ("–", _("No school")),
    "not_enrolled": ("×", _("Not enrolled")),
    "future": ("", _("Still to come")),
}
WHOLE_DAY = {
    "absent_excused": "absent_excused",
    "absent_unexcused": "absent_unexcused",
    "suspension_out_of_school": "suspension",
}
MINUTES = frozenset({"tardy", "early_dismissal", "partial_day"})
# When two schools record the same day (overlapping enrollments), the weightier status shows.
RANK = ["present", "partial", "tardy", "partial_absent", "absent_excused", "absent_unexcused", "suspension"]
ABSENT = frozenset({"absent_excused", "absent_unexcused", "suspension", "partial_absent"})


@dataclasses.dataclass(frozen=True)
class Day:
    date: datetime.date | None  # None: the month has no such day, or it is outside the year
    status: str = ""
    note: str = ""
    absent: Fraction = Fraction(0)  # the day's weight as an absent day (SPEC §4): 0, 1, or a fraction

    @property
    def symbol(self) -> str:
        return STATUSES[self.status][0] if self.status else ""

    @property
    def description(self) -> str:
        day = dateformat.format(self.date, pgettext("date format: weekday, short month and day", "D M j"))
        text = f"{day}: {str(STATUSES[self.status][1]).lower()}"
        return f"{text} ({self.note})" if self.note else text


@dataclasses.dataclass(frozen=True)
class Month:
    label: str
    days: list[Day]  # 31 cells, day 1 first


@dataclasses.dataclass(frozen=True)
class StudentCalendar:
    months: list[Month]
    counts: dict[str, int]  # status → days, up to today

    @property
    def legend(self) -> list[tuple[str, str, str]]:
        return [(status, symbol, label) for status, (symbol, label) in STATUSES.items()]

    @property
    def school_days(self) -> int:
        return sum(count for status, count in self.counts.items() if status in RANK)

    @property
    def absent_days(self) -> int:
        return sum(self.counts.get(status, 0) for status in ABSENT)

    @property
    def school_day_counts(self) -> list[tuple[str, int]]:
        """(label, days) of each kind of school day so far, in the legend's order."""
        return [
            (STATUSES[status][1], self.counts[status])
            for status in STATUSES
            if status in RANK and self.counts.get(status)
        ]


def student_calendar(
    *,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    calendar_days: list[
        tuple[int | None, datetime.date, bool, int]
    ],  # school (None: district default), date, instructional, minutes
    enrollments: list[tuple[int, datetime.date, datetime.date | None]],  # school, entry, exit
    records: list[tuple[int, datetime.date, str, int | None]],  # school, date, category, minutes
    policy: Policy,
) -> StudentCalendar:
    school_days = _school_days(calendar_days)
    by_day = defaultdict(list)
    for school, day, category, minutes in records:
        by_day[(school, day)].append((category, minutes))
    counts: dict[str, int] = defaultdict(int)
    months = []
    for year, month in _months(start, end):
        days = []
        for number in range(1, 32):
            if number > calendar.monthrange(year, month)[1] or not start <= datetime.date(year, month, number) <= end:
                days.append(Day(None))
                continue
            day = _day(datetime.date(year, month, number), today, school_days, enrollments, by_day, policy)
            if day.date <= today:
                counts[day.status] += 1
            days.append(day)
        months.append(Month(dateformat.format(datetime.date(year, month, 1), "M Y"), days))
    return StudentCalendar(months, dict(counts))


def _months(start: datetime.date, end: datetime.date):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _school_days(rows) -> dict:
    """(school, date) → minutes for every instructional day; a school's own row beats the
    district default for that date."""
    default = {day: (instructional, minutes) for school, day, instructional, minutes in rows if school is None}
    own = {
        (school, day): (instructional, minutes) for school, day, instructional, minutes in rows if school is not None
    }

    class Days(dict):
        def __missing__(self, key):
            instructional, minutes = own.get(key) or default.get(key[1]) or (False, 0)
            return minutes if instructional else None

    return Days()


def _day(day, today, school_days, enrollments, records, policy: Policy) -> Day:
    inclusive = policy.exit_date_inclusive
    schools = [
        school
        for school, entry, exit_date in enrollments
        if entry <= day and (exit_date is None or day < exit_date or (inclusive and day == exit_date))
    ]
    if not schools:
        return Day(day, "not_enrolled")
    teaching = [(school, school_days[(school, day)]) for school in schools if school_days[(school, day)] is not None]
    if not teaching:
        return Day(day, "no_school")
    if day > today:
        return Day(day, "future")
    return max(
        (_school_day(day, records.get((school, day), []), minutes, policy) for school, minutes in teaching),
        key=lambda d: RANK.index(d.status),
    )


def _school_day(day, records, day_minutes: int, policy: Policy) -> Day:
    whole = [WHOLE_DAY[category] for category, _ in records if category in WHOLE_DAY]
    if whole:
        return Day(day, max(whole, key=RANK.index), absent=Fraction(1))
    timed = [(category, minutes) for category, minutes in records if category in MINUTES]
    if not timed:
        return Day(day, "present")
    missed = min(sum(minutes or 0 for _, minutes in timed), day_minutes)
    tardy = any(category != "partial_day" for category, _ in timed)
    note = (
        gettext("%(missed)s of %(total)s minutes missed") % {"missed": missed, "total": day_minutes}
        if missed
        else gettext("no minutes recorded")
    )
    if policy.partial_days == FRACTIONAL_DAYS:
        if missed >= day_minutes:
            return Day(day, "partial_absent", note, absent=Fraction(1))
        if missed:
            share = formats.number_format(round(missed / day_minutes, 2), decimal_pos=2)
            note = gettext("%(note)s, %(share)s of a day absent") % {"note": note, "share": share}
            return Day(day, "tardy" if tardy else "partial", note, absent=Fraction(missed, day_minutes))
    elif missed and 2 * missed >= day_minutes:
        return Day(day, "partial_absent", note, absent=Fraction(1))
    return Day(day, "tardy" if tardy else "partial", note)


class TeachingDays:
    """Schools' instructional dates and day lengths, prepared once for many students: a school's
    own rows win over the district default for the same date (as the engine loads them)."""

    def __init__(self, calendar_days: list[tuple[int | None, datetime.date, bool, int]]):
        self.minutes = _school_days(calendar_days)
        self._default = {day: on for school, day, on, _minutes in calendar_days if school is None}
        self._own: dict[int, dict] = defaultdict(dict)
        for school, day, on, _minutes in calendar_days:
            if school is not None:
                self._own[school][day] = on
        self._dates: dict[int, list[datetime.date]] = {}

    def dates(self, school: int) -> list[datetime.date]:
        if school not in self._dates:
            merged = {**self._default, **self._own.get(school, {})}
            self._dates[school] = sorted(day for day, on in merged.items() if on)
        return self._dates[school]


def membership_days(
    *,
    start: datetime.date,
    end: datetime.date,
    teaching: TeachingDays,
    enrollments: list[tuple[int, datetime.date, datetime.date | None]],
    records: list[tuple[int, datetime.date, str, int | None]],
    policy: Policy,
) -> dict[datetime.date, Fraction]:
    """The student's district membership days from `start` through `end`, each with its weight
    as an absent day (0 when present), by the same day rules as the calendar above.

    For figures over a stretch of the year (a Tier 3 plan's progress): a day in several
    enrollments counts once, with the heaviest absence of the day (as the engine does). Only
    days with records are classified one by one; every other membership day is present.
    """
    by_day = defaultdict(list)
    for school, day, category, minutes in records:
        by_day[(school, day)].append((category, minutes))
    weights: dict[datetime.date, Fraction] = {}
    for school, entry, exit_date in enrollments:
        last = end
        if exit_date is not None:
            last = min(end, exit_date if policy.exit_date_inclusive else exit_date - datetime.timedelta(days=1))
        dates = teaching.dates(school)
        for day in dates[bisect.bisect_left(dates, max(start, entry)) : bisect.bisect_right(dates, last)]:
            found = by_day.get((school, day))
            weight = _school_day(day, found, teaching.minutes[(school, day)], policy).absent if found else Fraction(0)
            weights[day] = max(weight, weights.get(day, Fraction(0)))
    return dict(sorted(weights.items()))
