"""The huddle pages: this week's huddle, any past one, a row with its forms, the student
timeline and the exports.

Every action on a row is a real form: without JavaScript it posts and redirects back to the
huddle; with htmx the same POST answers with the re-rendered row (or the form with its errors)
and an `huddleChanged` event that updates the progress line and the live region.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from districts.access import role_required
from districts.audit import students_shown
from districts.forms import add_validation_errors
from districts.models import AuditEvent, School
from districts.services import audit_record
from exports.services import export_job_start
from students.selectors import student_get_visible
from tiers.lifecycle import ResolutionContradicted

from . import display, exports, permissions, selectors, services, timeline
from .families import selectors as family_selectors
from .forms import (
    AttendanceForm,
    EscalateForm,
    KeepInTier2Form,
    KeepOpenForm,
    OutreachActionForm,
    ResolveForm,
    RowPlanForm,
)
from .models import AGENDA_SECTIONS, HuddleRow, Section

PANELS = ("plan", "action", "escalate", "resolve", "keep_open", "keep_tier2")


def _today():
    return timezone.localdate()  # the middleware makes this the district's date


def _audit(request, action, object_type, obj, label, **detail):
    audit_record(
        district=request.district, user=request.user, action=action, object_type=object_type, object_id=obj.pk,
        object_label=label, request=request, detail=detail or None,
    )  # fmt: skip


# ----------------------------------------------------------------------------- huddle pages


@role_required(*permissions.HUDDLE_ROLES)
def huddle_current(request, district):
    """The attendance lead's landing page: this week's huddle of their school, or a list of
    schools when they (or district staff) work with several."""
    access, week = request.access, services.week_start_of(_today())
    summaries = selectors.huddle_school_summaries(access=access, week_start=week)
    mine = list(selectors.huddle_list_visible(access=access).filter(week_start=week)) if not summaries else []
    if len(summaries) == 1 and summaries[0]["huddle"]:
        return _render_huddle(request, summaries[0]["huddle"])
    if not summaries and len(mine) == 1:
        return _render_huddle(request, mine[0])
    context = {
        "summaries": summaries,
        "mentor_huddles": mine,
        "week_start": week,
        "team_school_ids": permissions.team_school_ids(access),
    }
    return render(request, "outreach/huddle_index.html", context)


@role_required(*permissions.HUDDLE_ROLES)
def huddle_detail(request, district, huddle_id):
    return _render_huddle(request, selectors.huddle_get_visible(access=request.access, huddle_id=huddle_id))


def _render_huddle(request, huddle):
    filters = display.HuddleFilters.from_query(request.GET)
    on_track_part = bool(request.htmx) and request.GET.get("part") == "on_track"
    page = display.huddle_page(
        access=request.access, huddle=huddle, today=_today(), csrf_token=get_token(request), filters=filters,
        on_track_as_lines=True, lines_only=on_track_part,
    )  # fmt: skip
    if on_track_part:
        # The collapsed on-track list, opened: its lines only (display.huddle_page defers them).
        section = page.on_track_section
        views = section.views if section else []
        students_shown(request, [view.row.student_id for view in views], what="huddle", obj=huddle, rows=len(views))
        return render(request, "outreach/huddle.html#on_track_lines", {"section": section, "huddle": huddle})
    shown = [view.row.student_id for view in page.shown_views]
    students_shown(request, shown, what="huddle", obj=huddle, rows=len(shown))
    context = {
        "page": page,
        "huddle": huddle,
        "today": _today(),
        "attendance_form": _attendance_form(huddle) if page.can_run else None,
    }
    return render(request, "outreach/huddle.html", context)


def _attendance_form(huddle, data=None):
    return AttendanceForm(data, members=selectors.owner_choices(school=huddle.school))


@role_required(*permissions.HUDDLE_ROLES)
@require_POST
def huddle_generate_now(request, district):
    """Build this week's huddle by hand: before Monday's run, or to add this morning's flags."""
    school_id = request.POST.get("school", "")
    if not school_id.isdigit():
        return HttpResponseBadRequest(_("Name the school."))
    school = School.objects.filter(pk=int(school_id)).first()
    if school is None:
        raise Http404("No such school.")
    if not permissions.runs_huddle(request.access, school.pk):
        raise PermissionDenied("Only the school's attendance team generates its huddle.")
    huddle = services.huddle_generate(
        district=request.district, school=school, week_start=services.week_start_of(_today())
    )
    messages.success(request, f"Generated {huddle}.")
    return redirect("outreach:huddle_detail", district=district, huddle_id=huddle.pk)


