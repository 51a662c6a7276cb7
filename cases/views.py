"""The Tier 3 pages: the caseload, the counselors' queue, a case with its forms, the case PDF for
the family meeting, and the partner directory.

Every form is a plain POST that redirects back to the case's section (it works without
JavaScript); a refused form re-renders the case page with its errors, status 400.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from districts.access import role_required
from districts.audit import students_shown
from districts.forms import add_validation_errors
from districts.models import AuditEvent, Membership, Role
from districts.services import audit_record
from exports.services import export_job_start
from outreach.selectors import owner_choices
from students.selectors import student_get_visible
from tiers.models import Flag

from . import display, exports, permissions, selectors, services
from .defaults import case_settings
from .forms import (
    CaseOpenForm,
    CaseSettingsForm,
    CloseForm,
    ConnectForm,
    InterventionForm,
    LeadForm,
    MeetingForm,
    PartnerForm,
    PlanForm,
    ReferralForm,
    ReviewForm,
)
from .models import Case

WORK_ROLES = (Role.COUNSELOR,)


def _today():
    return timezone.localdate()  # the middleware makes this the district's date


def _audit(request, action, object_type, obj_id, label, **detail):
    audit_record(
        district=request.district, user=request.user, action=action, object_type=object_type, object_id=obj_id,
        object_label=label, request=request, detail=detail or None,
    )  # fmt: skip


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role here does not include this."))


def _nav(access) -> dict:
    """The Tier 3 sub-navigation: the queue for counselors (with its count), the directory."""
    counselor = access.has_role(Role.COUNSELOR)
    return {
        "show_queue": counselor or access.sees_all_schools,
        "queue_count": selectors.case_queue_count(access=access) if counselor else None,
        "show_partners": access.has_role(*permissions.PARTNER_ROLES),
    }


def _case_url(case: Case, anchor: str = "") -> str:
    url = reverse("cases:case_detail", kwargs={"district": case.district.slug, "case_id": case.pk})
    return f"{url}#{anchor}" if anchor else url


# ----------------------------------------------------------------------------- caseload and queue

CASELOAD_VIEWS = {
    "mine": _("My caseload"),
    "school": _("All open cases at my schools"),
    "all": _("All open cases"),
    "closed": _("Closed cases"),
}


def _caseload_views(access) -> list[str]:
    views = []
    if access.has_role(Role.COUNSELOR):
        views.append("mine")
    if access.school_ids(Role.COUNSELOR, Role.ATTENDANCE_LEAD):
        views.append("school")
    if access.sees_all_schools:
        views.append("all")
    return [*views, "closed"]


@role_required(*permissions.CASE_ROLES)
def caseload(request, district):
    """A counselor's open cases (or a school's, or the district's) with what needs doing; a POST
    opens a case (the queue's and the student page's forms)."""
    if request.method == "POST":
        return _case_open(request, district)
    access = request.access
    available = _caseload_views(access)
    view = request.GET.get("view") or available[0]
    if view not in available:
        view = available[0]
    today = _today()
    if view == "closed":
        rows = []
        closed = list(
            selectors.case_list_visible(access=access)
            .filter(status=Case.Status.CLOSED)
            .select_related("student", "school", "lead__user")
            .order_by("-closed_on", "-id")[:200]
        )
    else:
        closed = []
        rows = selectors.caseload(
            access=access, today=today, lead_ids=[access.membership.pk] if view == "mine" else None,
            school_ids=access.school_ids(Role.COUNSELOR, Role.ATTENDANCE_LEAD) if view == "school" else None,
        )  # fmt: skip
    shown = [row.case.student_id for row in rows] + [case.student_id for case in closed]
    students_shown(request, shown, what="caseload", label=str(CASELOAD_VIEWS[view]), view=view)
    full_rows = [(row, permissions.reads_case(access, row.case)) for row in rows]
    context = {
        "rows": full_rows, "closed": closed, "view": view, "today": today,
        "views": [(key, CASELOAD_VIEWS[key]) for key in available], **_nav(access),
    }  # fmt: skip
    return render(request, "cases/caseload.html", context)


@role_required(Role.COUNSELOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)
def queue(request, district):
    """Tier 3 flags waiting for a case at the counselor's schools, with their Tier 2 history."""
    access = request.access
    entries = selectors.case_queue(access=access, today=_today())
    students_shown(request, [entry.student.pk for entry in entries], what="case_queue", label="Tier 3 queue")
    forms = {}
    for entry in entries:
        school_id = entry.metrics.current_school_id if entry.metrics else None
        if permissions.opens_cases(access, school_id):
            forms[entry.student.pk] = CaseOpenForm(
                leads=services.lead_choices(school_id=school_id),
                initial={"lead": access.membership.pk, "opened_on": _today()},
                auto_id=f"id_open{entry.student.pk}_%s",
            )  # fmt: skip
    rows = [(entry, forms.get(entry.student.pk)) for entry in entries]
    kept = selectors.case_queue_kept_in_tier2(access=access, today=_today())
    if kept:
        students_shown(request, [entry.student.pk for entry in kept], what="case_queue", label="Tier 3 queue")
    return render(request, "cases/queue.html", {"rows": rows, "kept": kept, **_nav(access)})


