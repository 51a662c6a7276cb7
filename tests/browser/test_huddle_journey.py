"""The attendance lead's Monday, in a real browser and by keyboard alone: open this week's
huddle, start meeting mode, assign an owner, log a call (barrier: transportation, with a
follow-up date), escalate a student to Tier 3, then prepare and download the PDF. No page reloads, axe finds no
WCAG 2.1 AA violations, and the browser logs no errors (the `page` fixture checks)."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from outreach.models import HuddleRow, OutreachAction
from students.demo_accounts import DEMO_ACCOUNTS
from tiers.models import Flag

LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
MARK_PAGE = "window.__samePage = true"
PAGE_IS_SAME = "window.__samePage === true"


@pytest.fixture
def demo_huddle(demo_district):
    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    return demo_district


def _focused_row_id(page) -> int:
    return int(page.evaluate("document.activeElement.closest('[data-row]').id.split('-')[1]"))


def _today(district) -> datetime.date:
    return timezone.localdate(timezone=district.tzinfo)


def _date_keys(day: datetime.date) -> str:
    return day.strftime("%m%d%Y")  # what Chromium's en-US date field takes, segment by segment


def test_the_lead_runs_the_huddle_by_keyboard(page, demo_huddle, sign_in, assert_accessible):
    sign_in(page, LEAD)
    assert page.url.endswith(reverse("outreach:huddle_current", kwargs={"district": demo_huddle.slug}))
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekly huddle")
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    assert_accessible(page)
    page.evaluate(MARK_PAGE)

    # Into meeting mode: skip link, then the first control of the page.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    toggle = page.get_by_role("button", name="Start meeting mode")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Leave meeting mode")).to_have_attribute("aria-pressed", "true")
    first = _focused_row_id(page)

    # o: the owner and next step for the current student.
    page.keyboard.press("o")
    owner = page.locator(f"#id_row{first}_owner")
    expect(owner).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first person after "No owner yet"
    chosen = owner.evaluate("select => select.selectedOptions[0].textContent")
    page.keyboard.press("Tab")
    page.keyboard.type("Call home in Spanish")
    page.keyboard.press("Tab")
    page.keyboard.type(_date_keys(_today(demo_huddle) + datetime.timedelta(days=2)))
    page.keyboard.press("Enter")  # submits from the date field (Tab would walk its segments first)
    row = page.locator(f"#row-{first}")
    expect(row).to_contain_text(f"Owner: {chosen}")
    expect(row).to_contain_text("Call home in Spanish")
    # The focus comes back to the student after saving (htmx's settle step moves it: wait for it).
    expect(row.locator("[data-row-focus]")).to_be_focused()
    assert_accessible(page)

    # l: log a call that reached the family, the barrier (transportation) and a follow-up date.
    follow_up = _today(demo_huddle) + datetime.timedelta(days=7)
    page.keyboard.press("l")
    expect(page.locator(f"#id_row{first}_method")).to_be_focused()
    page.keyboard.press("Tab")  # reached: yes
    page.keyboard.press("Tab")
    page.keyboard.type("Tr")  # barrier: Transportation
    page.keyboard.press("Tab")
    page.keyboard.type("Bus pass from the district")
    page.keyboard.press("Tab")
    page.keyboard.type(_date_keys(follow_up))
    page.keyboard.press("Enter")
    expect(row).to_contain_text("Barrier: Transportation")
    expect(row).to_contain_text(f"Follow up {follow_up:%b} {follow_up.day}")
    expect(page.locator("#huddle-live")).to_contain_text("Logged the phone call")
    expect(row.locator("[data-row-focus]")).to_be_focused()  # htmx's settle step returns the focus: wait

    # j, then e: escalate the next student to Tier 3.
    page.keyboard.press("j")
    expect(row.locator("[data-row-focus]")).not_to_be_focused()
    second = _focused_row_id(page)
    assert second != first
    page.keyboard.press("e")
    expect(page.locator(f"#id_row{second}_reason")).to_be_focused()
    page.keyboard.type("Four weeks of Tier 2 supports and still missing two days a week")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Escalate to Tier 3")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#row-{second}")).to_contain_text("Escalated to Tier 3")
    assert_accessible(page)

    assert page.evaluate(PAGE_IS_SAME), "the huddle reloaded the whole page instead of working in place"

    # p: the PDF for the printed copy, prepared by an export job; its page offers the file.
    with page.expect_navigation():
        page.keyboard.press("p")
    expect(page.get_by_text("Your file is ready.")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    with scope(district=demo_huddle):
        first_row, second_row = HuddleRow.objects.get(pk=first), HuddleRow.objects.get(pk=second)
        assert first_row.owner is not None and first_row.next_step == "Call home in Spanish"
        call = OutreachAction.objects.get(huddle_row=first_row)
        assert (call.method, call.reached, call.barrier, call.follow_up_date) == (
            "call",
            True,
            "transportation",
            follow_up,
        )
        assert second_row.outcome == "escalated"
        assert Flag.objects.filter(student=second_row.student, tier=3, rule="t3_after_tier2", status="new").exists()


def test_without_javascript_every_action_is_a_plain_form(
    browser, live_server, demo_huddle, page, sign_in, assert_accessible
):
    """The row page carries every form; it passes axe, and with scripts off a logged contact
    posts, redirects back to the huddle and shows there."""
    sign_in(page, LEAD)
    row_url = page.get_by_role("link", name=re.compile("^Log action")).first.get_attribute("href")
    page.goto(row_url)
    expect(page.get_by_role("heading", name=re.compile("^Log an action"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Full timeline").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert_accessible(page)

    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies(page.context.cookies())
    plain = context.new_page()
    plain.goto(row_url)
    form = plain.locator("#action form")
    form.get_by_label("Method").select_option("home_visit")
    form.get_by_label("Reached?").select_option("no")
    form.get_by_label("Barrier").select_option("housing")
    form.get_by_role("button", name="Save action").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Weekly huddle")
    expect(plain.get_by_text("Logged the home visit")).to_be_visible()
    context.close()
    with scope(district=demo_huddle):
        assert OutreachAction.objects.filter(method="home_visit", reached=False, barrier="housing").count() == 1


def test_the_agenda_on_track_list_filters_and_next_undiscussed(page, demo_huddle, sign_in, assert_accessible):
    """Issue 10: the agenda first, on track collapsed until opened, filters kept in the URL, and
    `n` in meeting mode skipping the students already discussed."""
    sign_in(page, LEAD)
    expect(page.get_by_text(re.compile(r"This week's agenda: \d+ students?"))).to_be_visible()
    on_track = page.locator("#section-on_track")
    if on_track.count():
        expect(on_track).not_to_have_attribute("open", "")
        on_track.locator("summary").click()
        expect(on_track).to_have_attribute("open", "")
    assert_accessible(page)

    # n: from the first row, mark it discussed (d), then n lands on another undiscussed row.
    page.get_by_role("button", name="Start meeting mode").click()
    first = _focused_row_id(page)
    page.keyboard.press("d")
    expect(page.locator(f"#row-{first}")).to_have_class(re.compile("is-discussed"))
    page.keyboard.press("n")
    assert _focused_row_id(page) != first
    page.get_by_role("button", name="Leave meeting mode").click()

    # Filters in the URL: not discussed yet, then a search that matches nobody.
    filters = page.get_by_role("search", name="Filter the huddle")
    filters.get_by_label("Discussed").select_option("no")
    filters.get_by_role("button", name="Apply").click()
    assert "discussed=no" in page.url
    expect(page.locator(f"#row-{first}")).to_have_count(0)
    assert_accessible(page)
    filters = page.get_by_role("search", name="Filter the huddle")
    filters.get_by_label("Search").fill("zzzz-nobody")
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No student matches these filters.")).to_be_visible()
    assert "q=zzzz-nobody" in page.url and "discussed=no" in page.url
    assert_accessible(page)


def test_an_on_track_line_opens_its_full_row_in_place(page, demo_huddle, sign_in, assert_accessible):
    """Issue 10: the on-track list is one line a student; its full row (every action) opens in
    place by keyboard, without a reload, and takes the focus."""
    with scope(district=demo_huddle):
        row = (
            HuddleRow.objects.filter(huddle__school__sis_id="MS-200", outcome="")
            .select_related("huddle")
            .order_by("-huddle__week_start", "position")
            .first()
        )
        owner = row.huddle.rows.exclude(owner=None).values_list("owner", flat=True).first()
        HuddleRow.objects.filter(pk=row.pk).update(
            section="on_track", owner_id=owner, next_step="Check in after the holiday",
            next_step_due=_today(demo_huddle) + datetime.timedelta(days=9),
        )  # fmt: skip
    sign_in(page, LEAD)
    page.evaluate(MARK_PAGE)
    on_track = page.locator("#section-on_track")
    on_track.locator("summary").click()
    line = page.locator(f"#on-track-{row.pk}")
    expect(line).to_contain_text("Check in after the holiday")
    expect(line.locator("[data-row]")).to_have_count(0)
    assert_accessible(page)

    line.get_by_role("link", name=re.compile("^Open row")).focus()
    page.keyboard.press("Enter")
    full = page.locator(f"#row-{row.pk}")
    expect(full.get_by_role("button", name=re.compile("^Mark discussed"))).to_be_visible()
    expect(full.locator("[data-row-focus]")).to_be_focused()
    assert page.evaluate(PAGE_IS_SAME)
    assert_accessible(page)
