"""The demo counselor's Tier 3 work in a real browser, by keyboard alone: open a case from the
queue, write the goal, add an intervention and a referral with the guardian's consent, record
a review and see the progress chart, then prepare and download the plan for the family meeting.
axe finds no WCAG 2.1 AA violations on any page, and the browser logs no errors."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from cases.models import Case, Referral, Review
from districts.models import Membership, Role, School
from students.demo_accounts import DEMO_ACCOUNTS
from tiers import lifecycle
from tiers.models import StudentMetrics

COUNSELOR = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.COUNSELOR)


def _date_keys(day: datetime.date) -> str:
    return day.strftime("%m%d%Y")  # what Chromium's en-US date field takes, segment by segment


@pytest.fixture
def referred(demo_district):
    """A student the MS-200 attendance team referred to Tier 3 this morning: the queue's newest."""
    with scope(district=demo_district):
        school = School.objects.get(sis_id="MS-200")
        with_case = Case.objects.filter(status="open").values("student_id")
        metrics = (
            StudentMetrics.objects.filter(run__is_current=True, current_school=school)
            .exclude(student_id__in=with_case)
            .select_related("student")
            .order_by("-absent_days", "student_id")
            .first()
        )
        lead = Membership.objects.get(grants__role=Role.ATTENDANCE_LEAD, grants__school=school)
        lifecycle.flag_refer_to_tier3(
            student=metrics.student, by=lead, why="Referred by the attendance team: still missing two days a week."
        )
    return metrics.student


def _press(page, locator, key: str = "Enter") -> None:
    locator.focus()
    page.keyboard.press(key)


