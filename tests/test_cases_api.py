"""The Tier 3 API contract (issue 11): names, fields, status codes, the 400 {"missing": [codes]}
of the support-first guard and its 403 override rule, consent, and who sees what."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from rest_framework.test import APIClient

from cases import guard
from cases.models import Case, Intervention, Referral
from districts.models import AuditEvent
from outreach.services import outreach_action_create

from .cases_data import case_world

SEP_1 = "2025-09-01"


@pytest.fixture
def world(tenant_a):
    return case_world(tenant_a)


def _api(name, **kwargs):
    return reverse(f"api:{name}", kwargs={"district": "alpha", **kwargs})


def _client(membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def _open(world, student=None) -> dict:
    response = _client(world.counselor).post(
        _api("case_list"), {"student": (student or world.year.monday).pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


# ----------------------------------------------------------------------------- partners


def test_admins_add_partners_and_counselors_read_them(world):
    body = {"name": "Bus Buddies", "services": ["transportation"], "expected_response_days": 5}
    created = _client(world.admin).post(_api("partner_list"), body, format="json")
    assert created.status_code == 201
    assert isinstance(created.json()["id"], int) and created.json()["services"] == ["transportation"]
    names = [p["name"] for p in _client(world.counselor).get(_api("partner_list")).json()["results"]]
    assert "Bus Buddies" in names
    assert _client(world.counselor).post(_api("partner_list"), {**body, "name": "X"}, format="json").status_code == 403
    assert _client(world.staff).post(_api("partner_list"), {**body, "name": "Y"}, format="json").status_code == 403
    assert _client(world.mentor).get(_api("partner_list")).status_code == 403


def test_a_partner_needs_known_barrier_codes_and_response_days(world):
    client = _client(world.admin)
    bad = client.post(
        _api("partner_list"), {"name": "Z", "services": ["bus"], "expected_response_days": 5}, format="json"
    )
    assert bad.status_code == 400 and "services" in bad.json()
    missing = client.post(_api("partner_list"), {"name": "Z", "services": ["transportation"]}, format="json")
    assert missing.status_code == 400 and "expected_response_days" in missing.json()


# ----------------------------------------------------------------------------- cases


def test_a_counselor_opens_a_case_and_leads_it_by_default(world):
    case = _open(world)
    assert isinstance(case["id"], int)
    assert case["lead"] == world.counselor.pk and case["student"] == world.year.monday.pk
    assert case["status"] == "open" and case["full"] is True


def test_the_lead_can_be_another_counselor_of_the_school_but_not_anyone(world):
    client = _client(world.counselor)
    ok = client.post(
        _api("case_list"), {"student": world.year.monday.pk, "lead": world.second_counselor.pk}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["lead"] == world.second_counselor.pk
    refused = client.post(
        _api("case_list"), {"student": world.year.steady.pk, "lead": world.attendance_lead.pk}, format="json"
    )
    assert refused.status_code == 400 and "lead" in refused.json()


def test_one_open_case_per_student(world):
    _open(world)
    again = _client(world.counselor).post(_api("case_list"), {"student": world.year.monday.pk}, format="json")
    assert again.status_code == 400 and "student" in again.json()


def test_only_counselors_of_the_students_school_open_cases(world):
    for member in (world.attendance_lead, world.staff, world.admin, world.other_school_counselor):
        response = _client(member).post(_api("case_list"), {"student": world.year.monday.pk}, format="json")
        assert response.status_code in (403, 404), member
    assert _client(world.mentor).post(_api("case_list"), {"student": world.year.monday.pk}).status_code == 403


def test_patch_writes_the_plan_with_past_dates(world):
    case = _open(world)
    body = {"goal_rate": "0.90", "goal_by": "2026-01-30", "plan_started_on": SEP_1, "barriers": ["transportation"]}
    response = _client(world.counselor).patch(_api("case_detail", case_id=case["id"]), body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["goal_rate"] == "0.9000" and data["goal_by"] == "2026-01-30" and data["plan_started_on"] == SEP_1
    assert data["barriers"] == ["transportation"] and data["plan_written_on"] is None


def test_patch_refuses_bad_plans_and_other_roles(world):
    case = _open(world)
    url = _api("case_detail", case_id=case["id"])
    client = _client(world.counselor)
    assert client.patch(url, {"goal_rate": "1.5"}, format="json").status_code == 400
    assert "barriers" in client.patch(url, {"barriers": ["bus"]}, format="json").json()
    for member in (world.staff, world.admin, world.attendance_lead):
        assert _client(member).patch(url, {"goal_rate": "0.9"}, format="json").status_code == 403
    assert _client(world.mentor).patch(url, {"goal_rate": "0.9"}, format="json").status_code == 403


def test_patch_closes_the_case_with_its_outcome(world):
    case = _open(world)
    url = _api("case_detail", case_id=case["id"])
    response = _client(world.counselor).patch(
        url, {"outcome": "goal_met", "closed_on": case["opened_on"], "closure_note": "Back on track"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["closed_on"] == case["opened_on"]
    early = _open(world, world.year.steady)
    refused = _client(world.counselor).patch(
        _api("case_detail", case_id=early["id"]), {"outcome": "moved", "closed_on": "2025-01-01"}, format="json"
    )
    assert refused.status_code == 400 and "closed_on" in refused.json()


def test_an_attendance_lead_sees_that_a_case_exists_its_lead_and_next_review_only(world):
    case = _open(world)
    _client(world.counselor).patch(
        _api("case_detail", case_id=case["id"]), {"plan_started_on": SEP_1, "goal_rate": "0.9"}, format="json"
    )
    client = _client(world.attendance_lead)
    seen = client.get(_api("case_detail", case_id=case["id"])).json()
    assert set(seen) == {
        "id",
        "student",
        "student_name",
        "school",
        "status",
        "lead",
        "lead_name",
        "next_review_on",
        "full",
    }
    assert seen["full"] is False and seen["next_review_on"] == "2025-09-15"
    assert [c["id"] for c in client.get(_api("case_list")).json()["results"]] == [case["id"]]
    for name in ("case_review_list", "case_meeting_list", "case_intervention_list", "case_referral_list"):
        assert client.get(_api(name, case_id=case["id"])).status_code == 403


def test_district_staff_read_every_case_and_mentors_nothing(world):
    case = _open(world)
    assert _client(world.staff).get(_api("case_detail", case_id=case["id"])).json()["full"] is True
    assert _client(world.mentor).get(_api("case_list")).status_code == 403
    assert _client(world.mentor).get(_api("case_detail", case_id=case["id"])).status_code == 403


def test_another_schools_counselor_does_not_see_the_case(world):
    case = _open(world)
    client = _client(world.other_school_counselor)
    assert client.get(_api("case_detail", case_id=case["id"])).status_code == 404
    assert client.get(_api("case_list")).json()["results"] == []


def test_reading_a_case_is_audit_logged(world):
    case = _open(world)
    _client(world.staff).get(_api("case_detail", case_id=case["id"]))
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="case", object_id=str(case["id"]), detail__api=True).exists()


# ----------------------------------------------------------------------------- the support-first guard


def _legal(client, case_id, **extra):
    body = {"kind": "legal_referral", "description": "Attendance court referral", "start_date": "2025-10-06", **extra}
    return client.post(_api("case_intervention_list", case_id=case_id), body, format="json")


def test_a_legal_referral_is_400_with_exactly_the_missing_codes(world):
    case = _open(world)
    response = _legal(_client(world.counselor), case["id"])
    assert response.status_code == 400
    assert response.json() == {"missing": guard.GUARD_CODES}
    with scope(district=world.district):
        assert not Intervention.objects.exists()


def test_the_missing_codes_shrink_as_the_supports_are_recorded(world):
    case = _open(world)
    client = _client(world.counselor)
    with scope(district=world.district):
        outreach_action_create(
            student=world.year.monday, author=world.counselor, attempt_date=datetime.date(2025, 9, 3), method="call",
            reached=True, barrier="transportation", support_offered="Bus pass",
        )  # fmt: skip
    client.post(
        _api("case_meeting_list", case_id=case["id"]), {"held_on": "2025-09-12", "family_attended": True}, format="json"
    )
    assert _legal(client, case["id"]).json() == {"missing": ["plan_age", "partner_referral", "progress_review"]}


# Written out as issue 11 lists them: District IT teams script against these exact strings.
CONTRACT_KINDS = [
    "mentoring", "check_in_check_out", "home_visit", "health_referral", "transportation", "schedule_change",
    "family_meeting", "legal_referral", "other",
]  # fmt: skip
CONTRACT_CODES = [
    "tier2_family_contact",
    "tier2_support",
    "plan_age",
    "partner_referral",
    "family_meeting",
    "progress_review",
]


def test_the_kinds_and_missing_codes_are_the_contracts_strings(world):
    case = _open(world)
    client = _client(world.counselor)
    assert _legal(client, case["id"]).json() == {"missing": CONTRACT_CODES}
    url = _api("case_intervention_list", case_id=case["id"])
    for kind in CONTRACT_KINDS:
        if kind != "legal_referral":
            response = client.post(url, {"kind": kind, "description": f"A {kind}", "start_date": SEP_1}, format="json")
            assert response.status_code == 201 and response.json()["kind"] == kind, response.json()
    schema_kinds = {choice for choice, _ in Intervention._meta.get_field("kind").choices}
    assert schema_kinds == set(CONTRACT_KINDS)


def test_a_district_admins_override_passes_and_anyone_elses_is_403(world):
    case = _open(world)
    refused = _legal(_client(world.counselor), case["id"], override_reason="The family asked for it")
    assert refused.status_code == 403
    passed = _legal(_client(world.admin), case["id"], override_reason="Court order already issued")
    assert passed.status_code == 201
    assert passed.json()["override_missing"] == guard.GUARD_CODES
    assert passed.json()["override_by"] == world.admin.pk
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="guard_override").count() == 1
    assert _legal(_client(world.staff), case["id"], override_reason="x").status_code == 403


def test_an_admin_without_an_override_meets_the_guard_too(world):
    case = _open(world)
    assert _legal(_client(world.admin), case["id"]).json() == {"missing": guard.GUARD_CODES}


def test_other_interventions_are_added_by_the_case_counselors_only(world):
    case = _open(world)
    body = {"kind": "mentoring", "description": "Weekly mentor", "start_date": SEP_1}
    url = _api("case_intervention_list", case_id=case["id"])
    created = _client(world.counselor).post(url, body, format="json")
    assert created.status_code == 201 and created.json()["kind"] == "mentoring"
    assert _client(world.admin).post(url, body, format="json").status_code == 403
    assert _client(world.staff).post(url, body, format="json").status_code == 403
    bad = _client(world.counselor).post(url, {**body, "kind": "detention"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()


# ----------------------------------------------------------------------------- referrals and consent


def _refer(client, case_id, **body):
    data = {"partner": body.pop("partner", None), "service": "physical_health", "referred_on": SEP_1, **body}
    return client.post(_api("case_referral_list", case_id=case_id), data, format="json")


def test_sharing_records_without_consent_is_400_with_a_consent_error(world):
    case = _open(world)
    response = _refer(_client(world.counselor), case["id"], partner=world.partner.pk, shares_records=True)
    assert response.status_code == 400 and "consent" in response.json()
    with scopes_disabled():
        assert not Referral.objects.exists()
        assert not AuditEvent.objects.filter(object_type="partner_disclosure").exists()


def test_sharing_records_with_consent_is_201_and_audit_logged(world):
    case = _open(world)
    response = _refer(
        _client(world.counselor), case["id"], partner=world.partner.pk, shares_records=True,
        consent_given_by="Morgan Tester (mother)", consent_given_on="2025-08-29", consent_scope="Attendance this year",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["due_on"] == "2025-09-11"
    with scopes_disabled():
        event = AuditEvent.objects.get(object_type="partner_disclosure")
    assert event.action == "export" and event.detail["consent_given_by"] == "Morgan Tester (mother)"


def test_declined_and_no_partner_referrals(world):
    case = _open(world)
    client = _client(world.counselor)
    declined = _refer(client, case["id"], partner=world.partner.pk, declined=True)
    assert declined.status_code == 201 and declined.json()["declined"] is True
    none = _refer(client, case["id"], service="housing", no_partner=True)
    assert none.status_code == 201 and none.json()["partner"] is None


def test_patch_confirms_the_connection(world):
    case = _open(world)
    client = _client(world.counselor)
    referral = _refer(client, case["id"], partner=world.partner.pk).json()
    url = _api("case_referral_detail", case_id=case["id"], referral_id=referral["id"])
    assert client.get(url).json()["overdue"] is True  # Sep 1 + 10 days is long past
    patched = client.patch(url, {"connected_on": "2025-09-09", "outcome": "First appointment kept"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["connected_on"] == "2025-09-09" and patched.json()["overdue"] is False
    early = client.patch(url, {"connected_on": "2025-08-01"}, format="json")
    assert early.status_code == 400 and "connected_on" in early.json()
    assert _client(world.staff).patch(url, {"outcome": "x"}, format="json").status_code == 403


# ----------------------------------------------------------------------------- meetings and reviews


def test_meetings_and_invitations(world):
    case = _open(world)
    url = _api("case_meeting_list", case_id=case["id"])
    client = _client(world.counselor)
    held = client.post(url, {"held_on": "2025-09-12", "family_attended": True}, format="json")
    assert held.status_code == 201 and held.json()["kind"] == "meeting"
    invited = client.post(url, {"held_on": "2025-09-19", "invitation": True}, format="json")
    assert invited.status_code == 201 and invited.json()["kind"] == "invitation"


def test_a_review_answers_with_the_apps_figures(world):
    case = _open(world)
    client = _client(world.counselor)
    client.patch(_api("case_detail", case_id=case["id"]), {"plan_started_on": "2025-10-06"}, format="json")
    response = client.post(
        _api("case_review_list", case_id=case["id"]), {"review_date": "2025-10-31", "notes": "Mondays"}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["days_since"], data["rate_since"], data["rate_before"]) == (20, "0.8000", "0.8000")
    typed = client.post(
        _api("case_review_list", case_id=case["id"]),
        {"review_date": "2025-10-31", "days_since": 99, "rate_since": "1.0"}, format="json",
    )  # fmt: skip
    assert typed.json()["days_since"] == 20 and typed.json()["rate_since"] == "0.8000"


def test_sensitive_notes_are_blanked_for_district_staff(world):
    case = _open(world)
    url = _api("case_review_list", case_id=case["id"])
    _client(world.counselor).patch(_api("case_detail", case_id=case["id"]), {"plan_started_on": SEP_1}, format="json")
    _client(world.counselor).post(
        url, {"review_date": "2025-10-31", "notes": "Mother's surgery", "sensitive": True}, format="json"
    )
    [seen] = _client(world.staff).get(url).json()["results"]
    assert seen["restricted"] is True and seen["notes"] == ""
    [own] = _client(world.counselor).get(url).json()["results"]
    assert own["notes"] == "Mother's surgery"


def test_a_closed_case_takes_no_more_records(world):
    case = _open(world)
    client = _client(world.counselor)
    client.patch(_api("case_detail", case_id=case["id"]), {"outcome": "moved"}, format="json")
    with scope(district=world.district):
        assert Case.objects.get(pk=case["id"]).status == "closed"
    response = client.post(_api("case_meeting_list", case_id=case["id"]), {"held_on": "2025-09-12"}, format="json")
    assert response.status_code == 403
