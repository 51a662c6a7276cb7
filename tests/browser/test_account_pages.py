"""A person's own account pages in a real browser, checked with axe (WCAG 2.1 AA)."""

from django.urls import reverse
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS

DEMO_EMAIL = {role: email for email, role, _, _ in DEMO_ACCOUNTS}


def test_a_person_creates_copies_and_revokes_an_api_token(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.COUNSELOR])
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your API tokens")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Create a token").click()

    token = page.get_by_label("Token", exact=True)
    expect(token).to_be_visible()
    value = token.input_value()
    assert len(value) == 64
    assert_accessible(page)

    page.goto(reverse("api_tokens"))
    page.get_by_role("button", name=f"Revoke token {value[:8]}").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert_accessible(page)
