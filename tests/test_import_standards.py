"""OneRoster 1.1/1.2 CSV and Ed-Fi (DS 4/5) JSON and XML imports, from fixtures written to the
public standards, and the Ed-Fi descriptor mapping checked against the official code lists."""

import datetime
import re
import shutil

import pytest
from django_scopes import scope

from districts.models import School
from imports.messages import note_text
from imports.models import ImportRun, QuarantinedRow
from imports.parsing.edfi import (
    ATTENDANCE_EVENT_CATEGORIES,
    INSTRUCTIONAL_EVENTS,
    NON_INSTRUCTIONAL_EVENTS,
    resource_name,
)
from students.models import AttendanceCode, AttendanceRecord, CalendarDay, Enrollment, Guardian, Student

from .import_support import FIXTURES, _media_in_tmp, run_import  # noqa: F401
from .shared_data import shared_data

DESCRIPTORS = shared_data("edfi-descriptors")
D = datetime.date


def _state(district) -> dict:
    """Everything an import writes, as plain values, to compare two imports."""
    with scope(district=district):
        return {
            "schools": sorted(School.objects.exclude(sis_id__regex=r"^S\d{3,}$").values_list("sis_id", "name")),  # not conftest's
            "students": sorted(Student.objects.values_list(
                "sis_id", "first_name", "last_name", "birth_date", "grade", "home_language", "race_ethnicity",
                "econ_disadvantaged", "disability", "english_learner", "homeless", "foster")),
            "enrollments": sorted(Enrollment.objects.values_list("student__sis_id", "school__sis_id", "grade", "entry_date", "exit_date", "exit_reason")),
            "calendar": sorted(CalendarDay.objects.values_list("school__sis_id", "date", "instructional", "minutes", "event")),
            "attendance": sorted(AttendanceRecord.objects.values_list("student__sis_id", "school__sis_id", "date", "code", "category", "minutes_absent")),
            "guardians": sorted(Guardian.objects.values_list("student__sis_id", "name", "relationship", "phone", "email")),
            "held": sorted(QuarantinedRow.objects.filter(resolved=False).values_list("entity", "reason", "code")),
        }  # fmt: skip


# --- OneRoster ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_oneroster_roster_import(tenant_a, version):
    run = run_import(tenant_a.district, FIXTURES / f"oneroster-{version}", format="oneroster")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    notes = [note_text(note) for note in run.notes]
    assert f"OneRoster {version} export." in notes
    assert "users.csv: left out 1 row marked tobedeleted." in notes
    state = _state(tenant_a.district)
    assert state["schools"] == [("HS1", "Oak High"), ("MS1", "Maple Middle"), ("org-s3", "Birch Academy")]
    students = {row[0]: row for row in state["students"]}
    assert set(students) == {"S1", "S2", "S4", "u-4"}  # identifier when filled, sourcedId otherwise
    assert students["S1"][1:7] == ("Ana", "Rivera", D(2013, 4, 2), "7", "", "Hispanic")
    assert students["S4"][4:7] == ("10", "", "Two or more")
    assert students["u-4"][4] == "K"
    assert state["guardians"] == [
        ("S1", "Maria Rivera", "parent", "919-555-0101", "maria@example.org"),
        ("S2", "Grace Okafor", "guardian", "919-555-0102", ""),
        ("S4", "Lan Nguyen", "relative", "919-555-0104", ""),
    ]
    assert state["enrollments"] == [
        ("S1", "MS1", "", D(2025, 8, 25), None, ""),  # two classes, no begin date: the school year's start
        ("S2", "MS1", "", D(2025, 8, 25), None, ""),
        ("S4", "HS1", "", D(2025, 9, 8), None, ""),
        ("u-4", "org-s3", "", D(2025, 8, 25), D(2025, 10, 1), ""),
    ]
    assert state["held"] == [("enrollments", "unknown_student", "")]  # u-77 is in no users.csv


