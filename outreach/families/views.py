"""Family messages in the browser: the district's templates (edit, preview with a real student),
whom families call, lines for languages without templates, the notice outbox, and nudge letter
batches printed on a worker with their progress."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from districts.access import role_required
from districts.audit import students_shown
from districts.forms import add_validation_errors
from districts.models import Role, School
from exports.models import ExportJob
from exports.services import export_job_start
from students.models import Student
from students.selectors import student_get_visible

from ..permissions import NOTICE_ROLES
from . import selectors, services
from .figures import figures_current
from .forms import ContactForm, LanguageLineForm, LetterBatchForm, NewTemplateForm, TemplateForm
from .letters import LETTERS_RENDERER, letter_batch_reserve, letter_schools
from .merge import MERGE_FIELDS
from .messages import TemplateBook
from .models import FamilyContact, LanguageLine, LetterBatch, MessageKind, MessageTemplate

ADMIN = (Role.DISTRICT_ADMIN,)
LETTER_ROLES = (Role.DISTRICT_ADMIN, Role.ATTENDANCE_LEAD)


@role_required(*ADMIN)
def messages_home(request, district):
    services.templates_ensure(district=request.district)
    templates = MessageTemplate.objects.select_related("updated_by__user")
    contacts = list(FamilyContact.objects.select_related("school").order_by("school__name"))
    default = next((contact for contact in contacts if contact.school_id is None), None)
    contact_form = ContactForm(
        initial={"name": default.name, "phone": default.phone} if default else None,
        schools=School.objects.order_by("name"),
    )
    problems = list(selectors.notice_problems()[:50])
    students_shown(request, problems, what="family messages")
    return render(
        request,
        "outreach/families/messages_home.html",
        {
            "templates": templates,
            "kinds": MessageKind.choices,
            "contact_form": contact_form,
            "default_contact": default,
            "school_contacts": [contact for contact in contacts if contact.school_id is not None],
            "line_form": LanguageLineForm(),
            "lines": LanguageLine.objects.all(),
            "gaps": selectors.language_gaps(),
            "notice_counts": selectors.notice_counts(),
            "problems": problems,
        },
    )


@role_required(*ADMIN)
def template_edit(request, district, template_id):
    template = get_object_or_404(MessageTemplate, pk=template_id)
    form = TemplateForm(request.POST or None, initial={"subject": template.subject, "body": template.body})
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "preview" in request.POST:
                services.template_check_only(subject=data["subject"], body=data["body"], tier=template.tier)
                preview = _preview(request, template.kind, template.tier, template.language, data)
            else:
                services.template_save(
                    district=request.district, by=request.access.membership, kind=template.kind, tier=template.tier,
                    language=template.language, subject=data["subject"], body=data["body"],
                )  # fmt: skip
                messages.success(request, _("Template saved."))
                return redirect("outreach:messages_home", district=district)
        except ValidationError as error:
            add_validation_errors(form, error)
    return render(
        request,
        "outreach/families/template_edit.html",
        {"template": template, "form": form, "preview": preview, "fields": MERGE_FIELDS},
    )


@role_required(*ADMIN)
def template_new(request, district):
    form = NewTemplateForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "preview" in request.POST:
                services.template_check_only(subject=data["subject"], body=data["body"], tier=data["tier"])
                preview = _preview(request, data["kind"], data["tier"], data["language"], data)
            else:
                services.template_save(
                    district=request.district, by=request.access.membership, kind=data["kind"], tier=data["tier"],
                    language=data["language"], subject=data["subject"], body=data["body"],
                )  # fmt: skip
                messages.success(request, _("Template saved."))
                return redirect("outreach:messages_home", district=district)
        except ValidationError as error:
            add_validation_errors(form, error)
    return render(
        request, "outreach/families/template_edit.html", {"form": form, "preview": preview, "fields": MERGE_FIELDS}
    )


def _preview(request, kind, tier, language, data) -> dict:
    """The text as one real student's family would read it, with this draft in place of the saved one."""
    student = _preview_student(data.get("preview_student", ""))
    if student is None:
        raise ValidationError({"preview_student": _("No student with that SIS id in this district.")})
    book = TemplateBook(request.district)
    draft = MessageTemplate(kind=kind, tier=tier, language=language, subject=data["subject"], body=data["body"])
    book.templates[(kind, tier, language)] = draft
    enrollment = student.enrollments.select_related("school").order_by("-entry_date").first()
    school = enrollment.school if enrollment else None
    today = timezone.localdate()
    figures = figures_current(student_ids=[student.pk], month_of=today).get(student.pk)
    message = book.compose(
        kind=kind, tier=tier, student=student, school=school, family_language=language, figures=figures,
        absence_date=today,
    )  # fmt: skip
    students_shown(request, [student], what="message preview")
    return {"student": student, "message": message, "has_figures": figures is not None}


