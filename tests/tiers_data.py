"""A small school year with hand-countable attendance, for the tiers tests.

Weekdays from Monday 25 August 2025 to Wednesday 10 June 2026 are school days (district default
calendar, 360 minutes, no holidays), so as of Friday 31 October 2025 a student enrolled from the
first day has 50 membership days. The students:

- `steady`: at the tenant's school, never absent.
- `monday`: at the tenant's school, absent (unexcused) every Monday from 1 September; chronic last
  year too. As of Oct 31: 9 absent days of 50 (18.00%, moderate), tier 3 (repeat chronic).
- `recent`: at the tenant's school, absent 14–16 October (excused), then 1–3 December: the
  "3 absences in the last 20 days" rule holds on Oct 31, lapses by Nov 28, holds again Dec 12.
- `mover`: at the tenant's school until 1 October (exit date = first day at the other school),
  then at the other school; absent 15 September at the first and 15 October at the second.
- `partial`: at the tenant's school; a 200-minute partial day (counts absent under the half-day
  rule) on 9 October and a 30-minute tardy on 10 October.
"""

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
from django_scopes import scope

from students.models import AttendanceRecord, CalendarDay, Enrollment, PriorYearSummary, Student
from tiers.forms import EXCLUSIVE
from tiers.policy import DEFAULT_RULES, WHOLE_DAYS
from tiers.policy_changes import RULE_NUMBERS

from .factories import EnrollmentFactory, GuardianFactory, StudentFactory

FIRST_DAY = datetime.date(2025, 8, 25)
LAST_DAY = datetime.date(2026, 6, 10)
OCT_31 = datetime.date(2025, 10, 31)
TRANSFER = datetime.date(2025, 10, 1)


def school_days(start: datetime.date = FIRST_DAY, end: datetime.date = LAST_DAY) -> list[datetime.date]:
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1)
    return [day.astype(datetime.date) for day in days[np.is_busday(days)]]


def count_school_days(after: datetime.date, through: datetime.date = LAST_DAY) -> int:
    """School days strictly after `after`, through `through` (the remaining days)."""
    return int(np.busday_count(np.datetime64(after) + 1, np.datetime64(through) + 1))


def mondays(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [day for day in school_days(start, end) if day.weekday() == 0]


@dataclasses.dataclass
class TiersYear:
    district: object
    school: object
    other_school: object
    steady: Student
    monday: Student
    recent: Student
    mover: Student
    partial: Student

    @property
    def students(self) -> list[Student]:
        return [self.steady, self.monday, self.recent, self.mover, self.partial]


def _absent(student, school, days, category="absent_unexcused", code="U", minutes=None) -> list[AttendanceRecord]:
    return [
        AttendanceRecord(
            district=student.district,
            student=student,
            school=school,
            date=day,
            code=code,
            category=category,
            minutes_absent=minutes,
        )
        for day in days
    ]


def tiers_year(tenant, *, prefix: str = "T") -> TiersYear:
    district, school, other = tenant.district, tenant.school, tenant.other_school
    with scope(district=district):
        CalendarDay.objects.bulk_create(
            [CalendarDay(district=district, school=None, date=day, minutes=360) for day in school_days()]
        )
        names = ["steady", "monday", "recent", "mover", "partial"]
        students = {
            name: StudentFactory(
                district=district, sis_id=f"{prefix}{index + 1:03d}", first_name=name.title(), last_name="Tester"
            )
            for index, name in enumerate(names)
        }
        for name in ["steady", "monday", "recent", "partial"]:
            EnrollmentFactory(student=students[name], school=school, entry_date=FIRST_DAY)
        Enrollment.objects.create(
            district=district,
            student=students["mover"],
            school=school,
            grade="7",
            entry_date=FIRST_DAY,
            exit_date=TRANSFER,
        )
        Enrollment.objects.create(
            district=district, student=students["mover"], school=other, grade="7", entry_date=TRANSFER
        )
        GuardianFactory(student=students["monday"], name="Morgan Tester")
        PriorYearSummary.objects.create(
            district=district, student=students["monday"], school_year="2024-25", days_enrolled=170, days_absent=30
        )
        records = (
            _absent(students["monday"], school, mondays(datetime.date(2025, 9, 1), LAST_DAY))
            + _absent(
                students["recent"],
                school,
                [datetime.date(2025, 10, 14), datetime.date(2025, 10, 15), datetime.date(2025, 10, 16)],
                category="absent_excused",
                code="E",
            )
            + _absent(
                students["recent"],
                school,
                [datetime.date(2025, 12, 1), datetime.date(2025, 12, 2), datetime.date(2025, 12, 3)],
            )
            + _absent(students["mover"], school, [datetime.date(2025, 9, 15)])
            + _absent(students["mover"], other, [datetime.date(2025, 10, 15)])
            + _absent(
                students["partial"], school, [datetime.date(2025, 10, 9)], category="partial_day", code="H", minutes=200
            )
            + _absent(
                students["partial"], school, [datetime.date(2025, 10, 10)], category="tardy", code="T", minutes=30
            )
        )
        AttendanceRecord.objects.bulk_create(records)
    return TiersYear(district, school, other, **students)


def metrics_run_of(district) -> int:
    """A run of the district, for routes that name one (the isolation matrix fills run_id with it)."""
    from tiers.models import MetricsRun
    from tiers.services import metrics_run_create

    with scope(district=district):
        run = MetricsRun.objects.first() or metrics_run_create(
            district=district, as_of=OCT_31, trigger=MetricsRun.Trigger.MANUAL
        )
    return run.pk


def policy_post(**changes) -> dict:
    """The policy form as the page renders it for the SPEC defaults, with `changes` on top
    (None removes a field)."""
    data = {
        "chronic_threshold_pct": "10.00", "min_membership_days": "10", "partial_days": WHOLE_DAYS,
        "exit_date": EXCLUSIVE, "recent_window": "20", "note": "",
    }  # fmt: skip
    for rule_id, settings in DEFAULT_RULES.items():
        data[f"{rule_id}__enabled"] = "on"
        for name, _ in RULE_NUMBERS[rule_id]:
            value = getattr(settings, name)
            data[f"{rule_id}__{name}"] = (
                str(Decimal(value.numerator * 100) / value.denominator)
                if name in {"rate_low", "rate_high", "share"}
                else str(value)
            )
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
