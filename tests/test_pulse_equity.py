"""Equity by subgroup (issue 12) against a hand-computed district of six students:

    student  EL  race  absent  unexcused  suspension days  escalated
    s1       Y   HI    10      8          2                yes (a case)
    s2       Y   HI     5      5          0
    s3       N   WH    10      2          0
    s4       N   WH     5      0          0
    s5       N   WH     0      0          0
    s6       N   BL    10      5          1

District: unexcused 20/40 = 0.5; suspended 2/6 = 0.3333; escalated 1/6 = 0.1667.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from cases import services as case_services
from districts.models import Role
from pulse.equity import equity_report
from tiers.models import StudentMetrics
from tiers.selectors import student_classification

from .factories import EnrollmentFactory, StudentFactory
from .outreach_support import current_run, membership

PEOPLE = [
    # (english_learner, race, absent, unexcused, suspension)
    (True, "HI", 10, 8, 2),
    (True, "HI", 5, 5, 0),
    (False, "WH", 10, 2, 0),
    (False, "WH", 5, 0, 0),
    (False, "WH", 0, 0, 0),
    (False, "BL", 10, 5, 1),
]


@pytest.fixture
def six(tenant_a):
    district, school = tenant_a.district, tenant_a.school
    with scope(district=district):
        students = []
        for english_learner, race, absent, unexcused, suspension in PEOPLE:
            student = StudentFactory(district=district, grade="7", english_learner=english_learner, race_ethnicity=race)
            EnrollmentFactory(student=student, school=school)
            StudentMetrics.objects.create(
                district=district, run=current_run(district), student=student, current_school=school,
                membership_days=60, absent_days=absent, absent_excused=absent - unexcused - suspension,
                absent_unexcused=unexcused, absent_suspension=suspension, absent_partial=0, tardy_days=0,
                absence_rate=Decimal(absent) / 60, chronic=absent >= 6, band="moderate" if absent >= 6 else "at_risk",
                remaining_days=100, absences_left=3, recent_rate=Decimal("0.1"), projected_rate=Decimal("0.1"),
                tier=0, rules=[], signals={},
            )  # fmt: skip
            students.append(student)
        case_services.case_open(
            student=students[0], by=membership(tenant_a, Role.COUNSELOR), opened_on=datetime.date(2025, 11, 3)
        )
    return students


def _report(tenant, students, min_cell=0):
    with scope(district=tenant.district):
        classified = student_classification(district=tenant.district)
    return equity_report(classified.students, escalated={students[0].pk}, min_cell=min_cell)


def test_district_rates_and_subgroup_ratios_by_hand(tenant_a, six):
    report = _report(tenant_a, six)
    district = report.district
    assert (district.unexcused_share, district.suspension_rate, district.escalation_rate) == (
        Decimal("0.5"), Decimal("0.3333"), Decimal("0.1667"),
    )  # fmt: skip
    rows = {row.group: row for row in report.rows}
    el = rows["english_learner=Y"]
    assert (el.students, el.unexcused_share) == (2, Decimal("0.8667"))
    assert el.ratios == {"unexcused_share": Decimal("1.73"), "suspension_rate": Decimal("1.50"),
                         "escalation_rate": Decimal("3.00")}  # fmt: skip
    assert el.is_high("suspension_rate"), "exactly 1.5 is highlighted"
    not_el = rows["english_learner=N"]
    assert not_el.ratios["unexcused_share"] == Decimal("0.56") and not not_el.is_high("unexcused_share")
    assert rows["race_ethnicity=BL"].ratios["suspension_rate"] == Decimal("3.00")
    assert rows["race_ethnicity=WH"].unexcused_share == Decimal("0.1333")
    assert "race_ethnicity=" not in rows, "a blank race is no group"


def test_small_cells_are_suppressed_with_their_complement(tenant_a, six):
    rows = {row.group: row for row in _report(tenant_a, six, min_cell=3).rows}
    assert rows["english_learner=Y"].suppressed and rows["english_learner=N"].suppressed, (
        "one small group: its pair too"
    )
    assert rows["race_ethnicity=HI"].suppressed and rows["race_ethnicity=BL"].suppressed
    assert not rows["race_ethnicity=WH"].suppressed, "two small groups hide each other"
    assert not rows["econ_disadvantaged=N"].suppressed


def test_the_page_marks_high_ratios_in_words_and_the_outside_csv_suppresses(tenant_a, six, login):
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    slug = tenant_a.district.slug
    page = client.get(reverse("pulse_review:equity", kwargs={"district": slug})).content.decode()
    assert "at least 1.5 times the district rate" in page and "English learners: yes" in page
    url = reverse("pulse_review:equity_csv", kwargs={"district": slug})
    inside = b"".join(client.get(url).streaming_content).decode().splitlines()
    outside = b"".join(client.get(url + "?for=outside").streaming_content).decode().splitlines()
    assert inside[0].startswith("group,students,") and len(inside) == len(outside)
    el_inside = next(line for line in inside if line.startswith("english_learner=Y"))
    el_outside = next(line for line in outside if line.startswith("english_learner=Y"))
    assert el_inside.endswith(",false") and el_outside == "english_learner=Y" + "," * 11 + ",true"


def test_equity_is_for_district_roles_and_404_for_another_district(tenant_a, tenant_b, login):
    url = reverse("pulse_review:equity", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_a.user(Role.COUNSELOR)).get(url).status_code == 403
    assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(url).status_code == 404
    csv = reverse("pulse_review:equity_csv", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_b.user(Role.DISTRICT_ADMIN)).get(csv).status_code == 404
