"""District administration pages: who may act in the district, and what was viewed or exported."""

import dataclasses

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import audit, selectors, services, sessions
from .access import role_required
from .audit import students_shown
from .csvfiles import csv_response
from .forms import AuditFilterForm, MemberAddForm, SecuritySettingsForm, add_validation_errors
from .models import AuditEvent, Role, RoleGrant
from .tokens import token_days


@role_required(Role.DISTRICT_ADMIN)
def people(request, district):
    form = MemberAddForm(request.POST or None, schools=selectors.school_list())
    if request.method == "POST" and form.is_valid():
        try:
            added = services.person_add(
                district=request.district, invited_by=request.access.membership,
                base_url=request.build_absolute_uri("/"), **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            if not added.emailed:
                message = _("%(email)s is now %(role)s.") % {"email": added.email, "role": added.grant}
            else:  # the same words for a new account and an invitation: the page tells them apart no more
                message = _("We emailed %(email)s a link: they join as %(role)s when they use it.") % {
                    "email": added.email, "role": added.grant or added.invitation.role_label,
                }  # fmt: skip
            messages.success(request, message)
            return redirect("districts:people", district=district)
    context = {"form": form, "rows": selectors.people_rows(), "roles": Role}
    return render(request, "districts/people.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def welcome_resend(request, district, membership_id):
    membership = get_object_or_404(selectors.membership_list().select_related("district"), pk=membership_id)
    if membership.user.has_usable_password():
        messages.info(request, _("%(email)s has already set a password.") % {"email": membership.user.email})
    else:
        services.welcome_email_resend(membership=membership, base_url=request.build_absolute_uri("/"))
        messages.success(request, _("Sent the email to %(email)s again.") % {"email": membership.user.email})
    return redirect("districts:people", district=district)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def invitation_resend(request, district, invitation_id):
    invitation = get_object_or_404(selectors.invitation_list_pending().select_related("district"), pk=invitation_id)
    services.invitation_send(invitation=invitation, base_url=request.build_absolute_uri("/"))
    messages.success(request, _("Sent the email to %(email)s again.") % {"email": invitation.email})
    return redirect("districts:people", district=district)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def invitation_cancel(request, district, invitation_id):
    invitation = get_object_or_404(selectors.invitation_list_pending(), pk=invitation_id)
    invitation.delete()
    messages.success(
        request, _("Removed %(role)s from %(email)s.") % {"role": invitation.role_label, "email": invitation.email}
    )
    return redirect("districts:people", district=district)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def role_grant_remove(request, district, grant_id):
    grant = get_object_or_404(RoleGrant.objects.select_related("membership__user"), pk=grant_id)
    if grant.membership.user_id == request.user.pk and grant.role == Role.DISTRICT_ADMIN:
        messages.error(request, _("You cannot remove your own administrator role; ask another administrator."))
    else:
        services.role_grant_remove(grant=grant)
        messages.success(
            request, _("Removed %(role)s from %(email)s.") % {"role": grant, "email": grant.membership.user.email}
        )
    return redirect("districts:people", district=district)


@role_required(Role.DISTRICT_ADMIN)
def security(request, district):
    """The district's sign-in settings: API token lifetime and the idle sign-out."""
    current = {
        "api_token_days": token_days(request.district),
        "session_idle_minutes": sessions.idle_minutes(request.district),
    }
    form = SecuritySettingsForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        services.district_settings_update(
            district=request.district, user=request.user, request=request, **form.cleaned_data
        )
        messages.success(request, _("Saved the sign-in settings."))
        return redirect("districts:security", district=district)
    return render(request, "districts/security.html", {"form": form}, status=400 if form.errors else 200)


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
