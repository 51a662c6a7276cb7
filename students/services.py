"""Writes for students, their calendars and attendance. Management commands and views share these."""

from districts.audit import students_shown
from districts.models import District

from .models import DEFAULT_CODE_MAP, AttendanceCode, Student


def student_view_record(*, request, student: Student, detail: dict | None = None) -> None:
    """Every read of a student's record, page or API, leaves the same trace (SPEC §9)."""
    students_shown(request, [student], what="student", obj=student, label=student.audit_label, **(detail or {}))


def attendance_codes_install_defaults(*, district: District) -> list[AttendanceCode]:
    """Give the district the canonical CSV's code map (SPEC §4).

    A code the district already mapped keeps its meaning: the map is the district's decision,
    and re-installing the defaults must never silently re-categorise its stored attendance.
    """
    existing = set(AttendanceCode.objects.filter(district=district).values_list("code", flat=True))
    missing = [
        AttendanceCode(district=district, code=code, category=category, description=category.label)
        for code, category in DEFAULT_CODE_MAP.items()
        if code not in existing
    ]
    for code in missing:
        code.full_clean()
    AttendanceCode.objects.bulk_create(missing)
    return list(AttendanceCode.objects.filter(district=district))
