"""The district team's pulse pages: the dashboard, the tables by school, grade and subgroup, and
a school's drill-down. Thin: the figures come from pulse.board (cached per metrics run), the
words from pulse.labels.

Inside the district these pages are for district staff and admins, who may see student rows, so
nothing on them is suppressed; a table downloaded "for outside the district" applies SPEC §9's
small-cell suppression at the district's minimum."""

import copy

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from districts.access import role_required
from districts.audit import students_shown
from districts.csvfiles import csv_response
from districts.models import AuditEvent, Role
from districts.services import audit_record, district_settings_update
from exports.services import export_job_start

from . import selectors
from .board_report import item, sections, week_table
from .charts import band_bar, trend_chart
from .exports import BOARD_PDF
from .figures import SEVERITY_COLUMNS, min_cell_of, suppress, suppressed_checks
from .labels import BAND_LABELS, group_label
from .priority import priority_schools

DISTRICT_ROLES = (Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)
GROUP_LEVELS = ["school", "grade", "subgroup"]
SORTS = ["name", "students", "rate", "change"]
CSV_COLUMNS = [
    "level", "group", "name", "students", "chronic", "chronic_rate", "at_risk", "moderate", "severe", "acute",
    "prior_year_students", "prior_year_chronic_rate", "change", "suppressed",
]  # fmt: skip


@role_required(*DISTRICT_ROLES)
def dashboard(request, district):
    board = selectors.board_current(district=request.district)
    context = {"board": board}
    if board is not None:
        row = board.district
        context.update(
            chart=trend_chart(board.this_year, board.last_year),
            weeks=week_table(board),
            bands=[(band, BAND_LABELS[band], row.bands[band]) for band in SEVERITY_COLUMNS],
            priority=priority_schools(board, min_students=min_cell_of(request.district)),
            min_cell=min_cell_of(request.district),
        )
    return render(request, "pulse/dashboard.html", context)


@role_required(*DISTRICT_ROLES)
def groups(request, district):
    """Rate, band mix and change since last year by school, grade or subgroup; sortable."""
    by = request.GET.get("by") if request.GET.get("by") in GROUP_LEVELS else "school"
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "name"
    descending = request.GET.get("dir") == "desc"
    board = selectors.board_current(district=request.district)
    context = {
        "board": board, "by": by, "sort": sort, "descending": descending,
        "levels": [(level, _level_label(level)) for level in GROUP_LEVELS],
        "sections": _sections(board, board.rows(by), sort, descending) if board else [],
        "band_labels": [(band, BAND_LABELS[band]) for band in SEVERITY_COLUMNS],
        "sorts": [(key, _sort_label(key)) for key in SORTS],
        "min_cell": min_cell_of(request.district),
        "min_cell_form": MinCellForm(initial={"min_cell": min_cell_of(request.district)})
        if request.access.is_admin
        else None,
    }  # fmt: skip
    template = "pulse/groups.html#groups" if request.htmx else "pulse/groups.html"
    return render(request, template, context)


def _level_label(level: str) -> str:
    return {"school": _("By school"), "grade": _("By grade"), "subgroup": _("By subgroup")}[level]


def _sort_label(key: str) -> str:
    return {
        "name": _("Group"), "students": _("Students"), "rate": _("Chronically absent"), "change": _("Change"),
    }[key]  # fmt: skip


def _sections(board, rows, sort: str, descending: bool) -> list[dict]:
    """The table's sections (pulse.board_report), each sorted by the chosen column."""
    found = sections(board, rows)
    order = {id(entry): index for section in found for index, entry in enumerate(section["items"])}

    def key(entry):
        row = entry["row"]
        if sort == "students":
            return (row.students,)
        if sort in ("rate", "change"):
            value = row.chronic_rate if sort == "rate" else row.change
            return (value is not None, value or 0) if descending else (value is None, value or 0)
        return (order[id(entry)],)

    for section in found:
        section["items"] = sorted(section["items"], key=key, reverse=descending)
    return found


@role_required(*DISTRICT_ROLES)
def groups_csv(request, district):
    """A table as CSV. `for=outside`: marked for outside the district, with small-cell
    suppression at the district's minimum (and last year's figures blank where a group is)."""
    by = request.GET.get("by") if request.GET.get("by") in ["district", *GROUP_LEVELS] else "school"
    outside = request.GET.get("for") == "outside"
    board = selectors.board_current(district=request.district)
    if board is None:
        raise Http404(_("No figures yet: the district's first nightly run has not finished."))
    rows = copy.deepcopy(board.rows(by))
    min_cell = min_cell_of(request.district) if outside else 0
    suppress(rows, min_cell=min_cell)
    audit_record(
        district=request.district, user=request.user, action=AuditEvent.Action.EXPORT, object_type="pulse_figures",
        object_label=f"Pulse figures by {by}", request=request,
        detail={"by": by, "min_cell": min_cell, "for": "outside" if outside else "inside", "via": "csv"},
    )  # fmt: skip
    suffix = "-outside" if outside else ""
    filename = f"pulse-{by}-{board.as_of:%Y-%m-%d}{suffix}.csv"
    return csv_response(filename, CSV_COLUMNS, [_csv_row(board, row) for row in rows])


