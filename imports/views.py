"""Import pages for district admins: upload and history, one run's progress and outcome, the
code map with replay, column mappings, held rows and import health."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from districts.access import role_required
from districts.audit import students_shown
from districts.csvfiles import csv_response
from districts.models import AuditEvent, Role
from districts.services import audit_record

from . import selectors, services
from .forms import (
    CodeMapForm,
    ColumnMappingForm,
    HeldDiscardForm,
    HeldFilterForm,
    MappingCreateForm,
    SampleForm,
    SchoolCreateForm,
    SchoolMapForm,
    UploadForm,
)
from .models import ImportRun, reason_words
from .years import recent_years


@role_required(Role.DISTRICT_ADMIN)
def index(request, district):
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        mappings=selectors.column_mapping_list(),
        years=recent_years(request.district),
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                run = services.import_run_create(
                    district=request.district,
                    format=form.cleaned_data["format"],
                    uploads=form.cleaned_data["files"],
                    mapping=form.cleaned_data["mapping"],
                    user=request.user,
                    school_year=form.cleaned_data["school_year"],
                )
                services.import_run_enqueue(run=run)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return redirect("imports:run_detail", district=district, import_run_id=run.pk)
    runs = Paginator(selectors.import_run_list(), 25).get_page(request.GET.get("page"))
    return render(request, "imports/index.html", {"form": form, "page": runs}, status=400 if form.errors else 200)


@role_required(Role.DISTRICT_ADMIN)
def run_detail(request, district, import_run_id):
    run = selectors.import_run_get(run_id=import_run_id)
    context = {"run": run, "progress": selectors.import_progress(run=run)}
    if request.htmx and request.GET.get("part") == "progress":
        return render(request, "imports/run_detail.html#progress", context)
    held = selectors.held_row_list(run=run, open_only=False)
    context["held_page"] = Paginator(held, 50).get_page(request.GET.get("page"))
    context["undo"] = selectors.undo_state(run=run)
    return render(request, "imports/run_detail.html", context)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def run_confirm(request, district, import_run_id):
    """Go ahead with an import the removal guard stopped: it runs again, removals allowed."""
    run = selectors.import_run_get(run_id=import_run_id)
    try:
        with transaction.atomic():
            services.import_run_confirm(run=run, user=request.user)
            services.import_run_enqueue(run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("imports:run_detail", district=district, import_run_id=run.pk)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def run_undo(request, district, import_run_id):
    run = selectors.import_run_get(run_id=import_run_id)
    try:
        with transaction.atomic():
            undo = services.import_run_undo_create(run=run, user=request.user, request=request)
            services.import_run_enqueue(run=undo)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("imports:run_detail", district=district, import_run_id=run.pk)
    messages.success(request, _("Undoing import #%(run)s.") % {"run": run.pk})
    return redirect("imports:run_detail", district=district, import_run_id=undo.pk)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def run_retry(request, district, import_run_id):
    """A failed run (its worker died, or the broker refused it) runs again from its stored file."""
    run = selectors.import_run_get(run_id=import_run_id)
    with transaction.atomic():
        services.import_run_retry(run=run)
    return redirect("imports:run_detail", district=district, import_run_id=run.pk)


@role_required(Role.DISTRICT_ADMIN)
def codes(request, district):
    form = CodeMapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.attendance_code_map(district=request.district, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Code {code.code} now means {code.get_category_display()}. Replay the held rows to place them.",
            )
        return redirect("imports:codes", district=district)
    unknown = selectors.unknown_code_list()
    forms = [
        (row, CodeMapForm(initial={"code": row["code"]}, auto_id=f"code-{index}-%s"))
        for index, row in enumerate(unknown)
    ]
    return render(
        request,
        "imports/codes.html",
        {"unknown": forms, "codes": selectors.attendance_code_list(), "replayable": selectors.replayable_count()},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def replay(request, district):
    with transaction.atomic():
        run = services.quarantine_replay_create(district=request.district, user=request.user)
        services.import_run_enqueue(run=run)
    return redirect("imports:run_detail", district=district, import_run_id=run.pk)


def _held_filters(data) -> tuple[HeldFilterForm, dict]:
    form = HeldFilterForm(data or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, {"reason": filters.get("reason", ""), "school_sis_id": filters.get("school", "")}


@role_required(Role.DISTRICT_ADMIN)
def held_rows(request, district):
    form, filters = _held_filters(request.GET)
    rows = selectors.held_row_list(**filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "imports/held.html#results" if request.htmx else "imports/held.html"
    discard = HeldDiscardForm(initial={"reason": filters["reason"], "school": filters["school_sis_id"]})
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "reason_counts": selectors.held_reason_counts(),
        "discard_form": discard,
        "unknown_schools": len(selectors.unknown_school_list()),
    }
    return render(request, template, context)


@role_required(Role.DISTRICT_ADMIN)
def held_csv(request, district):
    """The held rows the filter shows, with each reason as its code and in words."""
    _form, filters = _held_filters(request.GET)
    rows = selectors.held_row_list(**filters)
    audit_record(
        district=request.district,
        user=request.user,
        action=AuditEvent.Action.EXPORT,
        object_type="held_rows",
        object_label="Held rows CSV",
        request=request,
        detail={"filters": filters},
    )
    header = [
        _("Import"), _("File"), _("Row"), _("Field"), _("Reason code"), _("Reason"), _("Message"),
        _("School SIS id"), _("The row as the file had it"),
    ]  # fmt: skip
    lines = (
        [
            row.run_id,
            row.file_name,
            row.row_number,
            row.field,
            row.reason,
            reason_words(row.reason),
            row.message_text,
            row.school_sis_id,
            "; ".join(f"{key}={value}" for key, value in row.raw.items()),
        ]  # fmt: skip
        for row in rows.iterator(chunk_size=2000)
    )
    return csv_response(f"held-rows-{district}-{timezone.localdate():%Y-%m-%d}.csv", header, lines)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def held_discard(request, district):
    form = HeldDiscardForm(request.POST)
    target = reverse("imports:held", kwargs={"district": district})
    if not form.is_valid():
        messages.error(request, _("Say why these rows can be discarded."))
    else:
        rows = selectors.held_row_list(reason=form.cleaned_data["reason"], school_sis_id=form.cleaned_data["school"])
        try:
            count = services.held_rows_discard(
                district=request.district, rows=rows, note=form.cleaned_data["note"], user=request.user, request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "Discarded %(count)s held row. It stays on record and is counted on the import health page.",
                    "Discarded %(count)s held rows. They stay on record and are counted on the import health page.",
                    count,
                )
                % {"count": count},
            )
    query = {"reason": form.data.get("reason", ""), "school": form.data.get("school", "")}
    query = urlencode({key: value for key, value in query.items() if value})
    return redirect(f"{target}?{query}" if query else target)


@role_required(Role.DISTRICT_ADMIN)
def unknown_schools(request, district):
    """School ids held rows name that the district does not know: map each to one of its
    schools, or add it; then the held rows are replayed."""
    if request.method == "POST":
        form = (SchoolCreateForm if request.POST.get("action") == "create" else SchoolMapForm)(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    if isinstance(form, SchoolCreateForm):
                        services.unknown_school_create(
                            district=request.district, user=request.user, request=request, **form.cleaned_data
                        )
                    else:
                        services.unknown_school_map(
                            district=request.district, user=request.user, request=request, **form.cleaned_data
                        )
                    run = services.quarantine_replay_create(district=request.district, user=request.user)
                    services.import_run_enqueue(run=run)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("School id %(sis_id)s is known now; its held rows are being replayed.")
                    % {"sis_id": form.cleaned_data["sis_id"]},
                )
                return redirect("imports:run_detail", district=district, import_run_id=run.pk)
        else:
            messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("imports:unknown_schools", district=district)
    unknown = [
        {
            **row,
            "map_form": SchoolMapForm(initial={"sis_id": row["sis_id"]}, auto_id=f"map-{index}-%s"),
            "create_form": SchoolCreateForm(initial={"sis_id": row["sis_id"]}, auto_id=f"create-{index}-%s"),
        }
        for index, row in enumerate(selectors.unknown_school_list())
    ]
    return render(
        request, "imports/unknown_schools.html", {"unknown": unknown, "aliases": selectors.school_alias_list()}
    )


@role_required(Role.DISTRICT_ADMIN)
def mappings(request, district):
    form = MappingCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mapping = services.column_mapping_save(
                district=request.district, name=form.cleaned_data["name"], columns={}, formats={}, headers={}
            )
        except ValidationError as error:
            form.add_error("name", error.messages)
        else:
            return redirect("imports:mapping_edit", district=district, mapping_id=mapping.pk)
    return render(
        request,
        "imports/mappings.html",
        {"form": form, "mappings": selectors.column_mapping_list()},
        status=400 if form.errors else 200,
    )


@role_required(Role.DISTRICT_ADMIN)
def mapping_edit(request, district, mapping_id):
    mapping = selectors.column_mapping_get(mapping_id=mapping_id)
    sample_form = SampleForm()
    if request.method == "POST" and "sample" in request.FILES:
        sample_form = SampleForm(request.POST, request.FILES)
        if sample_form.is_valid():
            try:
                services.column_mapping_add_sample(
                    mapping=mapping,
                    entity=sample_form.cleaned_data["entity"],
                    upload=sample_form.cleaned_data["sample"],
                )
            except ValidationError as error:
                sample_form.add_error("sample", error.messages)
            else:
                return redirect("imports:mapping_edit", district=district, mapping_id=mapping.pk)
    form = ColumnMappingForm(
        request.POST if request.method == "POST" and "sample" not in request.FILES else None, mapping=mapping
    )
    if form.is_bound and form.is_valid():
        columns, formats = form.mapping_values()
        services.column_mapping_save(
            district=request.district, name=mapping.name, columns=columns, formats=formats, headers={}, mapping=mapping
        )
        messages.success(request, f"Saved the column mapping “{mapping.name}”.")
        return redirect("imports:mapping_edit", district=district, mapping_id=mapping.pk)
    invalid = form.errors or sample_form.errors
    return render(
        request,
        "imports/mapping_edit.html",
        {"mapping": mapping, "form": form, "sample_form": sample_form},
        status=400 if invalid else 200,
    )


@role_required(Role.DISTRICT_ADMIN)
def health(request, district):
    report = selectors.import_health(today=timezone.localdate())
    named = [s for row in report["schools"] for s in row["no_guardian_contact"][: report["examples"]]]
    students_shown(request, named, what="import_health")
    return render(
        request,
        "imports/health.html",
        {"report": report, "last_run": selectors.import_run_list().filter(kind=ImportRun.Kind.IMPORT).first()},
    )