def test_oneroster_1_1_and_1_2_give_the_same_district(tenant_a, tenant_b):
    run_import(tenant_a.district, FIXTURES / "oneroster-1.1", format="oneroster")
    run_import(tenant_b.district, FIXTURES / "oneroster-1.2", format="oneroster")

    assert _state(tenant_a.district) == _state(tenant_b.district)


def test_oneroster_reimport_changes_nothing(tenant_a):
    run_import(tenant_a.district, FIXTURES / "oneroster-1.2", format="oneroster")

    again = run_import(tenant_a.district, FIXTURES / "oneroster-1.2", format="oneroster")

    assert (again.added, again.changed, again.removed) == (0, 0, 0)


def test_oneroster_students_meet_their_canonical_attendance(tenant_a, tmp_path):
    """OneRoster has no attendance: the canonical CSV brings it for the same SIS ids."""
    run_import(tenant_a.district, FIXTURES / "oneroster-1.1", format="oneroster")
    attendance = tmp_path / "attendance"
    attendance.mkdir()
    shutil.copy(FIXTURES / "canonical" / "calendar.csv", attendance)
    (attendance / "attendance.csv").write_text(
        "student_id,school_id,date,code\nS1,MS1,2025-08-26,U\nS4,HS1,2025-09-09,E\n"
    )

    run = run_import(tenant_a.district, attendance)

    assert run.entity_counts["attendance"]["added"] == 2


def test_a_oneroster_export_without_users_is_rejected(tenant_a, tmp_path):
    folder = tmp_path / "or"
    folder.mkdir()
    shutil.copy(FIXTURES / "oneroster-1.1" / "orgs.csv", folder)

    run = run_import(tenant_a.district, folder, format="oneroster")

    assert run.status == ImportRun.Status.REJECTED
    assert "users.csv" in run.errors[0]["file"]


# --- Ed-Fi ----------------------------------------------------------------------------------


def test_edfi_json_import(tenant_a):
    run = run_import(tenant_a.district, FIXTURES / "edfi-json", format="edfi-json")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    state = _state(tenant_a.district)
    assert [school for school, _ in state["schools"]] == ["255901001", "255901044"]
    students = {row[0]: row for row in state["students"]}
    assert students["604821"][1:5] == ("Lisa", "Woods", D(2014, 3, 2), "")
    assert students["604821"][5:12] == ("English", "White", True, False, False, False, False)
    assert students["604822"][5:12] == ("Spanish", "Hispanic", True, False, False, True, False)
    assert students["604823"][5:12] == ("Vietnamese", "Asian", False, False, True, False, False)
    assert students["604824"][5:12] == ("English", "Two or more", False, True, False, False, True)
    assert ("604823", "255901001", "5", D(2025, 8, 25), D(2025, 9, 12), "Transferred") in state["enrollments"]
    assert ("255901044", D(2025, 9, 1), False, 360, "Holiday") in state["calendar"]
    assert ("255901044", D(2025, 9, 12), True, 360, "Instructional day") in state["calendar"]  # track A teaches
    assert state["attendance"] == [
        ("604821", "255901044", D(2025, 8, 27), "Excused Absence", "absent_excused", None),
        ("604821", "255901044", D(2025, 9, 3), "Tardy", "tardy", 18),
        ("604822", "255901044", D(2025, 9, 2), "Unexcused Absence (part day)", "partial_day", 180),
        ("604822", "255901044", D(2025, 9, 4), "Early departure", "early_dismissal", 90),
        ("604823", "255901001", D(2025, 9, 5), "Partial", "partial_day", 180),
        ("604823", "255901044", D(2025, 9, 15), "Unexcused Absence", "absent_unexcused", None),
    ]
    assert state["held"] == [
        ("attendance", "non_instructional_day", "Unexcused Absence"),  # on Labor Day
        ("attendance", "unknown_code", "Field Trip"),  # not an Ed-Fi category: never guessed
        ("attendance", "unknown_student", "Unexcused Absence"),
    ]
    assert run.entity_counts["attendance"]["dropped"] == 1  # "In Attendance" is a present day


