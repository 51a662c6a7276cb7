"""Reads of students and attendance. Every function runs inside the district's scope; the
visibility rules (who may see which student) live here so pages and the API share them."""

import datetime

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from districts.access import DistrictAccess
from districts.models import Membership, Role, School

from .models import GRADE_ORDER, AttendanceRecord, CalendarDay, Enrollment, Guardian, MentorAssignment, Student


def student_list_visible(*, access: DistrictAccess) -> QuerySet[Student]:
    """District-wide roles see every student; school roles the students enrolled at their
    schools (in any enrollment this year); mentors only the students assigned to them."""
    students = Student.objects.all()
    if access.sees_all_schools:
        return students
    visible = Q(pk__in=[])
    school_ids = access.school_ids(Role.ATTENDANCE_LEAD, Role.COUNSELOR)
    if school_ids:
        this_year = Enrollment.objects.filter(school_id__in=school_ids)
        year_start = access.district.school_year_start
        if year_start:  # last year's leavers belong to last year's staff, not this year's
            this_year = this_year.filter(Q(exit_date__isnull=True) | Q(exit_date__gt=year_start))
        visible |= Q(pk__in=this_year.values("student_id"))
    if access.has_role(Role.MENTOR):
        visible |= Q(pk__in=MentorAssignment.objects.filter(mentor=access.membership).values("student_id"))
    return students.filter(visible)


def school_list_visible(*, access: DistrictAccess) -> QuerySet[School]:
    schools = School.objects.all()
    if access.sees_all_schools:
        return schools
    return schools.filter(pk__in=access.school_ids())


def student_search(
    *, access: DistrictAccess, query: str = "", school: School | None = None, grade: str = ""
) -> QuerySet[Student]:
    students = student_list_visible(access=access)
    if query:
        for term in query.split():
            students = students.filter(
                Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(sis_id__iexact=term)
            )
    if school is not None:
        students = students.filter(enrollments__school=school, enrollments__exit_date__isnull=True)
    if grade:
        students = students.filter(grade=grade)
    return students.distinct()


def student_get_visible(*, access: DistrictAccess, student_id: int) -> Student:
    """A student outside the user's view is indistinguishable from one that does not exist."""
    student = (
        student_list_visible(access=access)
        .prefetch_related(
            Prefetch("enrollments", queryset=Enrollment.objects.select_related("school").order_by("-entry_date")),
            Prefetch("guardians", queryset=Guardian.objects.order_by("name")),
            "prior_years",
        )
        .filter(pk=student_id)
        .first()
    )
    if student is None:
        raise Http404("No such student.")
    return student


def current_enrollment(student: Student, on: datetime.date) -> Enrollment | None:
    for enrollment in student.enrollments.all():
        if enrollment.entry_date <= on and (enrollment.exit_date is None or enrollment.exit_date > on):
            return enrollment
    return None


def attendance_record_list(*, student: Student, since: datetime.date | None = None) -> QuerySet[AttendanceRecord]:
    records = AttendanceRecord.objects.filter(student=student).select_related("school").order_by("-date", "code")
    return records.filter(date__gte=since) if since else records


def school_overview(*, access: DistrictAccess, today: datetime.date) -> list[dict]:
    """Per school: students enrolled today, absence records this year and the last date any
    attendance arrived — the first thing to check when numbers look wrong."""
    schools = list(school_list_visible(access=access))
    enrolled = dict(
        Enrollment.objects.filter(entry_date__lte=today)
        .filter(Q(exit_date__isnull=True) | Q(exit_date__gt=today))
        .values_list("school_id")
        .annotate(n=Count("student_id", distinct=True))
    )
    attendance = {
        row["school_id"]: row
        for row in AttendanceRecord.objects.filter(date__lte=today)
        .values("school_id")
        .annotate(records=Count("id"), last_date=Max("date"))
    }
    school_days = dict(
        CalendarDay.objects.filter(instructional=True, date__lte=today, school__isnull=False)
        .values_list("school_id")
        .annotate(n=Count("id"))
    )
    return [
        {
            "school": school,
            "enrolled": enrolled.get(school.pk, 0),
            "school_days": school_days.get(school.pk, 0),
            "records": attendance.get(school.pk, {}).get("records", 0),
            "last_date": attendance.get(school.pk, {}).get("last_date"),
        }
        for school in schools
    ]


def grade_list() -> list[str]:
    grades = Student.objects.order_by().values_list("grade", flat=True).distinct()
    return sorted((g for g in grades if g), key=lambda grade: GRADE_ORDER.get(grade, 99))


def audit_student_search(text: str, *, by_id: bool = False, limit: int = 20) -> list[tuple[int, str]]:
    """For the audit page (districts.audit.StudentDirectory): every student of the district,
    whoever can see them today, since the question is who saw them."""
    if by_id:
        students = Student.objects.filter(pk=int(text)) if str(text).isdigit() else Student.objects.none()
    else:
        students = Student.objects.filter(sis_id__iexact=text.strip())
        if not students.exists():
            students = Student.objects.all()
            for term in text.split():
                students = students.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term))
    return [(student.pk, student.audit_label) for student in students.order_by("last_name", "first_name")[:limit]]


def audit_student_labels(ids) -> dict[int, str]:
    return {student.pk: student.audit_label for student in Student.objects.filter(pk__in=list(ids))}


# --- mentors ------------------------------------------------------------------------------


def mentor_list() -> QuerySet[Membership]:
    """The district's active mentors, by name, each with its assignments' count."""
    return (
        Membership.objects.filter(is_active=True, grants__role=Role.MENTOR)
        .distinct()
        .select_related("user")
        .annotate(mentee_count=Count("mentees", distinct=True))
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def mentor_assignment_list(*, mentor: Membership | None = None) -> QuerySet[MentorAssignment]:
    assignments = MentorAssignment.objects.select_related("student", "mentor__user")
    if mentor is not None:
        assignments = assignments.filter(mentor=mentor)
    return assignments.order_by(
        "mentor__user__last_name", "mentor__user__email", "student__last_name", "student__first_name"
    )


def mentor_assignment_get(*, assignment_id: int) -> MentorAssignment:
    assignment = mentor_assignment_list().filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404("No such assignment.")
    return assignment
