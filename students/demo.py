"""The demo district behind `manage.py seed_demo`: four schools, about 1,500 students and half a
school year of attendance that looks like a real district's (issue #2).

Every choice comes from one `random.Random` seeded with the options, so the same `today` and
student count always rebuild the same district: a demo that reshuffled on each run could not
show a trend, and tests could not pin it down. Only the demo district is ever written to.
"""

import datetime
import random
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from districts.models import District, Membership, Role, School
from districts.services import district_create, member_add, school_create
from districts.tenancy import district_scope

from .demo_accounts import DEMO_ACCOUNTS, DEMO_DISTRICT_NAME, DEMO_DISTRICT_SLUG, DEMO_PASSWORD
from .demo_calendar import DemoCalendar, demo_calendar
from .demo_people import (
    SCHOOL_LEVELS,
    SCHOOLS,
    STAFF_NAMES,
    demo_guardians,
    demo_movements,
    demo_student,
    school_for_grade,
)
from .models import (
    MINUTES_CATEGORIES,
    WHOLE_DAY_ABSENT_CATEGORIES,
    AttendanceRecord,
    CalendarDay,
    Enrollment,
    Guardian,
    MentorAssignment,
    PriorYearSummary,
    Student,
)
from .services import attendance_codes_install_defaults

DEMO_TIMEZONE = "America/New_York"
DEMO_URL = "http://127.0.0.1:8000/"
MENTEES = 12
BATCH_SIZE = 2000
DAY_MINUTES = {sis_id: minutes for sis_id, _, _, _, minutes in SCHOOLS}

BANDS = ["satisfactory", "at_risk", "moderate", "severe", "acute"]
# Each school level's expected share per band; high schools run higher, as in every state's data.
BAND_WEIGHTS = {
    "elementary": [66.0, 20.0, 11.0, 2.4, 0.6],
    "middle": [62.0, 20.0, 13.5, 3.6, 0.9],
    "high": [52.0, 21.0, 19.0, 6.0, 2.0],
}
# SPEC §4's bands in whole percent, lower bound inclusive; acute is capped for realism.
BAND_PERCENT = {"satisfactory": (0, 5), "at_risk": (5, 10), "moderate": (10, 20), "severe": (20, 30), "acute": (30, 45)}
# Chronic absence persists: last year's chronic odds rise with this year's band.
PRIOR_CHRONIC_ODDS = {"satisfactory": 0.03, "at_risk": 0.13, "moderate": 0.5, "severe": 0.6, "acute": 0.7}
EXCUSED_SHARE = {"elementary": 0.55, "middle": 0.45, "high": 0.38}
TARDY_ODDS = {"elementary": 0.015, "middle": 0.015, "high": 0.03}
HABITUAL_TARDY_ODDS = 0.22


@dataclass
class Pupil:
    """One generated student and everything that hangs off them, before anything is saved."""

    student: Student
    stays: list[tuple[str, datetime.date, datetime.date | None, str]]  # school, entry, exit, reason
    guardians: list[Guardian]
    traits: set[str] = field(default_factory=set)
    band: str = "satisfactory"
    membership: list[tuple[datetime.date, str]] = field(default_factory=list)  # (day, school) through yesterday
    records: list[tuple[datetime.date, str, str, int | None]] = field(default_factory=list)
    prior: tuple[int, int] | None = None  # days enrolled, days absent

    @property
    def level(self) -> str:
        return SCHOOL_LEVELS[self.stays[0][0]]


@dataclass(frozen=True)
class DemoSummary:
    district: District
    calendar: DemoCalendar
    counts: dict[str, int]
    bands: Counter
    logins: list[tuple[str, str, str]]  # email, role, password


