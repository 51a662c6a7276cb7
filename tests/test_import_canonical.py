"""Canonical CSV imports (SPEC §4) end to end: every entity, held rows, duplicates, rejection,
idempotent re-import and corrections."""

import datetime
import hashlib
import io
import shutil
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django_scopes import scope

from imports.messages import error_text
from imports.models import ImportRun, QuarantinedRow
from students.models import (
    AttendanceCode,
    AttendanceRecord,
    CalendarDay,
    Enrollment,
    Guardian,
    PriorYearSummary,
    Student,
)

from .import_support import FIXTURES, _media_in_tmp, replay, run_import  # noqa: F401

CANONICAL = FIXTURES / "canonical"
EXPECTED_HELD = [
    (10, "conflicting_duplicate", "minutes_absent"),
    (11, "outside_enrollment", "date"),
    (14, "unknown_code", "code"),
    (15, "non_instructional_day", "date"),
    (16, "non_instructional_day", "date"),
    (17, "partial_without_minutes", "minutes_absent"),
    (18, "outside_enrollment", "date"),
    (20, "non_instructional_day", "date"),
    (21, "unknown_student", "student_id"),
    (22, "unknown_school", "school_id"),
]


def _records(district) -> set[tuple]:
    with scope(district=district):
        return set(
            AttendanceRecord.objects.values_list(
                "student__sis_id", "school__sis_id", "date", "code", "category", "minutes_absent"
            )
        )


def _open_held(district):
    with scope(district=district):
        return list(QuarantinedRow.objects.filter(resolved=False).order_by("row_number"))


def test_canonical_folder_loads_every_entity(tenant_a):
    run = run_import(tenant_a.district, CANONICAL)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    with scope(district=tenant_a.district):
        assert Student.objects.count() == 6
        ana = Student.objects.get(sis_id="S1")
        assert (ana.first_name, ana.birth_date, ana.grade, ana.home_language) == (
            "Ana",
            datetime.date(2013, 4, 2),
            "7",
            "Spanish",
        )
        assert (ana.econ_disadvantaged, ana.english_learner, ana.disability) == (True, True, False)
        assert Student.objects.get(sis_id="S2").grade == "8"  # "08" in the file
        assert Enrollment.objects.filter(student__sis_id="S6").count() == 2
        assert Enrollment.objects.get(student__sis_id="S6", school__sis_id="MS1").exit_date == datetime.date(
            2025, 9, 15
        )
        assert CalendarDay.objects.filter(school__isnull=True).count() == 37
        assert not CalendarDay.objects.get(school__sis_id="MS1", date="2025-09-12").instructional
        channels = dict(Guardian.objects.values_list("student__sis_id", "preferred_channel"))
        assert channels == {"S1": "text", "S2": "email", "S3": "phone", "S4": "phone", "S5": "", "S6": "text"}
        assert PriorYearSummary.objects.get(student__sis_id="S4").days_absent == 30
    assert run.rows_read == 2 + 6 + 7 + 39 + 6 + 3 + 22
    assert run.entity_counts["attendance"] == {
        "read": 22, "added": 10, "changed": 0, "removed": 0, "quarantined": 10, "duplicates": 1, "dropped": 1, "resolved": 0,
    }  # fmt: skip


def test_attendance_is_stored_with_its_category_and_minutes(tenant_a):
    run_import(tenant_a.district, CANONICAL)

    records = _records(tenant_a.district)
    assert ("S1", "MS1", datetime.date(2025, 8, 26), "U", "absent_unexcused", None) in records
    assert ("S1", "MS1", datetime.date(2025, 9, 3), "T", "tardy", 15) in records
    assert ("S2", "MS1", datetime.date(2025, 9, 2), "H", "partial_day", 180) in records
    assert ("S6", "HS1", datetime.date(2025, 9, 16), "I", "suspension_in_school", None) in records
    assert ("S4", "HS1", datetime.date(2025, 9, 12), "T", "tardy", 10) in records  # HS1 kept school that day
    assert not any(record[3] == "P" for record in records), "present days are not stored"
    assert len(records) == 10


def test_rows_that_cannot_be_placed_are_held_with_file_row_field_and_reason(tenant_a):
    run_import(tenant_a.district, CANONICAL)

    held = _open_held(tenant_a.district)
    assert [(row.row_number, row.reason, row.field) for row in held] == EXPECTED_HELD
    assert {row.file_name for row in held} == {"attendance.csv"}
    unknown = next(row for row in held if row.reason == "unknown_student")
    assert unknown.raw == {
        "student_id": "S99",
        "school_id": "MS1",
        "date": "2025-09-03",
        "code": "U",
        "minutes_absent": "",
    }
    assert "S99" in unknown.message_text
    assert next(row for row in held if row.reason == "unknown_code").code == "X"


