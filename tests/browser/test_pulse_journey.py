"""The demo district staff member's Monday in a real browser: open the district pulse from the
navigation, switch the table to subgroups, drill into a school, prepare and download the board
report. axe finds no WCAG 2.1 AA violations on any page and the browser logs no errors, in
English and in Spanish (an SVG attribute written "152,0" is a console error)."""

import pytest
from playwright.sync_api import expect

from districts.models import Role, User
from students.demo_accounts import DEMO_ACCOUNTS

STAFF = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_STAFF)


def test_the_district_staff_member_reads_the_pulse_and_takes_the_report(
    page, demo_district, sign_in, assert_accessible
):
    sign_in(page, STAFF)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Pulse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("District pulse")
    expect(page.get_by_role("heading", name="Chronic absence now")).to_be_visible()
    expect(page.locator("svg.pulse-chart polyline")).to_have_count(2)  # this year and last
    expect(page.get_by_role("heading", name="Priority schools")).to_be_visible()
    page.get_by_text("The chart's figures as a table").click()
    expect(page.get_by_role("table", name="Chronic absence rate at the end of each school week")).to_be_visible()
    assert_accessible(page)

    tabs = page.get_by_role("navigation", name="District pulse")
    with page.expect_navigation():
        tabs.get_by_role("link", name="Schools, grades and subgroups").click()
    expect(page.locator("svg.pulse-bar").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("navigation", name="Group by").get_by_role("link", name="By subgroup").click()
    expect(page.get_by_role("rowheader", name="English learners: yes")).to_be_visible()
    assert "by=subgroup" in page.url
    assert_accessible(page)

    page.get_by_role("navigation", name="Group by").get_by_role("link", name="By school").click()
    school = page.locator("table.pulse-groups tbody th a").first
    expect(school).to_be_visible()
    name = school.inner_text()
    with page.expect_navigation():
        school.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("heading", name="By grade")).to_be_visible()
    expect(page.get_by_role("heading", name="Students with an open flag")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        tabs = page.get_by_role("navigation", name="District pulse")
        tabs.get_by_role("link", name="Overview").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Board report (PDF)").click()
    expect(page.get_by_text("Your file is ready.")).to_be_visible(timeout=60_000)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.startswith("district-pulse-")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


@pytest.mark.parametrize("path", ["pulse/", "pulse/groups/?by=subgroup", "pulse/checks/"])
def test_the_pulse_pages_in_spanish(page, demo_district, sign_in, assert_accessible, live_server, path):
    User.objects.filter(email=STAFF).update(language="es")
    sign_in(page, STAFF)
    page.goto(f"{live_server.url}/d/{demo_district.slug}/{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pulso del distrito")
    assert_accessible(page)
