"""Admins assign students to mentors (issue 10): on a page, by CSV upload and through the API;
every change audit-logged; a bad CSV row named and nothing written; other districts get 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from districts.models import AuditEvent, Membership, Role
from students.models import MentorAssignment

from .factories import StudentFactory


def _url(tenant):
    return reverse("students:mentors", kwargs={"district": tenant.district.slug})


def _api(tenant, assignment_id=None):
    if assignment_id is None:
        return reverse("api:mentor_assignment_list", kwargs={"district": tenant.district.slug})
    return reverse(
        "api:mentor_assignment_detail", kwargs={"district": tenant.district.slug, "assignment_id": assignment_id}
    )


@pytest.fixture
def people(tenant_a):
    with scope(district=tenant_a.district):
        mentor = Membership.objects.get(user=tenant_a.user(Role.MENTOR))
        students = [
            StudentFactory(district=tenant_a.district, sis_id=f"M-{n}", last_name=f"Mentee{n}") for n in range(3)
        ]
    return mentor, students


def _assigned(tenant) -> set[tuple[str, str]]:
    with scope(district=tenant.district):
        return set(MentorAssignment.objects.values_list("student__sis_id", "mentor__user__email"))


def test_an_admin_assigns_and_removes_on_the_page(tenant_a, login, people):
    mentor, students = people
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    assert admin.get(_url(tenant_a)).status_code == 200

    response = admin.post(_url(tenant_a), {"action": "assign", "mentor": mentor.pk, "students": "M-0, M-1\nM-1"})

    assert response.status_code == 302
    email = mentor.user.email
    assert _assigned(tenant_a) == {("M-0", email), ("M-1", email)}
    page = admin.get(_url(tenant_a)).content.decode()
    assert "Mentee0" in page and "Mentee1" in page
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get(object_type="mentor_assignment")
        assignment = MentorAssignment.objects.get(student__sis_id="M-0")
    assert set(event.students) == {students[0].pk, students[1].pk}

    admin.post(_url(tenant_a), {"action": "remove", "assignment": assignment.pk})
    assert _assigned(tenant_a) == {("M-1", email)}


def test_unknown_ids_and_non_mentors_are_refused(tenant_a, login, people):
    mentor, _ = people
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    refused = admin.post(_url(tenant_a), {"action": "assign", "mentor": mentor.pk, "students": "M-0 NOPE-9"})
    assert refused.status_code == 400 and "NOPE-9" in refused.content.decode()
    with scope(district=tenant_a.district):
        lead = Membership.objects.get(user=tenant_a.user(Role.ATTENDANCE_LEAD))
    assert admin.post(_url(tenant_a), {"action": "assign", "mentor": lead.pk, "students": "M-0"}).status_code == 400
    assert _assigned(tenant_a) == set()


def test_a_csv_assigns_all_or_names_the_bad_rows(tenant_a, login, people):
    mentor, _ = people
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))
    email = mentor.user.email
    bad = f"student_id,mentor_email\nM-0,{email}\nM-404,{email}\nM-1,nobody@example.org\n".encode()

    response = admin.post(_url(tenant_a), {"action": "upload", "file": SimpleUploadedFile("mentors.csv", bad)})

    html = response.content.decode()
    assert response.status_code == 400
    assert "mentors.csv, row 3, column student_id" in html and "mentors.csv, row 4, column mentor_email" in html
    assert _assigned(tenant_a) == set()

    good = f"Student_ID,Mentor_Email\nM-0,{email.upper()}\nM-2,{email}\n".encode()
    response = admin.post(_url(tenant_a), {"action": "upload", "file": SimpleUploadedFile("mentors.csv", good)})
    assert response.status_code == 302
    assert _assigned(tenant_a) == {("M-0", email), ("M-2", email)}


def test_the_api_lists_creates_and_deletes(tenant_a, login, people):
    mentor, students = people
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN))

    created = admin.post(_api(tenant_a), {"student": students[2].pk, "mentor": mentor.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["student_sis_id"], body["mentor_email"]) == ("M-2", mentor.user.email)
    listed = admin.get(_api(tenant_a), {"mentor": mentor.pk}).json()
    assert [item["student_sis_id"] for item in listed["results"]] == ["M-2"]
    assert admin.delete(_api(tenant_a, body["id"])).status_code == 204
    assert _assigned(tenant_a) == set()
    with scope(district=tenant_a.district):
        lead = Membership.objects.get(user=tenant_a.user(Role.ATTENDANCE_LEAD))
    assert admin.post(_api(tenant_a), {"student": students[2].pk, "mentor": lead.pk}).status_code == 400


def test_a_mentor_then_sees_only_the_assigned_students(tenant_a, login, people):
    mentor, students = people
    login(tenant_a.user(Role.DISTRICT_ADMIN)).post(
        _url(tenant_a), {"action": "assign", "mentor": mentor.pk, "students": "M-1"}
    )
    page = login(tenant_a.user(Role.MENTOR)).get(
        reverse("outreach:roster", kwargs={"district": tenant_a.district.slug})
    )
    html = page.content.decode()
    assert "Mentee1" in html and "Mentee0" not in html


def test_only_admins_and_only_their_district(tenant_a, tenant_b, login, people):
    mentor, students = people
    with scope(district=tenant_a.district):
        assignment = MentorAssignment.objects.create(district=tenant_a.district, student=students[0], mentor=mentor)
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(_url(tenant_a)).status_code == 403
    outsider = login(tenant_b.user(Role.DISTRICT_ADMIN))
    assert outsider.get(_url(tenant_a)).status_code == 404
    assert outsider.post(_url(tenant_a), {"action": "remove", "assignment": assignment.pk}).status_code == 404
    assert outsider.get(_api(tenant_a)).status_code == 404
    assert outsider.delete(_api(tenant_a, assignment.pk)).status_code == 404
    # Their own page cannot reach it either.
    assert outsider.post(_url(tenant_b), {"action": "remove", "assignment": assignment.pk}).status_code == 404
    assert outsider.delete(_api(tenant_b, assignment.pk)).status_code == 404
    assert len(_assigned(tenant_a)) == 1
