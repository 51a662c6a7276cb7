"""The Tier 3 panel on a student's page (registered in CasesConfig.ready(); students never
imports cases): the open case with its lead and next review, the way to it for those who read
it, and "open a case" for the counselors of the student's school. Shown to the roles that
reach cases; mentors see nothing of it."""

from django.utils import timezone

from districts.models import Role

from . import permissions, services
from .forms import CaseOpenForm
from .models import Case


def case_panel(*, request, student) -> dict | None:
    access = getattr(request, "access", None)
    if access is None or not access.has_role(*permissions.CASE_ROLES):
        return None
    cases = list(Case.objects.filter(student=student).select_related("lead__user").order_by("-opened_on", "-id")[:5])
    current = next((case for case in cases if case.is_open), None)
    today = timezone.localdate()
    context = {
        "student": student,
        "case": current,
        "reads": current is not None and permissions.reads_case(access, current),
        "closed": [case for case in cases if not case.is_open and permissions.reads_case(access, case)],
        "open_form": None,
    }
    if current is None and access.has_role(Role.COUNSELOR):
        school_id = services.student_current_school_id(student, today)
        if permissions.opens_cases(access, school_id):
            context["open_form"] = CaseOpenForm(
                leads=services.lead_choices(school_id=school_id),
                initial={"lead": access.membership.pk, "opened_on": today},
            )
    return context