def seed_demo(*, today: datetime.date | None = None, students: int = 1500) -> DemoSummary:
    """Build or rebuild the demo district; a second run with the same options changes nothing."""
    today = today or timezone.localdate(timezone=zoneinfo.ZoneInfo(DEMO_TIMEZONE))
    rng = random.Random(f"seed_demo:{today.isoformat()}:{students}")
    calendar = demo_calendar(today)
    with transaction.atomic():
        district = _demo_district(calendar)
        with district_scope(district):
            schools = _demo_schools(district)
            code_map = {code.code: code.category for code in attendance_codes_install_defaults(district=district)}
            _student_data_clear(district)
            _calendar_days_create(district, schools, calendar)
            pupils = _pupils(rng, district, calendar, students)
            for pupil in pupils:
                _attendance_plan(rng, pupil, calendar)
                pupil.prior = _prior_year(rng, pupil, calendar, code_map)
            _pupils_save(district, schools, pupils, calendar, code_map)
            memberships = _demo_logins(district, schools)
            _mentees_assign(rng, district, schools["MS-200"], memberships[Role.MENTOR])
            return DemoSummary(
                district=district,
                calendar=calendar,
                counts=_counts(),
                bands=Counter(absence_band(*_absence_tally(pupil, code_map)) for pupil in pupils),
                logins=[(email, Role(role).label, DEMO_PASSWORD) for email, role, _, _ in DEMO_ACCOUNTS],
            )


# District, schools, sign-ins ---------------------------------------------------------------


def _demo_district(calendar: DemoCalendar) -> District:
    start, end = calendar.instructional[0], calendar.instructional[-1]
    district = District.objects.filter(slug=DEMO_DISTRICT_SLUG).first()
    if district is None:
        return district_create(
            slug=DEMO_DISTRICT_SLUG,
            name=DEMO_DISTRICT_NAME,
            timezone=DEMO_TIMEZONE,
            school_year_start=start,
            school_year_end=end,
        )
    district.name, district.timezone = DEMO_DISTRICT_NAME, DEMO_TIMEZONE
    district.school_year_start, district.school_year_end = start, end
    district.full_clean()
    district.save()
    return district


def _demo_schools(district: District) -> dict[str, School]:
    existing = {school.sis_id: school for school in School.objects.filter(district=district)}
    schools = {}
    for sis_id, name, low, high, _minutes in SCHOOLS:
        school = existing.get(sis_id)
        if school is None:
            school = school_create(district=district, sis_id=sis_id, name=name, grade_low=low, grade_high=high)
        elif (school.name, school.grade_low, school.grade_high) != (name, low, high):
            school.name, school.grade_low, school.grade_high = name, low, high
            school.full_clean()
            school.save()
        schools[sis_id] = school
    return schools


def _demo_logins(district: District, schools: dict[str, School]) -> dict[str, Membership]:
    """One person per role, through the same service the people page and create_user use."""
    memberships = {}
    for email, role, school_sis_id, _landing in DEMO_ACCOUNTS:
        first_name, last_name = STAFF_NAMES[role]
        grant = member_add(
            district=district,
            email=email,
            role=role,
            school=schools[school_sis_id] if school_sis_id else None,
            first_name=first_name,
            last_name=last_name,
            password=DEMO_PASSWORD,
        )
        memberships[role] = grant.membership
    return memberships


def _mentees_assign(rng: random.Random, district: District, school: School, mentor: Membership) -> None:
    # Chosen by SIS id, not primary key: the keys change on every rebuild, the SIS ids do not.
    enrolled = Enrollment.objects.filter(school=school, exit_date__isnull=True)
    candidates = sorted(enrolled.values_list("student__sis_id", "student_id"))
    chosen = rng.sample(candidates, min(MENTEES, len(candidates)))
    MentorAssignment.objects.bulk_create(
        [MentorAssignment(district=district, student_id=student_id, mentor=mentor) for _, student_id in chosen]
    )


# Students ---------------------------------------------------------------------------------


def _student_data_clear(district: District) -> None:
    # Children before parents, each filtered on the district: one DELETE per table instead of
    # Django's cascade walk, and no other district's rows within reach. Whatever other apps
    # derived from the old students (metrics, flags) cascades with them: it described students
    # who no longer exist.
    for model in (AttendanceRecord, PriorYearSummary, Guardian, MentorAssignment, Enrollment, Student, CalendarDay):
        model.objects.filter(district=district).delete()


