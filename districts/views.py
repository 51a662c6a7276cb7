"""District administration pages: who may act in the district, and what was viewed or exported."""

import dataclasses

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import audit, selectors, services
from .access import role_required
from .audit import students_shown
from .csvfiles import csv_response
from .forms import AuditFilterForm, MemberAddForm, add_validation_errors
from .models import AuditEvent, Role, RoleGrant


@role_required(Role.DISTRICT_ADMIN)
def people(request, district):
    form = MemberAddForm(request.POST or None, schools=selectors.school_list())
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.member_add(district=request.district, **form.cleaned_data)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, f"{grant.membership.user.email} is now {grant}.")
            return redirect("districts:people", district=district)
    return render(
        request,
        "districts/people.html",
        {"form": form, "memberships": selectors.membership_list(), "roles": Role},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def role_grant_remove(request, district, grant_id):
    grant = get_object_or_404(RoleGrant.objects.select_related("membership__user"), pk=grant_id)
    if grant.membership.user_id == request.user.pk and grant.role == Role.DISTRICT_ADMIN:
        messages.error(request, "You cannot remove your own administrator role; ask another administrator.")
    else:
        services.role_grant_remove(grant=grant)
        messages.success(request, f"Removed {grant} from {grant.membership.user.email}.")
    return redirect("districts:people", district=district)


@role_required(Role.DISTRICT_ADMIN)
def audit_log(request, district):
    """Who did what; with a student chosen, who saw that student (between the dates given)."""
    search = _audit_search(request)
    events = search.events.select_related("user")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    named = search.named_on(page.object_list)
    students_shown(request, named, what="audit_log")
    query = request.GET.copy()
    query.pop("page", None)
    context = {**search.context(named), "page": page, "query": query.urlencode()}
    template = "districts/audit_log.html#results" if request.htmx else "districts/audit_log.html"
    return render(request, template, context)


@role_required(Role.DISTRICT_ADMIN)
def audit_log_csv(request, district):
    """The entries the page's filters select, all of them, as CSV."""
    search = _audit_search(request)
    events = list(search.events.select_related("user"))
    named = search.named_on(events)
    students_shown(request, named, what="audit_log_csv", action=AuditEvent.Action.EXPORT)
    labels = audit.student_directory().labels(search.student_ids or [])
    chosen = "; ".join(labels.values())
    rows = (
        [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.actor,
            event.get_action_display(),
            event.object_type,
            event.object_label,
            event.object_id,
            len(event.students) or (1 if event.object_type == "student" else 0),
            chosen,
            event.ip_address or "",
            event.path,
        ]  # fmt: skip
        for event in events
    )
    return csv_response(f"audit-{district}-{timezone.localdate():%Y-%m-%d}.csv", AUDIT_CSV_COLUMNS, rows)


AUDIT_CSV_COLUMNS = [
    "at", "person", "action", "record_type", "record", "record_id", "students_shown", "student", "address", "path",
]  # fmt: skip


@dataclasses.dataclass
class _AuditSearch:
    form: AuditFilterForm
    events: object
    student_ids: list[int] | None  # the student(s) asked about, when the form names one
    matches: list[tuple[int, str]]  # several students match the text: the page asks which

    def named_on(self, events) -> set[int]:
        """Students whose names this page or file shows: the one asked about, and those named
        as an entry's record."""
        named = set(self.student_ids or [])
        for event in events:
            if len(event.students) == 1:
                named.update(event.students)
            elif event.object_type == "student" and event.object_id.isdigit():
                named.add(int(event.object_id))
        return named

    def context(self, named) -> dict:
        labels = audit.student_directory().labels(self.student_ids or []) if self.student_ids else {}
        return {"form": self.form, "matches": self.matches, "student_labels": list(labels.values())}


def _audit_search(request) -> _AuditSearch:
    form = AuditFilterForm(request.GET or None, object_types=selectors.audit_object_types())
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    student_text, student_id = filters.pop("student", ""), filters.pop("student_id", None)
    ids, matches = None, []
    if student_id:
        ids = [pk for pk, _ in audit.student_directory().search(str(student_id), by_id=True)] or [0]
    elif student_text:
        found = audit.student_directory().search(student_text)
        ids = [pk for pk, _ in found] or [0]  # nobody matches: no entries rather than all of them
        matches = found if len(found) > 1 else []
    events = selectors.audit_event_list(student_ids=ids, **{key: value for key, value in filters.items() if value})
    return _AuditSearch(form, events, ids, matches)
