"""Who sees what in the Tier 2 workspace: leads their schools, mentors their assigned students,
district staff everything read-only, sensitive notes for counselors and the author only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from districts.models import Role
from outreach import services
from outreach.models import HuddleRow, OutreachAction
from students.models import MentorAssignment

from .outreach_support import flag, lead, membership, student_at, weekday_calendar


@pytest.fixture
def week(tenant_a):
    return services.week_start_of(timezone.localdate(timezone=tenant_a.district.tzinfo))


@pytest.fixture
def setup(tenant_a, week):
    """Two flagged students at the leads' school (one of them the mentor's) and a huddle at
    the other school, where this district's lead and counselor have no role."""
    with scope(district=tenant_a.district):
        weekday_calendar(
            tenant_a.school, start=week - datetime.timedelta(days=60), end=week + datetime.timedelta(days=60)
        )
        mentee, other = student_at(tenant_a.school, last_name="Mentee"), student_at(tenant_a.school, last_name="Other")
        far = student_at(tenant_a.other_school, last_name="Faraway")
        for student in (mentee, other, far):
            flag(student, first_met=week - datetime.timedelta(days=2))
        MentorAssignment.objects.create(
            district=tenant_a.district, student=mentee, mentor=membership(tenant_a, Role.MENTOR)
        )
        here = services.huddle_generate(district=tenant_a.district, school=tenant_a.school, week_start=week)
        there = services.huddle_generate(district=tenant_a.district, school=tenant_a.other_school, week_start=week)
        rows = {row.student.last_name: row for row in HuddleRow.objects.select_related("student")}
    return {"here": here, "there": there, "rows": rows, "mentee": mentee, "other": other}


def _url(name, **kwargs):
    return reverse(f"outreach:{name}", kwargs={"district": "alpha", **kwargs})


def _names(response) -> set[str]:
    page = response.content.decode()
    return {name for name in ("Mentee", "Other", "Faraway") if f">{name}, " in page}


def test_a_lead_sees_the_huddle_of_their_school_only(tenant_a, setup, login):
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    assert _names(client.get(_url("huddle_detail", huddle_id=setup["here"].pk))) == {"Mentee", "Other"}
    assert client.get(_url("huddle_detail", huddle_id=setup["there"].pk)).status_code == 404
    assert client.get(_url("huddle_row", row_id=setup["rows"]["Faraway"].pk)).status_code == 404


def test_a_mentor_sees_and_works_only_on_their_students_rows(tenant_a, setup, login):
    client = login(tenant_a.user(Role.MENTOR))
    rows = setup["rows"]
    response = client.get(_url("huddle_current"), follow=True)
    assert _names(response) == {"Mentee"}
    assert client.get(_url("huddle_row", row_id=rows["Other"].pk)).status_code == 404
    assert client.get(_url("huddle_detail", huddle_id=setup["there"].pk)).status_code == 404
    action = {"attempt_date": timezone.localdate().isoformat(), "method": "student_check_in", "reached": "yes"}
    assert client.post(_url("huddle_row_action", row_id=rows["Mentee"].pk), action).status_code == 302
    assert client.post(_url("huddle_row_discussed", row_id=rows["Mentee"].pk)).status_code == 403
    assert client.post(_url("huddle_row_escalate", row_id=rows["Mentee"].pk), {"reason": "x"}).status_code == 403
    assert client.post(_url("huddle_pdf", huddle_id=setup["here"].pk)).status_code == 403


def test_district_staff_see_every_school_read_only(tenant_a, setup, login):
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    index = client.get(_url("huddle_current")).content.decode()
    assert "Alpha County Schools Middle" in index and "Alpha County Schools High" in index
    page = client.get(_url("huddle_detail", huddle_id=setup["there"].pk))
    assert _names(page) == {"Faraway"} and "Mark discussed" not in page.content.decode()
    assert "read-only" in page.content.decode()
    row = setup["rows"]["Faraway"].pk
    assert client.post(_url("huddle_row_discussed", row_id=row)).status_code == 403
    assert client.post(_url("huddle_row_resolve", row_id=row), {"reason": "improved"}).status_code == 403
    assert client.get(_url("huddle_csv", huddle_id=setup["there"].pk)).status_code == 200