def _calendar_days_create(district: District, schools: dict[str, School], calendar: DemoCalendar) -> None:
    days = [
        CalendarDay(
            district=district,
            school=school,
            date=day,
            instructional=not event,
            minutes=0 if event else DAY_MINUTES[sis_id],
            event=event,
        )
        for sis_id, school in schools.items()
        for day, event in calendar.weekdays
    ]
    CalendarDay.objects.bulk_create(days, batch_size=BATCH_SIZE)


def _pupils(rng: random.Random, district: District, calendar: DemoCalendar, count: int) -> list[Pupil]:
    grades_and_schools = [school_for_grade(rng) for _ in range(count)]
    movements = demo_movements(rng, [sis_id for _, sis_id in grades_and_schools])
    pupils = []
    for index, (grade, sis_id) in enumerate(grades_and_schools):
        student = demo_student(rng, district=district, index=index, grade=grade, fall_year=calendar.fall_year)
        stays = _stays(rng, calendar, sis_id, movements.get(index, ""))
        pupils.append(Pupil(student=student, stays=stays, guardians=demo_guardians(rng, student)))
    return pupils


def _stays(rng: random.Random, calendar: DemoCalendar, sis_id: str, movement: str) -> list[tuple]:
    """Enrollments; an exit date is the first day *not* enrolled there (SPEC §4)."""
    start, elapsed = calendar.instructional[0], calendar.elapsed
    if movement == "enters":
        return [(sis_id, elapsed[rng.randint(5, len(elapsed) - 5)], None, "")]
    if movement == "transfers":
        other = "ES-110" if sis_id == "ES-100" else "ES-100"
        moved = elapsed[rng.randint(15, len(elapsed) - 10)]
        return [(sis_id, start, moved, "Transferred within the district"), (other, moved, None, "")]
    if movement == "withdraws":
        left = elapsed[rng.randint(20, len(elapsed) - 3)]
        return [(sis_id, start, left, rng.choice(["Moved out of state", "Moved out of district", "Home school"]))]
    return [(sis_id, start, None, "")]


def _pupils_save(district, schools, pupils: list[Pupil], calendar: DemoCalendar, code_map: dict) -> None:
    Student.objects.bulk_create([pupil.student for pupil in pupils], batch_size=BATCH_SIZE)
    # Re-read the keys rather than trust bulk_create to set them: not every backend returns ids.
    ids = dict(Student.objects.values_list("sis_id", "pk"))
    enrollments, records, prior_years = [], [], []
    for pupil in pupils:
        student_id, grade = ids[pupil.student.sis_id], pupil.student.grade
        for sis_id, entry, exit_date, reason in pupil.stays:
            enrollments.append(
                Enrollment(
                    district=district,
                    student_id=student_id,
                    school_id=schools[sis_id].pk,
                    grade=grade,
                    entry_date=entry,
                    exit_date=exit_date,
                    exit_reason=reason,
                )
            )
        for day, sis_id, code, minutes in pupil.records:
            records.append(
                AttendanceRecord(
                    district=district,
                    student_id=student_id,
                    school_id=schools[sis_id].pk,
                    date=day,
                    code=code,
                    category=code_map[code],
                    minutes_absent=minutes,
                )
            )
        for guardian in pupil.guardians:
            guardian.student_id = student_id
        if pupil.prior:
            enrolled, absent = pupil.prior
            prior_years.append(
                PriorYearSummary(
                    district=district,
                    student_id=student_id,
                    school_year=calendar.prior_school_year,
                    days_enrolled=enrolled,
                    days_absent=absent,
                )
            )
    Enrollment.objects.bulk_create(enrollments, batch_size=BATCH_SIZE)
    Guardian.objects.bulk_create([g for pupil in pupils for g in pupil.guardians], batch_size=BATCH_SIZE)
    AttendanceRecord.objects.bulk_create(records, batch_size=BATCH_SIZE)
    PriorYearSummary.objects.bulk_create(prior_years, batch_size=BATCH_SIZE)