def test_edfi_installs_its_attendance_categories_in_the_code_map(tenant_a):
    run_import(tenant_a.district, FIXTURES / "edfi-xml", format="edfi-xml")

    with scope(district=tenant_a.district):
        codes = dict(AttendanceCode.objects.values_list("code", "category"))
    assert codes["Early departure"] == "early_dismissal" and codes["In Attendance"] == "present"
    assert "P" not in codes, "the canonical defaults are not installed for Ed-Fi"


def test_edfi_json_and_xml_give_the_same_district(tenant_a, tenant_b):
    json_run = run_import(tenant_a.district, FIXTURES / "edfi-json", format="edfi-json")
    xml_run = run_import(tenant_b.district, FIXTURES / "edfi-xml", format="edfi-xml")

    assert xml_run.status == ImportRun.Status.SUCCEEDED, xml_run.errors
    assert _state(tenant_a.district) == _state(tenant_b.district)
    assert json_run.entity_counts == xml_run.entity_counts


def test_edfi_reimport_changes_nothing(tenant_a):
    run_import(tenant_a.district, FIXTURES / "edfi-xml", format="edfi-xml")

    again = run_import(tenant_a.district, FIXTURES / "edfi-xml", format="edfi-xml")

    assert (again.added, again.changed, again.removed) == (0, 0, 0)


def test_held_edfi_rows_name_file_and_record(tenant_a):
    run_import(tenant_a.district, FIXTURES / "edfi-json", format="edfi-json")

    with scope(district=tenant_a.district):
        held = QuarantinedRow.objects.get(reason="unknown_code")
    assert (held.file_name, held.row_number) == ("studentSchoolAttendanceEvents.json", 9)


@pytest.mark.parametrize("fmt, name, content, where", [
    ("edfi-json", "students.json", '[{"studentUniqueId": "1",}]', ("students.json", 1)),
    ("edfi-xml", "Interchange-Student.xml", "<InterchangeStudent><Student><StudentUniqueId>1</Student></InterchangeStudent>", ("Interchange-Student.xml", 1)),
])  # fmt: skip
def test_malformed_edfi_files_are_rejected_naming_the_place(tenant_a, tmp_path, fmt, name, content, where):
    (tmp_path / name).write_text(content)

    run = run_import(tenant_a.district, tmp_path / name, format=fmt)

    assert run.status == ImportRun.Status.REJECTED
    assert (run.errors[0]["file"], run.errors[0]["row"]) == where


def _official_codes(descriptor: str) -> set[str]:
    return set(re.findall(r"<CodeValue>([^<]+)</CodeValue>", (DESCRIPTORS / f"{descriptor}.xml").read_text()))


@pytest.mark.skipif(not DESCRIPTORS.exists(), reason="the shared Ed-Fi descriptor lists are not on this machine")
def test_every_official_attendance_event_category_has_a_meaning():
    assert _official_codes("AttendanceEventCategoryDescriptor") == set(ATTENDANCE_EVENT_CATEGORIES)


@pytest.mark.skipif(not DESCRIPTORS.exists(), reason="the shared Ed-Fi descriptor lists are not on this machine")
def test_every_official_calendar_event_is_instructional_or_not():
    assert _official_codes("CalendarEventDescriptor") == INSTRUCTIONAL_EVENTS | NON_INSTRUCTIONAL_EVENTS
    assert not INSTRUCTIONAL_EVENTS & NON_INSTRUCTIONAL_EVENTS


def test_resource_names_from_files_and_elements():
    assert resource_name("studentSchoolAttendanceEvents.json") == "studentschoolattendanceevent"
    assert resource_name("StudentSchoolAttendanceEvent") == "studentschoolattendanceevent"
    assert resource_name("calendarDates.json") == "calendardate"
    assert (
        resource_name("ed-fi/studentEducationOrganizationAssociations.json")
        == "studenteducationorganizationassociation"
    )