def _case_open(request, district):
    """Open a case for the student named in the form (from the queue or the student's page)."""
    access = request.access
    _require(access.has_role(Role.COUNSELOR))
    student_id = request.POST.get("student", "")
    if not student_id.isdigit():
        return HttpResponseBadRequest(_("Name the student."))
    student = student_get_visible(access=access, student_id=int(student_id))
    school_id = services.student_current_school_id(student, _today())
    _require(permissions.opens_cases(access, school_id))
    form = CaseOpenForm(request.POST, leads=services.lead_choices(school_id=school_id))
    flag_id = request.POST.get("flag", "")
    flag = Flag.objects.filter(pk=int(flag_id), student=student).first() if flag_id.isdigit() else None
    if flag_id and flag is None:  # never a case that silently answers no flag (or another's)
        return HttpResponseBadRequest(_("That flag is not one of this student's."))
    if form.is_valid():
        try:
            case = services.case_open(
                student=student, by=access.membership, lead=form.cleaned_data["lead"], flag=flag,
                opened_on=form.cleaned_data["opened_on"],
            )  # fmt: skip
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            _audit(request, AuditEvent.Action.CHANGE, "case", case.pk, f"Case opened for {student.full_name}")
            messages.success(request, _("Opened a Tier 3 case for %(name)s.") % {"name": student.full_name})
            return redirect(_case_url(case))
    else:
        messages.error(request, _("Choose the case lead and the date the case opened."))
    existing = selectors.open_case_of(student_id=student.pk)
    if existing is not None:
        return redirect(_case_url(existing))
    return redirect("cases:queue", district=district)


# ----------------------------------------------------------------------------- the case page


def _forms(request, page: display.CasePage, bound: dict | None = None) -> dict:
    """The case page's blank forms for a person who works on it, with one bound form to show errors."""
    if not (page.can_work or page.can_override):
        return {}
    case, bound = page.case, bound or {}
    owners = owner_choices(school=case.school) if case.school else Membership.objects.none()
    may_override = permissions.overrides_guard(request.access)
    today = _today()
    blank = {
        "intervention_form": lambda: InterventionForm(
            owners=owners, may_override=may_override, initial={"start_date": today}
        ),
    }
    if page.can_work:
        blank.update({
            "plan_form": lambda: PlanForm(initial=_plan_initial(case)),
            "referral_form": lambda: ReferralForm(
                partners=selectors.partner_list(), initial={"referred_on": today, "service": (case.barriers or [""])[0]}
            ),
            "meeting_form": lambda: MeetingForm(initial={"held_on": today, "kind": "meeting"}),
            "review_form": lambda: ReviewForm(initial={"review_date": today}),
            "close_form": lambda: CloseForm(initial={"closed_on": today}),
            "lead_form": lambda: LeadForm(leads=services.case_lead_choices(case=case, on=today),
                                          initial={"lead": case.lead_id}),
            "connect_forms": lambda: {
                r.pk: ConnectForm(initial={"connected_on": r.connected_on, "outcome": r.outcome},
                                  auto_id=f"id_referral{r.pk}_%s")
                for r in page.referrals if r.is_pending or not r.outcome
            },
        })  # fmt: skip
    forms = {name: bound.get(name) or make() for name, make in blank.items()}
    if "connect_forms" in forms:
        forms["connect_forms"] = {**forms["connect_forms"], **bound.get("connect_forms", {})}
    return forms


def _plan_initial(case: Case) -> dict:
    return {
        "barriers": case.barriers,
        "goal_percent": (case.goal_rate * 100).normalize() if case.goal_rate is not None else None,
        "goal_by": case.goal_by,
        "plan_started_on": case.plan_started_on,
        "review_every_days": case.review_every_days,
    }