def test_a_district_admin_opens_every_huddle_read_only(tenant_a, setup, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    index = client.get(_url("huddle_current")).content.decode()
    assert "Alpha County Schools Middle" in index and "Alpha County Schools High" in index
    assert "Generate now" not in index  # the school's team generates its huddle
    for huddle, names in ((setup["here"], {"Mentee", "Other"}), (setup["there"], {"Faraway"})):
        page = client.get(_url("huddle_detail", huddle_id=huddle.pk))
        html = page.content.decode()
        assert _names(page) == names
        assert "You are viewing this huddle read-only." in html
        for action in ("Mark discussed", "Start meeting mode", "Keyboard shortcuts", ">Escalate<", ">Resolve<"):
            assert action not in html
        assert "Download PDF" in html and "Download CSV" in html  # reading the whole huddle is allowed
    row = setup["rows"]["Faraway"].pk
    assert client.post(_url("huddle_row_discussed", row_id=row)).status_code == 403
    assert client.get(_url("huddle_csv", huddle_id=setup["there"].pk)).status_code == 200


def test_a_mentor_sees_only_the_buttons_that_work(tenant_a, setup, login):
    """No PDF, CSV or meeting mode (each answers a mentor 403); their student's row keeps its actions."""
    client = login(tenant_a.user(Role.MENTOR))
    html = client.get(_url("huddle_detail", huddle_id=setup["here"].pk)).content.decode()
    for refused in ("Download PDF", "Download CSV", "Start meeting mode", "Keyboard shortcuts", "Mark discussed"):
        assert refused not in html
    assert client.post(_url("huddle_pdf", huddle_id=setup["here"].pk)).status_code == 403
    assert client.get(_url("huddle_csv", huddle_id=setup["here"].pk)).status_code == 403
    assert "Log an action" in html or "Log action" in html


def test_another_districts_lead_gets_404(tenant_a, tenant_b, setup, login):
    client = login(tenant_b.user(Role.ATTENDANCE_LEAD))
    assert client.get(_url("huddle_detail", huddle_id=setup["here"].pk)).status_code == 404
    url = reverse("outreach:huddle_detail", kwargs={"district": "beta", "huddle_id": setup["here"].pk})
    assert client.get(url).status_code == 404


@pytest.fixture
def sensitive_note(tenant_a, setup):
    with scope(district=tenant_a.district):
        return services.outreach_action_create(
            student=setup["mentee"], author=lead(tenant_a), attempt_date=timezone.localdate(), method="call",
            reached=True, barrier="mental_health", support_offered="Referral to the school nurse",
            notes="Anxiety since the move; dad in hospital", sensitive=True,
        )  # fmt: skip


@pytest.mark.parametrize(
    "role, sees",
    [(Role.ATTENDANCE_LEAD, True), (Role.COUNSELOR, True), (Role.DISTRICT_STAFF, False), (Role.MENTOR, False)],
)
def test_sensitive_notes_show_to_counselors_and_the_author_only(tenant_a, setup, sensitive_note, login, role, sees):
    client = login(tenant_a.user(role))
    timeline = client.get(_url("student_timeline", student_id=setup["mentee"].pk)).content.decode()
    huddle = client.get(_url("huddle_detail", huddle_id=setup["here"].pk)).content.decode()
    assert ("dad in hospital" in timeline) is sees
    assert ("Referral to the school nurse" in huddle) is sees
    assert "Phone call, reached" in timeline, "that a contact happened is never hidden"


def test_a_counselor_at_a_school_the_student_left_no_longer_reads_sensitive_notes(
    tenant_a, setup, sensitive_note, login
):
    """Sensitive notes follow the student's current school; the author keeps reading their own."""
    from students.models import Enrollment

    today = timezone.localdate(timezone=tenant_a.district.tzinfo)
    with scope(district=tenant_a.district):
        Enrollment.objects.filter(student=setup["mentee"]).update(exit_date=today)
        Enrollment.objects.create(
            district=tenant_a.district,
            student=setup["mentee"],
            school=tenant_a.other_school,
            grade="7",
            entry_date=today,
        )
    url = _url("student_timeline", student_id=setup["mentee"].pk)
    counselor = login(tenant_a.user(Role.COUNSELOR)).get(url)
    assert counselor.status_code == 200 and "dad in hospital" not in counselor.content.decode()
    assert "dad in hospital" in login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url).content.decode()
    api = reverse("api:outreach_action_list", kwargs={"district": "alpha"})
    notes = [action["notes"] for action in login(tenant_a.user(Role.COUNSELOR)).get(api).json()["results"]]
    assert notes == [""]


def test_the_timeline_follows_student_visibility(tenant_a, setup, login):
    mentor = login(tenant_a.user(Role.MENTOR))
    assert mentor.get(_url("student_timeline", student_id=setup["mentee"].pk)).status_code == 200
    assert mentor.get(_url("student_timeline", student_id=setup["other"].pk)).status_code == 404
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))  # reads every huddle, so every timeline
    assert admin.get(_url("student_timeline", student_id=setup["other"].pk)).status_code == 200


def test_the_timeline_lists_absences_flags_huddles_and_actions(tenant_a, setup, login):
    from tests.factories import AttendanceRecordFactory

    with scope(district=tenant_a.district):
        AttendanceRecordFactory(
            student=setup["mentee"], school=tenant_a.school, date=datetime.date(2026, 3, 2)
        )  # in the school year
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    action = {"attempt_date": timezone.localdate().isoformat(), "method": "home_visit", "reached": "no"}
    assert client.post(_url("student_action_create", student_id=setup["mentee"].pk), action).status_code == 302
    page = client.get(_url("student_timeline", student_id=setup["mentee"].pk)).content.decode()
    for text in (
        "Absent, unexcused",
        "Flagged, Tier 2: Recent absences",
        "On the Alpha County Schools Middle huddle",
        "Home visit, not reached",
    ):
        assert text in page
    with scopes_disabled():
        assert OutreachAction.objects.get().huddle_row is None


def test_the_student_page_shows_the_outreach_panel_to_the_huddle_roles(tenant_a, setup, sensitive_note, login):
    url = reverse("students:student_detail", kwargs={"district": "alpha", "student_id": setup["mentee"].pk})
    counselor = login(tenant_a.user(Role.COUNSELOR)).get(url).content.decode()
    assert "Tier 2 outreach" in counselor and "Mental health" in counselor and "Full timeline" in counselor
    staff = login(tenant_a.user(Role.DISTRICT_STAFF)).get(url).content.decode()
    assert "Tier 2 outreach" in staff and "details restricted" in staff and "Mental health" not in staff
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(url).content.decode()  # read-only, like staff
    assert "Tier 2 outreach" in admin and "details restricted" in admin and "Mental health" not in admin
