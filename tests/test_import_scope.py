"""What a file may remove (docs/imports.md, "The file's scope"): only rows an import places define
what it covers, so a held row never widens it, and a nightly delta file of any entity, in any
format, removes nothing of the students, schools and days it does not name (issue 9)."""

import datetime
import json
import shutil

import pytest
from django_scopes import scope

from imports import services
from imports.models import ImportRun

from .import_support import FIRST_DAY, FIXTURES, _media_in_tmp, build_year, run_import, write_csv  # noqa: F401
from .import_support import district_state as _state

D = datetime.date


@pytest.fixture
def year(tenant_a, tmp_path):
    return build_year(tenant_a.district, tmp_path)


# --- held rows never widen what a file covers -----------------------------------------------

GOOD_DAY = D(2025, 9, 17)
HELD_ROWS = {
    # case: ((a held row before the good row's day, its reason), (one after it, its reason))
    "typo in the year": (
        (("S1", "MS1", "2015-09-10", "E"), "outside_school_year"),
        (("S1", "MS1", "2052-09-10", "E"), "future_date"),
    ),
    "weekend": (
        (("S1", "MS1", "2025-08-30", "E"), "non_instructional_day"),
        (("S1", "MS1", "2025-10-25", "E"), "non_instructional_day"),
    ),
    "a day past either end of the school year": (
        (("S1", "MS1", "2025-08-22", "E"), "outside_school_year"),  # the Friday before the year's first day
        (("S1", "MS1", "2026-06-11", "E"), "outside_school_year"),  # the day after its last
    ),
    "outside the enrollment": (
        (("S3", "MS1", "2025-09-02", "E"), "outside_enrollment"),  # before S3's entry
        (("S6", "MS1", "2025-10-20", "E"), "outside_enrollment"),  # after S6 left MS1
    ),
}


@pytest.mark.parametrize("edge", ["before", "after"])
@pytest.mark.parametrize("case", sorted(HELD_ROWS))
def test_a_held_row_at_either_edge_removes_nothing_beyond_the_placed_rows_day(year, tmp_path, case, edge):
    before = _state(year)
    held, reason = HELD_ROWS[case][0 if edge == "before" else 1]
    good = ("S1", "MS1", GOOD_DAY, "E")  # S1's U that day becomes E; S2's U that day is no longer sent
    folder = write_csv(
        tmp_path / "nightly",
        "attendance.csv",
        "student_id,school_id,date,code",
        [held, good] if edge == "before" else [good, held],
    )

    run = run_import(year, folder)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.entity_counts["attendance"]["quarantined"] == 1
    with scope(district=year):
        assert run.quarantined_rows.get().reason == reason
    after = _state(year)["attendance"]
    assert before["attendance"] - after == {("S1", "MS1", GOOD_DAY, "U"), ("S2", "MS1", GOOD_DAY, "U")}
    assert after - before["attendance"] == {("S1", "MS1", GOOD_DAY, "E")}
    assert run.removed == 2


def test_a_file_whose_every_row_is_held_removes_nothing(year, tmp_path):
    before = _state(year)
    folder = write_csv(
        tmp_path / "typos",
        "attendance.csv",
        "student_id,school_id,date,code",
        [("S1", "MS1", "2052-09-01", "U"), ("S2", "MS1", "2015-10-30", "U")],
    )

    run = run_import(year, folder)

    assert (run.removed, run.rows_quarantined) == (0, 2)
    assert _state(year) == before


def test_a_row_for_an_unknown_school_or_student_covers_nothing(year, tmp_path):
    before = _state(year)
    rows = [("S1", "ZZ9", "2025-09-02", "U"), ("S99", "MS1", "2025-09-30", "U"), ("S1", "MS1", "2025-09-10", "U")]
    run = run_import(year, write_csv(tmp_path / "x", "attendance.csv", "student_id,school_id,date,code", rows))

    assert run.rows_quarantined == 2
    after = _state(year)["attendance"]
    assert before["attendance"] - after == {("S2", "MS1", D(2025, 9, 10), "U")}  # only 10 Sep at MS1 was sent


