"""Phones (issue 10): at 390 x 844 the huddle page and the student page fit the screen (no
sideways scrolling: visually hidden text stays inside its table's scroller), a huddle row reads
as a card whose actions are on screen, and both pages pass axe."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from outreach.models import HuddleRow
from students.demo_accounts import DEMO_ACCOUNTS

LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
PHONE = {"width": 390, "height": 844}
PAGE_WIDTH = "document.scrollingElement.scrollWidth"
# What sticks out past the screen's right edge, outside any scroller: named when a page is too wide.
SPILLS = """() => {
  const width = document.documentElement.clientWidth;
  const inScroller = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((element) => element.getBoundingClientRect().right > width + 1 && !inScroller(element))
    .slice(0, 12)
    .map((element) => `${element.tagName.toLowerCase()}.${element.className} → ${Math.round(element.getBoundingClientRect().right)}px`);
}"""


def assert_fits(page) -> None:
    width = page.evaluate(PAGE_WIDTH)
    assert width <= PHONE["width"], f"{page.url} is {width}px wide: {page.evaluate(SPILLS)}"


@pytest.fixture
def demo_huddle(demo_district):
    """This week's huddles, as Monday morning's jobs leave them."""
    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    return demo_district


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def _latest_row(district) -> HuddleRow:
    """The first row of the lead's school's latest huddle in the demo."""
    with scope(district=district):
        return (
            HuddleRow.objects.filter(huddle__school__sis_id="MS-200")
            .select_related("huddle")
            .order_by("-huddle__week_start", "position")
            .first()
        )


def test_the_huddle_fits_a_phone_and_its_rows_are_cards(phone, demo_huddle, sign_in, assert_accessible):
    huddle = _latest_row(demo_huddle).huddle
    sign_in(phone, LEAD)
    phone.goto(reverse("outreach:huddle_detail", kwargs={"district": demo_huddle.slug, "huddle_id": huddle.pk}))
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    row = phone.locator(".huddle-table tbody tr").first
    expect(row).to_be_visible()

    assert_fits(phone)
    # A card: the row is as wide as the screen allows and its actions are on screen, not scrolled away.
    box = row.bounding_box()
    assert box["width"] <= PHONE["width"]
    actions = row.locator("td").last.locator("a, button")
    assert actions.count() > 0
    for index in range(actions.count()):
        action = actions.nth(index)
        if action.is_visible():
            action_box = action.bounding_box()
            assert action_box["x"] >= 0 and action_box["x"] + action_box["width"] <= PHONE["width"]
    assert_accessible(phone)


def test_the_student_page_fits_a_phone(phone, demo_huddle, sign_in, assert_accessible):
    student_id = _latest_row(demo_huddle).student_id
    sign_in(phone, LEAD)
    phone.goto(reverse("students:student_detail", kwargs={"district": demo_huddle.slug, "student_id": student_id}))
    expect(phone.get_by_role("heading", level=1)).to_be_visible()

    assert_fits(phone)
    assert_accessible(phone)