def test_nothing_is_lost_every_row_is_stored_held_collapsed_or_present(tenant_a):
    run = run_import(tenant_a.district, CANONICAL)

    counts = run.entity_counts["attendance"]
    assert counts["added"] + counts["quarantined"] + counts["duplicates"] + counts["dropped"] == counts["read"]


def test_exact_duplicate_collapses_to_one_and_is_reported(tenant_a):
    run = run_import(tenant_a.district, CANONICAL)

    assert run.duplicates == 1
    with scope(district=tenant_a.district):
        twin = QuarantinedRow.objects.get(reason="duplicate")
        assert (twin.row_number, twin.resolved, twin.resolution) == (8, True, "collapsed")
        assert AttendanceRecord.objects.filter(student__sis_id="S2", date="2025-09-05").count() == 1


def test_default_code_map_is_installed_when_the_district_has_none(tenant_a):
    run_import(tenant_a.district, CANONICAL)

    with scope(district=tenant_a.district):
        assert dict(AttendanceCode.objects.values_list("code", "category"))["H"] == "partial_day"
        assert AttendanceCode.objects.count() == 8


def test_a_districts_own_code_map_is_kept(tenant_a):
    with scope(district=tenant_a.district):
        AttendanceCode.objects.create(district=tenant_a.district, code="U", category="absent_excused")

    run_import(tenant_a.district, CANONICAL)

    with scope(district=tenant_a.district):
        assert list(AttendanceCode.objects.values_list("code", flat=True)) == ["U"]
    assert ("S1", "MS1", datetime.date(2025, 8, 26), "U", "absent_excused", None) in _records(tenant_a.district)


def test_importing_the_same_folder_twice_changes_nothing(tenant_a):
    run_import(tenant_a.district, CANONICAL)
    before = _records(tenant_a.district)

    again = run_import(tenant_a.district, CANONICAL)

    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert _records(tenant_a.district) == before
    assert len(_open_held(tenant_a.district)) == len(EXPECTED_HELD), "held rows are not doubled"


def test_a_corrected_file_updates_removes_and_back_dates(tenant_a, tmp_path):
    run_import(tenant_a.district, CANONICAL)
    corrected = tmp_path / "corrected"
    shutil.copytree(CANONICAL, corrected)
    shutil.copy(FIXTURES / "corrected" / "attendance.csv", corrected / "attendance.csv")

    run = run_import(tenant_a.district, corrected)

    # The code is part of a record's identity (a day may hold a tardy and an early dismissal),
    # so U→E on 26 Aug counts as one removed and one added record.
    assert run.entity_counts["attendance"]["added"] == 2  # E on 26 Aug, and S2's back-dated 25 Aug
    assert run.entity_counts["attendance"]["changed"] == 1  # the tardy's minutes
    assert run.entity_counts["attendance"]["removed"] == 2  # U on 26 Aug, E on 27 Aug (now present)
    assert (run.added, run.changed, run.removed) == (2, 1, 2)
    records = _records(tenant_a.district)
    assert ("S1", "MS1", datetime.date(2025, 8, 26), "E", "absent_excused", None) in records
    assert not any(record[:3] == ("S1", "MS1", datetime.date(2025, 8, 27)) for record in records)
    assert ("S1", "MS1", datetime.date(2025, 9, 3), "T", "tardy", 20) in records
    assert ("S2", "MS1", datetime.date(2025, 8, 25), "U", "absent_unexcused", None) in records