def _counts() -> dict[str, int]:
    models = {
        "schools": School,
        "students": Student,
        "enrollments": Enrollment,
        "calendar days": CalendarDay,
        "guardians": Guardian,
        "attendance records": AttendanceRecord,
        "prior years": PriorYearSummary,
        "mentor assignments": MentorAssignment,
    }
    return {label: model.objects.count() for label, model in models.items()}


# Attendance -------------------------------------------------------------------------------


def _attendance_plan(rng: random.Random, pupil: Pupil, calendar: DemoCalendar) -> None:
    """Draw the pupil's latent band, then place that many absent days the way real ones fall:
    bunched on Mondays and Fridays, in illness streaks, rising for a few in the last weeks."""
    pupil.membership = [
        (day, sis_id)
        for sis_id, entry, exit_date, _ in pupil.stays
        for day in calendar.elapsed
        if day >= entry and (exit_date is None or day < exit_date)
    ]
    days = len(pupil.membership)
    pupil.band = _latent_band(rng, pupil)
    pupil.traits = _traits(rng, pupil)
    suspended = _run(rng, days, rng.randint(1, 3)) if "suspended" in pupil.traits else set()
    absent_days = max(_absent_day_count(rng, pupil.band, days), len(suspended))
    streak = set()
    if "ill" in pupil.traits and absent_days - len(suspended) >= 4:
        streak = _run(rng, days, min(absent_days - len(suspended), rng.randint(3, 6))) - suspended
    taken = suspended | streak
    scattered = _weighted_days(rng, pupil, calendar, absent_days - len(taken), taken=taken)
    kinds = {p: "absent" for p in scattered} | {p: "ill" for p in streak} | {p: "suspended" for p in suspended}
    for position, (day, sis_id) in enumerate(pupil.membership):
        code, minutes = _day_event(rng, pupil, DAY_MINUTES[sis_id], kinds.get(position, "present"))
        if code:
            pupil.records.append((day, sis_id, code, minutes))


def _latent_band(rng: random.Random, pupil: Pupil) -> str:
    # Poverty, housing instability, foster care and disability all raise chronic absence.
    student, weights = pupil.student, list(BAND_WEIGHTS[pupil.level])
    risk = (2.5 if student.homeless else 1.0) * (1.8 if student.foster else 1.0)
    risk *= (1.3 if student.econ_disadvantaged else 0.8) * (1.25 if student.disability else 1.0)
    weights[1] *= risk**0.5
    for index in (2, 3, 4):
        weights[index] *= risk
    return rng.choices(BANDS, weights=weights)[0]


def _traits(rng: random.Random, pupil: Pupil) -> set[str]:
    """Patterns the nightly signals are meant to find, each in a few students."""
    odds = {
        "monday_friday": 0.08,
        "tardy": 0.06,
        "ill": 0.3,
        "rising": 0.2 if pupil.band in ("at_risk", "moderate", "severe") else 0.0,
        "suspended": 0.005 if pupil.level == "elementary" else 0.03,
        "in_school_suspension": 0.0 if pupil.level == "elementary" else 0.05,
    }
    return {trait for trait, chance in odds.items() if rng.random() < chance and len(pupil.membership) >= 10}