@role_required(*permissions.HUDDLE_ROLES)
@require_POST
def huddle_attendance(request, district, huddle_id):
    huddle = selectors.huddle_get_visible(access=request.access, huddle_id=huddle_id)
    _require(permissions.runs_huddle(request.access, huddle.school_id) and selectors.huddle_is_latest(huddle=huddle))
    form = _attendance_form(huddle, request.POST)
    if form.is_valid():
        present = services.huddle_attendance_record(
            huddle=huddle, members=list(form.cleaned_data["members"]), by=request.access.membership
        )
        messages.success(request, _("Attendance recorded: %(count)s at the huddle.") % {"count": len(present)})
    else:
        messages.error(request, _("Tick at least one person to record who is at the huddle."))
    return redirect(
        reverse("outreach:huddle_detail", kwargs={"district": district, "huddle_id": huddle.pk}) + "#attendance"
    )


# ----------------------------------------------------------------------------- a row and its forms


@role_required(*permissions.HUDDLE_ROLES)
def huddle_row(request, district, row_id):
    """The row on a page of its own with every form (the no-JavaScript path), or one form as a
    panel inside the huddle page for htmx."""
    row = selectors.huddle_row_get_visible(access=request.access, row_id=row_id)
    panel = request.GET.get("panel", "")
    if request.htmx and panel in PANELS:
        _require(_may(request, row, panel))
        _row_shown(request, row)
        return render(request, f"outreach/huddle_row.html#{panel}_panel", {"row": row, "form": _blank_form(row, panel)})
    view = _row_view(request, row)
    _row_shown(request, row)
    if request.htmx and request.GET.get("view") == "full":
        # An on-track line opened in place: the full row, in a table of its own inside the list.
        context = {"view": view, "huddle": row.huddle, "focus_row": True}
        return render(request, "outreach/huddle.html#row_expanded", context)
    forms = {f"{name}_form": _blank_form(row, name) for name in PANELS if _may(request, row, name)}
    return render(request, "outreach/huddle_row.html", {"row": row, "view": view, "huddle": row.huddle, **forms})


def _row_shown(request, row: HuddleRow) -> None:
    students_shown(request, [row.student_id], what="huddle_row", obj=row, label=row.student.audit_label)


def _may(request, row: HuddleRow, panel: str) -> bool:
    if not row.is_open or not selectors.huddle_is_latest(huddle=row.huddle):
        return False
    if panel == "keep_open" and row.section != Section.READY_TO_CLOSE:
        return False
    if panel == "keep_tier2" and row.section != Section.TIER3:
        return False
    if panel == "action":
        return permissions.works_on_student(
            request.access, school_id=row.huddle.school_id, student_id=row.student_id,
            mentees=permissions.mentee_ids(request.access),
        )  # fmt: skip
    return permissions.runs_huddle(request.access, row.huddle.school_id)


def _blank_form(row: HuddleRow, panel: str):
    if panel == "plan":
        initial = {"owner": row.owner_id, "next_step": row.next_step, "next_step_due": row.next_step_due}
        return RowPlanForm(row=row, initial=initial, owners=selectors.owner_choices(school=row.huddle.school))
    if panel == "action":
        return OutreachActionForm(row=row, initial={"attempt_date": _today(), "method": "call", "reached": "yes"})
    return {
        "escalate": EscalateForm, "resolve": ResolveForm, "keep_open": KeepOpenForm, "keep_tier2": KeepInTier2Form
    }[panel](row=row)  # fmt: skip


def _bound_form(request, row: HuddleRow, panel: str):
    if panel == "plan":
        return RowPlanForm(request.POST, row=row, owners=selectors.owner_choices(school=row.huddle.school))
    forms = {
        "action": OutreachActionForm, "escalate": EscalateForm, "resolve": ResolveForm, "keep_open": KeepOpenForm,
        "keep_tier2": KeepInTier2Form,
    }  # fmt: skip
    return forms[panel](request.POST, row=row)


def _row_post(panel: str, apply):
    """A POST view for one of a row's forms: look up (404), check (403), validate, apply."""

    @role_required(*permissions.HUDDLE_ROLES)
    @require_POST
    def view(request, district, row_id):
        row = selectors.huddle_row_get_visible(access=request.access, row_id=row_id)
        _require(_may(request, row, panel))
        form = _bound_form(request, row, panel)
        if form.is_valid():
            try:
                message = apply(request, row, form.cleaned_data)
            except ValidationError as error:
                add_validation_errors(form, error)
                form.needs_confirmation = isinstance(error, ResolutionContradicted)
            else:
                return _row_saved(request, row, message)
        return _row_invalid(request, row, panel, form)

    view.__name__ = f"huddle_row_{panel}"
    return view


