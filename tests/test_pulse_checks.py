"""Week-2 and week-4 pulse checks against the hand-counted district of tests/pulse_data.py.

The calendar has every weekday from Monday 25 August 2025: the first 10 school days end Friday
5 September, the first 20 Friday 19 September.

Week 2: the middle school (M) has able, brook, casey, dale and mover (there until 8 September);
only dale (1–3 September) has 2+ absences. The high school (H) has lonely (mover arrives after).
Week 4: M adds newcomer (from 15 September, absent 3 days): casey, dale and newcomer have 2+;
mover's one absence at M (2 September) is not enough. H has lonely and mover (1 absence there).
In the district mover's two absences add up: casey, dale, newcomer and mover, 4 of 7.
"""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from districts.models import AuditEvent, Role
from pulse.models import PulseCheck
from pulse.services import pulse_checks_take

from .pulse_data import AS_OF, SEP, pulse_district


@pytest.fixture
def district(tenant_a):
    return pulse_district(tenant_a)


def counts(data, checkpoint, year="2025-26") -> dict:
    with scope(district=data.district):
        rows = PulseCheck.objects.filter(school_year=year, checkpoint=checkpoint)
        names = {data.middle.pk: "M", data.high.pk: "H", None: "district"}
        return {(names[row.school_id], row.grade): (row.two_or_more, row.students) for row in rows}


def test_a_check_waits_for_its_window_to_pass(district):
    with scope(district=district.district):
        assert pulse_checks_take(district=district.district, as_of=SEP[4]) == {}
        assert set(pulse_checks_take(district=district.district, as_of=SEP[5])) == {10}
        assert PulseCheck.objects.get(school=None, grade="", checkpoint=10).window_end == SEP[5]


def test_week_two_by_school_and_grade(district):
    with scope(district=district.district):
        pulse_checks_take(district=district.district, as_of=AS_OF)
    assert counts(district, 10) == {
        ("M", ""): (1, 5), ("M", "7"): (1, 5),
        ("H", ""): (0, 1), ("H", "8"): (0, 1),
        ("district", ""): (1, 6), ("district", "7"): (1, 5), ("district", "8"): (0, 1),
    }  # fmt: skip


def test_week_four_counts_a_transfer_at_each_school_and_once_in_the_district(district):
    with scope(district=district.district):
        pulse_checks_take(district=district.district, as_of=AS_OF)
    assert counts(district, 20) == {
        ("M", ""): (3, 6), ("M", "6"): (1, 1), ("M", "7"): (2, 5),
        ("H", ""): (0, 2), ("H", "7"): (0, 1), ("H", "8"): (0, 1),
        ("district", ""): (4, 7), ("district", "6"): (1, 1), ("district", "7"): (3, 5), ("district", "8"): (0, 1),
    }  # fmt: skip


def test_a_stored_check_is_kept_unless_replaced(district):
    with scope(district=district.district):
        pulse_checks_take(district=district.district, as_of=AS_OF)
        PulseCheck.objects.filter(school=None, grade="", checkpoint=20).update(two_or_more=99)
        assert pulse_checks_take(district=district.district, as_of=AS_OF) == {}
        assert PulseCheck.objects.get(school=None, grade="", checkpoint=20).two_or_more == 99
    call_command("pulse_checks", "--district", district.district.slug, "--as-of", "2025-09-19", "--replace")
    assert counts(district, 20)[("district", "")] == (4, 7)


def test_the_nightly_run_stores_the_checks(district):
    from tiers.models import MetricsRun
    from tiers.services import compute_metrics
    from tiers.tasks import _after_nightly_run

    with scope(district=district.district):
        compute_metrics(district=district.district, as_of=AS_OF)
        _after_nightly_run(district.district, MetricsRun.objects.get(is_current=True))
    assert counts(district, 10)[("district", "")] == (1, 6) and counts(district, 20)[("district", "")] == (4, 7)


def last_year(data):
    """What last year's nightly run stored, a year ago."""
    with scope(district=data.district):
        for school, students, flagged in [(None, 7, 1), (data.middle, 6, 1)]:
            PulseCheck.objects.create(
                district=data.district, school_year="2024-25", checkpoint=20, school=school, grade="",
                window_start=datetime.date(2024, 8, 26), window_end=datetime.date(2024, 9, 20), students=students,
                two_or_more=flagged, taken_on=datetime.date(2024, 9, 20),
            )  # fmt: skip


def page(client, tenant, name="pulse:checks", query="", role=Role.DISTRICT_STAFF):
    client.force_login(tenant.user(role))
    return client.get(reverse(name, kwargs={"district": tenant.district.slug}) + query)


def test_the_page_sets_this_year_beside_last_year(client, district, tenant_a):
    from tiers.services import compute_metrics

    with scope(district=district.district):
        compute_metrics(district=district.district, as_of=AS_OF)  # this year: the current run's
        pulse_checks_take(district=district.district, as_of=AS_OF)
    last_year(district)
    body = page(client, tenant_a).content.decode()
    assert "4 / 7 (57.1%)" in body and "1 / 7 (14.3%)" in body and "+42.9 pts" in body
    assert "3 / 6 (50.0%)" in body and district.middle.name in body


def test_the_csv_for_outside_suppresses_small_groups(client, district, tenant_a):
    with scope(district=tenant_a.district):
        pulse_checks_take(district=district.district, as_of=AS_OF)
    district.district.settings = {"pulse_min_cell": 3}
    district.district.save()
    response = page(client, tenant_a, "pulse:checks_csv", "?for=outside")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    week4 = {(row["school"], row["grade"]): row for row in rows if row["checkpoint_days"] == "20"}
    # Schools: H (2 students) is under 3 alone, so M (the next smallest) is blanked with it.
    assert week4[(district.high.sis_id, "")]["suppressed"] == "true"
    assert week4[(district.middle.sis_id, "")]["students"] == ""
    # District grades: 6 and 8 (1 student each) under 3, grade 7 (5) published.
    assert [week4[("", grade)]["suppressed"] for grade in ["6", "7", "8"]] == ["true", "false", "true"]
    assert week4[("", "")]["two_or_more"] == "4"
    with scope(district=tenant_a.district):
        assert AuditEvent.objects.get().object_type == "pulse_checks"


@pytest.mark.parametrize("name", ["pulse:checks", "pulse:checks_csv"])
@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_school_roles_are_refused(client, district, tenant_a, name, role):
    assert page(client, tenant_a, name, role=role).status_code == 403


def test_an_enrollment_without_a_grade_counts_in_the_totals_only(district):
    from students.models import Enrollment

    with scope(district=district.district):
        Enrollment.objects.filter(student=district.students["newcomer"]).update(grade="")
        pulse_checks_take(district=district.district, as_of=AS_OF)
    week4 = counts(district, 20)
    assert week4[("M", "")] == (3, 6) and ("M", "6") not in week4 and week4[("district", "")] == (4, 7)


def test_a_schools_page_shows_its_own_grades_checks(client, district, tenant_a):
    from tiers.services import compute_metrics

    with scope(district=district.district):
        compute_metrics(district=district.district, as_of=AS_OF)
        pulse_checks_take(district=district.district, as_of=AS_OF)
    client.force_login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("pulse:school", kwargs={"district": tenant_a.district.slug, "school_id": district.middle.pk})
    body = client.get(url).content.decode()
    assert "2 / 5 (40.0%)" in body and "1 / 1 (100.0%)" in body  # week 4 at M: grade 7, grade 6