def _absent_day_count(rng: random.Random, band: str, membership: int) -> int:
    """A whole number of absent days inside the band, bounds compared in exact integers."""
    low, high = BAND_PERCENT[band]
    if band == "satisfactory":
        # Most satisfactory students miss a day or two; many miss none.
        return int(rng.random() ** 1.6 * membership * high / 100)
    fewest = -(-low * membership // 100)
    most = max(fewest, -(-high * membership // 100) - 1)
    return min(membership, rng.randint(fewest, most))


def _run(rng: random.Random, days: int, length: int) -> set[int]:
    """Consecutive school days (positions in the membership), e.g. a suspension or a flu."""
    if days < length:
        return set()
    first = rng.randint(0, days - length)
    return set(range(first, first + length))


def _weighted_days(rng: random.Random, pupil: Pupil, calendar: DemoCalendar, count: int, *, taken: set) -> set[int]:
    """Absent days without replacement; weighted keys u**(1/w) do it in one pass (Efraimidis–Spirakis)."""
    if count <= 0:
        return set()
    monday_friday = 4.0 if "monday_friday" in pupil.traits else 1.5
    rising = "rising" in pupil.traits and count >= 3
    recent = calendar.elapsed[max(0, len(calendar.elapsed) - 20)]
    keyed = []
    for position, (day, _sis_id) in enumerate(pupil.membership):
        if position not in taken:
            weight = (monday_friday if day.weekday() in (0, 4) else 1.0) * (6.0 if rising and day >= recent else 1.0)
            keyed.append((rng.random() ** (1 / weight), position))
    keyed.sort(reverse=True)
    return {position for _, position in keyed[:count]}


def _day_event(rng: random.Random, pupil: Pupil, day_minutes: int, kind: str) -> tuple[str | None, int | None]:
    """The code and minutes for one membership day; (None, None) is a present day, stored as no row."""
    half = -(-day_minutes // 2)
    if kind == "suspended":
        return "S", None
    if kind == "ill":
        return "E", None
    roll = rng.random()
    if kind == "absent":
        if roll < 0.07:
            return "H", rng.randint(half, day_minutes - 30)
        return ("E", None) if roll < EXCUSED_SHARE[pupil.level] else ("U", None)
    tardy = HABITUAL_TARDY_ODDS if "tardy" in pupil.traits else TARDY_ODDS[pupil.level]
    if roll < tardy:
        return "T", rng.randint(5, 45)
    if roll < tardy + 0.008:
        return "D", rng.randint(45, half - 15)
    if roll < tardy + 0.012:
        return "H", rng.randint(60, half - 1)
    if roll < tardy + 0.032 and "in_school_suspension" in pupil.traits:
        return "I", None
    return None, None


def _absence_tally(pupil: Pupil, code_map: dict) -> tuple[int, int]:
    """(absent days, membership days) by SPEC §4's whole-day and half-day rules."""
    minutes, whole = defaultdict(int), set()
    for day, sis_id, code, missed in pupil.records:
        if code_map[code] in WHOLE_DAY_ABSENT_CATEGORIES:
            whole.add(day)
        elif code_map[code] in MINUTES_CATEGORIES and missed:
            minutes[(day, sis_id)] += missed
    halves = {day for (day, sis_id), missed in minutes.items() if 2 * missed >= DAY_MINUTES[sis_id]}
    return len(whole | halves), len(pupil.membership)


def absence_band(absent: int, membership: int, minimum: int = 10) -> str:
    """SPEC §4's band, compared in integers so exactly 10% is chronic."""
    if membership < minimum:
        return "insufficient_days"
    for band in reversed(BANDS[1:]):
        if 100 * absent >= BAND_PERCENT[band][0] * membership:
            return band
    return "satisfactory"


def _prior_year(rng: random.Random, pupil: Pupil, calendar: DemoCalendar, code_map: dict):
    """Last year's totals for returning students: kindergarteners and newcomers have none."""
    entered_late = pupil.stays[0][1] > calendar.instructional[0]
    if pupil.student.grade == "K" or entered_late or not pupil.membership:
        return None
    absent, membership = _absence_tally(pupil, code_map)
    rate = absent / membership
    enrolled = 180 if rng.random() < 0.7 else rng.randint(165, 179)
    fewest_chronic = -(-enrolled // 10)
    if rng.random() < PRIOR_CHRONIC_ODDS[pupil.band]:
        absent_last_year = max(fewest_chronic + rng.randint(0, 6), round(enrolled * rate * rng.uniform(0.7, 1.2)))
        return enrolled, min(enrolled // 2, absent_last_year)
    return enrolled, min(fewest_chronic - 1, round(enrolled * rate * rng.uniform(0.4, 1.3)))
