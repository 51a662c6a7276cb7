"""Issue 10's everyday dead ends in a real browser: a held row's unknown school mapped and
replayed, held rows discarded with a reason, the import-health page, and the roster with risk
(sorting, filters in the URL). axe (WCAG 2.1 AA) on every page; the page fixture fails on any
console error."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from districts.services import district_create, member_add
from imports import services as import_services
from students.demo_accounts import DEMO_ACCOUNTS

CANONICAL = Path(__file__).resolve().parent.parent / "fixtures" / "imports" / "canonical"
ADMIN_EMAIL = "admin@hazel.example.org"
PASSWORD = "hazel-dead-ends-2026"
LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)


@pytest.fixture
def hazel(transactional_db, settings, tmp_path):
    """A district after one canonical import: rows held for the unknown school ZZ9 and more."""
    settings.MEDIA_ROOT = tmp_path / "media"
    district = district_create(
        slug="hazel",
        name="Hazel County Schools",
        school_year_start=datetime.date(2025, 8, 25),
        school_year_end=datetime.date(2026, 6, 10),
    )
    with scope(district=district):
        member_add(district=district, email=ADMIN_EMAIL, role=Role.DISTRICT_ADMIN, password=PASSWORD)
        run = import_services.import_run_create(district=district, format="csv", path=CANONICAL)
        import_services.import_run_process(run=run)
    return district


def _url(name, district):
    return reverse(name, kwargs={"district": district.slug})


def test_map_an_unknown_school_then_discard_what_is_left(page, hazel, sign_in, assert_accessible):
    sign_in(page, ADMIN_EMAIL, PASSWORD)
    page.goto(_url("imports:held", hazel))
    expect(page.get_by_role("heading", level=1)).to_have_text("Held rows")
    expect(page.get_by_role("link", name="Unknown school", exact=True)).to_be_visible()  # words, not keys
    assert_accessible(page)

    page.get_by_role("link", name="Map or add them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unknown schools")
    expect(page.get_by_role("heading", name="School id ZZ9")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("It is this school").select_option(label="Maple Middle")
    page.get_by_role("button", name="Map and replay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Replay of held rows #\d+$"))
    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Imported")
    expect(page.get_by_text("School id ZZ9 is known now")).to_be_visible()

    page.goto(_url("imports:held", hazel) + "?reason=unknown_code")
    page.get_by_text(re.compile(r"^Discard the 1 held row shown")).click()
    assert_accessible(page)
    page.get_by_label("Why can these rows be discarded?").fill("Vendor test code")
    page.get_by_role("button", name="Discard these rows").click()
    expect(page.get_by_text("Discarded 1 held row.")).to_be_visible()

    page.get_by_role("navigation", name="Imports").get_by_role("link", name="Import health").click()
    expect(page.get_by_text("1 held row has been discarded by an admin.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Maple Middle"))).to_contain_text("stale")
    assert_accessible(page)


def test_the_roster_with_risk_sorts_and_filters(page, demo_district, sign_in, assert_accessible):
    sign_in(page, LEAD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Students", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Students")
    table = page.locator("#roster-results table")
    expect(table.get_by_role("columnheader", name="Absence rate")).to_have_attribute("aria-sort", "descending")
    assert_accessible(page)

    page.get_by_label("Band").select_option("at_risk")
    expect(page).to_have_url(re.compile(r"band=at_risk"))
    expect(table.locator("tbody tr").first).to_contain_text("At risk")
    assert_accessible(page)

    table.get_by_role("link", name="Days missed").click()
    expect(page).to_have_url(re.compile(r"band=at_risk.*sort=-missed"))
    expect(table.get_by_role("columnheader", name="Days missed")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_label("Band")).to_have_value("at_risk")
    assert_accessible(page)


ADMIN = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_ADMIN)
MENTOR = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.MENTOR)


def test_an_admin_assigns_a_mentor_and_reads_a_huddle(page, demo_district, sign_in, assert_accessible):
    from django.core.management import call_command

    from outreach.models import Huddle
    from students.models import MentorAssignment, Student

    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    with scope(district=demo_district):
        student = Student.objects.exclude(mentor_assignments__isnull=False).order_by("last_name").first()
        huddle = Huddle.objects.order_by("-week_start", "school__name").first()
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mentors", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mentors")
    assert_accessible(page)
    page.get_by_label("Mentor", exact=True).select_option(index=1)
    page.get_by_label("Student ids").fill(student.sis_id)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Assigned 1 student.")).to_be_visible()
    expect(page.get_by_role("link", name=student.full_name)).to_be_visible()
    assert_accessible(page)
    with scope(district=demo_district):
        assert MentorAssignment.objects.filter(student=student).exists()

    page.goto(reverse("outreach:huddle_detail", kwargs={"district": demo_district.slug, "huddle_id": huddle.pk}))
    expect(page.get_by_text("You are viewing this huddle read-only.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark discussed")).to_have_count(0)
    expect(page.get_by_role("button", name="Start meeting mode")).to_have_count(0)
    assert_accessible(page)


def test_a_mentor_sees_only_usable_buttons_on_the_huddle(page, demo_district, sign_in, assert_accessible):
    from django.core.management import call_command

    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    sign_in(page, MENTOR)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Huddle", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekly huddle")
    for refused in ("Download PDF", "Download CSV", "Start meeting mode"):
        expect(page.get_by_role("button", name=refused)).to_have_count(0)
        expect(page.get_by_role("link", name=refused)).to_have_count(0)
    assert_accessible(page)
