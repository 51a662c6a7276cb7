"""An export job's page in a real browser: while the file is prepared the page polls (htmx) and
turns into the download by itself; a failed job explains itself and offers to try again. axe
finds no WCAG 2.1 AA violations in either state."""

from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Membership, Role
from exports.models import ExportJob
from exports.tasks import render_export
from outreach import services as outreach_services
from students.demo_accounts import DEMO_ACCOUNTS

LEAD = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)


def _lead_job(district, **fields) -> ExportJob:
    with scope(district=district):
        membership = Membership.objects.get(user__email=LEAD)
        school = membership.grants.get(role=Role.ATTENDANCE_LEAD).school
        huddle = outreach_services.huddle_generate(
            district=district, school=school, week_start=outreach_services.week_start_of(district.school_year_start)
        )
        return ExportJob.objects.create(
            district=district, requested_by=membership, renderer="outreach.huddle_pdf",
            params={"huddle_id": huddle.pk}, title="Huddle PDF", **fields,
        )  # fmt: skip


def test_the_page_polls_until_the_file_is_ready_then_downloads(page, demo_district, sign_in, assert_accessible):
    job = _lead_job(demo_district)
    sign_in(page, LEAD)
    page.goto(job.get_absolute_url())
    expect(page.get_by_text("Waiting for a worker")).to_be_visible()
    assert_accessible(page)

    render_export.delay(demo_district.pk, job.pk)  # the worker takes it; the page notices by itself

    expect(page.get_by_text("Your file is ready.")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.startswith("huddle-")


def test_a_failed_job_says_why_and_offers_to_try_again(page, demo_district, sign_in, assert_accessible):
    job = _lead_job(demo_district, status=ExportJob.Status.FAILED, error="The file could not be queued.")
    sign_in(page, LEAD)
    page.goto(job.get_absolute_url())
    expect(page.get_by_text("The file could not be prepared.")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Try again").click()

    expect(page.get_by_text("Your file is ready.")).to_be_visible()
    assert_accessible(page)
