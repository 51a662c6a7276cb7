"""Small builders for the huddle tests: a current metrics run, a student with figures at a
school, flags, a school calendar and outreach actions. Callers run inside the district's scope."""

import datetime
from decimal import Decimal

from districts.models import Membership, Role
from students.models import CalendarDay
from tiers.models import CalculationPolicy, Flag, MetricsRun, StudentMetrics, WeeklySnapshot

from .factories import EnrollmentFactory, GuardianFactory, StudentFactory

WEEK = datetime.date(2025, 11, 17)  # a Monday; Thanksgiving break is Nov 26–28
LAST_WEEK = WEEK - datetime.timedelta(days=7)
NEXT_WEEK = WEEK + datetime.timedelta(days=7)


def current_run(district, as_of=WEEK - datetime.timedelta(days=1)) -> MetricsRun:
    run = MetricsRun.objects.filter(is_current=True).first()
    if run:
        return run
    policy = CalculationPolicy.objects.first() or CalculationPolicy.objects.create(district=district, version=1)
    return MetricsRun.objects.create(
        district=district, policy=policy, as_of=as_of, status=MetricsRun.Status.SUCCEEDED, is_current=True
    )


def student_at(
    school, *, absent=4, membership=50, band="satisfactory", absences_left=10, trend=0.0, sis_id=None, last_name=None
):
    """A student enrolled at `school` with a guardian and current figures there."""
    district = school.district
    extra = {"sis_id": sis_id} if sis_id else {}
    if last_name:
        extra["last_name"] = last_name
    student = StudentFactory(district=district, grade="7", **extra)
    EnrollmentFactory(student=student, school=school)
    GuardianFactory(student=student, name=f"Guardian {student.sis_id}", language="Spanish", preferred_channel="text")
    rate = (Decimal(absent) / membership).quantize(Decimal("0.0001"))
    StudentMetrics.objects.create(
        district=district, run=current_run(district), student=student, current_school=school, membership_days=membership,
        absent_days=absent, absent_excused=0, absent_unexcused=absent, absent_suspension=0, absent_partial=0,
        tardy_days=0, absence_rate=rate, chronic=rate >= Decimal("0.1"), band=band, remaining_days=100,
        absences_left=absences_left, recent_rate=Decimal("0.1"), projected_rate=rate, tier=0, rules=[],
        signals={"trend": trend, "previous_rate": 0.02},
    )  # fmt: skip
    return student


def flag(student, rule="t2_recent_absences", *, first_met, tier=None, status=Flag.Status.NEW) -> Flag:
    return Flag.objects.create(
        district=student.district, student=student, rule=rule, tier=tier or int(rule[1]), status=status,
        first_met=first_met, last_met=first_met, why=f"{rule} for {student.sis_id}", policy_version=1,
    )  # fmt: skip


def snapshot(student, week_start, rate) -> WeeklySnapshot:
    return WeeklySnapshot.objects.create(
        district=student.district, student=student, week_start=week_start, as_of=week_start + datetime.timedelta(days=4),
        membership_days=50, absent_days=5, absence_rate=Decimal(rate), band="at_risk", tier=2, rules=[],
    )  # fmt: skip


def weekday_calendar(school, start=datetime.date(2025, 8, 25), end=datetime.date(2026, 1, 30), closed=()):
    """Every weekday instructional at `school`, except the `closed` dates (holidays)."""
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(CalendarDay(district=school.district, school=school, date=day, instructional=day not in closed))
        day += datetime.timedelta(days=1)
    CalendarDay.objects.bulk_create(days)


THANKSGIVING = [datetime.date(2025, 11, 26), datetime.date(2025, 11, 27), datetime.date(2025, 11, 28)]


def membership(tenant, role: str) -> Membership:
    return Membership.objects.get(user=tenant.user(role))


def lead(tenant) -> Membership:
    return membership(tenant, Role.ATTENDANCE_LEAD)
