"""The demo district's school year: 180 instructional days with the holidays, breaks and
teacher workdays a North Carolina calendar has, placed so that about half the year (90
instructional days) lies before the demo's "today". Dates follow the real calendar's holiday
rules, so a demo run in November has its Thanksgiving break in the right week.
"""

import datetime
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property

YEAR_DAYS = 180
HALF_YEAR_DAYS = 90


@dataclass(frozen=True)
class DemoCalendar:
    """The school year as (weekday, event) pairs; an empty event is an instructional day."""

    weekdays: tuple[tuple[datetime.date, str], ...]
    today: datetime.date

    @cached_property
    def instructional(self) -> list[datetime.date]:
        return [day for day, event in self.weekdays if not event]

    @cached_property
    def elapsed(self) -> list[datetime.date]:
        """Instructional days before today: attendance has been taken through yesterday."""
        return self.instructional[: bisect_left(self.instructional, self.today)]

    @property
    def fall_year(self) -> int:
        start = self.instructional[0]
        return start.year if start.month >= 7 else start.year - 1

    @property
    def prior_school_year(self) -> str:
        return f"{self.fall_year - 1}-{self.fall_year % 100:02d}"


def demo_calendar(today: datetime.date) -> DemoCalendar:
    """Start on the Monday that leaves about half the year (90 instructional days) before today."""
    holidays = _holidays(range(today.year - 2, today.year + 2))
    mondays = [today - datetime.timedelta(days=today.weekday() + 7 * weeks) for weeks in range(10, 32)]
    years = [_school_year(monday, holidays, today) for monday in mondays if monday not in holidays]
    # Closest to 90 days; on a tie the later start, so the demo's year is as recent as it can be.
    return min(years, key=lambda year: (abs(len(year.elapsed) - HALF_YEAR_DAYS), -year.instructional[0].toordinal()))


def _school_year(start: datetime.date, holidays: dict, today: datetime.date) -> DemoCalendar:
    # Teacher workdays close the first and third quarters, as North Carolina calendars do.
    workdays_after = {45, 135}
    weekdays, taught, day = [], 0, start
    while taught < YEAR_DAYS:
        if day.weekday() < 5:
            event = holidays.get(day, "")
            if not event and taught in workdays_after:
                event = "Teacher workday"
                workdays_after.discard(taught)
            weekdays.append((day, event))
            taught += not event
        day += datetime.timedelta(days=1)
    return DemoCalendar(weekdays=tuple(weekdays), today=today)


def _holidays(years) -> dict[datetime.date, str]:
    days = {}
    for year in years:
        days[datetime.date(year, 7, 4)] = "Independence Day"
        days[_nth_weekday(year, 9, 0, 1)] = "Labor Day"
        days[datetime.date(year, 11, 11)] = "Veterans Day"
        thanksgiving = _nth_weekday(year, 11, 3, 4)
        days |= {thanksgiving + datetime.timedelta(days=n): "Thanksgiving break" for n in (-1, 0, 1)}
        days |= {datetime.date(year, 12, 21) + datetime.timedelta(days=n): "Winter break" for n in range(14)}
        days[_nth_weekday(year, 1, 0, 3)] = "Martin Luther King Jr. Day"
        days[_nth_weekday(year, 2, 0, 3)] = "Teacher workday"
        spring = _nth_weekday(year, 4, 0, 1)
        days |= {spring + datetime.timedelta(days=n): "Spring break" for n in range(5)}
        days[_nth_weekday(year, 6, 0, 1) - datetime.timedelta(days=7)] = "Memorial Day"
        days[datetime.date(year, 6, 19)] = "Juneteenth"
    return days


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> datetime.date:
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
