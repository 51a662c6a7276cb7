"""Support requests in the browser: the list (the district's queue, or a school's own), filing a
request, and a request's thread with the district's forms (owner and due date, resolve, reopen).

Every form is a plain POST that redirects back (works without JavaScript); a refused form
re-renders its page with the errors, status 400.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.access import role_required
from districts.audit import students_shown
from districts.csvfiles import csv_response
from districts.forms import add_validation_errors
from districts.models import AuditEvent
from districts.services import audit_record
from students.selectors import school_list_visible, student_list_visible

from . import support_permissions as permissions
from . import support_selectors as selectors
from . import support_services as services
from .support_forms import STATUS_FILTERS, AssignForm, CommentForm, ResolveForm, SupportRequestForm


def _today():
    return timezone.localdate()  # the middleware makes this the district's date


def _detail_url(support_request) -> str:
    return reverse(
        "support:detail", kwargs={"district": support_request.district.slug, "support_request_id": support_request.pk}
    )


def _list_filters(request) -> dict:
    status = request.GET.get("status", "open")
    if status not in {code for code, _label in STATUS_FILTERS}:
        status = "open"
    return {"status": status, "mine": request.GET.get("mine") == "1"}


def _list_rows(request):
    chosen = _list_filters(request)
    rows = selectors.support_request_list(
        access=request.access, today=_today(), status=chosen["status"], mine=chosen["mine"]
    )
    return chosen, list(rows[:500])


@role_required(*permissions.SUPPORT_ROLES)
def support_list(request, district):
    """The district's queue of requests (district staff), or the requests of the reader's schools."""
    access, today = request.access, _today()
    chosen, rows = _list_rows(request)
    context = {
        "rows": rows, "today": today, "filters": STATUS_FILTERS, **chosen,
        "summary": selectors.support_summary(access=access, today=today),
        "overdue": selectors.support_requests_overdue(access=access, today=today),
        "can_file": permissions.files_requests(access), "answers": permissions.answers_requests(access),
    }  # fmt: skip
    return render(request, "pulse/support_list.html", context)


@role_required(*permissions.SUPPORT_ROLES)
def support_csv(request, district):
    """The list as it is filtered, one row per request; students are counted, not named."""
    chosen, rows = _list_rows(request)
    audit_record(
        district=request.district, user=request.user, action=AuditEvent.Action.EXPORT, object_type="support_requests",
        object_label="Support requests", request=request, detail={"status": chosen["status"], "rows": len(rows)},
    )  # fmt: skip
    header = [
        "id", "school", "category", "subject", "status", "requested_at", "requested_by", "owner", "due_on",
        "overdue", "students", "comments", "resolved_at",
    ]  # fmt: skip
    today = _today()
    body = (
        [
            row.pk,
            row.school.name,
            row.get_category_display(),
            row.subject,
            row.get_status_display(),
            timezone.localtime(row.requested_at).isoformat(timespec="minutes"),
            str(row.requested_by.user),
            str(row.owner.user) if row.owner else "",
            row.due_on.isoformat() if row.due_on else "",
            "Y" if row.is_overdue(today) else "N",
            row.student_count,
            row.comment_count,
            timezone.localtime(row.resolved_at).isoformat(timespec="minutes") if row.resolved_at else "",
        ]  # fmt: skip
        for row in rows
    )
    return csv_response("support-requests.csv", header, body)


def _filing_form(request, data=None) -> SupportRequestForm:
    access = request.access
    schools = school_list_visible(access=access).filter(pk__in=permissions.filing_school_ids(access))
    return SupportRequestForm(data, schools=schools, students=student_list_visible(access=access))


@role_required(*permissions.FILING_ROLES)
def support_new(request, district):
    """A school asks the district for help."""
    if not permissions.files_requests(request.access):
        raise PermissionDenied(_("Only a school's attendance lead or counselor files a support request."))
    form = _filing_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.support_request_create(
                school=data["school"], by=request.access.membership, category=data["category"],
                subject=data["subject"], description=data["description"], students=data["student_sis_ids"],
            )  # fmt: skip
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Your request is with the district. You will see its answers here."))
            return redirect(_detail_url(created))
    status = 400 if request.method == "POST" else 200
    return render(request, "pulse/support_new.html", {"form": form}, status=status)


def _reopen_form(data=None) -> CommentForm:
    return CommentForm(data, label=_("Why reopen it?"), name="reopen")


DETAIL_FORMS = {"assign", "resolve", "reopen", "comment"}


@role_required(*permissions.SUPPORT_ROLES)
def support_detail(request, district, support_request_id):
    """A request and its thread; a POST names its form (`form`: comment, assign, resolve, reopen)."""
    access = request.access
    support_request = selectors.support_request_get_visible(access=access, request_id=support_request_id)
    answers = permissions.answers_requests(access)
    forms = {
        "comment": CommentForm(),
        "assign": AssignForm(
            owners=services.district_owner_choices(),
            initial={"owner": support_request.owner_id, "due_on": support_request.due_on},
        )
        if answers
        else None,
        "resolve": ResolveForm() if answers and support_request.is_open else None,
        "reopen": _reopen_form() if answers and not support_request.is_open else None,
    }
    status = 200
    if request.method == "POST":
        name = request.POST.get("form", "")
        if name not in DETAIL_FORMS or forms.get(name) is None:
            raise PermissionDenied(_("Your role here does not include this."))
        bound = _handle(request, name, support_request)
        if bound is None:
            return redirect(_detail_url(support_request) + "#thread")
        forms[name], status = bound, 400
    students = selectors.support_request_students(access=access, request=support_request)
    students_shown(request, students, what="support_request", obj=support_request)
    context = {
        "support_request": support_request, "students": students, "forms": forms, "today": _today(),
        "comments": list(support_request.comments.all()),
    }  # fmt: skip
    return render(request, "pulse/support_detail.html", context, status=status)


def _handle(request, name: str, support_request):
    """Apply one form; the bound form with its errors when refused, else None."""
    by = request.access.membership
    if name == "assign":
        form = AssignForm(request.POST, owners=services.district_owner_choices())
    elif name == "resolve":
        form = ResolveForm(request.POST)
    elif name == "reopen":
        form = _reopen_form(request.POST)
    else:
        form = CommentForm(request.POST)
    if not form.is_valid():
        return form
    data = form.cleaned_data
    try:
        if name == "assign":
            services.support_request_assign(request=support_request, by=by, owner=data["owner"], due_on=data["due_on"])
        elif name == "resolve":
            services.support_request_resolve(request=support_request, by=by, resolution=data["resolution"])
        elif name == "reopen":
            services.support_request_reopen(request=support_request, by=by, reason=data["body"])
        else:
            services.support_comment_add(request=support_request, by=by, body=data["body"])
    except ValidationError as error:
        add_validation_errors(form, error)
        return form
    return None
