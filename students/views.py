"""Student pages: the roster a user may see, one student's record, and the schools overview."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from districts.access import role_required
from districts.audit import students_shown
from districts.models import Role

from . import selectors
from .forms import RosterFilterForm
from .panels import student_panels
from .services import student_view_record


def roster(request, district):
    access = request.access
    form = RosterFilterForm(
        request.GET or None,
        schools=selectors.school_list_visible(access=access),
        grades=selectors.grade_list(),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    students = selectors.student_search(
        access=access, query=filters.get("q", ""), school=filters.get("school"), grade=filters.get("grade", "")
    )
    page = Paginator(students, 50).get_page(request.GET.get("page"))
    students_shown(
        request, page.object_list, what="roster", **{key: str(value) for key, value in filters.items() if value}
    )
    query = request.GET.copy()
    query.pop("page", None)
    template = "students/roster.html#results" if request.htmx else "students/roster.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


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
