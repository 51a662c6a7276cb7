"""The district pulse dashboard against the hand-counted district of tests/pulse_data.py.

Last year (tests/pulse_data.PRIOR): the district was 1 of 3 chronic, and is 3 of 6 now.
"""

import re
from fractions import Fraction

import pytest
from django.core.cache import cache
from django.urls import reverse
from django_scopes import scope

from districts.models import Role
from pulse.board import board_get
from pulse.charts import band_bar, trend_chart
from tiers.models import MetricsRun

from .pulse_data import board_of, computed_pulse_district


@pytest.fixture
def district(tenant_a):
    return computed_pulse_district(tenant_a)


def test_the_headline_is_the_engines_classification_with_last_year_beside_it(district):
    board = board_of(district)
    row = board.district
    assert (row.students, row.chronic, row.chronic_rate) == (6, 3, Fraction(1, 2))
    assert row.bands == {"at_risk": 1, "moderate": 1, "severe": 1, "acute": 1}
    assert (row.prior_students, row.prior_chronic, row.prior_rate) == (3, 1, Fraction(1, 3))
    assert row.change == Fraction(1, 6)
    assert (board.prior_school_year, board.prior_to_date) == ("2024-25", False)


def test_newly_chronic_this_month_are_those_not_chronic_at_the_end_of_last_month(district):
    board = board_of(district)
    # Before September the year had 5 school days, under the minimum: nobody was chronic then.
    assert board.month_start.isoformat() == "2025-09-01" and board.newly_chronic == 3


def test_the_weekly_trend_follows_the_stored_snapshots(district):
    board = board_of(district)
    assert [week.week_start.isoformat() for week in board.this_year] == [
        "2025-08-25", "2025-09-01", "2025-09-08", "2025-09-15",
    ]  # fmt: skip
    assert [week.number for week in board.this_year] == [1, 2, 3, 4]
    assert (board.this_year[-1].students, board.this_year[-1].chronic) == (6, 3)
    assert board.last_year == []


def test_school_and_subgroup_rows_carry_their_students_prior_year(district):
    board = board_of(district)
    middle = next(row for row in board.levels["school"] if row.group == district.middle.sis_id)
    assert (middle.students, middle.chronic, middle.prior_students, middle.prior_chronic) == (5, 3, 3, 1)
    learners = next(row for row in board.levels["subgroup"] if row.group == "english_learner=Y")
    assert (learners.students, learners.chronic, learners.prior_students, learners.prior_chronic) == (1, 1, 1, 0)
    assert board.schools[district.middle.sis_id].pk == district.middle.pk


def test_the_board_is_cached_under_the_run(district, django_assert_max_num_queries):
    with scope(district=district.district):
        run = MetricsRun.objects.get(is_current=True)
        first = board_get(district=district.district, run=run)
        with django_assert_max_num_queries(0):
            again = board_get(district=district.district, run=run)
    assert again == first


def test_the_chart_draws_both_years_and_the_bar_adds_up_to_the_bands(district):
    board = board_of(district)
    chart = trend_chart(board.this_year, board.this_year)
    assert [series.key for series in chart.series] == ["last_year", "this_year"]
    assert len(chart.series[1].dots) == 3  # the first week nobody had the minimum days: no rate, no dot
    segments = band_bar(board.district, width=120)
    assert [segment.band for segment in segments] == ["at_risk", "moderate", "severe", "acute"]
    assert [segment.width for segment in segments] == [20.0] * 4
    assert trend_chart([], []) is None


def dashboard(client, tenant, role, language="en"):
    user = tenant.user(role)
    user.language = language
    user.save()
    client.force_login(user)
    return client.get(reverse("pulse:dashboard", kwargs={"district": tenant.district.slug}))


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN])
def test_the_dashboard_shows_the_headline_and_the_trend(client, district, tenant_a, role):
    response = dashboard(client, tenant_a, role)
    assert response.status_code == 200
    body = response.content.decode()
    assert "50.0%" in body and "33.3%" in body and "+16.7 pts" in body
    assert 'aria-current="page"' in body and "<svg" in body and "<table" in body


def test_in_spanish_svg_numbers_keep_their_decimal_point(client, district, tenant_a):
    body = dashboard(client, tenant_a, Role.DISTRICT_STAFF, language="es").content.decode()
    assert "Pulso del distrito" in body
    numbers = re.findall(r'\s(?:cx|cy|x|y|x1|x2|y1|y2|r|viewBox)="([^"]*)"', body)
    assert numbers and all(re.fullmatch(r"[-\d. ]+", value) for value in numbers), numbers
    points = re.findall(r'points="([^"]*)"', body)
    assert points and all(re.fullmatch(r"-?[\d.]+,-?[\d.]+", pair) for line in points for pair in line.split())


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "reach 10%, in whole days"), ("es", "llegan al 10 %, en días completos")],
)
def test_the_chart_explains_its_alternate_week_steps(client, district, tenant_a, language, says):
    """The weekly rate really does step in alternate weeks (whole days against a 10% line, and
    most students share a calendar); the page says why rather than smoothing true figures."""
    body = dashboard(client, tenant_a, Role.DISTRICT_STAFF, language=language).content.decode()
    assert says in body and "%%" not in body


@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_school_roles_are_refused(client, district, tenant_a, role):
    assert dashboard(client, tenant_a, role).status_code == 403


def test_before_the_first_run_the_page_says_so(client, tenant_a):
    response = dashboard(client, tenant_a, Role.DISTRICT_STAFF)
    assert response.status_code == 200 and "first nightly run" in response.content.decode()


def test_the_nav_links_district_roles_to_the_dashboard(client, district, tenant_a):
    url = reverse("pulse:dashboard", kwargs={"district": tenant_a.district.slug})
    client.force_login(tenant_a.user(Role.DISTRICT_STAFF))
    assert url in client.get(reverse("outreach:roster", kwargs={"district": tenant_a.district.slug})).content.decode()
    client.force_login(tenant_a.user(Role.ATTENDANCE_LEAD))
    assert (
        url not in client.get(reverse("outreach:roster", kwargs={"district": tenant_a.district.slug})).content.decode()
    )


def test_the_nightly_run_warms_the_board(district):
    from tiers.tasks import _after_nightly_run

    with scope(district=district.district):
        run = MetricsRun.objects.get(is_current=True)
        cache.clear()
        _after_nightly_run(district.district, run)
        from districts.tenancy import district_cache_key

        assert cache.get(district_cache_key(district.district, "pulse", "board", run.pk)) is not None
