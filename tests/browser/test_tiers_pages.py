"""The nightly engine's pages in a real browser: the policy page (edit, live preview, save), the
runs page (recompute, progress polled to the end) and the student profile's attendance panel —
each checked with axe (WCAG 2.1 AA) and without console errors (the page fixture fails on any)."""

import re

import pytest
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS
from tiers import services
from tiers.models import CalculationPolicy, MetricsRun, StudentMetrics
from tiers.selectors import default_as_of

ADMIN = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_ADMIN)
MARK_PAGE = "window.__samePage = true"
PAGE_IS_SAME = "window.__samePage === true"


@pytest.fixture
def computed(demo_district):
    """The demo district after its first nightly run."""
    with scope(district=demo_district):
        return services.compute_metrics(district=demo_district, as_of=_yesterday(demo_district))


def _yesterday(district):
    from django.utils import timezone

    with timezone.override(district.tzinfo):
        return default_as_of()


def _url(district, name: str, **kwargs) -> str:
    return reverse(f"tiers:{name}", kwargs={"district": district.slug, **kwargs})


def test_policy_page_edit_preview_and_save(page, computed, demo_district, sign_in, assert_accessible):
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policy", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calculation policy")
    expect(page.get_by_role("heading", name="In use: version 1")).to_be_visible()
    assert_accessible(page)
    page.evaluate(MARK_PAGE)

    page.get_by_label("Chronic absence threshold (%)").fill("8")
    preview = page.locator("#policy-preview")
    expect(preview).to_contain_text("Chronic threshold: 10% → 8%")
    expect(preview.get_by_role("table")).to_contain_text("Chronically absent")
    page.get_by_role("group", name=re.compile("Frequent tardies")).get_by_label("Use this rule").uncheck()
    expect(preview).to_contain_text("Frequent tardies (t2_tardies): turned off")
    assert page.evaluate(PAGE_IS_SAME), "the preview reloaded the page instead of swapping in"
    assert_accessible(page)

    page.get_by_label("What changed, and why").fill("Board decision: flag earlier")
    page.get_by_role("button", name="Save as version 2 and recompute").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Run as of "))
    expect(page.locator("#run-progress")).to_contain_text("Finished")
    expect(page.locator("#run-progress-bar")).to_have_attribute("value", "100")
    expect(page.get_by_text("Saved policy version 2")).to_be_visible()
    assert_accessible(page)
    with scope(district=demo_district):
        saved = CalculationPolicy.objects.get(version=2)
        assert saved.note == "Board decision: flag earlier" and not saved.as_policy().enabled("t2_tardies")
        assert MetricsRun.objects.get(is_current=True).policy == saved

    page.goto(_url(demo_district, "policy"))
    expect(page.get_by_role("heading", name="In use: version 2")).to_be_visible()
    expect(page.get_by_role("table").last).to_contain_text("Chronic threshold: 10% → 8%")


def test_runs_page_recompute_now_shows_the_finished_run(page, computed, demo_district, sign_in, assert_accessible):
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Metrics runs")
    expect(page.get_by_role("table")).to_contain_text("Command line")
    assert_accessible(page)

    page.get_by_role("button", name="Recompute now").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Run as of "))
    expect(page.locator("#run-progress")).to_contain_text("Finished")
    expect(page.locator("#run-progress")).to_contain_text(re.compile(rf"Students\s*{computed.students}"))
    assert_accessible(page)
    page.get_by_role("link", name="All runs").click()
    expect(page.get_by_role("table")).to_contain_text("Started by an admin")


def test_the_run_page_polls_its_progress_until_the_run_finishes(
    page, computed, demo_district, sign_in, assert_accessible
):
    with scope(district=demo_district):
        run = services.metrics_run_create(
            district=demo_district, as_of=computed.as_of, trigger=MetricsRun.Trigger.MANUAL
        )
    sign_in(page, ADMIN)
    page.goto(_url(demo_district, "run_detail", run_id=run.pk))
    progress = page.locator("#run-progress")
    expect(progress).to_contain_text("Waiting for a worker")
    assert_accessible(page)
    page.evaluate(MARK_PAGE)

    # A worker picks the run up and reports a step: the page follows without a reload.
    with scope(district=demo_district):
        MetricsRun.objects.filter(pk=run.pk).update(status=MetricsRun.Status.RUNNING, step="computing", progress=30)
    expect(progress).to_contain_text("Computing metrics")
    expect(page.locator("#run-progress-bar")).to_have_attribute("value", "30")

    with scope(district=demo_district):
        services.metrics_run_execute(run=MetricsRun.objects.get(pk=run.pk))
    expect(progress).to_contain_text("Finished")
    expect(page.locator("#run-progress-bar")).to_have_attribute("value", "100")
    assert page.evaluate(PAGE_IS_SAME), "the progress reloaded the page instead of swapping in"

    polls = []
    page.on("request", lambda request: polls.append(request.url) if f"/runs/{run.pk}/" in request.url else None)
    page.wait_for_timeout(2500)
    assert polls == [], "the page kept polling a finished run"
    assert_accessible(page)


def test_student_profile_shows_the_attendance_panel(page, computed, demo_district, sign_in, assert_accessible):
    with scope(district=demo_district):
        flagged = StudentMetrics.objects.filter(run=computed, tier=3).select_related("student").first().student
    sign_in(page, ADMIN)
    page.goto(reverse("students:student_detail", kwargs={"district": demo_district.slug, "student_id": flagged.pk}))

    panel = page.get_by_role("region", name="Attendance this year")
    expect(panel).to_contain_text(f"Figures as of {computed.as_of:%a %b} {computed.as_of.day}, {computed.as_of.year}")
    expect(panel).to_contain_text("absences left before chronic")
    expect(panel.get_by_role("img", name="Absence rate, week by week")).to_be_visible()
    expect(panel.locator("table.heatmap td.day--present").first).to_be_visible()
    expect(panel.get_by_role("list", name="Calendar legend")).to_contain_text("Absent, unexcused")
    expect(panel.get_by_role("columnheader", name="Why it was raised")).to_be_visible()
    panel.get_by_text("Week by week", exact=True).click()
    expect(panel.get_by_text(re.compile(r"^Week of \w{3} \d+: "))).not_to_have_count(0)
    assert_accessible(page)


def test_figures_page_switches_groups_in_place(page, computed, demo_district, sign_in, assert_accessible):
    staff = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_STAFF)
    sign_in(page, staff)
    page.goto(_url(demo_district, "figures"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Chronic absence figures")
    expect(page.get_by_role("table")).to_contain_text("Piedmont")
    assert_accessible(page)
    page.evaluate(MARK_PAGE)

    page.get_by_role("navigation", name="Group by").get_by_role("link", name="Grade band").click()

    expect(page.get_by_role("table")).to_contain_text("Grades 9–12")
    expect(page.get_by_role("link", name="Grade band")).to_have_attribute("aria-current", "page")
    assert page.url.endswith("?by=grade_band") and page.evaluate(PAGE_IS_SAME)
    assert_accessible(page)