# --- canonical CSV delta files, entity by entity --------------------------------------------


def test_a_new_student_with_an_enrollment_unenrolls_nobody(year, tmp_path):
    """The issue's case: students.csv + enrollments.csv carrying one new student."""
    before = _state(year)
    folder = tmp_path / "delta"
    write_csv(folder, "students.csv", "student_id,first_name,last_name", [("S7", "Gia", "New")])
    write_csv(folder, "enrollments.csv", "student_id,school_id,entry_date", [("S7", "MS1", "2025-10-01")])

    run = run_import(year, folder)

    assert (run.added, run.changed, run.removed) == (2, 0, 0)
    after = _state(year)
    assert after["enrollments"] == before["enrollments"] | {("S7", "MS1", D(2025, 10, 1), None)}
    assert after["attendance"] == before["attendance"]


def test_an_enrollments_file_replaces_the_stays_of_the_students_it_names(year, tmp_path):
    """S6 comes with both stays, the first now ending a week later; S1's entry date is corrected.
    Their old stays go; nobody else's."""
    before = _state(year)
    rows = [
        ("S6", "MS1", FIRST_DAY, "2025-09-22"),
        ("S6", "HS1", "2025-09-22", ""),
        ("S1", "MS1", "2025-08-26", ""),
    ]
    run = run_import(
        year, write_csv(tmp_path / "e", "enrollments.csv", "student_id,school_id,entry_date,exit_date", rows)
    )

    assert run.entity_counts["enrollments"] == {
        **run.entity_counts["enrollments"],
        "added": 2,
        "changed": 1,
        "removed": 2,
    }
    after = _state(year)["enrollments"]
    assert before["enrollments"] - after == {
        ("S6", "MS1", FIRST_DAY, D(2025, 9, 15)),  # changed: its exit date
        ("S6", "HS1", D(2025, 9, 15), None),  # removed
        ("S1", "MS1", FIRST_DAY, None),  # removed
    }
    assert {row for row in after if row[0] not in ("S1", "S6")} == {
        row for row in before["enrollments"] if row[0] not in ("S1", "S6")
    }


def test_a_guardians_file_replaces_the_guardians_of_the_students_it_names(year, tmp_path):
    before = _state(year)
    rows = [("S1", "Parent S1", "919-555-0199")]  # S1's second guardian is gone; S1's phone changed

    run = run_import(year, write_csv(tmp_path / "g", "guardians.csv", "student_id,name,phone", rows))

    assert (run.added, run.changed, run.removed) == (0, 1, 1)
    after = _state(year)["guardians"]
    assert after == {row for row in before["guardians"] if row[0] != "S1"} | {("S1", "Parent S1", "919-555-0199")}


@pytest.mark.parametrize(
    "days",
    [[("", "2026-01-19", "N")], [("", "2025-09-01", "N"), ("", "2025-10-13", "N")]],
    ids=["one day", "two days far apart"],
)
def test_a_calendar_file_changes_the_days_it_lists_and_removes_none(year, tmp_path, days):
    before = _state(year)

    run = run_import(year, write_csv(tmp_path / "c", "calendar.csv", "school_id,date,instructional", days))

    assert run.removed == 0
    after = _state(year)["calendar"]
    listed = {D.fromisoformat(day) for _, day, _ in days}
    assert {row for row in after if row[1] not in listed} == {row for row in before["calendar"] if row[1] not in listed}
    assert {row for row in after if row[1] in listed} == {(None, day, False) for day in listed}


def test_a_nightly_attendance_file_replaces_only_the_days_it_carries(year, tmp_path):
    """Yesterday and a correction three weeks back: the days between are not touched."""
    before = _state(year)
    rows = [("S1", "MS1", "2025-09-30", "E"), ("S4", "HS1", "2025-09-30", "U"), ("S2", "MS1", "2025-09-09", "E")]

    run = run_import(year, write_csv(tmp_path / "a", "attendance.csv", "student_id,school_id,date,code", rows))

    after = _state(year)["attendance"]
    assert before["attendance"] - after == {
        ("S1", "MS1", D(2025, 9, 30), "U"),
        ("S2", "MS1", D(2025, 9, 30), "U"),  # present now: MS1's 30 Sep came whole without it
        ("S1", "MS1", D(2025, 9, 9), "U"),
        ("S2", "MS1", D(2025, 9, 9), "U"),
    }
    assert after - before["attendance"] == {("S1", "MS1", D(2025, 9, 30), "E"), ("S2", "MS1", D(2025, 9, 9), "E")}
    assert run.removed == 4


