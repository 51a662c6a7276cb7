"""Signing in and out in a real browser: every demo role lands on its own page, every page its
navigation offers passes axe (WCAG 2.1 AA), and the sign-in pages themselves do too."""

import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS

# What each role's main navigation offers, in order. Written out rather than read from
# attendnc.navigation so that a change to who sees what has to change this test too. A new
# link is walked like the others: its page must answer with one h1 and pass axe.
NAV_BY_ROLE = {
    Role.DISTRICT_ADMIN: [
        "Pulse",
        "Schools",
        "Huddle",
        "Students",
        "Figures",
        "Caseload",
        "Support",
        "People",
        "Mentors",
        "Audit log",
        "Imports",
        "Policy",
        "Runs",
        "Family messages",
        "Letters",
    ],
    Role.DISTRICT_STAFF: ["Pulse", "Schools", "Huddle", "Students", "Figures", "Caseload", "Support"],
    Role.ATTENDANCE_LEAD: ["Huddle", "Students", "Caseload", "Support", "Letters"],
    Role.COUNSELOR: ["Huddle", "Students", "Caseload", "Support"],
    Role.MENTOR: ["Huddle", "Students"],
}
# The headings of the pages the roles land on (a landing page must say where you are).
H1_BY_PAGE = {
    "districts:people": "People and roles",
    "pulse:dashboard": "District pulse",
    "outreach:roster": "Students",
    "outreach:huddle_current": "Weekly huddle",
    "cases:caseload": "Tier 3 caseload",
}


def _path(page) -> str:
    return urlparse(page.url).path


def test_login_page_is_accessible(page, assert_accessible):
    page.goto(reverse("login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to AttendNC")
    expect(page.get_by_label("Email")).to_be_focused()
    assert_accessible(page)


def test_failed_sign_in_shows_an_accessible_error(page, demo_district, assert_accessible):
    email = DEMO_ACCOUNTS[0][0]
    page.goto(reverse("login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct email")
    assert _path(page) == reverse("login")
    expect(page.get_by_label("Email")).to_have_value(email)
    assert_accessible(page)


def test_password_reset_pages_are_accessible(page, assert_accessible):
    page.goto(reverse("login"))
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert _path(page) == reverse("password_reset")
    assert_accessible(page)

    page.get_by_label("Email").fill("someone@example.org")
    page.get_by_role("button", name="Send reset link").click()

    expect(page).to_have_url(_ends_with(reverse("password_reset_done")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)


@pytest.mark.parametrize(
    "email, role, landing",
    [(email, role, landing) for email, role, _, landing in DEMO_ACCOUNTS],
    ids=[role.value for _, role, _, _ in DEMO_ACCOUNTS],
)
def test_demo_role_signs_in_walks_its_pages_and_signs_out(
    page, demo_district, sign_in, assert_accessible, email, role, landing
):
    slug = demo_district.slug
    sign_in(page, email)

    assert _path(page) == reverse(landing, kwargs={"district": slug})
    expect(page.get_by_role("heading", level=1)).to_have_text(H1_BY_PAGE[landing])
    assert_accessible(page)

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(NAV_BY_ROLE[role])
    for label in NAV_BY_ROLE[role]:
        link = nav.get_by_role("link", name=label, exact=True)
        href = link.get_attribute("href")
        link.click()
        expect(page).to_have_url(_ends_with(href))
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        expect(page.get_by_role("heading", level=1)).not_to_be_empty()
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")
        assert_accessible(page)
        if href == reverse("outreach:roster", kwargs={"district": slug}):
            _open_first_student(page, slug, assert_accessible)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(_ends_with(reverse("login")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to AttendNC")
    page.goto(reverse(landing, kwargs={"district": slug}))
    assert _path(page) == reverse("login"), "after signing out, district pages must ask to sign in again"


def _open_first_student(page, slug: str, assert_accessible) -> None:
    first = page.locator("#roster-results tbody a").first
    expect(first).to_be_visible()
    last_first = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(rf"/d/{slug}/students/\d+/$"))
    last, _, first_name = last_first.partition(", ")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first_name} {last}")
    assert_accessible(page)
    page.go_back()


def _ends_with(path: str) -> re.Pattern:
    return re.compile(re.escape(path) + "$")
