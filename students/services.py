"""Writes for students, their calendars and attendance. Management commands and views share these."""

from districts.models import AuditEvent, District
from districts.services import audit_record

from .models import DEFAULT_CODE_MAP, AttendanceCode, Student


def student_view_record(*, request, student: Student, detail: dict | None = None) -> AuditEvent:
    """Every read of a student's record, page or API, leaves the same trace (SPEC §9)."""
    return audit_record(
        district=request.district,
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="student",
        object_id=student.pk,
        object_label=f"{student.full_name} ({student.sis_id})",
        request=request,
        detail=detail,
    )


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
