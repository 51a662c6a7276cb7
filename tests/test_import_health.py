"""Import-health figures per school (imports.selectors.import_health)."""

import datetime

from django_scopes import scope

from imports.selectors import import_health, unknown_code_list

from .factories import (
    AttendanceRecordFactory,
    CalendarDayFactory,
    EnrollmentFactory,
    GuardianFactory,
    SchoolFactory,
    StudentFactory,
)  # fmt: skip
from .import_support import FIXTURES, _media_in_tmp, run_import  # noqa: F401

TODAY = datetime.date(2025, 10, 1)
D = datetime.date


def _report(district, today=TODAY):
    with scope(district=district):
        report = import_health(today=today)
        return report, {row["school"].sis_id: row for row in report["schools"]}


def test_after_the_canonical_import(tenant_a):
    run_import(tenant_a.district, FIXTURES / "canonical")

    report, rows = _report(tenant_a.district)

    assert report["received_until"] == D(2025, 9, 16)
    assert rows["MS1"]["last_attendance"] == D(2025, 9, 9)
    # MS1 kept its own teacher workday on 12 Sep; HS1 had school that day.
    assert rows["MS1"]["days_without_attendance"] == [
        D(2025, 8, 25), D(2025, 8, 28), D(2025, 8, 29), D(2025, 9, 4), D(2025, 9, 8),
        D(2025, 9, 10), D(2025, 9, 11), D(2025, 9, 15), D(2025, 9, 16),
    ]  # fmt: skip
    assert len(rows["HS1"]["days_without_attendance"]) == 13
    assert rows["HS1"]["unknown_codes"] == {"X": 1}
    assert rows["HS1"]["held"] == {"unknown_code": 1, "non_instructional_day": 2, "partial_without_minutes": 1}
    assert rows["MS1"]["held"]["outside_enrollment"] == 2
    assert report["unplaced"] == {"ZZ9": {"codes": {}, "reasons": {"unknown_school": 1}}}
    assert not rows["MS1"]["gaps"] and not rows["MS1"]["overlaps"] and not rows["HS1"]["gaps"]
    assert not report["clean"]


def test_unknown_codes_are_counted_with_their_schools(tenant_a):
    run_import(tenant_a.district, FIXTURES / "canonical")

    with scope(district=tenant_a.district):
        assert unknown_code_list() == [{"code": "X", "rows": 1, "schools": 1, "mapped": False}]


def _clean_school(district):
    with scope(district=district):
        school = SchoolFactory(district=district, sis_id="C1")
        for day in (D(2025, 9, 1), D(2025, 9, 2)):
            CalendarDayFactory(school=school, date=day)
        student = StudentFactory(district=district, last_name="Clean")
        EnrollmentFactory(student=student, school=school, entry_date=D(2025, 9, 1))
        GuardianFactory(student=student, phone="919-555-0100", email="")
        for day in (D(2025, 9, 1), D(2025, 9, 2)):
            AttendanceRecordFactory(
                student=student, school=school, date=day, code="T", category="tardy", minutes_absent=5
            )
    return school, student


def test_a_school_with_everything_in_place_is_clean(tenant_a):
    _clean_school(tenant_a.district)

    report, rows = _report(tenant_a.district)

    assert rows["C1"]["clean"]
    assert rows["C1"]["days_without_attendance"] == []


def test_enrollment_gaps_and_overlaps_are_found_at_the_later_school(tenant_a):
    school, _ = _clean_school(tenant_a.district)
    with scope(district=tenant_a.district):
        other = SchoolFactory(district=tenant_a.district, sis_id="C2")
        for day in (D(2025, 9, 5), D(2025, 9, 8), D(2025, 9, 9), D(2025, 9, 10)):
            CalendarDayFactory(school=other, date=day)
        CalendarDayFactory(school=other, date=D(2025, 9, 13), instructional=False)
        gap = StudentFactory(district=tenant_a.district, last_name="Gap")
        EnrollmentFactory(student=gap, school=school, entry_date=D(2025, 9, 1), exit_date=D(2025, 9, 5))
        EnrollmentFactory(student=gap, school=other, entry_date=D(2025, 9, 10))
        weekend = StudentFactory(district=tenant_a.district, last_name="Weekend")
        EnrollmentFactory(student=weekend, school=school, entry_date=D(2025, 9, 1), exit_date=D(2025, 9, 13))
        EnrollmentFactory(student=weekend, school=other, entry_date=D(2025, 9, 15))
        overlap = StudentFactory(district=tenant_a.district, last_name="Overlap")
        EnrollmentFactory(student=overlap, school=school, entry_date=D(2025, 9, 1))
        EnrollmentFactory(student=overlap, school=other, entry_date=D(2025, 9, 8))

    _, rows = _report(tenant_a.district)

    assert [e.student.last_name for e in rows["C2"]["gaps"]] == ["Gap"]
    assert [e.student.last_name for e in rows["C2"]["overlaps"]] == ["Overlap"]
    assert not rows["C1"]["gaps"] and not rows["C1"]["overlaps"]


def test_enrolled_students_without_a_guardian_phone_or_email(tenant_a):
    school, _ = _clean_school(tenant_a.district)
    with scope(district=tenant_a.district):
        unreachable = StudentFactory(district=tenant_a.district, last_name="Unreachable")
        EnrollmentFactory(student=unreachable, school=school, entry_date=D(2025, 9, 1))
        GuardianFactory(student=unreachable, phone="", email="")
        left = StudentFactory(district=tenant_a.district, last_name="Left")
        EnrollmentFactory(student=left, school=school, entry_date=D(2025, 9, 1), exit_date=D(2025, 9, 20))

    _, rows = _report(tenant_a.district)

    assert [student.last_name for student in rows["C1"]["no_guardian_contact"]] == ["Unreachable"]


def test_the_report_reads_only_its_own_district(tenant_a, tenant_b):
    run_import(tenant_b.district, FIXTURES / "canonical")

    report, rows = _report(tenant_a.district)

    assert "MS1" not in rows and report["unplaced"] == {}


def test_a_school_with_no_attendance_at_all_is_not_clean(tenant_a):
    """Issue 10: a school whose attendance never arrived is not "clean" (it was, having no date
    to be stale from): it says "no attendance received"."""
    _clean_school(tenant_a.district)
    with scope(district=tenant_a.district):
        silent = SchoolFactory(district=tenant_a.district, sis_id="S0", name="Silent Middle")
        CalendarDayFactory(school=silent, date=D(2025, 9, 1))
        EnrollmentFactory(student=StudentFactory(district=tenant_a.district), school=silent, entry_date=D(2025, 9, 1))

    report, rows = _report(tenant_a.district)

    assert rows["S0"]["last_attendance"] is None and rows["S0"]["no_attendance"]
    assert not rows["S0"]["clean"] and not report["clean"]
    assert rows["C1"]["clean"] and not rows["C1"]["no_attendance"]
