"""Writes for students, their calendars and attendance. Management commands and views share these."""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from districts.audit import students_shown
from districts.models import AuditEvent, District, Membership, Role, RoleGrant
from districts.services import audit_record

from .models import DEFAULT_CODE_MAP, AttendanceCode, MentorAssignment, Student


def student_view_record(*, request, student: Student, detail: dict | None = None) -> None:
    """Every read of a student's record, page or API, leaves the same trace (SPEC §9)."""
    students_shown(request, [student], what="student", obj=student, label=student.audit_label, **(detail or {}))


def attendance_codes_install_defaults(*, district: District) -> list[AttendanceCode]:
    """Give the district the canonical CSV's code map (SPEC §4).

    A code the district already mapped keeps its meaning: the map is the district's decision,
    and re-installing the defaults must never silently re-categorise its stored attendance.
    """
    existing = set(AttendanceCode.objects.filter(district=district).values_list("code", flat=True))
    with translation.override("en"):  # stored in English, shown in the reader's (description_text)
        english = {code: str(category.label) for code, category in DEFAULT_CODE_MAP.items()}
    missing = [
        AttendanceCode(district=district, code=code, category=category, description=english[code])
        for code, category in DEFAULT_CODE_MAP.items()
        if code not in existing
    ]
    for code in missing:
        code.full_clean()
    AttendanceCode.objects.bulk_create(missing)
    return list(AttendanceCode.objects.filter(district=district))


# --- mentors ------------------------------------------------------------------------------

MENTOR_CSV_COLUMNS = ("student_id", "mentor_email")
MENTOR_CSV_MAX_ROWS = 20_000


def _check_mentor(district: District, mentor: Membership) -> None:
    if (
        mentor.district_id != district.pk
        or not mentor.is_active
        or not RoleGrant.objects.filter(membership=mentor, role=Role.MENTOR).exists()
    ):
        raise ValidationError({"mentor": _("Choose someone who holds the mentor role in this district.")})


def mentor_assign(*, district: District, mentor: Membership, students, user=None, request=None) -> int:
    """Assign students to a mentor (an assignment already there is left as it is). Returns how
    many are new. Audit-logged with the students."""
    _check_mentor(district, mentor)
    students = list(students)
    if any(student.district_id != district.pk for student in students):
        raise ValidationError({"students": _("Choose students of this district.")})
    already = set(MentorAssignment.objects.filter(mentor=mentor).values_list("student_id", flat=True))
    new = [student for student in {s.pk: s for s in students}.values() if student.pk not in already]
    MentorAssignment.objects.bulk_create(
        [MentorAssignment(district=district, student=student, mentor=mentor) for student in new]
    )
    if new:
        audit_record(
            district=district,
            user=user,
            action=AuditEvent.Action.CHANGE,
            object_type="mentor_assignment",
            object_id=mentor.pk,
            object_label=f"{len(new)} students assigned to mentor {mentor.user.email}",
            request=request,
            students=[student.pk for student in new],
        )
    return len(new)


def mentor_unassign(*, district: District, assignment: MentorAssignment, user=None, request=None) -> None:
    if assignment.district_id != district.pk:
        raise ValidationError(_("That assignment belongs to another district."))
    audit_record(
        district=district,
        user=user,
        action=AuditEvent.Action.CHANGE,
        object_type="mentor_assignment",
        object_id=assignment.mentor_id,
        object_label=f"Student {assignment.student_id} no longer assigned to mentor {assignment.mentor.user.email}",
        request=request,
        students=[assignment.student_id],
    )
    assignment.delete()


def mentor_assignments_import(*, district: District, upload, user=None, request=None) -> dict:
    """Assignments from a CSV with the columns student_id (the SIS id) and mentor_email. Every row
    is checked first: a bad row is named (file, row, column) and nothing is written. Returns
    {"rows": n, "added": n}."""
    name = getattr(upload, "name", "") or "mentors.csv"
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("%(file)s is not UTF-8 text: save it as CSV (UTF-8).") % {"file": name}) from None
    reader = csv.DictReader(io.StringIO(text))
    headers = [header.strip().lower() for header in reader.fieldnames or []]
    missing = [column for column in MENTOR_CSV_COLUMNS if column not in headers]
    if missing:
        raise ValidationError(
            _("%(file)s needs the columns %(columns)s; it lacks %(missing)s.")
            % {"file": name, "columns": ", ".join(MENTOR_CSV_COLUMNS), "missing": ", ".join(missing)}
        )
    reader.fieldnames = headers
    rows = list(reader)
    if len(rows) > MENTOR_CSV_MAX_ROWS:
        raise ValidationError(_("%(file)s has more than %(max)s rows.") % {"file": name, "max": MENTOR_CSV_MAX_ROWS})
    students = dict(Student.objects.values_list("sis_id", "pk"))
    mentors = {
        membership.user.email.lower(): membership
        for membership in Membership.objects.filter(is_active=True, grants__role=Role.MENTOR).select_related("user")
    }
    errors, pairs = [], []
    for number, row in enumerate(rows, start=2):
        sis_id, email = (row.get("student_id") or "").strip(), (row.get("mentor_email") or "").strip().lower()
        where = {"file": name, "row": number}
        if sis_id not in students:
            errors.append(
                _("%(file)s, row %(row)s, column student_id: no student has the id “%(value)s”.")
                % {**where, "value": sis_id}
            )
        if email not in mentors:
            errors.append(
                _("%(file)s, row %(row)s, column mentor_email: no mentor signs in as “%(value)s”.")
                % {**where, "value": email}
            )
        if sis_id in students and email in mentors:
            pairs.append((students[sis_id], mentors[email]))
    if errors:
        raise ValidationError(errors[:50])
    added = 0
    by_mentor: dict[int, tuple[Membership, set[int]]] = {}
    for student_id, mentor in pairs:
        by_mentor.setdefault(mentor.pk, (mentor, set()))[1].add(student_id)
    with transaction.atomic():
        for mentor, student_ids in by_mentor.values():
            added += mentor_assign(
                district=district,
                mentor=mentor,
                students=Student.objects.filter(pk__in=student_ids),
                user=user,
                request=request,
            )
    return {"rows": len(rows), "added": added}
