"""seed_demo builds a realistic demo district, rebuilds it identically, and reaches no other district."""

import datetime
import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from districts.models import District, Membership, RoleGrant, School
from students.demo_accounts import DEMO_ACCOUNTS, DEMO_DISTRICT_SLUG, DEMO_PASSWORD
from students.demo_calendar import demo_calendar
from students.models import (
    DEFAULT_CODE_MAP,
    MINUTES_CATEGORIES,
    WHOLE_DAY_ABSENT_CATEGORIES,
    AttendanceCode,
    AttendanceRecord,
    CalendarDay,
    Enrollment,
    Guardian,
    MentorAssignment,
    PriorYearSummary,
    Student,
)

from .factories import AttendanceRecordFactory, CalendarDayFactory, EnrollmentFactory, GuardianFactory

TODAY = datetime.date(2026, 1, 15)
STUDENTS = 120
DISTRICT_MODELS = [
    School,
    Student,
    Enrollment,
    CalendarDay,
    AttendanceCode,
    AttendanceRecord,
    Guardian,
    PriorYearSummary,
    MentorAssignment,
    Membership,
    RoleGrant,
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Five demo passwords per run; PBKDF2's deliberate slowness would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(today: datetime.date = TODAY, students: int = STUDENTS, roster_only: bool = False) -> str:
    """`roster_only` skips the weeks of huddles, contacts and cases the other apps play on top:
    the tests of the roster itself don't read them, and playing them takes most of the time."""
    out = io.StringIO()
    options = ["--roster-only"] if roster_only else []
    call_command("seed_demo", "--today", today.isoformat(), "--students", str(students), *options, stdout=out)
    return out.getvalue()


def demo() -> District:
    return District.objects.get(slug=DEMO_DISTRICT_SLUG)


def counts(district: District) -> dict[str, int]:
    with scope(district=district):
        return {model.__name__: model.objects.filter(district=district).count() for model in DISTRICT_MODELS}


def attendance_events(district: District) -> set[tuple]:
    with scope(district=district):
        return set(AttendanceRecord.objects.values_list("student__sis_id", "school__sis_id", "date", "code"))


def instructional_days(district: District) -> dict[int, dict[datetime.date, int]]:
    """school id -> {instructional date: minutes}"""
    days = defaultdict(dict)
    for school_id, day, minutes in CalendarDay.objects.filter(instructional=True).values_list(
        "school_id", "date", "minutes"
    ):
        days[school_id][day] = minutes
    return days


def rates_by_student(district: District) -> dict[str, tuple[int, int]]:
    """sis id -> (absent days, membership days) through yesterday, by a plain loop over SPEC §4."""
    with scope(district=district):
        calendar = instructional_days(district)
        membership = defaultdict(set)
        for enrollment in Enrollment.objects.select_related("student"):
            for day in calendar[enrollment.school_id]:
                inside = enrollment.entry_date <= day and (enrollment.exit_date is None or day < enrollment.exit_date)
                if inside and day < TODAY:
                    membership[enrollment.student.sis_id].add(day)
        absent, minutes = defaultdict(set), defaultdict(int)
        for record in AttendanceRecord.objects.select_related("student"):
            sis_id = record.student.sis_id
            if record.category in WHOLE_DAY_ABSENT_CATEGORIES:
                absent[sis_id].add(record.date)
            elif record.category in MINUTES_CATEGORIES and record.minutes_absent:
                minutes[(sis_id, record.school_id, record.date)] += record.minutes_absent
        for (sis_id, school_id, day), missed in minutes.items():
            if 2 * missed >= calendar[school_id][day]:
                absent[sis_id].add(day)
        return {sis_id: (len(absent[sis_id]), len(days)) for sis_id, days in membership.items()}


def test_demo_has_schools_students_and_a_half_year_calendar(db):
    seed(roster_only=True)
    district = demo()
    with scope(district=district):
        schools = {school.sis_id: school for school in School.objects.all()}
        assert {"ES-100", "ES-110", "MS-200", "HS-300"} <= set(schools)
        assert Student.objects.count() == STUDENTS
        assert district.timezone == "America/New_York"
        assert district.school_year_start.weekday() == 0
        for school in schools.values():
            days = CalendarDay.objects.filter(school=school)
            taught = days.filter(instructional=True)
            assert taught.count() == 180
            assert 85 <= taught.filter(date__lt=TODAY).count() <= 95
            assert not [day for day in days.values_list("date", flat=True) if day.weekday() >= 5]
            assert days.filter(instructional=False).exclude(event="").count() >= 5
            expected_minutes = 390 if school.sis_id.startswith("ES") else 420
            assert set(taught.values_list("minutes", flat=True)) == {expected_minutes}
        middle_school_days = CalendarDay.objects.filter(school=schools["MS-200"], instructional=True)
        assert middle_school_days.order_by("date").first().date == district.school_year_start
        assert middle_school_days.order_by("date").last().date == district.school_year_end
        assert dict(AttendanceCode.objects.values_list("code", "category")) == DEFAULT_CODE_MAP


def test_students_have_grades_birth_dates_and_subgroups_that_fit(db):
    seed(students=400, roster_only=True)
    with scope(district=demo()):
        students = list(Student.objects.all())
        for student in students:
            grade = 0 if student.grade == "K" else int(student.grade)
            born = student.birth_date
            age_on_september_1 = 2025 - born.year - ((born.month, born.day) > (9, 1))
            assert grade + 5 <= age_on_september_1 <= grade + 6
        assert sum(student.home_language == "Spanish" for student in students) > 0.1 * len(students)
        assert sum(student.econ_disadvantaged for student in students) > 0.3 * len(students)
        assert not [student for student in students if student.english_learner and student.home_language == "English"]


def test_enrollments_include_entries_transfers_and_withdrawals(db):
    seed(students=400, roster_only=True)
    district = demo()
    with scope(district=district):
        start = district.school_year_start
        assert Enrollment.objects.filter(entry_date__gt=start, exit_date__isnull=True).exists()
        transfers = Enrollment.objects.filter(exit_reason="Transferred within the district")
        assert transfers.exists()
        for left in transfers:
            arrived = Enrollment.objects.get(student=left.student, entry_date=left.exit_date)
            assert arrived.school != left.school
        withdrawals = Enrollment.objects.exclude(exit_reason="Transferred within the district").exclude(exit_date=None)
        assert withdrawals.exists()


def test_every_role_signs_in_with_the_demo_password_and_lands_on_its_page(db, client):
    seed()
    for email, role, school_sis_id, landing in DEMO_ACCOUNTS:
        response = client.post(reverse("login"), {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert client.get(reverse(landing, kwargs={"district": DEMO_DISTRICT_SLUG})).status_code == 200
        client.logout()
        with scopes_disabled():
            grant = RoleGrant.objects.get(membership__user__email=email, district__slug=DEMO_DISTRICT_SLUG)
        assert grant.role == role
        assert (grant.school.sis_id if grant.school else None) == school_sis_id


def test_the_mentor_has_a_dozen_middle_school_students(db):
    seed(roster_only=True)
    with scope(district=demo()):
        mentees = MentorAssignment.objects.filter(mentor__user__email="mentor@demo.attendnc.org")
        assert mentees.count() == 12
        for assignment in mentees:
            assert assignment.student.enrollments.filter(school__sis_id="MS-200", exit_date=None).exists()


def test_attendance_falls_only_on_instructional_days_inside_an_enrollment(db):
    seed(roster_only=True)
    district = demo()
    with scope(district=district):
        calendar = instructional_days(district)
        enrollments = defaultdict(list)
        for enrollment in Enrollment.objects.all():
            enrollments[(enrollment.student_id, enrollment.school_id)].append(enrollment)
        records = list(AttendanceRecord.objects.all())
        assert records
        for record in records:
            assert record.date.weekday() < 5
            assert record.date < TODAY
            assert record.date in calendar[record.school_id], record
            assert any(
                e.entry_date <= record.date and (e.exit_date is None or record.date < e.exit_date)
                for e in enrollments[(record.student_id, record.school_id)]
            ), record
            assert record.category == DEFAULT_CODE_MAP[record.code]
            assert record.code != "P"


def test_partial_days_fall_on_both_sides_of_the_half_day_rule(db):
    seed(students=300, roster_only=True)
    with scope(district=demo()):
        partial = AttendanceRecord.objects.filter(code="H").select_related("school")
        day_minutes = {"ES-100": 390, "ES-110": 390, "MS-200": 420, "HS-300": 420}
        half_or_more = [record for record in partial if 2 * record.minutes_absent >= day_minutes[record.school.sis_id]]
        assert half_or_more and len(half_or_more) < partial.count()
        assert AttendanceRecord.objects.filter(code="T", minutes_absent__gt=0).exists()
        assert AttendanceRecord.objects.filter(code="S").exists()


def test_some_students_have_no_guardian_contact(db):
    seed(students=300, roster_only=True)
    with scope(district=demo()):
        students = Student.objects.prefetch_related("guardians")
        unreachable = [s for s in students if not any(g.has_contact for g in s.guardians.all())]
        assert 0 < len(unreachable) < 0.1 * 300
        guardians = Guardian.objects.exclude(phone="")
        assert all("-555-01" in guardian.phone for guardian in guardians)
        assert all(guardian.email.endswith("@example.com") for guardian in Guardian.objects.exclude(email=""))


def test_returning_students_have_last_years_totals(db):
    seed(roster_only=True)
    with scope(district=demo()):
        prior_years = list(PriorYearSummary.objects.select_related("student"))
        assert len(prior_years) > 0.6 * STUDENTS
        assert {prior.school_year for prior in prior_years} == {"2024-25"}
        assert not [prior for prior in prior_years if prior.student.grade == "K"]
        assert all(165 <= prior.days_enrolled <= 180 for prior in prior_years)
        assert [prior for prior in prior_years if 10 * prior.days_absent >= prior.days_enrolled]


def test_absence_rates_are_skewed_like_a_real_district(db):
    seed(students=300, roster_only=True)
    rates = rates_by_student(demo())
    rated = [(absent, days) for absent, days in rates.values() if days >= 10]
    satisfactory = [1 for absent, days in rated if 100 * absent < 5 * days]
    chronic = [1 for absent, days in rated if 100 * absent >= 10 * days]
    assert len(satisfactory) > 0.5 * len(rated)
    assert 0.1 * len(rated) < len(chronic) < 0.35 * len(rated)


def test_running_twice_with_the_same_today_changes_nothing(db):
    first_output = seed()
    district = demo()
    first_counts, first_events = counts(district), attendance_events(district)
    second_output = seed()
    assert counts(district) == first_counts
    assert attendance_events(district) == first_events
    assert first_output == second_output
    assert District.objects.filter(slug=DEMO_DISTRICT_SLUG).count() == 1


def test_it_leaves_another_district_untouched(db, tenant_a):
    other = tenant_a.district
    with scope(district=other):
        enrollment = EnrollmentFactory(student__district=other, school=tenant_a.school)
        GuardianFactory(student=enrollment.student)
        CalendarDayFactory(school=tenant_a.school)
        AttendanceRecordFactory(student=enrollment.student, school=tenant_a.school)
    before, events_before = counts(other), attendance_events(other)
    seed()
    seed()
    assert counts(other) == before
    assert attendance_events(other) == events_before


def test_the_summary_lists_every_sign_in_and_the_address(db):
    output = seed()
    for email, _, _, _ in DEMO_ACCOUNTS:
        assert email in output
    assert DEMO_PASSWORD in output
    assert "http://127.0.0.1:8000/" in output
    assert "attendance records" in output


def test_too_few_students_is_refused(db):
    with pytest.raises(CommandError):
        seed(students=10)


@pytest.mark.parametrize("month", range(1, 13))
def test_the_calendar_puts_about_half_the_year_before_any_today(month):
    today = datetime.date(2026, month, 10)
    calendar = demo_calendar(today)
    assert calendar.instructional[0].weekday() == 0
    assert len(calendar.instructional) == 180
    assert 85 <= len(calendar.elapsed) <= 95
    assert all(day.weekday() < 5 for day, _ in calendar.weekdays)
    assert [event for _, event in calendar.weekdays if event == "Teacher workday"]


def test_the_middle_schools_letters_were_printed_from_the_browser_with_its_own_contact(db, settings, tmp_path):
    """The lead finds last week's batch on the letters page, its files on the job's page (all.pdf
    and one per student), and the school's own clerk as whom families call."""
    from exports.models import ExportJob
    from outreach.families.models import FamilyContact, LetterBatch

    settings.MEDIA_ROOT = str(tmp_path)
    seed()
    district = demo()
    with scope(district=district):
        batch = LetterBatch.objects.get()
        job = ExportJob.objects.get(renderer="outreach.nudge_letters")
        assert batch.status == "done" and batch.total > 0 and job.status == "succeeded"
        assert len(job.parts) == batch.total and job.params == {"batch_id": batch.pk}
        assert FamilyContact.objects.get(school=batch.school).name == "Daniel Ortiz"


def test_this_weeks_huddle_looks_like_week_14_of_a_working_team(db):
    """Issue 10: past huddles held weekly and worked, so this Monday's agenda at the middle
    school is a short list (10 to 60 rows), with a longer tail on track."""
    from outreach.models import AGENDA_SECTIONS, Huddle, HuddleRow, OutreachAction
    from tiers.models import Flag

    seed(datetime.date(2026, 12, 1), students=800)
    district = demo()
    with scope(district=district):
        school = School.objects.get(sis_id="MS-200")
        huddles = list(Huddle.objects.filter(school=school).order_by("week_start"))
        this_week = huddles[-1]
        assert this_week.week_start == datetime.date(2026, 11, 30) and len(huddles) >= 8
        rows = HuddleRow.objects.filter(huddle=this_week)
        agenda = rows.filter(section__in=AGENDA_SECTIONS).count()
        assert 10 <= agenda <= 60, agenda
        assert rows.filter(section="on_track").count() >= 10
        assert not rows.filter(discussed=True).exists(), "Monday's meeting has not happened yet"
        past = HuddleRow.objects.filter(huddle__in=huddles[:-1])
        assert past.filter(discussed=True).count() > past.count() / 3
        assert past.exclude(owner=None).exists() and past.filter(outcome="resolved").exists()
        assert past.filter(outcome="escalated").exists()
        assert OutreachAction.objects.filter(student__enrollments__school=school).exists()
        assert Flag.objects.filter(status="resolved").exists()