def _csv_row(board, row) -> list:
    school = board.school(row)
    published = row.csv_row()
    prior, change = row.prior_rate, row.change
    hidden = row.suppressed
    return [
        *published[:2], group_label(row, school.name if school else None), *published[2:9],
        "" if hidden or row.prior_students is None else row.prior_students,
        "" if hidden or prior is None else f"{float(prior):.4f}",
        "" if hidden or change is None else f"{float(change):.4f}",
        published[9],
    ]  # fmt: skip


@role_required(*DISTRICT_ROLES)
def school(request, district, school_id):
    """A school's grades (its own days and absences) and its students with an open flag."""
    found = selectors.school_get(school_id=school_id)
    board = selectors.board_current(district=request.district)
    row = board.school_row(found.pk) if board else None
    grades = []
    if board is not None and row is not None:
        grades = [item(board, grade) for grade in board.school_grades.get(row.group, [])]
    flagged, flagged_total = selectors.school_flagged_students(access=request.access, school=found)
    students_shown(
        request, [metrics.student_id for metrics, _flags in flagged], what="pulse_school", obj=found,
        label=found.name,
    )  # fmt: skip
    context = {
        "school": found, "board": board, "row": row, "grades": grades, "flagged": flagged,
        "flagged_total": flagged_total, "bar": band_bar(row) if row else [],
        "band_labels": [(band, BAND_LABELS[band]) for band in SEVERITY_COLUMNS],
        "near_chronic": board.near_chronic.get(row.group, 0) if row else 0,
        "checks": selectors.pulse_check_comparison(
            district=request.district, today=board.as_of if board else timezone.localdate(), school=found
        ),
    }  # fmt: skip
    return render(request, "pulse/school.html", context)


@role_required(*DISTRICT_ROLES)
def checks(request, district):
    """Week-2 and week-4 pulse checks by school and grade, this year beside last year."""
    run = selectors.current_run()
    today = run.as_of if run is not None else timezone.localdate()
    comparisons = selectors.pulse_check_comparison(district=request.district, today=today)
    return render(request, "pulse/checks.html", {"comparisons": comparisons})


CHECK_CSV_COLUMNS = [
    "school_year", "checkpoint_days", "school", "school_name", "grade", "window_start", "window_end", "students",
    "two_or_more", "share", "suppressed",
]  # fmt: skip


@role_required(*DISTRICT_ROLES)
def checks_csv(request, district):
    """Every stored pulse check as CSV; `for=outside` suppresses small groups (and, where one
    group of a year, checkpoint and level alone would be, the next smallest)."""
    outside = request.GET.get("for") == "outside"
    min_cell = min_cell_of(request.district) if outside else 0
    stored = list(selectors.pulse_check_list())
    hidden_ids = suppressed_checks(stored, min_cell=min_cell)
    audit_record(
        district=request.district, user=request.user, action=AuditEvent.Action.EXPORT, object_type="pulse_checks",
        object_label="Pulse checks", request=request,
        detail={"min_cell": min_cell, "for": "outside" if outside else "inside", "via": "csv"},
    )  # fmt: skip
    rows = []
    for row in stored:
        hidden = row.pk in hidden_ids
        share = row.share
        rows.append([
            row.school_year, row.checkpoint, row.school.sis_id if row.school else "", row.school.name if row.school else "",
            row.grade, row.window_start.isoformat(), row.window_end.isoformat(), "" if hidden else row.students,
            "" if hidden else row.two_or_more, "" if hidden or share is None else f"{float(share):.4f}",
            "true" if hidden else "false",
        ])  # fmt: skip
    suffix = "-outside" if outside else ""
    return csv_response(f"pulse-checks-{timezone.localdate():%Y-%m-%d}{suffix}.csv", CHECK_CSV_COLUMNS, rows)


@require_POST
@role_required(*DISTRICT_ROLES)
def board_pdf(request, district):
    """Start the board report PDF (an export job: the page that follows shows its progress and
    offers the download). `outside`: marked for outside the district, with suppression."""
    if selectors.board_current(district=request.district) is None:
        raise Http404(_("No figures yet: the district's first nightly run has not finished."))
    outside = request.POST.get("outside") == "1"
    title = _("District pulse report (for outside the district)") if outside else _("District pulse report")
    job = export_job_start(access=request.access, renderer=BOARD_PDF, params={"outside": outside}, title=title)
    return redirect(job)


class MinCellForm(forms.Form):
    min_cell = forms.IntegerField(
        label=gettext_lazy("Smallest group shown outside the district (students)"), min_value=1, max_value=100,
        help_text=gettext_lazy("Files and reports marked for outside the district leave smaller groups blank."),
    )  # fmt: skip


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def min_cell_update(request, district):
    """The district's minimum cell size (SPEC §9), kept in District.settings["pulse_min_cell"]."""
    form = MinCellForm(request.POST)
    if form.is_valid():
        district_settings_update(
            district=request.district, user=request.user, request=request, pulse_min_cell=form.cleaned_data["min_cell"]
        )
        messages.success(request, _("Saved: groups under %(count)s students are left blank outside the district.")
                         % {"count": form.cleaned_data["min_cell"]})  # fmt: skip
    else:
        messages.error(request, _("The smallest group must be a whole number from 1 to 100."))
    return redirect("pulse:groups", district=district)
