"""The roster with risk (outreach.roster): the page, its HTMX results and the same list as CSV."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.audit import students_shown
from districts.csvfiles import csv_response
from districts.models import AuditEvent
from students.selectors import grade_list, school_list_visible

from .roster import BAND_LABELS, RosterFilters, owner_name, owners_by_id, risk_roster
from .roster_forms import RosterRiskForm

PAGE_SIZE = 50


def _filters(request) -> tuple[RosterRiskForm, RosterFilters]:
    form = RosterRiskForm(request.GET or None, schools=school_list_visible(access=request.access), grades=grade_list())
    return form, form.filters()


def roster(request, district):
    form, filters = _filters(request)
    students = risk_roster(access=request.access, filters=filters)
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    owners = owners_by_id(student.owner_id for student in page.object_list)
    for student in page.object_list:
        student.owner_label = owner_name(owners.get(student.owner_id))
        student.band_label = BAND_LABELS.get(student.band, "")
    shown = {key: str(value) for key, value in dataclasses_asdict(filters).items() if value not in ("", None)}
    students_shown(request, page.object_list, what="roster", **shown)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "sort": filters.sort,
        "columns": _columns(filters.sort),
    }
    template = "outreach/roster.html#results" if request.htmx else "outreach/roster.html"
    return render(request, template, context)


def roster_csv(request, district):
    _form, filters = _filters(request)
    students = list(risk_roster(access=request.access, filters=filters))
    owners = owners_by_id(student.owner_id for student in students)
    students_shown(request, students, what="roster", action=AuditEvent.Action.EXPORT, format="csv", rows=len(students))
    header = [
        _("Student id"), _("Last name"), _("First name"), _("Grade"), _("School"), _("Absence rate (%)"),
        _("Days missed"), _("Band code"), _("Band"), _("Tier"), _("Open flags"), _("Owner"),
    ]  # fmt: skip
    rows = (
        [
            student.sis_id,
            student.last_name,
            student.first_name,
            student.grade,
            student.school_name or "",
            round(float(student.rate) * 100, 1) if student.rate is not None else "",
            float(student.missed) if student.missed is not None else "",
            student.band or "",
            str(BAND_LABELS.get(student.band, "")),
            student.tier if student.tier is not None else "",
            student.open_flags,
            owner_name(owners.get(student.owner_id)),
        ]  # fmt: skip
        for student in students
    )
    return csv_response(f"students-{district}-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


def dataclasses_asdict(filters: RosterFilters) -> dict:
    return {
        "q": filters.query, "school": filters.school.pk if filters.school else "", "grade": filters.grade,
        "band": filters.band, "tier": filters.tier, "sort": filters.sort,
    }  # fmt: skip


def _columns(sort: str) -> list[dict]:
    """The sortable columns: each header links to its sort (again: the other way round)."""
    labels = [
        ("name", _("Name")), ("grade", _("Grade")), ("school", _("School")), ("rate", _("Absence rate")),
        ("missed", _("Days missed")), ("band", _("Band")), ("tier", _("Tier")), ("flags", _("Open flags")),
        ("owner", _("Owner")),
    ]  # fmt: skip
    numeric_first_desc = {"rate", "missed", "band", "tier", "flags"}
    columns = []
    for key, label in labels:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        if current:
            target = key if descending else f"-{key}"
        else:
            target = f"-{key}" if key in numeric_first_desc else key
        columns.append(
            {
                "key": key,
                "label": label,
                "target": target,
                "aria_sort": ("descending" if descending else "ascending") if current else "",
                "numeric": key in {"rate", "missed", "tier", "flags"},
            }
        )
    return columns
