"""The huddle, row and action-log endpoints under /d/<district>/api/ (outreach.api)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from rest_framework.test import APIClient

from districts.models import AuditEvent, Role
from outreach import services
from outreach.models import HuddleRow, OutreachAction
from students.models import MentorAssignment

from .outreach_support import flag, lead, membership, student_at


@pytest.fixture
def data(tenant_a):
    week = services.week_start_of(timezone.localdate(timezone=tenant_a.district.tzinfo))
    with scope(district=tenant_a.district):
        mentee, other = student_at(tenant_a.school, last_name="Mentee"), student_at(tenant_a.school, last_name="Other")
        for student in (mentee, other):
            flag(student, first_met=week - datetime.timedelta(days=2))
        MentorAssignment.objects.create(
            district=tenant_a.district, student=mentee, mentor=membership(tenant_a, Role.MENTOR)
        )
        huddle = services.huddle_generate(district=tenant_a.district, school=tenant_a.school, week_start=week)
        rows = {row.student.last_name: row for row in HuddleRow.objects.select_related("student")}
        note = services.outreach_action_create(
            student=mentee, author=lead(tenant_a), attempt_date=timezone.localdate(), method="call", reached=True,
            barrier="physical_health", notes="Asthma flare-ups", sensitive=True,
        )  # fmt: skip
    return {"huddle": huddle, "rows": rows, "mentee": mentee, "other": other, "note": note}


def _api(name, **kwargs):
    return reverse(f"api:{name}", kwargs={"district": "alpha", **kwargs})


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_lead_lists_and_opens_the_huddle(tenant_a, data):
    client = _client(tenant_a.user(Role.ATTENDANCE_LEAD))
    listed = client.get(_api("huddle_list"), {"week": timezone.localdate().isoformat()}).json()["results"]
    assert [(h["id"], h["rows"], h["discussed"]) for h in listed] == [(data["huddle"].pk, 2, 0)]
    detail = client.get(_api("huddle_detail", huddle_id=data["huddle"].pk)).json()
    assert detail["school"]["name"] == "Alpha County Schools Middle" and detail["attendance"] == []
    rows = client.get(_api("huddle_row_list", huddle_id=data["huddle"].pk)).json()["results"]
    assert {row["student"]["name"].split()[-1] for row in rows} == {"Mentee", "Other"}
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="huddle", detail__api=True).count() == 1


def test_patch_a_row_as_the_team_but_not_as_district_staff(tenant_a, data):
    row = data["rows"]["Other"]
    with scopes_disabled():
        owner, admin = membership(tenant_a, Role.COUNSELOR), membership(tenant_a, Role.DISTRICT_ADMIN)
    url = _api("huddle_row_detail", row_id=row.pk)
    changes = {"discussed": True, "owner": owner.pk, "next_step": "Call grandma", "next_step_due": "2030-01-06"}
    response = _client(tenant_a.user(Role.ATTENDANCE_LEAD)).patch(url, changes, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["owner"], response.json()["discussed"]) == (owner.pk, True)
    assert (
        _client(tenant_a.user(Role.DISTRICT_STAFF)).patch(url, {"discussed": False}, format="json").status_code == 403
    )
    bad = _client(tenant_a.user(Role.ATTENDANCE_LEAD)).patch(url, {"owner": admin.pk}, format="json")
    assert bad.status_code == 400


def test_a_mentor_sees_only_their_students_rows(tenant_a, data):
    client = _client(tenant_a.user(Role.MENTOR))
    rows = client.get(_api("huddle_row_list", huddle_id=data["huddle"].pk)).json()["results"]
    assert [row["student"]["id"] for row in rows] == [data["mentee"].pk]
    assert client.get(_api("huddle_row_detail", row_id=data["rows"]["Other"].pk)).status_code == 404


@pytest.mark.parametrize(
    "role, sees",
    [(Role.COUNSELOR, True), (Role.ATTENDANCE_LEAD, True), (Role.MENTOR, False), (Role.DISTRICT_STAFF, False)],
)
def test_the_action_log_blanks_sensitive_details_for_others(tenant_a, data, role, sees):
    actions = (
        _client(tenant_a.user(role)).get(_api("outreach_action_list"), {"student": data["mentee"].pk}).json()["results"]
    )
    assert len(actions) == 1
    assert (actions[0]["notes"] == "Asthma flare-ups") is sees and actions[0]["restricted"] is not sees
    assert actions[0]["method"] == "call" and actions[0]["reached"] is True


def test_log_a_contact_through_the_api(tenant_a, data):
    body = {"student": data["other"].pk, "attempt_date": "2025-11-18", "method": "text", "reached": False,
            "barrier": "transportation", "follow_up_date": "2025-11-20"}  # fmt: skip
    response = _client(tenant_a.user(Role.ATTENDANCE_LEAD)).post(_api("outreach_action_list"), body, format="json")
    assert response.status_code == 201, response.json()
    with scopes_disabled():
        created = OutreachAction.objects.get(pk=response.json()["id"])
    assert (created.method, created.barrier, created.author.user.email) == (
        "text",
        "transportation",
        "attendance_lead@alpha.example.org",
    )
    mentor = _client(tenant_a.user(Role.MENTOR)).post(_api("outreach_action_list"), body, format="json")
    assert mentor.status_code == 404, "a student the mentor is not assigned is not there for them"
    staff = _client(tenant_a.user(Role.DISTRICT_STAFF)).post(_api("outreach_action_list"), body, format="json")
    assert staff.status_code == 403
    bad = _client(tenant_a.user(Role.ATTENDANCE_LEAD)).post(
        _api("outreach_action_list"), {**body, "follow_up_date": "2025-11-01"}, format="json"
    )
    assert bad.status_code == 400 and "follow_up_date" in bad.json()


def test_another_districts_token_sees_nothing(tenant_a, tenant_b, data):
    client = _client(tenant_b.user(Role.ATTENDANCE_LEAD))
    assert client.get(_api("huddle_detail", huddle_id=data["huddle"].pk)).status_code == 404
    beta = reverse("api:outreach_action_detail", kwargs={"district": "beta", "action_id": data["note"].pk})
    assert client.get(beta).status_code == 404
