"""SIS CSV exports read through a saved column mapping, on the OEA Contoso SIS test data:
day-first dates, weekend dates, a deliberate duplicate and IDs that do not join must all be
reported, with nothing lost."""

import datetime
import shutil

import pytest
from django_scopes import scope

from imports import services
from imports.messages import error_text
from imports.models import ImportRun, QuarantinedRow
from students.models import AttendanceCode, AttendanceRecord, Student

from .import_support import CONTOSO, FIXTURES, _media_in_tmp, replay, run_import  # noqa: F401

CONTOSO_ATTENDANCE = {
    "student_id": "student_id",
    "school_id": "school_id",
    "date": "attendance_date",
    "code": "AttendanceCode",
}
CONTOSO_DEMOGRAPHICS = {
    "student_id": "SIS ID",
    "race_ethnicity": "FederalRaceCategory",
    "home_language": "PrimaryLanguage",
    "english_learner": "ELLStatus",
    "disability": "SpecialEducation",
    "econ_disadvantaged": "LowIncome",
}
NONBLANK_FLAGS = {"english_learner": "nonblank", "disability": "nonblank"}
BATCH1_SCHOOLS = [
    "ab2a9665-ce87-4120-a8b5-edd392875e42",
    "79ab1377-61f3-4462-95c8-284cb10201b8",
    "00b46bad-eb1d-41d3-ad11-16095144a56f",
    "421b6506-5b1c-45b1-8f9f-d65a35bbcf32",
    "c4a80b3b-710f-4207-bf05-7688c6b6d5c5",
]


def _mapping(district, *, columns, formats=None, name="Contoso SIS"):
    with scope(district=district):
        return services.column_mapping_save(
            district=district, name=name, columns=columns, formats=formats or {}, headers={}
        )


def _weekdays(start, end):
    day = start
    while day <= end:
        yield day, day.weekday() < 5
        day += datetime.timedelta(days=1)


def _setup(tmp_path, district, *, schools, students, start, end, entry):
    """A canonical import giving the district the schools, students, enrollments and weekday
    calendar the SIS export refers to."""
    district.school_year_start, district.school_year_end = start, end  # the export's year is the district's
    district.save(update_fields=["school_year_start", "school_year_end"])
    folder = tmp_path / "setup"
    folder.mkdir()
    (folder / "schools.csv").write_text("school_id,name\n" + "".join(f"{s},School {s}\n" for s in schools))
    (folder / "students.csv").write_text(
        "student_id,first_name,last_name\n" + "".join(f"{s},First {s},Last {s}\n" for s in students)
    )
    (folder / "enrollments.csv").write_text(
        "student_id,school_id,entry_date\n" + "".join(f"{s},{schools[0]},{entry}\n" for s in students)
    )
    days = "".join(f",{day},{'Y' if open_ else 'N'}\n" for day, open_ in _weekdays(start, end))
    (folder / "calendar.csv").write_text("school_id,date,instructional\n" + days)
    run = run_import(district, folder)
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors


def _copy(tmp_path, *names):
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(CONTOSO / name, folder / name)
    return folder


def _held(district, **filters):
    with scope(district=district):
        return list(QuarantinedRow.objects.filter(resolved=False, **filters).order_by("row_number"))


def _accounted(counts) -> int:
    return counts["added"] + counts["quarantined"] + counts["duplicates"] + counts["dropped"]


@pytest.fixture
def batch_district(tenant_a, tmp_path):
    students = [f"st{n}" for n in range(1, 16)]
    _setup(
        tmp_path, tenant_a.district, schools=["sch1"], students=students,
        start=datetime.date(2020, 8, 10), end=datetime.date(2020, 9, 30), entry="2020-08-10",
    )  # fmt: skip
    return tenant_a.district


