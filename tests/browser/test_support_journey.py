"""Support requests in a real browser: the demo lead sees the district's overdue answer on the
huddle page and files a request naming a student; the demo district staff member opens the
queue, the new request's thread, takes it with a due date and resolves it. axe finds no WCAG
2.1 AA violations on any page, and the browser logs no errors."""

from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from pulse.models import SupportRequest
from students.demo_accounts import DEMO_ACCOUNTS
from students.models import Student

LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
STAFF = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_STAFF)


def test_a_lead_files_and_the_district_resolves(page, demo_district, sign_in, assert_accessible):
    with scope(district=demo_district):
        student = Student.objects.filter(enrollments__school__sis_id="MS-200").order_by("pk").first()

    sign_in(page, LEAD)
    panel = page.locator(".support-due")
    expect(panel).to_contain_text("Family needs help with housing")
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support requests")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Ask the district for help").click()
    assert_accessible(page)
    page.get_by_label("Category").select_option("transportation")
    page.get_by_label("Subject").fill("Bus for the after-school tutoring")
    page.get_by_label("What do you need from the district?").fill("Twelve students stay for tutoring; no late bus.")
    page.get_by_label("Students (optional)").fill(student.sis_id)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bus for the after-school tutoring")
    expect(page.get_by_role("link", name=student.full_name)).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, STAFF)
    page.goto(f"/d/{demo_district.slug}/support/")
    expect(page.get_by_role("rowheader", name="Bus for the after-school tutoring")).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Bus for the after-school tutoring").click()
    page.get_by_label("Owner at the district").select_option(label="Marcus Bell")
    page.get_by_label("Due date", exact=True).fill("2030-01-15")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    page.get_by_label("How was it resolved?").fill("The late bus runs Tuesdays and Thursdays from next week.")
    with page.expect_navigation():
        page.get_by_role("button", name="Resolve the request").click()
    expect(page.locator("#thread")).to_contain_text("The late bus runs Tuesdays")
    assert_accessible(page)
    with scope(district=demo_district):
        assert SupportRequest.objects.get(subject="Bus for the after-school tutoring").status == "resolved"