def _preview_student(sis_id: str) -> Student | None:
    students = Student.objects.filter(sis_id=sis_id.strip()) if sis_id.strip() else Student.objects.order_by("sis_id")
    return students.first()


@role_required(*ADMIN)
@require_POST
def contact_save(request, district):
    """The district's contact, or a school's own (an unknown school id is 404: another
    district's school is unknown here)."""
    form = ContactForm(request.POST, schools=School.objects.all())
    if not form.is_valid():
        if form.has_error("school"):
            raise Http404("No such school.")
        messages.error(request, _("Give both the contact person and a phone number."))
        return redirect("outreach:messages_home", district=district)
    data = form.cleaned_data
    school = get_object_or_404(School, pk=data["school"]) if data["school"] else None
    try:
        saved = services.family_contact_save(
            district=request.district, school=school, name=data["name"], phone=data["phone"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Contact saved.") if saved else _("The school's families call the district's contact again.")
        )
    return redirect("outreach:messages_home", district=district)


@role_required(*ADMIN)
@require_POST
def language_line_save(request, district):
    form = LanguageLineForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the language as a short code, such as es or vi."))
        services.language_line_save(district=request.district, **form.cleaned_data)
        messages.success(request, _("Line saved."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("outreach:messages_home", district=district)


# ----------------------------------------------------------------------------- letters


@role_required(*LETTER_ROLES)
def letters_home(request, district):
    """Pick the school and the students; the batch is reserved (or refused as a repeat) at once and
    laid out by an export job, whose page shows the progress and then offers all.pdf."""
    schools = list(letter_schools(request.access))
    form = LetterBatchForm(request.POST or None, initial={"as_of": timezone.localdate()})
    form.fields["school"].choices = [(s.pk, s.name) for s in schools]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        school = next((s for s in schools if str(s.pk) == data["school"]), None)
        try:
            with transaction.atomic():
                batch = letter_batch_reserve(
                    district=request.district, school=school, selection=data["selection"], as_of=data["as_of"],
                    by=request.access.membership, again=data["again"],
                )  # fmt: skip
                job = export_job_start(
                    access=request.access, renderer=LETTERS_RENDERER, params={"batch_id": batch.pk},
                    title=_("Nudge letters, %(school)s, as of %(date)s")
                    % {"school": school.name, "date": formats.date_format(data["as_of"], "DATE_FORMAT")},
                )  # fmt: skip
            return redirect(job)
        except ValidationError as error:
            add_validation_errors(form, error)
    batches = list(LetterBatch.objects.filter(school__in=schools).select_related("school")[:20])
    chosen = dict(form.fields["selection"].choices)
    # The person who printed a batch reaches its files (all.pdf, one per student) on their job's page.
    own_jobs = {
        job.params.get("batch_id"): job
        for job in ExportJob.objects.filter(requested_by=request.access.membership, renderer=LETTERS_RENDERER)
    }
    for batch in batches:
        batch.who = chosen.get(batch.selection, batch.selection)
        batch.job = own_jobs.get(batch.pk)
    return render(request, "outreach/families/letters.html", {"form": form, "batches": batches})


@role_required(*NOTICE_ROLES)
@require_POST
def notice_opt_out(request, district, student_id):
    """Whoever takes the family's call records that a guardian wants no more same-day notices
    on a channel (or wants them again), from the student's timeline."""
    student = student_get_visible(access=request.access, student_id=student_id)
    guardian = get_object_or_404(student.guardians.all(), pk=request.POST.get("guardian") or 0)
    stop = request.POST.get("stop") == "1"
    try:
        services.notice_opt_out_set(
            guardian=guardian, channel=request.POST.get("channel", ""), stop=stop, by=request.access.membership,
            request=request,
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = (
            _("%(name)s will get no more same-day notices on this channel.")
            if stop
            else _("%(name)s will get same-day notices again.")
        )
        messages.success(request, text % {"name": guardian.name or _("This guardian")})
    return redirect("outreach:student_timeline", district=district, student_id=student.pk)
