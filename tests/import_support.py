"""Shared helpers for the import tests: run an import the way the command line does, inside
the district's scope, with stored files kept in a temporary media folder."""

import datetime
from pathlib import Path

import pytest
from django_scopes import scope

from imports import services
from imports.models import ColumnMapping, ImportRun
from students.models import AttendanceRecord, CalendarDay, Enrollment, Guardian, PriorYearSummary, Student

from .shared_data import shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
CONTOSO = shared_data("oea-contoso-sis")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_import(
    district, path, *, format="csv", mapping=None, source=ImportRun.Source.COMMAND, allow_removals=False, school_year=""
) -> ImportRun:
    with scope(district=district):
        run = services.import_run_create(
            district=district,
            format=format,
            path=path,
            mapping=mapping,
            source=source,
            allow_removals=allow_removals,
            school_year=school_year,
        )
        return services.import_run_process(run=run)


def replay(district) -> ImportRun:
    with scope(district=district):
        run = services.quarantine_replay_create(district=district)
        return services.import_run_process(run=run)


def import_objects_of(district) -> tuple[ImportRun, ColumnMapping]:
    """An import run and a column mapping of the district, for routes that name one
    (tests/test_isolation_matrix.py fills import_run_id and mapping_id from these)."""
    with scope(district=district):
        run = ImportRun.objects.filter(original_name="matrix.zip").first() or ImportRun.objects.create(
            district=district, original_name="matrix.zip", status=ImportRun.Status.SUCCEEDED
        )
        mapping, _ = ColumnMapping.objects.get_or_create(district=district, format="sis_csv", name="Matrix mapping")
    return run, mapping


# --- a small school year, for the scope, guard and undo tests ---------------------------------

D = datetime.date
FIRST_DAY, LAST_DAY = D(2025, 8, 25), D(2025, 10, 31)
STUDENTS = ["S1", "S2", "S3", "S4", "S5", "S6"]


def school_days():
    day = FIRST_DAY
    while day <= LAST_DAY:
        yield day, day.weekday() < 5
        day += datetime.timedelta(days=1)


OPEN_DAYS_OF_YEAR = [day for day, open_ in school_days() if open_]


def write_csv(folder, name, header, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(header + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return folder


def build_year(district, tmp_path):
    """District A with two schools, a weekday calendar, six students (S3 enters late, S6 leaves MS1 for HS1),
    guardians, prior years and an absence on every school day for S1, S2 and S4."""
    folder = tmp_path / "year"
    write_csv(folder, "schools.csv", "school_id,name", [("MS1", "Maple Middle"), ("HS1", "Oak High")])
    write_csv(
        folder, "students.csv", "student_id,first_name,last_name", [(s, f"First{s}", f"Last{s}") for s in STUDENTS]
    )
    write_csv(
        folder,
        "enrollments.csv",
        "student_id,school_id,entry_date,exit_date",
        [
            ("S1", "MS1", FIRST_DAY, ""),
            ("S2", "MS1", FIRST_DAY, ""),
            ("S3", "MS1", D(2025, 9, 8), ""),
            ("S4", "HS1", FIRST_DAY, ""),
            ("S5", "HS1", FIRST_DAY, ""),
            ("S6", "MS1", FIRST_DAY, D(2025, 9, 15)),
            ("S6", "HS1", D(2025, 9, 15), ""),
        ],
    )
    write_csv(
        folder,
        "calendar.csv",
        "school_id,date,instructional",
        [("", day, "Y" if open_ else "N") for day, open_ in school_days()],
    )
    write_csv(
        folder,
        "guardians.csv",
        "student_id,name,phone",
        [(s, f"Parent {s}", "919-555-0100") for s in STUDENTS] + [("S1", "Second S1", "919-555-0111")],
    )
    write_csv(
        folder,
        "prior_year.csv",
        "student_id,school_year,days_enrolled,days_absent",
        [(s, "2024-25", 180, 9) for s in STUDENTS],
    )
    open_days = [day for day, open_ in school_days() if open_]
    attendance = [
        (s, school, day, "U") for s, school in (("S1", "MS1"), ("S2", "MS1"), ("S4", "HS1")) for day in open_days
    ]
    write_csv(folder, "attendance.csv", "student_id,school_id,date,code", attendance)
    run = run_import(district, folder)
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.removed == 0 and run.rows_quarantined == 0
    return district


def district_state(district) -> dict[str, set]:
    with scope(district=district):
        return {
            "attendance": set(AttendanceRecord.objects.values_list("student__sis_id", "school__sis_id", "date", "code")),
            "enrollments": set(Enrollment.objects.values_list("student__sis_id", "school__sis_id", "entry_date", "exit_date")),
            "calendar": set(CalendarDay.objects.values_list("school__sis_id", "date", "instructional")),
            "guardians": set(Guardian.objects.values_list("student__sis_id", "name", "phone")),
            "students": set(Student.objects.values_list("sis_id", "first_name", "last_name")),
            "prior_year": set(PriorYearSummary.objects.values_list("student__sis_id", "school_year", "days_absent")),
        }  # fmt: skip