def _render_case(request, case: Case, *, bound: dict | None = None, status: int = 200):
    page = display.case_page(access=request.access, case=case, today=_today())
    label = f"Case of {case.student.full_name} ({case.student.sis_id})"
    students_shown(request, [case.student_id], what="case", obj=case, label=label, full=page.full)
    context = {
        "page": page,
        "case": case,
        "student": case.student,
        **_forms(request, page, bound),
        **_nav(request.access),
        "plan_languages": settings.LANGUAGES,
        "plan_language": exports.plan_language(case) if page.full else "",
    }
    return render(request, "cases/case_detail.html", context, status=status)


@role_required(*permissions.CASE_ROLES)
def case_detail(request, district, case_id):
    """The case page; its forms post here, each naming itself in a `form` field."""
    case = selectors.case_get_visible(access=request.access, case_id=case_id)
    if request.method == "POST":
        return _case_post(request, case)
    return _render_case(request, case)


def _apply_plan(request, case, form):
    services.case_plan_update(case=case, by=request.access.membership, **form.plan_changes())
    return _("Saved the plan.")


def _apply_lead(request, case, form):
    services.case_assign_lead(case=case, lead=form.cleaned_data["lead"], by=request.access.membership)
    _audit(request, AuditEvent.Action.CHANGE, "case", case.pk, f"Case lead of {case.student.full_name}",
           lead=case.lead_id)  # fmt: skip
    return _("The case lead is now %(name)s.") % {"name": case.lead.user.get_full_name() or case.lead.user.email}


def _apply_intervention(request, case, form):
    data = dict(form.cleaned_data)
    try:
        intervention = services.intervention_create(case=case, by=request.access.membership, request=request, **data)
    except services.GuardRefused as refused:
        raise ValidationError({"kind": refused.messages}) from None
    if intervention.override_reason:
        return _("Added the legal referral with your override; it is logged and shown on the case.")
    return _("Added the intervention: %(kind)s.") % {"kind": intervention.get_kind_display()}


def _apply_referral(request, case, form):
    referral = services.referral_create(
        case=case, by=request.access.membership, request=request, **form.service_kwargs()
    )
    if referral.shares_records:
        return _("Recorded the referral; sharing the records with %(partner)s is logged.") % {
            "partner": referral.partner.name
        }
    return _("Recorded the referral.")


def _apply_connect(request, case, form):
    services.referral_update(referral=form.referral, by=request.access.membership, **form.cleaned_data)
    return _("Updated the referral.")


def _apply_meeting(request, case, form):
    data = dict(form.cleaned_data)
    invitation = data.pop("kind") == "invitation"
    services.meeting_create(case=case, by=request.access.membership, invitation=invitation, **data)
    return _("Recorded the invitation.") if invitation else _("Recorded the meeting.")


def _apply_review(request, case, form):
    review = services.review_create(case=case, by=request.access.membership, **form.cleaned_data)
    if review.rate_since is None:
        return _("Recorded the review. No school days since the plan started have been computed yet.")
    return _("Recorded the review: %(since)s attended since the plan started, %(before)s before.") % {
        "since": f"{review.rate_since * 100:.1f}%",
        "before": f"{review.rate_before * 100:.1f}%" if review.rate_before is not None else "—",
    }


def _apply_close(request, case, form):
    data = form.cleaned_data
    services.case_close(
        case=case, by=request.access.membership, outcome=data["outcome"], note=data["note"], closed_on=data["closed_on"]
    )
    _audit(request, AuditEvent.Action.CHANGE, "case", case.pk, f"Case of {case.student.full_name} closed",
           outcome=data["outcome"])  # fmt: skip
    return _("Closed the case.")


def _connect_form(request, case):
    referral_id = request.POST.get("referral", "")
    referral = (
        case.referrals.filter(pk=int(referral_id)).select_related("partner").first() if referral_id.isdigit() else None
    )
    if referral is None:
        raise Http404("No such referral.")
    form = ConnectForm(request.POST, auto_id=f"id_referral{referral.pk}_%s")
    form.referral = referral
    return form


def _intervention_form(request, case):
    owners = owner_choices(school=case.school) if case.school else Membership.objects.none()
    return InterventionForm(request.POST, owners=owners, may_override=permissions.overrides_guard(request.access))