def _apply_plan(request, row, data):
    services.huddle_row_plan(row=row, by=request.access.membership, **data)
    return f"Saved the owner and next step for {row.student.full_name}."


def _apply_action(request, row, data):
    services.outreach_action_create(student=row.student, author=request.access.membership, huddle_row=row, **data)
    return f"Logged the {dict(OutreachActionForm.base_fields['method'].choices)[data['method']].lower()} for {row.student.full_name}."


def _apply_escalate(request, row, data):
    escalation = services.huddle_row_escalate(row=row, by=request.access.membership, reason=data["reason"])
    _audit(
        request, AuditEvent.Action.CHANGE, "flag", escalation.tier3_flag, f"Tier 3 referral of {row.student.full_name}"
    )
    return f"Escalated {row.student.full_name} to Tier 3; the counselors' queue has the referral."


def _apply_resolve(request, row, data):
    services.huddle_row_resolve(
        row=row, by=request.access.membership, reason=data["reason"], note=data["note"], confirmed=data["confirmed"]
    )
    return f"Resolved {row.student.full_name}."


def _apply_keep_open(request, row, data):
    services.huddle_row_keep_open(row=row, by=request.access.membership, reason=data["reason"])
    return _("Kept %(name)s open: %(reason)s") % {"name": row.student.full_name, "reason": data["reason"]}


def _apply_keep_tier2(request, row, data):
    services.huddle_row_keep_in_tier2(
        row=row, by=request.access.membership, reason=data["reason"], review_on=data["review_on"],
        school_days=data["school_days"],
    )  # fmt: skip
    row.refresh_from_db()
    _audit(
        request, AuditEvent.Action.CHANGE, "huddle_row", row, f"Kept {row.student.full_name} in Tier 2 for now",
        review_on=row.next_step_due.isoformat(),
    )  # fmt: skip
    return _("Kept %(name)s in Tier 2 until %(date)s: %(reason)s") % {
        "name": row.student.full_name, "date": date_format(row.next_step_due), "reason": data["reason"],
    }  # fmt: skip


huddle_row_plan = _row_post("plan", _apply_plan)
huddle_row_action = _row_post("action", _apply_action)
huddle_row_escalate = _row_post("escalate", _apply_escalate)
huddle_row_resolve = _row_post("resolve", _apply_resolve)
huddle_row_keep_open = _row_post("keep_open", _apply_keep_open)
huddle_row_keep_tier2 = _row_post("keep_tier2", _apply_keep_tier2)


@role_required(*permissions.HUDDLE_ROLES)
@require_POST
def huddle_row_discussed(request, district, row_id):
    row = selectors.huddle_row_get_visible(access=request.access, row_id=row_id)
    _require(
        permissions.runs_huddle(request.access, row.huddle.school_id) and selectors.huddle_is_latest(huddle=row.huddle)
    )
    discussed = request.POST.get("discussed", "1") != "0"
    services.huddle_row_mark_discussed(row=row, by=request.access.membership, discussed=discussed)
    verb = "Marked" if discussed else "Unmarked"
    return _row_saved(request, row, f"{verb} {row.student.full_name} as discussed.")


