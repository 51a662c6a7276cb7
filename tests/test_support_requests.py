"""Support requests (issue 12): a school asks the district for help; the district assigns an
owner and a due date, answers on the thread and resolves with a note; overdue requests surface
on the lead's huddle page. Pages, API, audit and isolation."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from districts.models import AuditEvent, Membership, Role
from pulse import support_selectors, support_services
from pulse.models import SupportComment, SupportRequest

from .api_tokens import token_for


def _member(tenant, role):
    return Membership.objects.get(user=tenant.user(role))


def _access(tenant, role):
    from districts.selectors import district_access_get

    return district_access_get(district=tenant.district, user=tenant.user(role))


def _file(tenant, *, school=None, students=(), due=None, owner_role=Role.DISTRICT_STAFF, subject="Bus stop moved"):
    with scope(district=tenant.district):
        lead = _member(tenant, Role.ATTENDANCE_LEAD)
        request = support_services.support_request_create(
            school=school or tenant.school, by=lead, category="transportation", subject=subject,
            description="Three families lost their stop.", students=list(students),
        )  # fmt: skip
        if due is not None:
            staff = _member(tenant, owner_role)
            support_services.support_request_assign(request=request, by=staff, owner=staff, due_on=due)
    return request


def _today(tenant):
    return timezone.localdate(timezone=tenant.district.tzinfo)


# --- services and selectors ---------------------------------------------------------------------


def test_assigning_and_resolving_write_the_thread(tenant_a):
    request = _file(tenant_a, due=datetime.date(2025, 12, 1))
    with scope(district=tenant_a.district):
        staff = _member(tenant_a, Role.DISTRICT_STAFF)
        support_services.support_request_resolve(request=request, by=staff, resolution="Stop restored on Elm St.")
        request.refresh_from_db()
        kinds = list(request.comments.values_list("kind", flat=True))
    assert request.status == SupportRequest.Status.RESOLVED and request.resolved_by == staff
    assert kinds == [SupportComment.Kind.ASSIGNED, SupportComment.Kind.RESOLVED]


def test_the_owner_must_work_at_the_district_office(tenant_a):
    request = _file(tenant_a)
    with scope(district=tenant_a.district):
        lead = _member(tenant_a, Role.ATTENDANCE_LEAD)
        with pytest.raises(ValidationError, match="district office"):
            support_services.support_request_assign(request=request, by=lead, owner=lead, due_on=None)


def test_a_resolution_needs_a_note_and_a_request_resolves_once(tenant_a):
    request = _file(tenant_a)
    with scope(district=tenant_a.district):
        staff = _member(tenant_a, Role.DISTRICT_STAFF)
        with pytest.raises(ValidationError):
            support_services.support_request_resolve(request=request, by=staff, resolution="  ")
        support_services.support_request_resolve(request=request, by=staff, resolution="Done")
        with pytest.raises(ValidationError):
            support_services.support_request_resolve(request=request, by=staff, resolution="Again")
        support_services.support_request_reopen(request=request, by=staff, reason="The stop moved again")
        assert request.is_open


def test_a_student_of_another_district_cannot_be_named(tenant_a, tenant_b, records_b):
    with scope(district=tenant_a.district), pytest.raises(ValidationError):
        support_services.support_request_create(
            school=tenant_a.school, by=_member(tenant_a, Role.ATTENDANCE_LEAD), category="other", subject="x",
            description="y", students=[records_b.student],
        )  # fmt: skip


def test_overdue_and_the_summary_count_by_hand(tenant_a):
    today = _today(tenant_a)
    _file(tenant_a, due=today - datetime.timedelta(days=1), subject="late")
    _file(tenant_a, due=today, subject="due today")
    _file(tenant_a, subject="unassigned")
    _file(tenant_a, school=tenant_a.other_school, due=today - datetime.timedelta(days=5), subject="other school")
    with scope(district=tenant_a.district):
        staff_view = support_selectors.support_requests_overdue(
            access=_access(tenant_a, Role.DISTRICT_STAFF), today=today
        )
        lead_view = support_selectors.support_requests_overdue(
            access=_access(tenant_a, Role.ATTENDANCE_LEAD), today=today
        )
        summary = support_selectors.support_summary(access=_access(tenant_a, Role.DISTRICT_STAFF), today=today)
    assert [r.subject for r in staff_view] == ["other school", "late"]
    assert [r.subject for r in lead_view] == ["late"], "a lead sees only their own schools' requests"
    assert (summary.open, summary.unassigned, summary.overdue) == (4, 1, 2)


# --- pages ----------------------------------------------------------------------------------------


def test_a_lead_files_a_request_naming_a_student_by_sis_id(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("support:new", kwargs={"district": tenant_a.district.slug})
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "school": tenant_a.school.pk, "category": "student_support", "subject": "Housing for a family",
        "description": "The family lost their apartment.", "student_sis_ids": "A-1",
    })  # fmt: skip
    assert response.status_code == 302
    with scope(district=tenant_a.district):
        request = SupportRequest.objects.get()
        assert list(request.students.all()) == [records_a.student]
        assert request.requested_by == _member(tenant_a, Role.ATTENDANCE_LEAD)


def test_a_lead_cannot_name_a_student_outside_their_schools(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("support:new", kwargs={"district": tenant_a.district.slug})
    response = client.post(url, {
        "school": tenant_a.school.pk, "category": "other", "subject": "x", "description": "y",
        "student_sis_ids": "A-2, NOPE",
    })  # fmt: skip
    assert response.status_code == 400
    assert "A-2, NOPE" in response.content.decode()
    with scope(district=tenant_a.district):
        assert not SupportRequest.objects.exists()


def test_district_staff_assign_and_resolve_on_the_page(tenant_a, login):
    request = _file(tenant_a)
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("support:detail", kwargs={"district": tenant_a.district.slug, "support_request_id": request.pk})
    with scope(district=tenant_a.district):
        staff = _member(tenant_a, Role.DISTRICT_STAFF)
    assert client.post(url, {"form": "assign", "owner": staff.pk, "due_on": "2025-12-05"}).status_code == 302
    assert client.post(url, {"form": "resolve", "resolution": ""}).status_code == 400
    assert client.post(url, {"form": "resolve", "resolution": "Route 12 stops there again."}).status_code == 302
    request.refresh_from_db()
    assert (request.owner_id, request.due_on, request.status) == (staff.pk, datetime.date(2025, 12, 5), "resolved")


def test_a_lead_comments_but_cannot_assign_or_resolve(tenant_a, login):
    request = _file(tenant_a)
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("support:detail", kwargs={"district": tenant_a.district.slug, "support_request_id": request.pk})
    assert client.post(url, {"form": "comment", "body": "Any news?"}).status_code == 302
    assert client.post(url, {"form": "resolve", "resolution": "x"}).status_code == 403
    request.refresh_from_db()
    with scope(district=tenant_a.district):
        assert request.is_open and request.comments.count() == 1


def test_another_schools_lead_gets_404_for_the_request(tenant_a, login):
    request = _file(tenant_a, school=tenant_a.other_school)
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("support:detail", kwargs={"district": tenant_a.district.slug, "support_request_id": request.pk})
    assert client.get(url).status_code == 404


def test_another_districts_staff_get_404_on_every_support_route(tenant_a, tenant_b, login):
    request = _file(tenant_a)
    client = login(tenant_b.user(Role.DISTRICT_STAFF))
    slug_a, slug_b = tenant_a.district.slug, tenant_b.district.slug
    for slug in (slug_a, slug_b):
        detail = reverse("support:detail", kwargs={"district": slug, "support_request_id": request.pk})
        api = reverse("api:support_request_detail", kwargs={"district": slug, "support_request_id": request.pk})
        assert client.get(detail).status_code == 404
        assert client.post(detail, {"form": "comment", "body": "x"}).status_code == 404
        assert client.get(api).status_code == 404
    for name in ("support:list", "support:new", "support:csv", "api:support_request_list"):
        assert client.get(reverse(name, kwargs={"district": slug_a})).status_code == 404
    with scope(district=tenant_a.district):
        assert request.comments.count() == 0


def test_the_detail_page_records_the_students_it_names(tenant_a, records_a, login):
    request = _file(tenant_a, students=[records_a.student])
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("support:detail", kwargs={"district": tenant_a.district.slug, "support_request_id": request.pk})
    assert records_a.student.last_name in client.get(url).content.decode()
    with scopes_disabled():
        event = AuditEvent.objects.get(object_type="support_request")
    assert event.students == [records_a.student.pk]


def test_the_csv_lists_the_filtered_requests_without_student_names(tenant_a, records_a, login):
    _file(tenant_a, students=[records_a.student], due=_today(tenant_a) - datetime.timedelta(days=3))
    _file(tenant_a, subject="On time")
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("support:csv", kwargs={"district": tenant_a.district.slug}) + "?status=overdue"
    body = b"".join(client.get(url).streaming_content).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 2 and "Bus stop moved" in lines[1] and ",Y,1," in lines[1]
    assert records_a.student.last_name not in body


def test_overdue_requests_show_on_the_leads_huddle_page(tenant_a, login):
    _file(tenant_a, due=_today(tenant_a) - datetime.timedelta(days=1), subject="Late bus answer")
    _file(tenant_a, school=tenant_a.other_school, due=_today(tenant_a) - datetime.timedelta(days=1), subject="Hidden")
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    page = client.get(reverse("outreach:huddle_current", kwargs={"district": tenant_a.district.slug}))
    text = page.content.decode()
    assert "Late bus answer" in text and "Hidden" not in text


# --- API ------------------------------------------------------------------------------------------


def test_the_api_lists_files_and_shows_a_thread(tenant_a, records_a, client):
    token = token_for(tenant_a.user(Role.ATTENDANCE_LEAD))
    headers = {"Authorization": f"Token {token}"}
    url = reverse("api:support_request_list", kwargs={"district": tenant_a.district.slug})
    created = client.post(
        url, {"school": tenant_a.school.pk, "category": "data", "subject": "Codes", "description": "New code X",
              "students": [records_a.student.pk]}, content_type="application/json", headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.content
    listed = client.get(url, headers=headers).json()
    assert [row["subject"] for row in listed["results"]] == ["Codes"]
    detail = client.get(
        reverse("api:support_request_detail", kwargs={"district": tenant_a.district.slug,
                                                      "support_request_id": created.json()["id"]}),
        headers=headers,
    ).json()  # fmt: skip
    assert detail["students"] == [records_a.student.pk] and detail["comments"] == []
    refused = client.post(
        url, {"school": tenant_a.other_school.pk, "category": "data", "subject": "x", "description": "y"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert refused.status_code == 400


def test_mentors_do_not_reach_support_requests(tenant_a, login):
    client = login(tenant_a.user(Role.MENTOR))
    assert client.get(reverse("support:list", kwargs={"district": tenant_a.district.slug})).status_code == 403


def test_overdue_requests_show_on_the_pulse_dashboard(tenant_a, login):
    _file(tenant_a, due=_today(tenant_a) - datetime.timedelta(days=1), subject="Late bus answer")
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    page = client.get(reverse("pulse:dashboard", kwargs={"district": tenant_a.district.slug}))
    assert "Late bus answer" in page.content.decode()