def test_the_counselor_works_a_case_by_keyboard(page, demo_district, referred, sign_in, assert_accessible):
    today = timezone.localdate(timezone=demo_district.tzinfo)
    sign_in(page, COUNSELOR)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tier 3 caseload")
    assert_accessible(page)

    # The queue, and a case opened from it.
    with page.expect_navigation():
        _press(page, page.get_by_role("link", name="Open the queue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tier 3 queue")
    assert_accessible(page)
    entry = page.locator(f"#queue-{referred.pk}").locator("xpath=..")
    expect(entry).to_contain_text("Referred by the attendance team")
    with page.expect_navigation():
        _press(page, entry.get_by_role("button", name=f"Open a case for {referred.first_name}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(referred.full_name)
    expect(page.get_by_text(f"Opened a Tier 3 case for {referred.full_name}.")).to_be_visible()
    assert_accessible(page)

    # The goal: 90% of school days by eight weeks from now, the plan started three weeks ago.
    plan = page.locator("#plan")
    plan.get_by_label("Academic struggle or disengagement").focus()
    page.keyboard.press("Space")
    plan.get_by_label("Target attendance rate (%)").focus()
    page.keyboard.type("90")
    page.keyboard.press("Tab")
    page.keyboard.type(_date_keys(today + datetime.timedelta(weeks=8)))
    plan.get_by_label("Plan starts").focus()
    page.keyboard.type(_date_keys(today - datetime.timedelta(weeks=3)))
    with page.expect_navigation():
        _press(page, plan.get_by_role("button", name="Save the plan"))
    expect(page.get_by_text("Saved the plan.")).to_be_visible()
    expect(page.locator("#plan")).to_contain_text("Attend at least 90.0% of school days")

    # An intervention: the plan is written now.
    interventions = page.locator("#interventions")
    _press(page, interventions.get_by_text("Add an intervention"))
    interventions.get_by_label("Kind").focus()
    page.keyboard.type("Check")  # "Check-in/check-out"
    interventions.get_by_label("What").focus()
    page.keyboard.type("Morning check-in with the counselor, check-out with the homeroom teacher")
    interventions.get_by_label("How often").focus()
    page.keyboard.type("Daily")
    with page.expect_navigation():
        _press(page, interventions.get_by_role("button", name="Add the intervention"))
    expect(page.locator("#interventions")).to_contain_text("Morning check-in with the counselor")
    expect(page.locator("#plan")).to_contain_text("written")
    assert_accessible(page)

    # A referral that shares records, with the guardian's consent.
    referrals = page.locator("#referrals")
    _press(page, referrals.get_by_text("Refer to a partner"))
    referrals.get_by_label("Partner", exact=True).focus()
    page.keyboard.type("Big Futures")
    referrals.get_by_label("Service (barrier)").focus()
    page.keyboard.type("Academic")
    _press(page, referrals.get_by_label("Share the student's records with the partner"), "Space")
    referrals.get_by_label("Consent given by").focus()
    page.keyboard.type("Guardian, by phone")
    page.keyboard.press("Tab")
    page.keyboard.type(_date_keys(today))
    referrals.get_by_label("What the consent covers").focus()
    page.keyboard.type("Attendance and grades this school year")
    with page.expect_navigation():
        _press(page, referrals.get_by_role("button", name="Record the referral"))
    expect(page.get_by_text("sharing the records with Big Futures Mentoring is logged")).to_be_visible()
    expect(page.locator("#referrals")).to_contain_text("Records shared with consent from Guardian, by phone")

    # A review: the figures are the app's, and the chart shows the weeks with the goal.
    progress = page.locator("#progress")
    _press(page, progress.get_by_text("Record a review"))
    progress.get_by_label("Notes", exact=True).focus()
    page.keyboard.type("First check-ins went well; the family will call on bad mornings.")
    with page.expect_navigation():
        _press(page, progress.get_by_role("button", name="Save the review"))
    expect(page.get_by_text("Recorded the review")).to_be_visible()
    chart = page.locator("#progress svg.trend__chart")
    expect(chart).to_be_visible()
    expect(chart.locator("line.progress__goal")).to_have_count(1)
    expect(page.locator("#progress")).to_contain_text("attended since the plan started")
    assert_accessible(page)

    # The plan on paper for the family meeting, prepared by an export job.
    with page.expect_navigation():
        _press(page, page.get_by_role("button", name="Plan for the family meeting (PDF)"))
    expect(page.get_by_text("Your file is ready.")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        _press(page, page.get_by_role("link", name="Download"))
    assert download.value.suggested_filename.startswith("attendance-plan-")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    with scope(district=demo_district):
        case = Case.objects.get(student=referred, status="open")
        assert case.lead.user.email == COUNSELOR and case.is_written
        assert case.goal_rate == Decimal("0.9") and case.barriers == ["academic"]
        referral = Referral.objects.get(case=case)
        assert referral.shares_records and referral.consent_given_by == "Guardian, by phone"
        review = Review.objects.get(case=case)
        assert review.days_since > 0 and review.rate_since is not None


ADMIN = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.DISTRICT_ADMIN)
LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)


def test_the_other_tier3_pages_pass_axe(page, demo_district, sign_in, assert_accessible):
    """The partner directory and a partner's page (admin), the district's caseload and a case
    (admin), closed cases, and an attendance lead's summary of a case."""
    with scope(district=demo_district):
        case = Case.objects.filter(status="open", school__sis_id="MS-200").order_by("pk").first()
    sign_in(page, ADMIN)
    for path, heading in [
        (f"/d/{demo_district.slug}/partners/", "Partner directory"),
        (f"/d/{demo_district.slug}/cases/?view=all", "Tier 3 caseload"),
        (f"/d/{demo_district.slug}/cases/?view=closed", "Tier 3 caseload"),
        (f"/d/{demo_district.slug}/cases/{case.pk}/", f"Tier 3 case: {case.student.full_name}"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    page.goto(f"/d/{demo_district.slug}/partners/")
    with page.expect_navigation():
        _press(page, page.get_by_role("link", name="Piedmont Transit Family Pass"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Piedmont Transit Family Pass")
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, LEAD)
    page.goto(f"/d/{demo_district.slug}/cases/{case.pk}/")
    expect(page.locator("#summary")).to_contain_text("Next review")
    expect(page.locator("#plan")).to_have_count(0)
    assert_accessible(page)
