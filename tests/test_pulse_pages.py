"""The pulse tables by school, grade and subgroup, a school's drill-down, their CSV files and the
priority schools, against the hand-counted district of tests/pulse_data.py (see
tests/test_pulse_dashboard.py for last year's figures)."""

import csv
import io

import pytest
from django.urls import reverse
from django_scopes import scope

from districts.models import AuditEvent, Role
from pulse.priority import priority_schools
from tiers.models import Flag

from .pulse_data import board_of, computed_pulse_district


@pytest.fixture
def district(tenant_a):
    return computed_pulse_district(tenant_a)


def get(client, tenant, name, query="", role=Role.DISTRICT_STAFF, **kwargs):
    client.force_login(tenant.user(role))
    return client.get(reverse(name, kwargs={"district": tenant.district.slug, **kwargs}) + query)


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?by=school", ["50.0%", "60.0%", "33.3%", "+26.7 pts"]),
        ("?by=grade", ["Grade 7", "Grade 8", "60.0%"]),
        ("?by=subgroup", ["English learners: yes", "Race/ethnicity: HI", "Economically disadvantaged: no"]),
    ],
)
def test_each_table_shows_rates_band_bars_and_change(client, district, tenant_a, query, expected):
    response = get(client, tenant_a, "pulse:groups", query)
    assert response.status_code == 200
    body = response.content.decode()
    assert all(text in body for text in expected), [text for text in expected if text not in body]
    assert 'class="pulse-bar"' in body


def test_schools_sort_by_rate_both_ways(client, district, tenant_a):
    middle, high = district.middle.name, district.high.name
    body = get(client, tenant_a, "pulse:groups", "?by=school&sort=rate&dir=desc").content.decode()
    assert body.index(middle) < body.index(high) and 'aria-sort="descending"' in body
    body = get(client, tenant_a, "pulse:groups", "?by=school&sort=rate&dir=asc").content.decode()
    assert body.index(high) < body.index(middle)


def test_htmx_switches_only_the_table(client, district, tenant_a):
    client.force_login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("pulse:groups", kwargs={"district": tenant_a.district.slug})
    body = client.get(url + "?by=grade", HTTP_HX_REQUEST="true").content.decode()
    assert "Grade 7" in body and "<html" not in body


def test_the_csv_inside_the_district_is_not_suppressed(client, district, tenant_a):
    response = get(client, tenant_a, "pulse:groups_csv", "?by=grade")
    rows = rows_of(response)
    assert [(row["group"], row["students"], row["chronic_rate"], row["suppressed"]) for row in rows] == [
        ("6", "0", "", "false"),
        ("7", "5", "0.6000", "false"),
        ("8", "1", "0.0000", "false"),
    ]
    assert rows[1]["name"] == "Grade 7" and rows[1]["prior_year_chronic_rate"] == "0.3333"
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.detail["for"]) == ("export", "pulse_figures", "inside")


def test_the_csv_for_outside_suppresses_small_groups_and_their_complement(client, district, tenant_a):
    district.district.settings = {"pulse_min_cell": 2}
    district.district.save()
    rows = rows_of(get(client, tenant_a, "pulse:groups_csv", "?by=grade&for=outside"))
    # grades 6 (0 students) and 8 (1) are under 2: both blank, grade 7 published.
    assert [(row["group"], row["students"], row["suppressed"]) for row in rows] == [
        ("6", "", "true"),
        ("7", "5", "false"),
        ("8", "", "true"),
    ]
    rows = rows_of(get(client, tenant_a, "pulse:groups_csv", "?by=school&for=outside"))
    assert [row["suppressed"] for row in rows] == ["false", "false"]  # 5 and 2 students
    rows = rows_of(get(client, tenant_a, "pulse:groups_csv", "?by=subgroup&for=outside"))
    learners = [row for row in rows if row["group"].startswith("english_learner=")]
    # english_learner=Y has 1 student: alone under the minimum, so N (5) is blanked with it.
    assert [(row["group"], row["students"], row["prior_year_chronic_rate"]) for row in learners] == [
        ("english_learner=Y", "", ""),
        ("english_learner=N", "", ""),
    ]


def test_a_school_drills_down_to_its_grades_and_flagged_students(client, district, tenant_a):
    with scope(district=tenant_a.district):
        flagged = set(Flag.objects.filter(status__in=Flag.OPEN_STATUSES).values_list("student_id", flat=True))
    assert flagged, "the hand-counted district raises flags for its chronic students"
    response = get(client, tenant_a, "pulse:school", school_id=district.middle.pk)
    body = response.content.decode()
    assert response.status_code == 200 and "Grade 7" in body and "60.0%" in body
    at_middle = flagged - {district.students["mover"].pk, district.students["lonely"].pk}  # their school is H
    names = [student.full_name for student in district.students.values() if student.pk in at_middle]
    assert names and all(name in body for name in names)
    assert district.students["mover"].full_name not in body
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get(object_type="pulse_school")
    assert set(event.students) == at_middle


def test_another_districts_school_is_not_found(client, district, tenant_a, tenant_b):
    assert get(client, tenant_b, "pulse:school", school_id=district.middle.pk).status_code == 404


@pytest.mark.parametrize("name", ["pulse:groups", "pulse:groups_csv"])
@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_school_roles_are_refused(client, district, tenant_a, name, role):
    assert get(client, tenant_a, name, role=role).status_code == 403


def test_priority_schools_are_those_worse_than_the_district_and_say_why(district):
    board = board_of(district)
    # brook: 1 of 20 days; two more absent days make 3 of 22, over 10%. able: 2 of 22 is not.
    assert board.near_chronic == {district.middle.sis_id: 1}
    chosen = priority_schools(board, min_students=1)
    # M: 60% against the district's 50%, +26.7 points against +16.7, 1 of 5 near chronic against 1 of 6.
    # H: 50%, the district's own rate, no prior year and nobody near: not a priority.
    assert [(item.school.name, [reason.kind for reason in item.reasons]) for item in chosen] == [
        (district.middle.name, ["highest_rate", "sharpest_rise", "most_near_chronic"])
    ]
    assert priority_schools(board, min_students=6) == []  # M has 5 students


def test_the_dashboard_lists_priority_schools(client, district, tenant_a):
    district.district.settings = {"pulse_min_cell": 1}
    district.district.save()
    body = get(client, tenant_a, "pulse:dashboard").content.decode()
    assert "Priority schools" in body and "Among the highest chronic rates: 60.0%" in body


def test_an_admin_sets_the_smallest_group_published_outside(client, district, tenant_a):
    url = reverse("pulse:min_cell_update", kwargs={"district": tenant_a.district.slug})
    client.force_login(tenant_a.user(Role.DISTRICT_STAFF))
    assert client.post(url, {"min_cell": "5"}).status_code == 403
    client.force_login(tenant_a.user(Role.DISTRICT_ADMIN))
    assert 'name="min_cell"' in get(client, tenant_a, "pulse:groups", role=Role.DISTRICT_ADMIN).content.decode()
    assert client.post(url, {"min_cell": "0"}).status_code == 302
    tenant_a.district.refresh_from_db()
    assert "pulse_min_cell" not in tenant_a.district.settings
    assert client.post(url, {"min_cell": "5"}).status_code == 302
    tenant_a.district.refresh_from_db()
    assert tenant_a.district.settings["pulse_min_cell"] == 5
    with scope(district=tenant_a.district):
        assert AuditEvent.objects.filter(object_type="district_settings").count() == 1
