"""Rows dated in the future or outside the school year are held with that reason in words, never
loaded into another year silently; an import names an earlier year to load last year's files on
purpose (issues 9 and 10). The district's year here: 25 Aug 2025 to 10 Jun 2026."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from imports.models import ImportRun
from students.models import AttendanceCode, AttendanceRecord

from .import_support import _media_in_tmp, build_year, district_state, replay, run_import, write_csv  # noqa: F401

D = datetime.date


@pytest.fixture
def year(tenant_a, tmp_path):
    return build_year(tenant_a.district, tmp_path)


def _held(run):
    with scope(district=run.district):
        return [(row.reason, row.field, row.message_text) for row in run.quarantined_rows.order_by("row_number")]


def test_attendance_dated_after_today_is_held_and_covers_nothing(year, tmp_path, monkeypatch):
    monkeypatch.setattr("imports.placing.district_today", lambda district: D(2025, 10, 10))
    before = district_state(year)
    rows = [("S1", "MS1", "2025-10-13", "E"), ("S1", "MS1", "2025-10-09", "E")]

    run = run_import(year, write_csv(tmp_path / "a", "attendance.csv", "student_id,school_id,date,code", rows))

    assert _held(run) == [("future_date", "date", "Oct. 13, 2025 is after today (Oct. 10, 2025).")]
    after = district_state(year)["attendance"]
    assert before["attendance"] - after == {("S1", "MS1", D(2025, 10, 9), "U"), ("S2", "MS1", D(2025, 10, 9), "U")}
    with scope(district=year):
        assert run.quarantined_rows.get().get_reason_display() == "Dated in the future"


def test_rows_outside_the_school_year_are_held_whatever_else_is_wrong_with_them(year, tmp_path):
    folder = tmp_path / "last-year"
    write_csv(
        folder,
        "attendance.csv",
        "student_id,school_id,date,code",
        [("S1", "MS1", "2024-10-01", "U"), ("S1", "ZZ9", "2026-07-01", "Q")],
    )
    write_csv(folder, "calendar.csv", "school_id,date", [("", "2026-08-31"), ("", "2026-06-10")])
    write_csv(
        folder,
        "enrollments.csv",
        "student_id,school_id,entry_date,exit_date",
        [("S2", "HS1", "2026-09-01", ""), ("S5", "MS1", "2024-08-26", "2025-06-01"), ("S1", "MS1", "2025-08-25", "")],
    )

    run = run_import(year, folder)

    reasons = {(row[0], row[1]) for row in _held(run)}
    assert reasons == {
        ("outside_school_year", "date"),
        ("outside_school_year", "entry_date"),
        ("outside_school_year", "exit_date"),
    }
    assert run.rows_quarantined == 5
    messages = [row[2] for row in _held(run)]
    assert "Oct. 1, 2024 is outside the school year 2025-26 (Aug. 25, 2025 to June 10, 2026)." in messages
    assert (
        "The stay from Aug. 26, 2024 to June 1, 2025 is outside the school year 2025-26 (Aug. 25, 2025 to June 10, 2026)."
        in messages
    )
    assert run.entity_counts["calendar"]["added"] == 1  # the year's last day is in it


def test_an_import_for_an_earlier_school_year_loads_last_years_files(year, tmp_path):
    folder = tmp_path / "2024-25"
    write_csv(folder, "calendar.csv", "school_id,date", [("", "2024-10-01"), ("", "2024-10-02")])
    write_csv(
        folder,
        "enrollments.csv",
        "student_id,school_id,entry_date,exit_date",
        [("S1", "MS1", "2024-08-26", "2025-06-11")],
    )
    write_csv(folder, "attendance.csv", "student_id,school_id,date,code", [("S1", "MS1", "2024-10-01", "U")])

    current = run_import(year, folder)
    earlier = run_import(year, folder, school_year="2024-25")

    assert current.rows_quarantined == 4 and current.added == 0
    assert earlier.status == ImportRun.Status.SUCCEEDED and earlier.school_year == "2024-25"
    assert earlier.rows_quarantined == 0 and earlier.added == 4
    with scope(district=year):
        assert AttendanceRecord.objects.filter(date=D(2024, 10, 1)).count() == 1


def test_a_replay_reads_each_held_row_against_its_own_imports_year(year, tmp_path):
    folder = tmp_path / "2024-25"
    write_csv(folder, "calendar.csv", "school_id,date", [("", "2024-10-01")])
    write_csv(
        folder,
        "enrollments.csv",
        "student_id,school_id,entry_date,exit_date",
        [("S1", "MS1", "2024-08-26", "2025-06-11")],
    )
    write_csv(folder, "attendance.csv", "student_id,school_id,date,code", [("S1", "MS1", "2024-10-01", "Z")])
    earlier = run_import(year, folder, school_year="2024-25")
    assert [row[0] for row in _held(earlier)] == ["unknown_code"]
    with scope(district=year):
        AttendanceCode.objects.create(district=year, code="Z", category="absent_excused")

    replayed = replay(year)

    assert replayed.entity_counts["attendance"]["resolved"] == 1


def test_the_command_line_and_the_upload_form_name_the_school_year(year, tmp_path, tenant_a, login):
    folder = write_csv(tmp_path / "c", "calendar.csv", "school_id,date", [("", "2024-10-01")])
    out = io.StringIO()
    call_command(
        "import_sis", "--district", "alpha", "--format", "csv", "--school-year", "2024-25", str(folder), stdout=out
    )
    assert "calendar: read 1, added 1" in out.getvalue()

    page = login(tenant_a.user("district_admin")).get(reverse("imports:index", kwargs={"district": "alpha"}))
    assert page.context["form"].fields["school_year"].choices == [
        ("", "2025-26 (this year)"),
        ("2024-25", "2024-25"),
        ("2023-24", "2023-24"),
    ]


def test_a_school_year_that_is_not_one_is_refused(year, tmp_path):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="like 2024-25"):
        run_import(
            year,
            write_csv(tmp_path / "c", "calendar.csv", "school_id,date", [("", "2024-10-01")]),
            school_year="2024-26",
        )
