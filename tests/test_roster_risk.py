"""The roster with risk (outreach.roster): figures from the current run, open flags and owners as
sortable columns, filters kept in the URL, the same list as CSV (formula-safe, audit-logged per
student), a bounded number of queries, and nobody else's students."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from districts.models import AuditEvent, Role
from outreach.models import Huddle, HuddleRow, Section
from students.models import MentorAssignment
from tiers.models import Flag, StudentMetrics

from .outreach_support import WEEK, flag, lead, membership, student_at

D = datetime.date


def _url(tenant, name="outreach:roster"):
    return reverse(name, kwargs={"district": tenant.district.slug})


@pytest.fixture
def roster(tenant_a):
    """Three students at the tenant's school: Ames (20%, moderate, tier 2, two open flags,
    owned by the lead), Baker (6%, at risk), Cole (2%, satisfactory, grade 8)."""
    with scope(district=tenant_a.district):
        ames = student_at(tenant_a.school, absent=10, band="moderate", last_name="Ames")
        baker = student_at(tenant_a.school, absent=3, band="at_risk", last_name="Baker")
        cole = student_at(tenant_a.school, absent=1, last_name="Cole")
        cole.grade = "8"
        cole.save()
        StudentMetrics.objects.filter(student=ames).update(tier=2)
        flag(ames, first_met=D(2025, 10, 1))
        flag(ames, "t2_chronic", first_met=D(2025, 10, 8), status=Flag.Status.IN_PROGRESS)
        flag(baker, first_met=D(2025, 9, 1), status=Flag.Status.RESOLVED)
        huddle = Huddle.objects.create(
            district=tenant_a.district, school=tenant_a.school, week_start=WEEK, generated_at=timezone.now()
        )
        HuddleRow.objects.create(
            district=tenant_a.district, huddle=huddle, student=ames, section=Section.NEW, owner=lead(tenant_a)
        )
    return {"ames": ames, "baker": baker, "cole": cole, "owner": tenant_a.user(Role.ATTENDANCE_LEAD).get_full_name()}


def _names(response) -> list[str]:
    html = response.content.decode()
    return [name for name in ("Ames", "Baker", "Cole") if f"{name}, " in html and html.index(f"{name}, ") >= 0]


def _order(response) -> list[str]:
    html = response.content.decode()
    found = [(html.index(f">{name}, "), name) for name in ("Ames", "Baker", "Cole") if f">{name}, " in html]
    return [name for _, name in sorted(found)]


def test_the_roster_shows_the_figures_flags_and_owner(tenant_a, login, roster):
    page = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(_url(tenant_a))

    html = page.content.decode()
    assert page.status_code == 200
    assert _order(page) == ["Ames", "Baker", "Cole"]  # highest rate first
    ames_row = html[html.index(">Ames, ") : html.index("</tr>", html.index(">Ames, "))]
    assert "20.0%" in ames_row and ">10<" in ames_row and "Moderate" in ames_row
    assert ">2<" in ames_row  # tier 2, and two open flags (the resolved one is not counted)
    assert roster["owner"] in ames_row
    assert 'aria-sort="descending"' in html


@pytest.mark.parametrize(
    "sort, order",
    [
        ("name", ["Ames", "Baker", "Cole"]),
        ("-name", ["Cole", "Baker", "Ames"]),
        ("rate", ["Cole", "Baker", "Ames"]),
        ("-flags", ["Ames", "Baker", "Cole"]),
        ("-grade", ["Cole", "Ames", "Baker"]),
        ("owner", ["Ames", "Baker", "Cole"]),
    ],
)
def test_every_column_sorts(tenant_a, login, roster, sort, order):
    page = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(_url(tenant_a), {"sort": sort})
    assert _order(page) == order


def test_filters_by_band_tier_grade_and_school_stay_in_the_url(tenant_a, login, roster):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))

    assert _order(client.get(_url(tenant_a), {"band": "at_risk"})) == ["Baker"]
    assert _order(client.get(_url(tenant_a), {"tier": "2"})) == ["Ames"]
    assert _order(client.get(_url(tenant_a), {"tier": "0"})) == ["Baker", "Cole"]
    assert _order(client.get(_url(tenant_a), {"grade": "8"})) == ["Cole"]
    assert _order(client.get(_url(tenant_a), {"school": tenant_a.other_school.pk})) == []
    page = client.get(_url(tenant_a), {"band": "moderate", "grade": "7"})
    html = page.content.decode()
    # The sort links and the CSV link keep the filters.
    assert "band=moderate&amp;grade=7&amp;sort=name" in html
    assert "students.csv?band=moderate&amp;grade=7" in html


def test_the_same_list_as_csv_is_formula_safe_and_logged_per_student(tenant_a, login, roster):
    with scope(district=tenant_a.district):
        roster["cole"].last_name = "=HYPERLINK(1)"
        roster["cole"].save()
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))

    response = client.get(_url(tenant_a, "outreach:roster_csv"), {"sort": "name"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Last name"] for row in rows] == ["'=HYPERLINK(1)", "Ames", "Baker"]
    ames = rows[1]
    assert ames["Absence rate (%)"] == "20.0" and ames["Days missed"] == "10.0"
    assert (ames["Band code"], ames["Band"], ames["Tier"], ames["Open flags"]) == ("moderate", "Moderate", "2", "2")
    assert ames["Owner"] == roster["owner"]
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, object_type="roster")
    assert set(event.students) == {roster[name].pk for name in ("ames", "baker", "cole")}


def test_the_query_count_does_not_grow_with_the_students(tenant_a, login, roster, django_assert_max_num_queries):
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    client.get(_url(tenant_a))  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get(_url(tenant_a))
    with scope(district=tenant_a.district):
        for index in range(30):
            student = student_at(tenant_a.school, absent=index % 12, last_name=f"Extra{index}")
            flag(student, first_met=D(2025, 10, 1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(_url(tenant_a))
    assert "Extra" in page.content.decode()


def test_a_mentor_sees_only_their_students(tenant_a, login, roster):
    with scope(district=tenant_a.district):
        MentorAssignment.objects.create(
            district=tenant_a.district, student=roster["baker"], mentor=membership(tenant_a, Role.MENTOR)
        )
    client = login(tenant_a.user(Role.MENTOR))
    assert _order(client.get(_url(tenant_a))) == ["Baker"]
    rows = list(
        csv.reader(io.StringIO(b"".join(client.get(_url(tenant_a, "outreach:roster_csv")).streaming_content).decode()))
    )
    assert len(rows) == 2 and "Baker" in rows[1]


def test_another_districts_people_get_404(tenant_a, tenant_b, login, roster):
    client = login(tenant_b.user(Role.DISTRICT_ADMIN))
    assert client.get(_url(tenant_a)).status_code == 404
    assert client.get(_url(tenant_a, "outreach:roster_csv")).status_code == 404


def test_the_navigation_offers_the_roster_and_the_figures(tenant_a, login):
    admin = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(_url(tenant_a)).content.decode()
    assert f'href="{_url(tenant_a)}"' in admin and f'href="{_url(tenant_a, "tiers:figures")}"' in admin
    lead_page = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(_url(tenant_a)).content.decode()
    assert f'href="{_url(tenant_a, "tiers:figures")}"' not in lead_page


def test_the_old_students_page_is_the_roster_now_keeping_its_filters(tenant_a, tenant_b, login):
    """Issue 10: one roster. The old page's search, school and grade carry over as they are."""
    old = reverse("students:roster", kwargs={"district": tenant_a.district.slug})
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    response = client.get(old, {"q": "Ana", "grade": "6"})
    assert response.status_code == 301 and response["Location"] == f"{_url(tenant_a)}?q=Ana&grade=6"
    assert client.get(old, follow=True).status_code == 200
    assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(old).status_code == 404
    assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(_url(tenant_a)).status_code == 404