def test_batch2_month_first_dates_duplicates_and_unjoined_ids_are_all_reported(batch_district, tmp_path):
    mapping = _mapping(batch_district, columns={"attendance": CONTOSO_ATTENDANCE})

    run = run_import(batch_district, _copy(tmp_path, "batch2_studentattendance.csv"), format="sis_csv", mapping=mapping)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    counts = run.entity_counts["attendance"]
    assert counts["read"] == 20
    assert counts["duplicates"] == 4  # st4 and st5 twice on 16 Aug, st6 three times on 17 Aug
    assert _accounted(counts) == 20, "every row is stored, held, collapsed or a present day"
    reasons = {(row.row_number, row.reason) for row in _held(batch_district)}
    assert (2, "unknown_school") in reasons  # st100 at sch5: IDs that do not join
    weekend = [row for row in _held(batch_district, reason="non_instructional_day")]
    assert {row.values["date"] for row in weekend} == {"2020-08-16"}  # a Sunday, read as M/D/YYYY
    assert weekend[0].raw["attendance_date"] == "8/16/2020"
    with scope(district=batch_district):
        assert AttendanceRecord.objects.count() == 0  # every placeable row was a present day
    assert counts["dropped"] == 10


def test_batch1_ids_that_do_not_join_are_held_as_unknown_students(tenant_a, tmp_path):
    _setup(
        tmp_path, tenant_a.district, schools=BATCH1_SCHOOLS, students=[],
        start=datetime.date(2022, 1, 3), end=datetime.date(2022, 1, 28), entry="2022-01-03",
    )  # fmt: skip
    mapping = _mapping(
        tenant_a.district,
        columns={"attendance": CONTOSO_ATTENDANCE, "students": CONTOSO_DEMOGRAPHICS},
        formats={"students": NONBLANK_FLAGS},
    )
    export = _copy(tmp_path, "batch1_studentattendance.csv", "batch1_studentdemographics.csv")

    run = run_import(tenant_a.district, export, format="sis_csv", mapping=mapping)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    # Demographics carry no names: they update students we have and never create nameless ones
    # (issue 9: this export once added 100 students without a name).
    assert (run.entity_counts["students"]["added"], run.entity_counts["students"]["quarantined"]) == (0, 100)
    with scope(district=tenant_a.district):
        assert not Student.objects.exists()
    counts = run.entity_counts["attendance"]
    assert counts["read"] == 12000 and counts["quarantined"] == 12000
    assert {row.reason for row in _held(tenant_a.district)} == {"unknown_student"}


@pytest.fixture
def hello_district(tenant_b, tmp_path):
    _setup(
        tmp_path, tenant_b.district, schools=["sch0"], students=[],
        start=datetime.date(2019, 8, 26), end=datetime.date(2020, 6, 12), entry="2019-08-26",
    )  # fmt: skip
    return tenant_b.district


HELLO_STUDENTS = {
    "student_id": "SIS ID", "first_name": "First Name", "last_name": "Last Name", "grade": "Grade",
    "birth_date": "Birthdate", "race_ethnicity": "FederalRaceCategory", "home_language": "PrimaryLanguage",
}  # fmt: skip


def test_an_ambiguous_date_column_rejects_the_file_and_asks_the_admin_to_choose(hello_district, tmp_path):
    mapping = _mapping(hello_district, columns={"students": HELLO_STUDENTS})

    run = run_import(
        hello_district, _copy(tmp_path, "hello_world_small_day2_students.csv"), format="sis_csv", mapping=mapping
    )

    assert run.status == ImportRun.Status.REJECTED
    error = run.errors[0]
    assert (error["file"], error["row"], error["column"]) == ("hello_world_small_day2_students.csv", 2, "birth_date")
    assert "choose M/D/YYYY or D/M/YYYY" in error_text(error)
    with scope(district=hello_district):
        assert not Student.objects.exists()


def _hello_enrolled(district, tmp_path):
    mapping = _mapping(
        district,
        columns={"students": HELLO_STUDENTS, "attendance": CONTOSO_ATTENDANCE},
        formats={"students": {"birth_date": "mdy"}},
    )
    students = run_import(
        district, _copy(tmp_path, "hello_world_small_day2_students.csv"), format="sis_csv", mapping=mapping
    )
    assert students.status == ImportRun.Status.SUCCEEDED, students.errors
    enrollments = tmp_path / "enrollments"
    enrollments.mkdir()
    (enrollments / "enrollments.csv").write_text(
        "student_id,school_id,entry_date\nst1,sch0,2019-08-26\nst2,sch0,2019-08-26\n"
    )
    assert run_import(district, enrollments).status == ImportRun.Status.SUCCEEDED
    return mapping