def _row_saved(request, row: HuddleRow, message: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        url = reverse("outreach:huddle_detail", kwargs={"district": request.district.slug, "huddle_id": row.huddle_id})
        return redirect(f"{url}#row-{row.pk}")
    view = _row_view(request, row)
    _row_shown(request, row)
    response = render(request, "outreach/huddle.html#row", {"view": view, "huddle": row.huddle, "focus_row": True})
    counts = HuddleRow.objects.filter(huddle_id=row.huddle_id, section__in=AGENDA_SECTIONS)
    progress = {"discussed": counts.filter(discussed=True).count(), "total": counts.count(), "message": message}
    return trigger_client_event(response, "huddleChanged", progress)


def _row_invalid(request, row: HuddleRow, panel: str, form) -> HttpResponse:
    _row_shown(request, row)
    if request.htmx:
        response = render(request, f"outreach/huddle_row.html#{panel}_panel", {"row": row, "form": form})
        return reswap(retarget(response, f"#row-{row.pk}-panel"), "innerHTML")
    view = _row_view(request, row)
    forms = {f"{name}_form": _blank_form(row, name) for name in PANELS if _may(request, row, name)}
    forms[f"{panel}_form"] = form
    return render(
        request, "outreach/huddle_row.html", {"row": row, "view": view, "huddle": row.huddle, **forms}, status=400
    )


def _row_view(request, row: HuddleRow) -> display.RowView:
    """The row as the huddle page shows it, freshly read (its owner, actions, checklist)."""
    latest = selectors.huddle_is_latest(huddle=row.huddle)
    return display.row_views(
        access=request.access, huddle=row.huddle, rows=[_reloaded(request, row)], today=_today(),
        mentees=permissions.mentee_ids(request.access) if latest else frozenset(),
        can_run=latest and permissions.runs_huddle(request.access, row.huddle.school_id), csrf_token=get_token(request),
    )[0]  # fmt: skip


def _reloaded(request, row: HuddleRow) -> HuddleRow:
    return selectors.huddle_rows_for_page(access=request.access, huddle=row.huddle, row_id=row.pk)[0]


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("Your role here does not include this.")


# ----------------------------------------------------------------------------- student timeline


@role_required(*permissions.HUDDLE_ROLES)
def student_timeline(request, district, student_id):
    student = student_get_visible(access=request.access, student_id=student_id)
    students_shown(request, [student], what="student_timeline", obj=student, label=student.audit_label)
    context = timeline.student_timeline(access=request.access, student=student, today=_today())
    if context["can_log"]:
        context["action_form"] = OutreachActionForm(
            initial={"attempt_date": _today(), "method": "call", "reached": "yes"}
        )
    if request.access.has_role(*permissions.NOTICE_ROLES):
        context["notice_guardians"] = family_selectors.guardian_notices(student)
    return render(request, "outreach/student_timeline.html", context)


@role_required(*permissions.HUDDLE_ROLES)
@require_POST
def student_action_create(request, district, student_id):
    """Log a contact from the timeline: a mentor's daily check-in needs no huddle."""
    student = student_get_visible(access=request.access, student_id=student_id)
    context = timeline.student_timeline(access=request.access, student=student, today=_today())
    _require(context["can_log"])
    form = OutreachActionForm(request.POST)
    if form.is_valid():
        try:
            services.outreach_action_create(student=student, author=request.access.membership, **form.cleaned_data)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Logged the contact for %(name)s.") % {"name": student.full_name})
            return redirect("outreach:student_timeline", district=district, student_id=student.pk)
    students_shown(request, [student], what="student_timeline", obj=student, label=student.audit_label)
    return render(request, "outreach/student_timeline.html", {**context, "action_form": form}, status=400)


# ----------------------------------------------------------------------------- exports


@role_required(*permissions.HUDDLE_ROLES)
@require_POST
def huddle_pdf(request, district, huddle_id):
    """The PDF is laid out by a worker (a long huddle takes seconds): this starts the export job
    and lands on its page, which offers the file when it is ready."""
    huddle = selectors.huddle_get_visible(access=request.access, huddle_id=huddle_id)
    _require(permissions.sees_school(request.access, huddle.school_id))
    title = _("Huddle PDF: %(school)s, week of %(week)s") % {
        "school": huddle.school.name,
        "week": date_format(huddle.week_start, "DATE_FORMAT"),
    }
    job = export_job_start(
        access=request.access,
        renderer="outreach.huddle_pdf",
        params={"huddle_id": huddle.pk, "appendix": request.POST.get("appendix") == "1"},
        title=title,
    )
    return redirect(job)


@role_required(*permissions.HUDDLE_ROLES)
def huddle_csv(request, district, huddle_id):
    page = _export_page(request, huddle_id, "csv")
    response = HttpResponse(exports.huddle_csv(page), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(page.huddle, "csv")}"'
    return response


def _export_page(request, huddle_id: int, kind: str):
    """Exports are the whole huddle: for the school's team and district staff, not mentors."""
    huddle = selectors.huddle_get_visible(access=request.access, huddle_id=huddle_id)
    _require(permissions.sees_school(request.access, huddle.school_id))
    page = display.huddle_page(access=request.access, huddle=huddle, today=_today())
    students_shown(
        request, [view.row.student_id for view in page.rows], what="huddle", action=AuditEvent.Action.EXPORT,
        obj=huddle, format=kind, rows=page.total,
    )  # fmt: skip
    return page
