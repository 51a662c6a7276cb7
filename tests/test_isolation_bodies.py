"""Another district's ids inside request bodies (issue 9, the isolation matrix's habit).

The matrix (tests/test_isolation_matrix.py) puts A's ids in B's URLs; here district A's own
people, on A's own pages and API, send a body naming one of district B's rows: a student, a
partner, a counselor as case lead or intervention owner, a flag, a referral, a school, a huddle
member. Each body is first sent as it is with B's id, which must be refused (404, or 400 naming
the field) and must write nothing anywhere; then the same body with A's own id, which must be
applied, so a refusal can only come from the foreign id.
"""

import dataclasses
import datetime
import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from districts.models import Membership, Role
from outreach.models import OutreachAction
from tiers import lifecycle

from .cases_records import case_records
from .import_support import import_objects_of
from .outreach_records import outreach_records
from .test_isolation_matrix import database_snapshot

# Reading a page that shows a student records who saw it; that is the audit trail, not the write.
NOT_WRITES = {"districts.AuditEvent", "districts.AuditEvent_students"}


def member_id(records, role: str) -> int:
    """The membership of the district's person with `role` (at the leads' school for school roles)."""
    with scope(district=records.district):
        return Membership.objects.get(district=records.district, grants__role=role).pk


def tier3_flag_id(records) -> int:
    cached = getattr(records, "_tier3_flag", None)
    if cached is None:
        with scope(district=records.district):
            cached = lifecycle.flag_refer_to_tier3(
                student=records.student, why="Referred by the attendance team", on=datetime.date(2025, 11, 3)
            ).pk
        records._tier3_flag = cached
    return cached


def school_id(records) -> int:
    with scope(district=records.district):
        return records.student.enrollments.get().school_id


def api(name: str, **kwargs) -> str:
    return reverse(f"api:{name}", kwargs={"district": "alpha", **kwargs})


def page(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"district": "alpha", **kwargs})


@dataclasses.dataclass(frozen=True)
class Case_:
    """One body with one id field: `body(own, foreign)` builds it with `foreign`'s row in `field`."""

    name: str
    role: str
    method: str
    url: Callable  # (A's records) -> url
    body: Callable  # (A's records, records whose id goes in `field`) -> dict
    field: str
    refused: tuple[int, ...]  # the statuses a refusal may have
    applied: tuple[int, ...]  # the control's status with A's own id
    api: bool = True


def _action(mine, whose):
    """A contact logged by the mentor of `whose.other_student` (no nightly run needed to place them)."""
    return {"student": whose.other_student.pk, "attempt_date": "2025-11-18", "method": "call", "reached": True}


def _intervention(mine, whose):
    return {
        "kind": "mentoring", "description": "Lunch with a mentor", "start_date": "2025-11-05",
        "owner": member_id(whose, Role.COUNSELOR),
    }  # fmt: skip


def _referral(mine, whose):
    return {"partner": case_records(whose).partner.pk, "service": "physical_health", "referred_on": "2025-11-05"}


