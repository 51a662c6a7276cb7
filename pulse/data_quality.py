"""Data quality per school: what makes the figures less true, each with where it is fixed.

Most of it is the import-health reading the district admin already has (imports.selectors.
import_health: unknown codes held, last attendance received, enrollment gaps, enrolled
students without a guardian phone or email); this adds two things the dashboard needs:

- stale: the school's last attendance arrived more than 2 school days ago (school days of
  its own calendar before today, after the last date received), or never;
- missing calendar days: weekdays from the start of the year to today that neither the
  school's calendar nor the district default lists at all (instructional or not);

and the same-day notices that did not reach a family (outreach's outbox: failed, or stopped
while sending), by school.
"""

import dataclasses
import datetime
from collections import Counter, defaultdict

from django.db.models import Q

from districts.models import District, School
from imports.selectors import import_health
from outreach.families.selectors import notice_problems
from students.models import CalendarDay

from .follow_through import school_calendars

STALE_AFTER_SCHOOL_DAYS = 2


@dataclasses.dataclass
class SchoolDataQuality:
    school: School
    last_attendance: datetime.date | None
    school_days_since: int | None  # school days after the last date received, before today
    unknown_code_rows: int
    unknown_codes: list[str]
    missing_calendar_days: list[datetime.date]
    days_without_attendance: int
    enrollment_gaps: int
    no_guardian_contact: int
    failed_notices: int

    @property
    def is_stale(self) -> bool:
        return self.school_days_since is None or self.school_days_since > STALE_AFTER_SCHOOL_DAYS

    @property
    def issues(self) -> int:
        return sum(
            bool(value)
            for value in (
                self.is_stale, self.unknown_code_rows, self.missing_calendar_days, self.enrollment_gaps,
                self.no_guardian_contact, self.failed_notices,
            )
        )  # fmt: skip


def data_quality_report(*, district: District, today: datetime.date) -> list[SchoolDataQuality]:
    health = import_health(today=today)
    start = district.school_year_start or today - datetime.timedelta(days=120)
    end = min(today - datetime.timedelta(days=1), district.school_year_end or today)
    schools = [row["school"] for row in health["schools"]]
    calendars = school_calendars(school_ids=[school.pk for school in schools], start=start, end=today)
    missing = _missing_calendar_days(schools, start, end)
    failed = Counter(notice_problems().values_list("school_id", flat=True))
    rows = []
    for row in health["schools"]:
        school, last = row["school"], row["last_attendance"]
        since = None
        if last is not None:
            since = sum(1 for day in calendars[school.pk].days if last < day < today)
        rows.append(
            SchoolDataQuality(
                school=school,
                last_attendance=last,
                school_days_since=since,
                unknown_code_rows=sum(row["unknown_codes"].values()),
                unknown_codes=sorted(row["unknown_codes"]),
                missing_calendar_days=missing.get(school.pk, []),
                days_without_attendance=len(row["days_without_attendance"]),
                enrollment_gaps=len(row["gaps"]),
                no_guardian_contact=len(row["no_guardian_contact"]),
                failed_notices=failed.get(school.pk, 0),
            )  # fmt: skip
        )
    return rows


def _missing_calendar_days(schools, start: datetime.date, end: datetime.date) -> dict[int, list[datetime.date]]:
    listed: dict[int | None, set] = defaultdict(set)
    ids = [school.pk for school in schools]
    for school_id, day in CalendarDay.objects.filter(
        Q(school_id__in=ids) | Q(school__isnull=True), date__range=(start, end)
    ).values_list("school_id", "date"):
        listed[school_id].add(day)
    weekdays = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    weekdays = [day for day in weekdays if day.weekday() < 5]
    return {
        pk: days
        for pk in ids
        if (days := [day for day in weekdays if day not in listed[pk] and day not in listed[None]])
    }