def test_a_day_sent_as_all_present_clears_that_day(year, tmp_path):
    before = _state(year)
    rows = [("S1", "MS1", "2025-10-01", "P"), ("S2", "MS1", "2025-10-01", "P")]

    run = run_import(year, write_csv(tmp_path / "p", "attendance.csv", "student_id,school_id,date,code", rows))

    assert (run.added, run.removed) == (0, 2)
    assert before["attendance"] - _state(year)["attendance"] == {
        ("S1", "MS1", D(2025, 10, 1), "U"),
        ("S2", "MS1", D(2025, 10, 1), "U"),
    }


@pytest.mark.parametrize(
    "name, header, rows, entity",
    [
        ("schools.csv", "school_id,name", [("ES1", "Elm Elementary")], "schools"),
        ("students.csv", "student_id,first_name,last_name", [("S2", "Benjamin", "Okafor")], "students"),
        (
            "prior_year.csv",
            "student_id,school_year,days_enrolled,days_absent",
            [("S3", "2023-24", 170, 30)],
            "prior_year",
        ),
    ],
)
def test_schools_students_and_prior_years_are_only_added_or_updated(year, tmp_path, name, header, rows, entity):
    before = _state(year)

    run = run_import(year, write_csv(tmp_path / "d", name, header, rows))

    assert run.removed == 0 and run.added + run.changed == 1
    after = _state(year)
    for other in ("attendance", "enrollments", "guardians", "calendar"):
        assert after[other] == before[other]
    if entity != "schools":
        assert len(after[entity] - before[entity]) == 1
        assert len(before[entity] - after[entity]) == (1 if entity == "students" else 0)


# --- the same in the other formats ----------------------------------------------------------


def test_a_mapped_sis_delta_of_one_new_student_unenrolls_nobody(year, tmp_path):
    with scope(district=year):
        mapping = services.column_mapping_save(
            district=year,
            name="Nightly",
            columns={
                "students": {"student_id": "Student Number", "first_name": "First", "last_name": "Last"},
                "enrollments": {"student_id": "Student Number", "school_id": "School", "entry_date": "Entered"},
                "attendance": {"student_id": "Student Number", "school_id": "School", "date": "Day", "code": "Code"},
            },
            formats={},
            headers={},
        )
    before = _state(year)
    folder = tmp_path / "sis"
    write_csv(folder, "students_export.csv", "Student Number,First,Last", [("S7", "Gia", "New")])
    write_csv(folder, "enrollment_export.csv", "Student Number,School,Entered", [("S7", "MS1", "2025-10-01")])
    write_csv(folder, "attendance_export.csv", "Student Number,School,Day,Code", [("S7", "MS1", "2025-10-02", "U")])

    run = run_import(year, folder, format="sis_csv", mapping=mapping)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    after = _state(year)
    assert after["enrollments"] == before["enrollments"] | {("S7", "MS1", D(2025, 10, 1), None)}
    # A mapped attendance file is a whole school-day, like the canonical one: MS1's 2 Oct is now S7's.
    assert before["attendance"] - after["attendance"] == {
        ("S1", "MS1", D(2025, 10, 2), "U"),
        ("S2", "MS1", D(2025, 10, 2), "U"),
    }