CASES = [
    # --- the API ---------------------------------------------------------------------------
    Case_("api case for a foreign student", Role.COUNSELOR, "post", lambda mine: api("case_list"),
          lambda mine, whose: {"student": whose.student.pk}, "student", (404,), (201,)),
    Case_("api case led by a foreign counselor", Role.COUNSELOR, "post", lambda mine: api("case_list"),
          lambda mine, whose: {"student": mine.student.pk, "lead": member_id(whose, Role.COUNSELOR)},
          "lead", (400,), (201,)),
    Case_("api case answering a foreign flag", Role.COUNSELOR, "post", lambda mine: api("case_list"),
          lambda mine, whose: {"student": mine.student.pk, "flag": tier3_flag_id(whose)}, "flag", (400,), (201,)),
    Case_("api case handed to a foreign counselor", Role.COUNSELOR, "patch",
          lambda mine: api("case_detail", case_id=case_records(mine).case.pk),
          lambda mine, whose: {"lead": member_id(whose, Role.COUNSELOR)}, "lead", (400,), (200,)),
    Case_("api referral to a foreign partner", Role.COUNSELOR, "post",
          lambda mine: api("case_referral_list", case_id=case_records(mine).case.pk), _referral, "partner", (400,),
          (201,)),
    Case_("api intervention owned by a foreign member", Role.COUNSELOR, "post",
          lambda mine: api("case_intervention_list", case_id=case_records(mine).case.pk), _intervention, "owner",
          (400,), (201,)),
    Case_("api contact logged for a foreign student", Role.MENTOR, "post",
          lambda mine: api("outreach_action_list"), _action, "student", (404,), (201,)),
    Case_("api huddle row owned by a foreign member", Role.ATTENDANCE_LEAD, "patch",
          lambda mine: api("huddle_row_detail", row_id=outreach_records(mine).row.pk),
          lambda mine, whose: {"owner": member_id(whose, Role.ATTENDANCE_LEAD)}, "owner", (400,), (200,)),
    # --- the pages -------------------------------------------------------------------------
    Case_("page case for a foreign student", Role.COUNSELOR, "post", lambda mine: page("cases:caseload"),
          lambda mine, whose: {"student": whose.student.pk, "lead": member_id(mine, Role.COUNSELOR),
                               "opened_on": "2025-11-03"}, "student", (404,), (302,), api=False),
    Case_("page case answering a foreign flag", Role.COUNSELOR, "post", lambda mine: page("cases:caseload"),
          lambda mine, whose: {"student": mine.student.pk, "lead": member_id(mine, Role.COUNSELOR),
                               "opened_on": "2025-11-03", "flag": tier3_flag_id(whose)}, "flag", (400,), (302,),
          api=False),
    Case_("page case handed to a foreign counselor", Role.COUNSELOR, "post",
          lambda mine: page("cases:case_detail", case_id=case_records(mine).case.pk),
          lambda mine, whose: {"form": "lead", "lead": member_id(whose, Role.COUNSELOR)}, "lead", (400,), (302,),
          api=False),
    Case_("page referral to a foreign partner", Role.COUNSELOR, "post",
          lambda mine: page("cases:case_detail", case_id=case_records(mine).case.pk),
          lambda mine, whose: {"form": "referral", **_referral(mine, whose)}, "partner", (400,), (302,), api=False),
    Case_("page intervention owned by a foreign member", Role.COUNSELOR, "post",
          lambda mine: page("cases:case_detail", case_id=case_records(mine).case.pk),
          lambda mine, whose: {"form": "intervention", **_intervention(mine, whose)}, "owner", (400,), (302,),
          api=False),
    Case_("page connection of a foreign referral", Role.COUNSELOR, "post",
          lambda mine: page("cases:case_detail", case_id=case_records(mine).case.pk),
          lambda mine, whose: {"form": "connect", "referral": case_records(whose).referral.pk,
                               "connected_on": "2025-11-10", "outcome": "First appointment kept"},
          "referral", (404,), (302,), api=False),
    Case_("page huddle row owned by a foreign member", Role.ATTENDANCE_LEAD, "post",
          lambda mine: page("outreach:huddle_row_plan", row_id=outreach_records(mine).row.pk),
          lambda mine, whose: {"owner": member_id(whose, Role.ATTENDANCE_LEAD), "next_step": "Call home"}, "owner",
          (400,), (302,), api=False),
    Case_("page huddle generated for a foreign school", Role.ATTENDANCE_LEAD, "post",
          lambda mine: page("outreach:huddle_generate"), lambda mine, whose: {"school": school_id(whose)}, "school",
          (404,), (302,), api=False),
    Case_("page import read with a foreign column mapping", Role.DISTRICT_ADMIN, "post",
          lambda mine: page("imports:index"),
          lambda mine, whose: {"format": "sis_csv", "mapping": import_objects_of(whose.district)[1].pk,
                               "files": SimpleUploadedFile("students.csv", b"student_id,first_name\nS1,Ana\n")},
          "mapping", (400,), (302,), api=False),
    Case_("page role granted at a foreign school", Role.DISTRICT_ADMIN, "post", lambda mine: page("districts:people"),
          lambda mine, whose: {"email": "new.counselor@example.org", "role": Role.COUNSELOR,
                               "school": school_id(whose)}, "school", (400,), (302,), api=False),
]  # fmt: skip


def writes_snapshot() -> dict:
    return {label: rows for label, rows in database_snapshot().items() if label not in NOT_WRITES}