def test_a_zip_imports_like_the_folder(tenant_a, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for item in CANONICAL.iterdir():
            bundle.write(item, f"nightly/{item.name}")

    run = run_import(tenant_a.district, archive)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert len(_records(tenant_a.district)) == 10


def test_the_uploaded_file_is_kept_under_the_district_with_its_checksum(tenant_a, tmp_path):
    single = tmp_path / "attendance.csv"
    shutil.copy(CANONICAL / "attendance.csv", single)

    run = run_import(tenant_a.district, single)

    assert run.stored_path.startswith(f"districts/{tenant_a.district.pk}/imports/{run.pk}/")
    with default_storage.open(run.stored_path, "rb") as stored:
        content = stored.read()
    assert content == single.read_bytes()
    assert run.sha256 == hashlib.sha256(content).hexdigest()
    assert run.size_bytes == len(content)


def _broken_copy(tmp_path, file: str, text: str):
    folder = tmp_path / "broken"
    shutil.copytree(CANONICAL, folder)
    (folder / file).write_text(text)
    return folder


@pytest.mark.parametrize(
    "file, text, row, column, words",
    [
        (
            "attendance.csv",
            "student_id,school_id,date,code\nS1,MS1,2025-08-26,U\nS1,MS1,2025-02-30,U\n",
            3,
            "date",
            "not a date",
        ),
        (
            "attendance.csv",
            "student_id,school_id,date,code\nS1,MS1,2025-08-26,U,5,extra\n",
            2,
            "column 5",
            "values in a row",
        ),
        ("attendance.csv", "student_id,school_id,code\nS1,MS1,U\n", 1, "date", "needs a 'date' column"),
        ("students.csv", "student_id,first_name,homeless\nS1,Ana,maybe\n", 2, "homeless", "not yes or no"),
        ("students.csv", "student_id,first_name\n,Ana\n", 2, "student_id", "required"),
        (
            "attendance.csv",
            "student_id,school_id,date,code,minutes_absent\nS1,MS1,2025-08-26,T,-5\n",
            2,
            "minutes_absent",
            "whole number",
        ),
        (
            "enrollments.csv",
            "student_id,school_id,entry_date,exit_date\nS1,MS1,2025-09-02,2025-08-30\n",
            2,
            "exit_date",
            "before the entry date",
        ),
        (
            "prior_year.csv",
            "student_id,school_year,days_enrolled,days_absent\nS1,2024-25,170,171\n",
            2,
            "days_absent",
            "more than the days enrolled",
        ),
    ],
)
def test_a_file_that_cannot_be_read_rejects_the_import_and_writes_nothing(
    tenant_a, tmp_path, file, text, row, column, words
):
    run = run_import(tenant_a.district, _broken_copy(tmp_path, file, text))

    assert run.status == ImportRun.Status.REJECTED
    error = run.errors[0]
    assert (error["file"], error["row"], error["column"]) == (file, row, column)
    assert words in error_text(error)
    with scope(district=tenant_a.district):
        assert Student.objects.count() == 0
        assert AttendanceRecord.objects.count() == 0
        assert QuarantinedRow.objects.count() == 0


def test_a_file_that_is_not_utf8_is_rejected_naming_the_row(tenant_a, tmp_path):
    folder = _broken_copy(tmp_path, "guardians.csv", "")
    (folder / "guardians.csv").write_bytes(b"student_id,name\nS1,Jos\xe9 Rivera\n")

    run = run_import(tenant_a.district, folder)

    assert run.status == ImportRun.Status.REJECTED
    assert (run.errors[0]["file"], run.errors[0]["row"]) == ("guardians.csv", 2)
    assert "UTF-8" in error_text(run.errors[0])


def test_replay_places_held_rows_once_their_code_is_mapped(tenant_a):
    run_import(tenant_a.district, CANONICAL)
    with scope(district=tenant_a.district):
        AttendanceCode.objects.create(district=tenant_a.district, code="X", category="absent_excused")

    replayed = replay(tenant_a.district)

    assert replayed.status == ImportRun.Status.SUCCEEDED
    assert replayed.entity_counts["attendance"]["resolved"] == 1
    assert ("S4", "HS1", datetime.date(2025, 9, 10), "X", "absent_excused", None) in _records(tenant_a.district)
    held = _open_held(tenant_a.district)
    assert len(held) == len(EXPECTED_HELD) - 1
    with scope(district=tenant_a.district):
        assert QuarantinedRow.objects.get(code="X").resolution == "replayed"


def test_replay_keeps_rows_whose_cause_is_not_fixed(tenant_a):
    run_import(tenant_a.district, CANONICAL)

    replayed = replay(tenant_a.district)

    assert replayed.entity_counts["attendance"]["resolved"] == 0
    assert [(row.row_number, row.reason) for row in _open_held(tenant_a.district)] == [
        (r, reason) for r, reason, _ in EXPECTED_HELD
    ]


def test_an_import_touches_only_its_own_district(tenant_a, tenant_b):
    run_import(tenant_b.district, CANONICAL)
    run_import(tenant_a.district, CANONICAL)

    with scope(district=tenant_b.district):
        b_students = set(Student.objects.values_list("pk", flat=True))
    with scope(district=tenant_a.district):
        a_students = set(Student.objects.values_list("pk", flat=True))
        assert not AttendanceRecord.objects.filter(student_id__in=b_students).exists()
    assert len(a_students) == len(b_students) == 6 and not a_students & b_students
    assert len(_records(tenant_b.district)) == 10


def test_command_line_prints_a_summary(tenant_a):
    out = io.StringIO()

    call_command("import_sis", "--district", "alpha", "--format", "csv", str(CANONICAL), stdout=out)

    text = out.getvalue()
    assert "Imported" in text
    assert "attendance: read 22, added 10, changed 0, removed 0, held 10, duplicates 1" in text
    assert "rows/s" in text


def test_command_line_exits_non_zero_when_a_file_is_rejected(tenant_a, tmp_path):
    folder = _broken_copy(tmp_path, "enrollments.csv", "student_id,school_id,entry_date\nS1,MS1,soon\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match="rejected"):
        call_command(
            "import_sis", "--district", "alpha", "--format", "csv", str(folder), stdout=io.StringIO(), stderr=err
        )

    assert "enrollments.csv, row 2, column 'entry_date'" in err.getvalue()


def test_command_line_refuses_an_unknown_district(db):
    with pytest.raises(CommandError, match="No district"):
        call_command("import_sis", "--district", "nowhere", "--format", "csv", str(CANONICAL), stdout=io.StringIO())