def test_day_first_dates_weekends_and_per_section_rows(hello_district, tmp_path):
    mapping = _hello_enrolled(hello_district, tmp_path)
    with scope(district=hello_district):
        al = Student.objects.get(sis_id="st1")
        assert (al.first_name, al.birth_date, al.grade) == ("Al", datetime.date(2004, 4, 2), "11")

    run = run_import(
        hello_district,
        _copy(tmp_path, "hello_world_small_day2_studentattendance.csv"),
        format="sis_csv",
        mapping=mapping,
    )

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    counts = run.entity_counts["attendance"]
    assert counts["read"] == 2928
    assert counts["duplicates"] == 2083  # one row per section: same student, school, day and code
    assert _accounted(counts) == 2928
    weekend = _held(hello_district, reason="non_instructional_day")
    dates = {datetime.date.fromisoformat(row.values["date"]) for row in weekend}
    assert len(dates) == 70 and all(day.weekday() >= 5 for day in dates)
    assert {row.code for row in _held(hello_district, reason="unknown_code")} == {"A"}


def test_mapping_an_unknown_code_and_replaying_places_the_held_absences(hello_district, tmp_path):
    mapping = _hello_enrolled(hello_district, tmp_path)
    run_import(
        hello_district,
        _copy(tmp_path, "hello_world_small_day2_studentattendance.csv"),
        format="sis_csv",
        mapping=mapping,
    )
    waiting = len(_held(hello_district, reason="unknown_code"))
    assert waiting > 0
    with scope(district=hello_district):
        services.attendance_code_map(district=hello_district, code="A", category="absent_unexcused")

    replayed = replay(hello_district)

    resolved = replayed.entity_counts["attendance"]["resolved"]
    assert not _held(hello_district, reason="unknown_code")
    weekend_absences = _held(hello_district, reason="non_instructional_day", code="A")
    assert resolved + len(weekend_absences) == waiting, "an A on a Saturday is now held for the calendar instead"
    with scope(district=hello_district):
        stored = AttendanceRecord.objects.filter(code="A")
        assert stored.count() == resolved > 0
        assert not stored.filter(date__week_day__in=[1, 7]).exists()


def test_an_absences_only_export_with_its_own_headers_and_codes(tenant_a, tmp_path):
    run_import(tenant_a.district, FIXTURES / "canonical")
    with scope(district=tenant_a.district):
        for code, category in [
            ("UNX", "absent_unexcused"),
            ("EXC", "absent_excused"),
            ("TDY", "tardy"),
            ("PRT", "partial_day"),
        ]:
            AttendanceCode.objects.create(district=tenant_a.district, code=code, category=category)
    mapping = _mapping(
        tenant_a.district,
        name="PowerSchool nightly",
        columns={"attendance": {"student_id": "Student_Number", "school_id": "SchoolID", "date": "Att_Date",
                                "code": "Attendance_CodeID", "minutes_absent": "Att_Minutes"}},
    )  # fmt: skip
    export = tmp_path / "ps"
    export.mkdir()
    shutil.copy(FIXTURES / "powerschool" / "ps_attendance_export.csv", export)

    run = run_import(tenant_a.district, export, format="sis_csv", mapping=mapping)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    counts = run.entity_counts["attendance"]
    assert (counts["read"], counts["added"], counts["quarantined"]) == (5, 4, 1)
    held = _held(tenant_a.district, code="FLD")
    assert held[0].raw["Attendance_CodeID"] == "FLD" and held[0].row_number == 6
    with scope(district=tenant_a.district):
        assert AttendanceRecord.objects.get(code="TDY").minutes_absent == 15
        # The export is the truth for MS1 from 26 Aug to 3 Sep and HS1 from 28 Aug to 10 Sep:
        # the canonical records inside those spans are replaced, those outside are kept.
        assert not AttendanceRecord.objects.filter(code="U", date="2025-08-26").exists()
        assert AttendanceRecord.objects.filter(code="U", date="2025-09-05").exists()


