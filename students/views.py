"""Student pages: the roster a user may see, one student's record, and the schools overview."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from districts.access import role_required
from districts.audit import students_shown
from districts.models import Role

from . import selectors, services
from .forms import MentorAssignForm, MentorUploadForm
from .panels import student_panels
from .services import student_view_record


def student_detail(request, district, student_id):
    student = selectors.student_get_visible(access=request.access, student_id=student_id)
    today = timezone.localdate()
    student_view_record(request=request, student=student)
    return render(
        request,
        "students/student_detail.html",
        {
            "student": student,
            "current_enrollment": selectors.current_enrollment(student, today),
            "records": selectors.attendance_record_list(student=student)[:200],
            "panels": student_panels(request=request, student=student),
        },
    )


@role_required(Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)
def schools(request, district):
    today = timezone.localdate()
    rows = selectors.school_overview(access=request.access, today=today)
    return render(request, "students/schools.html", {"rows": rows, "today": today})


@role_required(Role.DISTRICT_ADMIN)
def mentors(request, district):
    """Admins assign students to mentors: by hand, by CSV, or remove one assignment."""
    mentor_choices = selectors.mentor_list()
    assign_form = MentorAssignForm(mentors=mentor_choices)
    upload_form = MentorUploadForm()
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "assign":
            assign_form = MentorAssignForm(request.POST, mentors=mentor_choices)
            if assign_form.is_valid():
                added = services.mentor_assign(
                    district=request.district, user=request.user, request=request, **assign_form.cleaned_data
                )
                messages.success(
                    request,
                    ngettext("Assigned %(count)s student.", "Assigned %(count)s students.", added) % {"count": added},
                )
                return redirect("students:mentors", district=district)
        elif action == "upload":
            upload_form = MentorUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                outcome = services.mentor_assignments_import(
                    district=request.district,
                    upload=upload_form.cleaned_data["file"],
                    user=request.user,
                    request=request,
                )
                messages.success(
                    request,
                    _("Read %(rows)s rows: %(added)s new assignments, the others were already in place.") % outcome,
                )
                return redirect("students:mentors", district=district)
        elif action == "remove":
            assignment = selectors.mentor_assignment_get(assignment_id=_int(request.POST.get("assignment")))
            services.mentor_unassign(
                district=request.district, assignment=assignment, user=request.user, request=request
            )
            messages.success(request, _("Removed the assignment."))
            return redirect("students:mentors", district=district)
    except ValidationError as error:
        target = upload_form if action == "upload" else assign_form
        target.add_error(None, error.messages)
    assignments = list(selectors.mentor_assignment_list())
    students_shown(request, assignments, what="mentor_assignments")
    by_mentor = {mentor.pk: {"mentor": mentor, "assignments": []} for mentor in mentor_choices}
    for assignment in assignments:
        by_mentor.setdefault(assignment.mentor_id, {"mentor": assignment.mentor, "assignments": []})[
            "assignments"
        ].append(assignment)
    invalid = assign_form.errors or upload_form.errors
    return render(
        request,
        "students/mentors.html",
        {"assign_form": assign_form, "upload_form": upload_form, "mentors": list(by_mentor.values())},
        status=400 if invalid else 200,
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such assignment.") from None
