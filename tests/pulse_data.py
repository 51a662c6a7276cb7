"""A hand-countable district for the pulse figures.

District A's default calendar has every weekday from Monday 25 August 2025 as a school day, so as
of Friday 19 September 2025 a student enrolled from the first day has 20 membership days. The
middle school is `tenant.school` (M), the high school `tenant.other_school` (H). Policy defaults:
chronic at 10% with at least 10 days.

| student  | grade | where                     | absent (days)        | district level           |
|----------|-------|---------------------------|----------------------|--------------------------|
| able     | 7     | M                         | 0                    | 0/20 satisfactory        |
| brook    | 7     | M                         | 1 (Sep 16)           | 1/20 = 5% at risk        |
| casey    | 7     | M                         | 4 (Sep 15–18)        | 4/20 = 20% severe, chr.  |
| dale     | 7     | M                         | 6 (Sep 1–3, 15–17)   | 6/20 = 30% acute, chr.   |
| mover    | 7     | M to Sep 8, then H        | Sep 2 at M, Sep 10 at H | 2/20 = 10% moderate, chr. |
| newcomer | 6     | M from Sep 15 (5 days)    | 3                    | too few days             |
| lonely   | 8     | H                         | 0                    | 0/20 satisfactory        |

School level: M has able, brook, casey, dale and mover (1 of his 10 days there: 10%, chronic),
newcomer too few days; H has mover (1 of 10: chronic) and lonely.
Subgroups: econ. disadvantaged able, casey, dale, newcomer; English learner casey; race WH
able, brook, lonely; HI casey, dale, newcomer; BL mover. Nobody has a disability, is homeless or
in foster care.
"""

import dataclasses
import datetime

from django_scopes import scope

from students.models import AttendanceRecord, CalendarDay, Enrollment, PriorYearSummary

from .factories import StudentFactory
from .tiers_data import FIRST_DAY, school_days

AS_OF = datetime.date(2025, 9, 19)
TRANSFER = datetime.date(2025, 9, 8)
SEP = {day: datetime.date(2025, 9, day) for day in range(1, 31)}


@dataclasses.dataclass
class PulseDistrict:
    district: object
    middle: object
    high: object
    students: dict


STUDENTS = {
    # name: grade, econ, english learner, race
    "able": ("7", True, False, "WH"),
    "brook": ("7", False, False, "WH"),
    "casey": ("7", True, True, "HI"),
    "dale": ("7", True, False, "HI"),
    "mover": ("7", False, False, "BL"),
    "newcomer": ("6", True, False, "HI"),
    "lonely": ("8", False, False, "WH"),
}


def pulse_district(tenant) -> PulseDistrict:
    district, middle, high = tenant.district, tenant.school, tenant.other_school
    with scope(district=district):
        CalendarDay.objects.bulk_create(
            [CalendarDay(district=district, school=None, date=day, minutes=360) for day in school_days()]
        )
        students = {
            name: StudentFactory(
                district=district, sis_id=f"P{index:02d}", first_name=name.title(), last_name="Pulse", grade=grade,
                econ_disadvantaged=econ, english_learner=learner, race_ethnicity=race,
            )
            for index, (name, (grade, econ, learner, race)) in enumerate(STUDENTS.items())
        }  # fmt: skip
        enrollments = [(name, middle, FIRST_DAY, None) for name in ["able", "brook", "casey", "dale"]] + [
            ("mover", middle, FIRST_DAY, TRANSFER),
            ("mover", high, TRANSFER, None),
            ("newcomer", middle, SEP[15], None),
            ("lonely", high, FIRST_DAY, None),
        ]
        for name, school, entry, exit_date in enrollments:
            student = students[name]
            Enrollment.objects.create(
                district=district, student=student, school=school, grade=student.grade, entry_date=entry,
                exit_date=exit_date,
            )  # fmt: skip
        absences = [
            ("brook", middle, [16]),
            ("casey", middle, [15, 16, 17, 18]),
            ("dale", middle, [1, 2, 3, 15, 16, 17]),
            ("mover", middle, [2]),
            ("mover", high, [10]),
            ("newcomer", middle, [15, 16, 17]),
        ]
        AttendanceRecord.objects.bulk_create(
            [
                AttendanceRecord(
                    district=district, student=students[name], school=school, date=SEP[day], code="U",
                    category="absent_unexcused",
                )
                for name, school, days in absences
                for day in days
            ]
        )  # fmt: skip
    return PulseDistrict(district, middle, high, students)


# Last year (2024-25, full-year summaries only): able 20 of 180 days (chronic, moderate), brook 2
# of 180 (satisfactory), casey 5 of 100 (at risk); nobody else has a prior year. So the district
# was 1 of 3 chronic last year.
PRIOR = {"able": (180, 20), "brook": (180, 2), "casey": (100, 5)}


def computed_pulse_district(tenant) -> PulseDistrict:
    """The district above with last year's summaries and its metrics computed as of AS_OF."""
    from django.core.cache import cache

    from tiers.services import compute_metrics

    cache.clear()
    data = pulse_district(tenant)
    with scope(district=data.district):
        for name, (enrolled, absent) in PRIOR.items():
            PriorYearSummary.objects.create(
                district=data.district, student=data.students[name], school_year="2024-25",
                days_enrolled=enrolled, days_absent=absent,
            )  # fmt: skip
        compute_metrics(district=data.district, as_of=AS_OF)
    return data


def board_of(data):
    """The dashboard's figures for the district's current run, computed afresh."""
    from pulse.board import board_compute
    from tiers.models import MetricsRun

    with scope(district=data.district):
        return board_compute(district=data.district, run=MetricsRun.objects.get(is_current=True))


SUPPORTED_AS_OF = datetime.date(2025, 10, 17)
SUPPORT_CALLED = datetime.date(2025, 9, 22)


def supported_pulse_district(tenant) -> PulseDistrict:
    """The district above computed as of Friday Oct 17 (40 school days), with calls to casey and
    dale on Monday Sep 22, their 21st day: before it casey missed 4 of 20 days and dale 6, after
    it neither missed a day. Together: 30 of 40 before (75.0%), 40 of 40 after (100.0%)."""
    from django.core.cache import cache

    from outreach.services import outreach_action_create
    from tiers.services import compute_metrics

    from .outreach_support import lead

    cache.clear()
    data = pulse_district(tenant)
    with scope(district=data.district):
        by = lead(tenant)
        for name in ["casey", "dale"]:
            outreach_action_create(
                student=data.students[name], author=by, attempt_date=SUPPORT_CALLED, method="call", reached=True
            )
        compute_metrics(district=data.district, as_of=SUPPORTED_AS_OF)
    return data