# form name → (the form from the POST, what saving it does, where the page lands)
CASE_FORMS = {
    "plan": (lambda r, c: PlanForm(r.POST), _apply_plan, "plan"),
    "lead": (
        lambda r, c: LeadForm(r.POST, leads=services.case_lead_choices(case=c, on=_today())),
        _apply_lead,
        "summary",
    ),
    "intervention": (_intervention_form, _apply_intervention, "interventions"),
    "referral": (lambda r, c: ReferralForm(r.POST, partners=selectors.partner_list()), _apply_referral, "referrals"),
    "connect": (_connect_form, _apply_connect, "referrals"),
    "meeting": (lambda r, c: MeetingForm(r.POST), _apply_meeting, "meetings"),
    "review": (lambda r, c: ReviewForm(r.POST), _apply_review, "progress"),
    "close": (lambda r, c: CloseForm(r.POST), _apply_close, "summary"),
}


def _may_post(access, case, name: str) -> bool:
    """The case's counselors use every form; a district admin only adds a legal referral with an
    override (the intervention form), nobody changes a closed case."""
    if not case.is_open:
        return False
    if name == "intervention" and permissions.overrides_guard(access):
        return True
    return permissions.works_on_case(access, case)


def _case_post(request, case: Case):
    """One of the case's forms, named by its `form` field: look up (404), check (403), validate, apply."""
    name = request.POST.get("form", "")
    if name not in CASE_FORMS:
        return HttpResponseBadRequest(_("Unknown form."))
    make_form, apply, anchor = CASE_FORMS[name]
    _require(_may_post(request.access, case, name))
    form = make_form(request, case)
    if form.is_valid():
        try:
            message = apply(request, case, form)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, message)
            return redirect(_case_url(case, anchor if name != "connect" else f"referral-{form.referral.pk}"))
    messages.error(request, _("Please correct the form below."))
    bound = {"connect_forms": {form.referral.pk: form}} if name == "connect" else {f"{name}_form": form}
    return _render_case(request, case, bound=bound, status=400)


# ----------------------------------------------------------------------------- the family meeting PDF


@role_required(*permissions.CASE_ROLES)
@require_POST
def case_pdf(request, district, case_id):
    """The PDF is laid out by a worker: this starts the export job and lands on its page, which
    offers the file when it is ready (the download is audit-logged there)."""
    case = selectors.case_get_visible(access=request.access, case_id=case_id)
    _require(permissions.reads_case(request.access, case))
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = exports.plan_language(case)
    title = _("Attendance plan for %(name)s (PDF)") % {"name": case.student.full_name}
    job = export_job_start(
        access=request.access, renderer=exports.RENDERER, params={"case_id": case.pk, "language": language}, title=title
    )
    return redirect(job)


# ----------------------------------------------------------------------------- partner directory


@role_required(*permissions.PARTNER_ROLES)
def partners(request, district):
    """The directory; district admins add partners and set the Tier 3 defaults here."""
    access = request.access
    keeps = permissions.keeps_partners(access)
    form, settings_form = PartnerForm(), None
    if keeps:
        current = case_settings(access.district)
        settings_form = CaseSettingsForm(
            initial={"review_every_days": current.review_every_days, "plan_deadline_days": current.plan_deadline_days}
        )
    if request.method == "POST":
        _require(keeps)
        if "review_every_days" in request.POST:
            settings_form = CaseSettingsForm(request.POST)
            if settings_form.is_valid():
                services.case_settings_update(district=access.district, **settings_form.cleaned_data)
                messages.success(request, _("Saved the Tier 3 settings."))
                return redirect("cases:partners", district=district)
        else:
            form = PartnerForm(request.POST)
            if form.is_valid():
                try:
                    partner = services.partner_create(district=access.district, **form.cleaned_data)
                except ValidationError as error:
                    add_validation_errors(form, error)
                else:
                    messages.success(request, _("Added %(name)s to the directory.") % {"name": partner.name})
                    return redirect("cases:partners", district=district)
    context = {
        "partners": selectors.partner_list(include_inactive=keeps), "form": form if keeps else None,
        "settings_form": settings_form, **_nav(access),
    }  # fmt: skip
    return render(request, "cases/partners.html", context, status=400 if request.method == "POST" else 200)


@role_required(Role.DISTRICT_ADMIN)
def partner_edit(request, district, partner_id):
    partner = selectors.partner_get(partner_id=partner_id)
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_update(partner=selectors.partner_get(partner_id=partner_id), **form.cleaned_data)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": partner.name})
            return redirect("cases:partners", district=district)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/partner_edit.html", {"partner": partner, "form": form}, status=status)
