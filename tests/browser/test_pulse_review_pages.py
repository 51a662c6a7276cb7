"""The district review pages as the demo district staff member, in a real browser: each shows
the demo's figures (charts with their tables), downloads its CSV, and passes axe with no
console errors. Also in Spanish: the charts' SVG numbers must survive the locale."""

import pytest
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS

STAFF = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_STAFF)
PAGES = [
    ("Follow-through", "Follow-through by school", "follow-through.csv"),
    ("Equity", "Equity by subgroup", "equity.csv"),
    ("Data quality", "Data quality", "data-quality.csv"),
    ("What followed each support", "What followed each support", "effectiveness.csv"),
]


@pytest.mark.parametrize("tab, heading, csv_name", PAGES)
def test_a_review_page_as_district_staff(page, demo_district, sign_in, assert_accessible, tab, heading, csv_name):
    sign_in(page, STAFF)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Pulse").click()
    with page.expect_navigation():
        page.get_by_role("navigation", name="District pulse").get_by_role("link", name=tab).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if tab != "Data quality":  # a page of counts and links, no chart
        expect(page.locator("figure.bar-chart").first).to_be_visible()
    expect(page.locator("table tbody tr").first).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table (CSV)").first.click()
    assert download.value.suggested_filename == csv_name


def test_the_follow_through_chart_keeps_its_numbers_in_spanish(page, demo_district, sign_in):
    sign_in(page, STAFF)
    page.goto(f"/d/{demo_district.slug}/pulse/follow-through/")
    with page.expect_navigation():
        page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seguimiento por escuela")
    widths = page.locator("figure.bar-chart rect").evaluate_all("els => els.map(e => e.getAttribute('width'))")
    assert widths and all("," not in width for width in widths)