def test_a_mapped_students_export_with_a_chosen_date_order(tenant_a, tmp_path):
    mapping = _mapping(
        tenant_a.district,
        name="PowerSchool students",
        columns={"students": {"student_id": "Student_Number", "first_name": "First_Name", "last_name": "Last_Name",
                              "birth_date": "DOB", "grade": "Grade_Level", "english_learner": "ELL"}},
        formats={"students": {"birth_date": "dmy", "english_learner": "nonblank"}},
    )  # fmt: skip

    run = run_import(
        tenant_a.district, FIXTURES / "powerschool" / "ps_students_export.csv", format="sis_csv", mapping=mapping
    )

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    with scope(district=tenant_a.district):
        gus = Student.objects.get(sis_id="S7")
        assert (gus.birth_date, gus.grade, gus.english_learner) == (datetime.date(2013, 11, 3), "7", False)
        assert Student.objects.get(sis_id="S1").english_learner is True


def test_a_file_matching_no_mapped_entity_is_noted_and_rejected(tenant_a, tmp_path):
    mapping = _mapping(tenant_a.district, columns={"attendance": CONTOSO_ATTENDANCE})

    run = run_import(
        tenant_a.district, _copy(tmp_path, "batch1_studentdemographics.csv"), format="sis_csv", mapping=mapping
    )

    assert run.status == ImportRun.Status.REJECTED
    assert "no file matches the column mapping" in error_text(run.errors[0])


def test_names_and_demographics_from_two_files_both_apply_and_reimport_cleanly(tenant_a, tmp_path):
    """Two exports of one entity with different columns load one after the other: neither blanks
    what the other brought, and neither is taken for a conflicting duplicate of the other."""
    export = tmp_path / "two"
    export.mkdir()
    (export / "names.csv").write_text("Student_Number,First_Name,Last_Name\nst1,Al,Ibarra\nst2,Sharon,Henderson\n")
    shutil.copy(CONTOSO / "batch2_studentdemographics.csv", export)
    mapping = _mapping(
        tenant_a.district,
        columns={"students": {"student_id": "Student_Number", "first_name": "First_Name", "last_name": "Last_Name"}},
    )
    demographics = _mapping(
        tenant_a.district,
        name="Demographics",
        columns={"students": CONTOSO_DEMOGRAPHICS},
        formats={"students": NONBLANK_FLAGS},
    )
    run_import(tenant_a.district, export / "names.csv", format="sis_csv", mapping=mapping)

    first = run_import(
        tenant_a.district, export / "batch2_studentdemographics.csv", format="sis_csv", mapping=demographics
    )
    again = run_import(
        tenant_a.district, export / "batch2_studentdemographics.csv", format="sis_csv", mapping=demographics
    )

    students = first.entity_counts["students"]
    assert (students["added"], students["changed"], students["quarantined"]) == (0, 2, 1)  # st3 has no name here
    assert (again.added, again.changed, again.rows_quarantined) == (0, 0, 1)
    with scope(district=tenant_a.district):
        al = Student.objects.get(sis_id="st1")
        assert (al.first_name, al.last_name, al.english_learner, al.race_ethnicity) == (
            "Al",
            "Ibarra",
            True,
            "Hispanic",
        )
        assert not Student.objects.filter(sis_id="st3").exists()


def test_command_line_reads_an_sis_export_through_a_named_mapping(batch_district, tmp_path):
    import io

    from django.core.management import CommandError, call_command

    _mapping(batch_district, columns={"attendance": CONTOSO_ATTENDANCE}, name="Contoso nightly")
    export = _copy(tmp_path, "batch2_studentattendance.csv")
    out = io.StringIO()

    call_command(
        "import_sis", "--district", "alpha", "--format", "csv", "--mapping", "Contoso nightly", str(export), stdout=out
    )

    assert "attendance: read 20" in out.getvalue()
    with pytest.raises(CommandError, match="No column mapping named 'nope'"):
        call_command(
            "import_sis",
            "--district",
            "alpha",
            "--format",
            "csv",
            "--mapping",
            "nope",
            str(export),
            stdout=io.StringIO(),
        )
    with pytest.raises(CommandError, match="needs --mapping"):
        call_command("import_sis", "--district", "alpha", "--format", "sis-csv", str(export), stdout=io.StringIO())