def _oneroster_delta(tmp_path, mode: str):
    folder = tmp_path / f"oneroster-{mode}"
    shutil.copytree(FIXTURES / "oneroster-1.1", folder)
    manifest = (folder / "manifest.csv").read_text()
    (folder / "manifest.csv").write_text(
        manifest.replace("file.enrollments,bulk", f"file.enrollments,{mode}").replace(
            "file.users,bulk", f"file.users,{mode}"
        )
    )
    users = (folder / "users.csv").read_text().splitlines()
    (folder / "users.csv").write_text("\n".join([users[0], users[1], users[6]]) + "\n")  # Ana and her parent
    enrollments = (folder / "enrollments.csv").read_text().splitlines()
    (folder / "enrollments.csv").write_text("\n".join([enrollments[0], enrollments[1]]) + "\n")  # one of Ana's classes
    return folder


def test_a_oneroster_bulk_file_covers_the_students_it_names(tenant_a, tmp_path):
    run_import(tenant_a.district, FIXTURES / "oneroster-1.1", format="oneroster")
    before = _state(tenant_a.district)

    run = run_import(tenant_a.district, _oneroster_delta(tmp_path, "bulk"), format="oneroster")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    after = _state(tenant_a.district)
    assert after["enrollments"] == before["enrollments"]  # Ana's stay is unchanged; nobody else's moved
    assert after["guardians"] == before["guardians"]


def test_a_oneroster_delta_file_only_adds_and_updates(tenant_a, tmp_path):
    run_import(tenant_a.district, FIXTURES / "oneroster-1.1", format="oneroster")
    folder = _oneroster_delta(tmp_path, "delta")
    (folder / "enrollments.csv").write_text(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n"
        "e-9,active,2025-10-01T00:00:00.000Z,c-bio,org-s2,u-1,student,false,2025-10-01,\n"
    )
    (folder / "users.csv").write_text((FIXTURES / "oneroster-1.1" / "users.csv").read_text().splitlines()[0] + "\n"
                                      + "p-8,active,2025-08-01T00:00:00.000Z,false,org-s1,guardian,x,,Rob,Rivera,,,,,919-555-0108,u-1,,\n"
                                      + (FIXTURES / "oneroster-1.1" / "users.csv").read_text().splitlines()[1] + "\n")  # fmt: skip
    before = _state(tenant_a.district)

    run = run_import(tenant_a.district, folder, format="oneroster")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.removed == 0
    after = _state(tenant_a.district)
    assert after["enrollments"] == before["enrollments"] | {("S1", "HS1", D(2025, 10, 1), None)}
    assert after["guardians"] == before["guardians"] | {("S1", "Rob Rivera", "919-555-0108")}


def test_edfi_change_files_remove_only_the_student_days_they_carry(tenant_a, tmp_path):
    run_import(tenant_a.district, FIXTURES / "edfi-json", format="edfi-json")
    before = _state(tenant_a.district)
    events = json.loads((FIXTURES / "edfi-json" / "studentSchoolAttendanceEvents.json").read_text())
    absences = [event for event in events if event["attendanceEventCategoryDescriptor"].endswith("#Unexcused Absence")]
    changed = {
        **absences[0],
        "attendanceEventCategoryDescriptor": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence",
    }
    associations = json.loads((FIXTURES / "edfi-json" / "studentSchoolAssociations.json").read_text())
    moved = {**associations[0], "entryDate": "2025-09-02"}
    folder = tmp_path / "edfi-delta"
    folder.mkdir()
    (folder / "studentSchoolAttendanceEvents.json").write_text(json.dumps([changed]))
    (folder / "studentSchoolAssociations.json").write_text(json.dumps([moved]))

    run = run_import(tenant_a.district, folder, format="edfi-json")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    after = _state(tenant_a.district)
    student, school, day = (
        absences[0]["studentReference"]["studentUniqueId"],
        str(absences[0]["schoolReference"]["schoolId"]),
        D.fromisoformat(absences[0]["eventDate"]),
    )
    gone = before["attendance"] - after["attendance"]
    assert {row[:3] for row in gone} == {(student, school, day)}
    (added,) = after["attendance"] - before["attendance"]
    assert added[:3] == (student, school, day) and added[3].startswith("Excused Absence")
    # An association is a record of its own: a new entry date adds a stay and removes none.
    assert before["enrollments"] <= after["enrollments"]
    assert len(after["enrollments"]) == len(before["enrollments"]) + 1
