"""export_pulse and the pulse API against the hand-counted district of tests/pulse_data.py."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from districts.models import AuditEvent, Role
from pulse.figures import GroupRow, suppress
from tiers.models import MetricsRun
from tiers.services import compute_metrics

from .api_tokens import token_for
from .pulse_data import AS_OF, pulse_district

HEADER = "level,group,students,chronic,chronic_rate,at_risk,moderate,severe,acute,suppressed"


@pytest.fixture
def district(tenant_a):
    data = pulse_district(tenant_a)
    with scope(district=data.district):
        compute_metrics(district=data.district, as_of=AS_OF)
    return data


def export(tmp_path, data, *args) -> list[str]:
    out = tmp_path / "pulse.csv"
    call_command(
        "export_pulse", "--district", data.district.slug, *args, "--out", str(out), stdout=open("/dev/null", "w")
    )
    return out.read_text().splitlines()


def test_district_row_counts_students_with_the_minimum_days(tmp_path, district):
    assert export(tmp_path, district, "--by", "district") == [HEADER, "district,,6,3,0.5000,1,1,1,1,false"]


def test_a_transfer_counts_at_both_schools_with_their_own_days(tmp_path, district):
    m, h = district.middle.sis_id, district.high.sis_id
    rows = {
        m: f"school,{m},5,3,0.6000,1,1,1,1,false",  # newcomer has 5 days: not counted
        h: f"school,{h},2,1,0.5000,0,1,0,0,false",  # mover: 1 absence in his 10 days there
    }
    assert export(tmp_path, district, "--by", "school") == [HEADER, *(rows[key] for key in sorted(rows))]


def test_grades_as_the_student_record_has_them_including_one_of_one_student(tmp_path, district):
    assert export(tmp_path, district, "--by", "grade") == [
        HEADER,
        "grade,6,0,0,,0,0,0,0,false",  # the only sixth grader is below the minimum days
        "grade,7,5,3,0.6000,1,1,1,1,false",
        "grade,8,1,0,0.0000,0,0,0,0,false",
    ]


def test_subgroups_cover_every_field_and_value_present(tmp_path, district):
    assert export(tmp_path, district, "--by", "subgroup") == [
        HEADER,
        "subgroup,econ_disadvantaged=Y,3,2,0.6667,0,0,1,1,false",
        "subgroup,econ_disadvantaged=N,3,1,0.3333,1,1,0,0,false",
        "subgroup,disability=N,6,3,0.5000,1,1,1,1,false",
        "subgroup,english_learner=Y,1,1,1.0000,0,0,1,0,false",
        "subgroup,english_learner=N,5,2,0.4000,1,1,0,1,false",
        "subgroup,race_ethnicity=BL,1,1,1.0000,0,1,0,0,false",
        "subgroup,race_ethnicity=HI,2,2,1.0000,0,0,1,1,false",
        "subgroup,race_ethnicity=WH,3,0,0.0000,1,0,0,0,false",
        "subgroup,homeless=N,6,3,0.5000,1,1,1,1,false",
        "subgroup,foster=N,6,3,0.5000,1,1,1,1,false",
    ]


def test_one_small_school_takes_the_next_smallest_with_it(tmp_path, district):
    m, h = district.middle.sis_id, district.high.sis_id
    rows = {m: f"school,{m},,,,,,,,true", h: f"school,{h},,,,,,,,true"}
    assert export(tmp_path, district, "--by", "school", "--min-cell", "3") == [
        HEADER,
        *(rows[key] for key in sorted(rows)),
    ]


def test_one_small_grade_takes_the_next_smallest_with_it(tmp_path, district):
    assert export(tmp_path, district, "--by", "grade", "--min-cell", "1") == [
        HEADER,
        "grade,6,,,,,,,,true",  # 0 students
        "grade,7,5,3,0.6000,1,1,1,1,false",
        "grade,8,,,,,,,,true",  # the next smallest, or grade 6 could be recovered from the total
    ]


def test_subgroup_suppression_is_decided_field_by_field(tmp_path, district):
    rows = export(tmp_path, district, "--by", "subgroup", "--min-cell", "3")
    suppressed = [row.split(",")[1] for row in rows[1:] if row.endswith(",true")]
    # english_learner=Y (1) alone is small, so =N goes too; two races are small, so WH stays.
    assert suppressed == ["english_learner=Y", "english_learner=N", "race_ethnicity=BL", "race_ethnicity=HI"]
    assert "subgroup,race_ethnicity=WH,3,0,0.0000,1,0,0,0,false" in rows
    assert "subgroup,econ_disadvantaged=Y,3,2,0.6667,0,0,1,1,false" in rows


def test_a_district_under_the_minimum_is_suppressed_alone(tmp_path, district):
    assert export(tmp_path, district, "--by", "district", "--min-cell", "7") == [HEADER, "district,,,,,,,,,true"]


def test_ties_for_the_next_smallest_go_by_group_name():
    rows = [
        GroupRow("grade", name, "grade", students, 0, dict.fromkeys(["at_risk", "moderate", "severe", "acute"], 0))
        for name, students in [("9", 4), ("11", 12), ("10", 12), ("12", 30)]
    ]
    suppress(rows, min_cell=10)
    assert [row.group for row in rows if row.suppressed] == ["9", "10"]


def test_another_date_is_computed_in_memory_without_changing_the_current_run(tmp_path, district):
    with scope(district=district.district):
        current = MetricsRun.objects.get(is_current=True)
    # As of Friday 5 September: 10 days each; dale 3 absences (acute), mover 1 (chronic).
    assert export(tmp_path, district, "--by", "district", "--as-of", "2025-09-05") == [
        HEADER,
        "district,,6,2,0.3333,0,1,0,1,false",
    ]
    with scope(district=district.district):
        assert MetricsRun.objects.get(is_current=True) == current
        assert MetricsRun.objects.count() == 1


def test_the_command_refuses_an_unknown_district_and_a_district_without_figures(tmp_path, tenant_a):
    with pytest.raises(CommandError, match="No district"):
        call_command("export_pulse", "--district", "nowhere", "--by", "school", "--out", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No metrics yet"):
        call_command("export_pulse", "--district", "alpha", "--by", "school", "--out", str(tmp_path / "x.csv"))


# --- the API ----------------------------------------------------------------------------------


def api(client, user, query: str):
    token = token_for(user)
    return client.get(f"/d/alpha/api/pulse/?{query}", headers={"Authorization": f"Token {token}"})


def test_the_api_serves_the_same_rows_with_nulls_for_suppressed_cells(client, district, tenant_a):
    response = api(client, tenant_a.user(Role.DISTRICT_STAFF), "by=grade&min_cell=1")
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == AS_OF.isoformat() and body["by"] == "grade" and body["min_cell"] == 1
    assert body["rows"][1] == {
        "level": "grade", "group": "7", "students": 5, "chronic": 3, "chronic_rate": 0.6, "at_risk": 1,
        "moderate": 1, "severe": 1, "acute": 1, "suppressed": False,
    }  # fmt: skip
    assert body["rows"][0] == {
        "level": "grade", "group": "6", "students": None, "chronic": None, "chronic_rate": None, "at_risk": None,
        "moderate": None, "severe": None, "acute": None, "suppressed": True,
    }  # fmt: skip
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.detail["by"]) == ("export", "pulse_figures", "grade")


def test_the_api_defaults_to_the_district_without_suppression(client, district, tenant_a):
    body = api(client, tenant_a.user(Role.DISTRICT_ADMIN), "").json()
    assert body["rows"] == [
        {
            "level": "district", "group": "", "students": 6, "chronic": 3, "chronic_rate": 0.5, "at_risk": 1,
            "moderate": 1, "severe": 1, "acute": 1, "suppressed": False,
        }
    ]  # fmt: skip


@pytest.mark.parametrize("query", ["by=state", "min_cell=-1", "min_cell=ten", "as_of=yesterday"])
def test_the_api_refuses_bad_parameters(client, district, tenant_a, query):
    assert api(client, tenant_a.user(Role.DISTRICT_STAFF), query).status_code == 400


@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_the_api_is_for_district_wide_roles(client, district, tenant_a, role):
    assert api(client, tenant_a.user(role), "by=school").status_code == 403


def test_before_the_first_run_the_api_answers_with_no_rows(client, tenant_a):
    body = api(client, tenant_a.user(Role.DISTRICT_STAFF), "by=school").json()
    assert body["rows"] == [] and body["as_of"] is None


def test_the_api_computes_another_date(client, district, tenant_a):
    body = api(client, tenant_a.user(Role.DISTRICT_STAFF), "as_of=2025-09-05").json()
    assert body["as_of"] == datetime.date(2025, 9, 5).isoformat()
    assert (body["rows"][0]["students"], body["rows"][0]["chronic"]) == (6, 2)
