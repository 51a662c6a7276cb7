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


def test_an_admin_adds_a_person_and_resends_their_email(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])  # lands on the people page
    page.get_by_label("Email", exact=True).fill("new.mentor@demo.attendnc.org")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Role", exact=True).select_option(label="Mentor")
    page.get_by_role("button", name="Add", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("We emailed new.mentor@demo.attendnc.org a link")
    row = page.get_by_role("row").filter(has_text="new.mentor@demo.attendnc.org")
    expect(row).to_contain_text("Invited: email sent")
    assert_accessible(page)

    page.get_by_role("button", name="Resend the email to new.mentor@demo.attendnc.org").click()
    expect(page.get_by_role("status")).to_contain_text("Sent the email to new.mentor@demo.attendnc.org again")
    assert_accessible(page)


def test_an_admin_sets_the_sign_in_limits(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    page.get_by_role("link", name="Sign-in and API token settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in and API token settings")
    assert_accessible(page)
    page.get_by_label("API token lifetime (days)").fill("30")
    page.get_by_label("Sign out after idle (minutes)").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the sign-in settings")
    expect(page.get_by_label("Sign out after idle (minutes)")).to_have_value("20")
    assert_accessible(page)
