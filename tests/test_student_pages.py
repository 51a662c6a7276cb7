"""Who sees which students, and that opening a record is audit-logged."""

import datetime

import pytest
from django.urls import reverse

from districts.models import AuditEvent, Role
from students.models import MentorAssignment

from .factories import AttendanceRecordFactory, EnrollmentFactory, GuardianFactory


@pytest.fixture
def students(tenant_a, in_scope):
    """One student at each of district A's schools; the mentor is assigned the second."""
    with in_scope(tenant_a.district):
        at_lead_school = EnrollmentFactory(
            student__district=tenant_a.district, student__first_name="Ana", school=tenant_a.school
        ).student
        elsewhere = EnrollmentFactory(
            student__district=tenant_a.district, student__first_name="Ben", school=tenant_a.other_school
        ).student
        GuardianFactory(student=at_lead_school, name="Maria Lopez", language="Spanish")
        AttendanceRecordFactory(
            student=at_lead_school, school=tenant_a.school, date=datetime.date(2025, 9, 8), code="U"
        )
        mentor = tenant_a.user(Role.MENTOR).memberships.get()
        MentorAssignment.objects.create(district=tenant_a.district, student=elsewhere, mentor=mentor)
    return at_lead_school, elsewhere


@pytest.mark.parametrize(
    "role, sees_ana, sees_ben",
    [
        (Role.DISTRICT_ADMIN, True, True),
        (Role.DISTRICT_STAFF, True, True),
        (Role.ATTENDANCE_LEAD, True, False),
        (Role.COUNSELOR, True, False),
        (Role.MENTOR, False, True),
    ],
)
def test_roster_shows_only_the_students_a_role_may_see(tenant_a, students, login, role, sees_ana, sees_ben):
    ana, ben = students
    page = (
        login(tenant_a.user(role))
        .get(reverse("outreach:roster", kwargs={"district": tenant_a.district.slug}))
        .content.decode()
    )
    assert (f"{ana.last_name}, Ana" in page) is sees_ana
    assert (f"{ben.last_name}, Ben" in page) is sees_ben


def test_a_student_outside_the_users_view_is_a_404(tenant_a, students, login):
    _, ben = students
    url = reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": ben.pk})
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url).status_code == 404


def test_opening_a_student_record_writes_the_audit_log(tenant_a, students, login, in_scope):
    ana, _ = students
    url = reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": ana.pk})
    response = login(tenant_a.user(Role.COUNSELOR)).get(url, HTTP_USER_AGENT="pytest-browser", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert "Maria Lopez" in response.content.decode()
    with in_scope(tenant_a.district):
        event = AuditEvent.objects.get()
    assert (event.user_email, event.action, event.object_type, event.object_id) == (
        tenant_a.user(Role.COUNSELOR).email,
        "view",
        "student",
        str(ana.pk),
    )
    assert event.ip_address == "10.1.2.3" and event.user_agent == "pytest-browser" and event.path == url


def test_roster_search_answers_htmx_with_the_results_fragment(tenant_a, students, login):
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("outreach:roster", kwargs={"district": tenant_a.district.slug})
    response = client.get(url, {"q": "Ana"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and ", Ana" in body and ", Ben" not in body


def test_schools_overview_counts_enrollment_and_attendance(tenant_a, students, login):
    page = login(tenant_a.user(Role.DISTRICT_STAFF)).get(
        reverse("students:schools", kwargs={"district": tenant_a.district.slug})
    )
    rows = page.context["rows"]
    by_name = {row["school"].name: row for row in rows}
    assert by_name[tenant_a.school.name]["records"] == 1
    assert by_name[tenant_a.school.name]["last_date"] == datetime.date(2025, 9, 8)


def test_audit_log_filters_by_person(tenant_a, students, login):
    ana, _ = students
    url = reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": ana.pk})
    login(tenant_a.user(Role.COUNSELOR)).get(url)
    login(tenant_a.user(Role.DISTRICT_STAFF)).get(url)
    audit = reverse("districts:audit_log", kwargs={"district": tenant_a.district.slug})
    response = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(audit, {"user_email": "counselor@"})
    assert response.context["page"].paginator.count == 1


def test_audit_events_cannot_be_changed(tenant_a, students, login, in_scope):
    from django.core.exceptions import ValidationError

    ana, _ = students
    login(tenant_a.user(Role.COUNSELOR)).get(
        reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": ana.pk})
    )
    with in_scope(tenant_a.district):
        event = AuditEvent.objects.get()
        event.object_label = "rewritten"
        with pytest.raises(ValidationError):
            event.save()
        with pytest.raises(ValidationError):
            event.delete()


def test_the_database_refuses_bulk_changes_to_audit_events(tenant_a, students, login, in_scope):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    ana, _ = students
    login(tenant_a.user(Role.COUNSELOR)).get(
        reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": ana.pk})
    )
    with in_scope(tenant_a.district):
        for attempt in (lambda qs: qs.update(object_label="x"), lambda qs: qs._raw_delete(qs.db)):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                attempt(AuditEvent.objects.all())


def test_a_lead_does_not_see_students_who_left_before_this_year(tenant_a, login, in_scope):
    with in_scope(tenant_a.district):
        left = EnrollmentFactory(
            student__district=tenant_a.district,
            student__first_name="Gone",
            school=tenant_a.school,
            entry_date=datetime.date(2023, 8, 28),
            exit_date=datetime.date(2024, 6, 1),
        ).student
    url = reverse("students:student_detail", kwargs={"district": tenant_a.district.slug, "student_id": left.pk})
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url).status_code == 404
    assert login(tenant_a.user(Role.DISTRICT_STAFF)).get(url).status_code == 200
