"""The school year an import is read against, and the district's today.

Rows dated outside it are held, never loaded into another year silently (issue 9, issue 10): a
typo'd year, last year's file sent by mistake. The year is the district's configured one; a
district that has not set its year gets the engine's July-to-June year around today
(tiers.loading.SchoolYear). To load an earlier year's files on purpose (last year's daily
attendance, for the prior year to date), an import names that year ("2024-25").
"""

import dataclasses
import datetime
import re

from django.utils import timezone

from districts.models import District

LABEL = re.compile(r"^(\d{4})-(\d{2})$")


@dataclasses.dataclass(frozen=True)
class Window:
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return year_label(self.start.year)


def year_label(first_year: int) -> str:
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def district_today(district: District) -> datetime.date:
    return timezone.localtime(timezone.now(), district.tzinfo).date()


def current_window(district: District) -> Window:
    if district.school_year_start and district.school_year_end:
        return Window(district.school_year_start, district.school_year_end)
    today = district_today(district)
    first = today.year if today.month >= 7 else today.year - 1
    return Window(datetime.date(first, 7, 1), datetime.date(first + 1, 6, 30))


def school_year_window(district: District, label: str = "") -> Window:
    """The district's current year, or the year `label` ("2024-25") names, with the same dates."""
    current = current_window(district)
    if not label:
        return current
    match = LABEL.match(label)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"{label!r} is not a school year like 2024-25")
    shift = int(match[1]) - current.start.year
    return Window(_shifted(current.start, shift), _shifted(current.end, shift))


def recent_years(district: District, count: int = 3) -> list[str]:
    """The current year's label and the ones before it, newest first."""
    first = current_window(district).start.year
    return [year_label(first - back) for back in range(count)]


def _shifted(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
