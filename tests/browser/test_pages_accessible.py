"""Pages beyond the sign-in walk: another district's 404, the htmx filters, the API docs, and the
Content-Security-Policy that every page runs under — each checked with axe (WCAG 2.1 AA)."""

import re

from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.access import DistrictAccess
from districts.models import AuditEvent, Membership, Role
from districts.services import audit_record, district_create, school_create
from students import selectors
from students.demo_accounts import DEMO_ACCOUNTS
from students.models import Student

DEMO_EMAIL = {role: email for email, role, _, _ in DEMO_ACCOUNTS}
# Set before an htmx interaction; a full page load would wipe it.
MARK_PAGE = "window.__samePage = true"
PAGE_IS_SAME = "window.__samePage === true"


def test_another_districts_pages_are_an_accessible_404(page, console, demo_district, sign_in, assert_accessible):
    elsewhere = district_create(slug="elsewhere", name="Elsewhere County Schools")
    with scope(district=elsewhere):
        school_create(district=elsewhere, sis_id="EW-1", name="Elsewhere Middle")
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    console.allow(r"status of 404")  # Chromium logs every 404 response, the page's own included

    response = page.goto(reverse("outreach:roster", kwargs={"district": elsewhere.slug}))

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Elsewhere")).to_have_count(0)
    assert_accessible(page)


def test_a_page_outside_the_role_is_an_accessible_403(page, console, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.ATTENDANCE_LEAD])
    console.allow(r"status of 403")

    response = page.goto(reverse("districts:people", kwargs={"district": demo_district.slug}))

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert_accessible(page)


def test_form_errors_are_announced_with_their_field(page, console, demo_district, sign_in, assert_accessible):
    """A screen reader reaching the field must hear its help text and its error, not only see them."""
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    console.allow(r"status of 400")  # the re-rendered form answers 400
    page.get_by_label("Email", exact=True).fill("new.lead@demo.attendnc.org")
    page.get_by_label("Role", exact=True).select_option(label="Attendance lead")

    page.get_by_role("button", name="Add", exact=True).click()

    school = page.get_by_label("School", exact=True)
    expect(school).to_have_attribute("aria-invalid", "true")
    expect(school).to_have_accessible_description(re.compile(r"Required for attendance leads.*name the school"))
    assert_accessible(page)


def test_audit_log_filters_in_place_with_htmx(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    with scope(district=demo_district):
        _record_student_views(demo_district)
        expected = AuditEvent.objects.filter(user_email__icontains="counselor@").count()
        total = AuditEvent.objects.count()
    assert 0 < expected < total
    page.goto(reverse("districts:audit_log", kwargs={"district": demo_district.slug}))
    count = page.locator("#audit-results [role=status]")
    expect(count).to_have_text(_entries(total))
    page.evaluate(MARK_PAGE)

    page.get_by_label("Person").fill("counselor@")
    page.get_by_label("Person").press("Enter")

    expect(count).to_have_text(_entries(expected))
    assert page.evaluate(PAGE_IS_SAME), "the filter reloaded the whole page instead of swapping the results"
    expect(page).to_have_url(re.compile(r"[?&]user_email=counselor%40"))
    expect(page.locator("#audit-results tbody tr")).to_have_count(expected)
    assert_accessible(page)


def test_roster_search_narrows_in_place_with_htmx(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.ATTENDANCE_LEAD])
    page.goto(reverse("outreach:roster", kwargs={"district": demo_district.slug}))  # the lead lands on the huddle
    rows = page.locator("#roster-results tbody tr")
    first_listed = page.locator("#roster-results tbody a").first.inner_text()
    term = first_listed.partition(",")[0].split()[0]  # one word: the search matches word by word
    expected = _roster_count(demo_district, DEMO_EMAIL[Role.ATTENDANCE_LEAD], term)
    count = page.locator("#roster-results [role=status]")
    before = count.inner_text()
    page.evaluate(MARK_PAGE)

    page.get_by_label("Name or student id").press_sequentially(term, delay=20)

    # "N students · Download this list as CSV": the roster with risk's count line.
    expect(count).to_have_text(re.compile(rf"^{expected} student{'' if expected == 1 else 's'}\b"))
    assert count.inner_text() != before
    assert page.evaluate(PAGE_IS_SAME), "the search reloaded the whole page instead of swapping the results"
    expect(page).to_have_url(re.compile(r"[?&]q="))
    for name in rows.locator("a").all_inner_texts():
        assert term.lower() in name.lower()
    assert_accessible(page)


def test_api_docs_are_accessible(page, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    page.goto(reverse("api_docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AttendNC API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert_accessible(page)

    page.locator(".swagger-ui .opblock-summary-control").first.click()
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    assert_accessible(page)


def test_pages_run_under_a_strict_csp_that_axe_is_not_blocked_by(page, console, assert_accessible):
    """axe is injected through the DevTools protocol (page.evaluate), which CSP does not govern;
    a script the page itself inserts is refused, so the policy really is in force."""
    console.allow(r"Content Security Policy")
    response = page.goto(reverse("login"))
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy

    ran_inline = page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__inline = true';
                   document.head.appendChild(s); return window.__inline === true; }"""
    )

    assert ran_inline is False
    assert any("Content Security Policy" in error for error in console.errors)
    assert_accessible(page)
    assert page.evaluate("typeof window.axe.run") == "function"


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _record_student_views(district) -> None:
    """A few record views by two people, so a filter on one of them has something to remove."""
    students = list(Student.objects.all()[:3])
    for role in (Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.ATTENDANCE_LEAD):
        user = Membership.objects.get(user__email=DEMO_EMAIL[role]).user
        for student in students:
            audit_record(
                district=district,
                user=user,
                action=AuditEvent.Action.VIEW,
                object_type="student",
                object_id=student.pk,
                object_label=student.full_name,
            )


def _roster_count(district, email: str, term: str) -> int:
    with scope(district=district):
        membership = Membership.objects.select_related("district").get(user__email=email)
        access = DistrictAccess.for_membership(membership)
        return selectors.student_search(access=access, query=term).count()
