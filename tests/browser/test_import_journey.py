"""A district admin's import, in a real browser: upload a zip → watch the run → map the unknown
code it held → replay → the import-health page is clean. axe (WCAG 2.1 AA) on every page, and
no console errors (the page fixture fails the test on any)."""

import datetime
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role
from districts.services import district_create, member_add
from imports.models import ImportRun

JOURNEY = Path(__file__).resolve().parent.parent / "fixtures" / "imports" / "journey"
ADMIN_EMAIL = "admin@juniper.example.org"
PASSWORD = "juniper-imports-2026"


@pytest.fixture
def juniper(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    district = district_create(
        slug="juniper",
        name="Juniper Unified",
        school_year_start=datetime.date(2025, 8, 25),
        school_year_end=datetime.date(2026, 6, 10),
    )
    with scope(district=district):
        member_add(district=district, email=ADMIN_EMAIL, role=Role.DISTRICT_ADMIN, password=PASSWORD)
    return district


@pytest.fixture
def export_zip(tmp_path) -> Path:
    archive = tmp_path / "juniper-nightly.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for item in sorted(JOURNEY.iterdir()):
            bundle.write(item, f"export/{item.name}")
    return archive


def _url(name, district, **kwargs):
    return reverse(f"imports:{name}", kwargs={"district": district.slug, **kwargs})


def test_upload_watch_map_replay_and_a_clean_health_page(page, juniper, export_zip, sign_in, assert_accessible):
    sign_in(page, ADMIN_EMAIL, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    assert_accessible(page)

    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Files").set_input_files(str(export_zip))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Import #\d+$"))
    progress = page.locator("#run-progress")
    expect(progress.get_by_role("status")).to_contain_text("Imported")
    expect(progress.locator("progress")).to_have_attribute("value", "1")
    expect(progress.locator("dd").nth(2)).to_have_text("1")  # one row held: code F
    expect(page.get_by_role("table", name="What each file did")).to_contain_text("Attendance")
    expect(page.get_by_text("Unknown attendance code")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Map unknown codes and replay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance code map")
    assert_accessible(page)
    page.get_by_label("Category for F").select_option("absent_excused")
    page.get_by_label("Description for F").fill("Field trip, excused")
    page.get_by_role("button", name="Map F").click()
    expect(page.get_by_role("status").filter(has_text="Code F now means")).to_be_visible()
    page.get_by_role("button", name="Replay 1 held row").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Replay of held rows #\d+$"))
    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Imported")
    expect(page.get_by_role("table", name="What each file did").locator("tbody td").last).to_have_text("1")
    assert_accessible(page)

    page.get_by_role("navigation", name="Imports").get_by_role("link", name="Import health").click()
    expect(page.get_by_role("status").filter(has_text="Every school is clean")).to_be_visible()
    expect(page.get_by_role("row", name="Juniper Middle")).to_contain_text("clean")
    assert_accessible(page)


def test_the_run_page_follows_a_running_import_without_reloading(page, juniper, sign_in, assert_accessible):
    """The worker's progress reaches the page by htmx polling; the page itself is never reloaded."""
    with scope(district=juniper):
        run = ImportRun.objects.create(
            district=juniper, status=ImportRun.Status.RUNNING, stage="loading:attendance", original_name="big.zip"
        )
    sign_in(page, ADMIN_EMAIL, PASSWORD)
    page.goto(_url("run_detail", juniper, import_run_id=run.pk))
    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Loading: Attendance")
    expect(page.get_by_role("link", name="Refresh")).to_be_visible()
    assert_accessible(page)
    page.evaluate("window.__samePage = true")

    with scope(district=juniper):
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.SUCCEEDED, rows_read=12, rows_written=12)

    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Imported", timeout=5000)
    expect(page.locator("#run-progress dd").first).to_have_text("12")
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
    assert page.evaluate("window.__samePage === true"), "the page reloaded instead of swapping the progress"


def test_an_import_that_would_wipe_a_school_asks_first_and_can_be_undone(
    page, juniper, tmp_path, sign_in, assert_accessible
):
    """The removal guard's confirm step and the undo, in the browser (issue 9)."""
    from tests.import_support import OPEN_DAYS_OF_YEAR, build_year, district_state, write_csv

    build_year(juniper, tmp_path)
    before = district_state(juniper)
    rows = [("S1", "MS1", day, "P") for day in OPEN_DAYS_OF_YEAR]  # MS1's absences all gone
    wipe = write_csv(tmp_path / "wipe", "attendance.csv", "student_id,school_id,date,code", rows) / "attendance.csv"
    sign_in(page, ADMIN_EMAIL, PASSWORD)
    page.goto(_url("index", juniper))
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Files").set_input_files(str(wipe))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("alert")).to_contain_text("stopped before writing anything")
    removals = page.get_by_role("table", name="What it would remove")
    expect(removals.get_by_role("row", name=re.compile("Maple Middle"))).to_contain_text(
        str(2 * len(OPEN_DAYS_OF_YEAR))
    )
    assert_accessible(page)
    assert district_state(juniper) == before

    page.get_by_role("button", name="Import and remove these rows").click()
    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Imported")
    expect(page.get_by_role("table", name="What it removed, by school")).to_be_visible()
    assert_accessible(page)
    assert district_state(juniper) != before

    page.get_by_role("button", name=re.compile(r"^Undo import #\d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Undo of an import #\d+$"))
    expect(page.locator("#run-progress").get_by_role("status")).to_contain_text("Imported")
    assert_accessible(page)
    assert district_state(juniper) == before
