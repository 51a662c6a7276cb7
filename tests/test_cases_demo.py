"""The demo's Tier 3 chapter (cases/demo.py, issue 11): on first run the counselor's caseload
looks like week 14 of a working year, with cases at different stages, a partner directory, a
queue still holding students, and the figures and timers the app measured, never typed."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from cases.models import Case, Partner, Referral, Review
from districts.models import District, Role, User
from students.demo_accounts import DEMO_ACCOUNTS, DEMO_DISTRICT_SLUG
from tiers.models import Flag

COUNSELOR = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.COUNSELOR)


@pytest.fixture
def demo(db) -> District:
    """The demo as the browser tests seed it (and as `scripts/demo` does, smaller)."""
    call_command("seed_demo", students=150, stdout=io.StringIO())
    return District.objects.get(slug=DEMO_DISTRICT_SLUG)


def _stage(case: Case) -> str:
    if not case.is_open:
        return "closed"
    if case.plan_written_on is None:
        return "no plan yet"
    return "reviewed" if case.reviews.exists() else "written"


def test_the_demo_has_cases_at_every_stage_and_students_still_waiting(demo, client):
    with scope(district=demo):
        cases = list(Case.objects.select_related("school"))
        stages = {_stage(case) for case in cases}
        assert {"no plan yet", "written", "reviewed", "closed"} <= stages, stages
        assert Partner.objects.count() >= 5
        assert len({case.school.sis_id for case in cases}) >= 2
        with_case = {case.student_id for case in cases if case.is_open}
        waiting = Flag.objects.filter(tier=3, status__in=Flag.OPEN_STATUSES).exclude(student_id__in=with_case)
        assert waiting.exists(), "the queue must not be empty on first run"
        # Measured, stored timers and figures.
        assert all(case.days_to_lead is not None for case in cases if case.triggered_on)
        assert any(case.days_to_plan is not None for case in cases)
        assert Review.objects.filter(days_since__gt=0, rate_since__isnull=False).exists()
        # Referrals tracked to connection: connected ones, consent recorded, one past its response time.
        assert Referral.objects.filter(connected_on__isnull=False).exists()
        assert not Referral.objects.filter(shares_records=True, consent_given_on__isnull=True).exists()

    # The demo counselor's caseload shows that work in progress.
    client.force_login(User.objects.get(email=COUNSELOR))
    page = client.get(reverse("cases:caseload", kwargs={"district": demo.slug}))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count(f'href="/d/{demo.slug}/cases/') >= 4
    assert "Next review" in html and "Attendance since the plan started" in html
