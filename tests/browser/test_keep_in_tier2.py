"""'Keep in Tier 2 for now' on a Tier 3 escalation candidate, in a real browser: the row's panel
opens in place (htmx), the team's reason and review are saved, the row leaves the candidates,
the counselors' queue lists the student as kept, and axe finds no WCAG 2.1 AA violations."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from outreach.models import HuddleRow, Section
from students.demo_accounts import DEMO_ACCOUNTS
from tiers.models import Flag, MetricsRun, StudentMetrics

LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
COUNSELOR = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.COUNSELOR)


@pytest.fixture
def demo_huddle(demo_district):
    """The small demo's huddle, with one more Tier 3 candidate at the middle school: a student
    with no open flag whose Tier 3 rule fired last night (the small demo may have answered all)."""
    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    with scope(district=demo_district):
        run = MetricsRun.objects.get(is_current=True)
        quiet = (
            StudentMetrics.objects.filter(run=run, current_school__sis_id="MS-200")
            .exclude(student__flags__status__in=Flag.OPEN_STATUSES)
            .select_related("student")
            .first()
        )
        Flag.objects.create(
            district=demo_district, student=quiet.student, rule="t3_absent_days", tier=3, first_met=run.as_of,
            last_met=run.as_of, why_code="t3_absent_days", policy_version=run.policy.version,
            why_params={"absent": 15, "days": 15, "dates": [run.as_of.isoformat()]},
        )  # fmt: skip
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    return demo_district


def test_the_team_keeps_a_tier3_candidate_in_tier2_for_now(
    page, demo_huddle, sign_in, assert_accessible, browser, live_server
):
    sign_in(page, LEAD)  # lands on this week's huddle of the lead's school
    section = page.locator("#section-tier3")
    expect(section).to_be_visible()  # the demo's middle school has Tier 3 candidates on the agenda
    row = section.locator("[data-row]").first
    row_id = int(row.get_attribute("id").split("-")[1])
    with scope(district=demo_huddle):
        candidate = HuddleRow.objects.select_related("student").get(pk=row_id)
    assert candidate.section == Section.TIER3
    row.get_by_role("link", name="Keep in Tier 2").click()
    form = page.locator("form[action$='/keep-in-tier2/']")
    expect(form.get_by_role("heading")).to_contain_text("Keep in Tier 2 for now")
    assert_accessible(page)
    form.get_by_label("Why does Tier 2 continue?").fill("Bus pass starts Monday; the family answers every call")
    form.get_by_label("Back on the agenda after (school days)").fill("10")
    form.get_by_role("button", name="Keep in Tier 2").click()
    expect(page.locator("#huddle-live")).to_contain_text(f"Kept {candidate.student.full_name} in Tier 2 until")
    expect(page.locator(f"#row-{row_id}").get_by_role("link", name="Keep in Tier 2")).to_have_count(0)
    assert_accessible(page)
    with scope(district=demo_huddle):
        kept = Flag.objects.filter(student=candidate.student, tier=3, kept_in_tier2_until__isnull=False)
        assert kept.filter(kept_in_tier2_reason__startswith="Bus pass starts Monday").exists()

    counselor = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800}).new_page()
    sign_in(counselor, COUNSELOR)
    counselor.goto(reverse("cases:queue", kwargs={"district": demo_huddle.slug}))
    kept_list = counselor.locator("#kept-heading").locator("xpath=..")
    expect(kept_list).to_contain_text(candidate.student.full_name)
    expect(kept_list).to_contain_text("Bus pass starts Monday")
    assert_accessible(counselor)
    counselor.context.close()
