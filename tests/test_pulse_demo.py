"""The demo's pulse chapter (pulse/demo_board.py, order 400): the district staff member's
dashboard shows every panel with last year beside this year."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from districts.models import District, Role, User
from pulse.models import EffectivenessFigures, PulseCheck
from pulse.priority import priority_schools
from pulse.selectors import board_current
from students.demo_accounts import DEMO_ACCOUNTS, DEMO_DISTRICT_SLUG
from tiers.models import WeeklySnapshot

STAFF = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_STAFF)


@pytest.fixture
def demo(db) -> District:
    call_command("seed_demo", students=150, stdout=io.StringIO())
    return District.objects.get(slug=DEMO_DISTRICT_SLUG)


def test_every_panel_has_figures_and_last_year(demo, client):
    with scope(district=demo):
        board = board_current(district=demo)
        assert board.district.chronic and board.district.prior_rate is not None
        assert len(board.this_year) >= 10 and len(board.last_year) >= len(board.this_year)
        assert sum(board.district.bands.values()) and board.newly_chronic >= 0
        assert priority_schools(board, min_students=10)
        years = set(PulseCheck.objects.filter(school=None, grade="").values_list("school_year", "checkpoint"))
        assert len({year for year, _ in years}) == 2 and {checkpoint for _, checkpoint in years} == {10, 20}
        # Last year's snapshots stay out of a student's own trend, which is this year's.
        first = WeeklySnapshot.objects.order_by("week_start").first()
        assert first.week_start < board.this_year[0].week_start
        # Intervention effectiveness is stored for the run's date, as the nightly run does.
        stored = EffectivenessFigures.objects.get(as_of=board.as_of)
        assert {"method", "barrier"} <= {row["dimension"] for row in stored.rows}
    client.force_login(User.objects.get(email=STAFF))
    for name in ["pulse:dashboard", "pulse:groups", "pulse:checks"]:
        page = client.get(reverse(name, kwargs={"district": demo.slug}))
        assert page.status_code == 200
    html = client.get(reverse("pulse:dashboard", kwargs={"district": demo.slug})).content.decode()
    assert "pulse-line--last_year" in html and "pulse-line--this_year" in html and "Priority schools" in html
    checks = client.get(reverse("pulse:checks", kwargs={"district": demo.slug})).content.decode()
    assert "Not counted yet" not in checks