def send(client, case: Case_, url: str, body: dict):
    if case.api:
        return getattr(client, case.method)(url, body, content_type="application/json")
    return getattr(client, case.method)(url, body)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_another_districts_id_in_a_body_is_refused_and_never_applied(
    case, tenant_a, tenant_b, records_a, records_b, login
):
    url = case.url(records_a)
    foreign_body = case.body(records_a, records_b)
    own_body = case.body(records_a, records_a)
    assert foreign_body[case.field] != own_body[case.field], "the two bodies must differ in the field under test"
    client = login(tenant_a.user(case.role))

    before = writes_snapshot()
    refused = send(client, case, url, foreign_body)
    changed = [label for label, rows in writes_snapshot().items() if rows != before[label]]
    assert not changed, f"{case.name}: B's id was applied, changing {changed}"
    assert refused.status_code in case.refused, (refused.status_code, refused.content[:600])
    if case.api and refused.status_code == 400:
        assert case.field in refused.json(), f"the 400 names {sorted(refused.json())}, not {case.field!r}"
    if not case.api and refused.status_code == 400:
        assert _names_the_field(refused, case.field), refused.content.decode()[:2000]

    applied = send(client, case, url, own_body)
    assert applied.status_code in case.applied, (applied.status_code, applied.content[:600])
    assert writes_snapshot() != before, f"{case.name}: the control with A's own id changed nothing"


def _names_the_field(response, field: str) -> bool:
    """A refused form says what is wrong beside the field (templates/includes/field.html); a post
    no form of the page makes (a hand-made id) is answered in plain words naming it."""
    text = response.content.decode()
    if "<html" in text:
        return re.search(rf'<ul class="errorlist" id="id_\w*{field}_error">', text) is not None
    return field in text.lower()


def test_a_foreign_flag_id_in_a_logged_contact_is_not_taken_up(tenant_a, tenant_b, records_a, records_b, login):
    """The contact API reads `flag` only (the service finds the flag it answers): B's flag id in
    the body never lands on A's row."""
    foreign_flag = tier3_flag_id(records_b)
    client = login(tenant_a.user(Role.MENTOR))
    response = client.post(
        api("outreach_action_list"),
        {**_action(records_a, records_a), "flag": foreign_flag},
        content_type="application/json",
    )
    assert response.status_code == 201
    with scopes_disabled():
        action = OutreachAction.objects.get(pk=response.json()["id"])
        assert action.flag_id != foreign_flag and action.district_id == tenant_a.district.pk


def test_no_row_refers_to_another_districts_row_after_the_walk(tenant_a, tenant_b, records_a, records_b, login):
    """After every control above has been applied in A, no row of A points at a row of B."""
    for case in CASES:
        client = login(tenant_a.user(case.role))
        send(client, case, case.url(records_a), case.body(records_a, records_b))
    assert cross_district_references() == []


def cross_district_references() -> list[str]:
    """Every foreign key between two district-owned models whose ends name different districts."""
    found = []
    with scopes_disabled():
        for model in apps.get_models():
            names = {field.name for field in model._meta.get_fields()}
            if "district" not in names:
                continue
            for field in model._meta.concrete_fields:
                target = field.related_model
                if not field.is_relation or target is None or field.name == "district":
                    continue
                if "district" not in {f.name for f in target._meta.get_fields()}:
                    continue
                mismatched = model._base_manager.exclude(**{f"{field.name}__isnull": True}).exclude(
                    **{f"{field.name}__district": F("district")}
                )
                if mismatched.exists():
                    found.append(f"{model._meta.label}.{field.name}")
    return found


# Another district's ids in the query string of A's list endpoints: refused naming the filter, or
# an empty list; never B's rows.
QUERY_FILTERS = [
    ("student_list", Role.DISTRICT_ADMIN, "school", lambda records: school_id(records)),
    ("flag_list", Role.DISTRICT_ADMIN, "school", lambda records: school_id(records)),
    ("huddle_list", Role.ATTENDANCE_LEAD, "school", lambda records: school_id(records)),
    ("outreach_action_list", Role.ATTENDANCE_LEAD, "student", lambda records: records.student.pk),
    ("case_list", Role.DISTRICT_ADMIN, "status", lambda records: "open"),  # no id: the list itself is checked
]


@pytest.mark.parametrize("name, role, parameter, value_of", QUERY_FILTERS, ids=[q[0] for q in QUERY_FILTERS])
def test_another_districts_id_in_a_list_filter_finds_nothing_of_theirs(
    name, role, parameter, value_of, tenant_a, tenant_b, records_a, records_b, login
):
    tier3_flag_id(records_b), outreach_records(records_b), case_records(records_b)  # B has rows of every kind
    client = login(tenant_a.user(role))
    response = client.get(api(name), {parameter: value_of(records_b)})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert parameter in response.json()
    else:
        assert response.json()["results"] == [] or name == "case_list"
    body = response.content.decode()
    assert not {records_b.student.sis_id, records_b.other_student.sis_id} & set(re.findall(r"B-\d", body))
