"""The district's review pages beside the dashboard: follow-through per school (and, on their
own pages, equity, data quality and intervention effectiveness). Counts and rates, no student
rows: for district-wide roles. Every table downloads as CSV (audit-logged as an export)."""

import datetime

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.access import role_required
from districts.csvfiles import csv_response
from districts.models import AuditEvent, Role
from districts.services import audit_record
from outreach.families.selectors import language_gaps

from . import data_quality, effectiveness, equity, follow_through
from .bars import bar_chart
from .board_review import equity_current, year_start
from .figures import min_cell_of
from .labels import subgroup_label

REVIEW_ROLES = (Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)
PERIODS = {
    "6w": gettext_lazy("The last 6 weeks"),
    "year": gettext_lazy("This school year"),
}


def _today():
    return timezone.localdate()  # the middleware makes this the district's date


def _period(request) -> tuple[str, datetime.date]:
    today, chosen = _today(), request.GET.get("period", "6w")
    if chosen != "year":
        return "6w", today - datetime.timedelta(weeks=6)
    return "year", year_start(request.district, today)


def _export(request, what: str, label: str, **detail) -> None:
    audit_record(
        district=request.district, user=request.user, action=AuditEvent.Action.EXPORT, object_type=what,
        object_label=label, request=request, detail=detail,
    )  # fmt: skip


def percent(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"


def days(value) -> str:
    return "—" if value is None else f"{value.normalize():f}"


# ----------------------------------------------------------------------------- follow-through

FOLLOW_THROUGH_COLUMNS = [
    "school", "school_weeks", "huddles_held", "huddles_held_share", "huddle_rows", "rows_discussed",
    "discussed_share", "tier2_triggers_due", "family_contact_on_time", "family_contact_on_time_share",
    "median_days_to_first_contact", "tier3_cases_with_trigger", "plans_within_deadline", "plans_within_deadline_share",
    "median_days_to_plan", "referrals_made", "referrals_connected", "connection_share",
]  # fmt: skip


def _follow_through_cells(row) -> list:
    cases = row.cases
    return [
        row.school.sis_id if row.school else "", row.school_weeks, row.huddles_held, row.huddles_share, row.rows,
        row.rows_discussed, row.discussed_share, row.triggers_due, row.contacts_on_time, row.contact_share,
        row.median_days_to_contact, cases.cases_with_trigger, cases.plans_written_within_deadline,
        cases.plans_within_deadline_share, cases.median_days_to_plan, cases.referrals_made, cases.referrals_connected,
        cases.connection_share,
    ]  # fmt: skip


def _follow_through_report(request):
    period, start = _period(request)
    report = follow_through.follow_through_report(
        access=request.access, district=request.district, today=_today(), start=start
    )
    return period, report


@role_required(*REVIEW_ROLES)
def follow_through_page(request, district):
    """Is each school carrying out the tiered response as agreed? Per school and for the district."""
    period, report = _follow_through_report(request)
    charts = [
        bar_chart(
            title,
            [(row.school.name, getattr(row, name), percent(getattr(row, name))) for row in report.schools],
            reference=float(getattr(report.district, name)) if getattr(report.district, name) is not None else None,
            reference_label=_("Dashed line: the district as a whole."),
        )
        for title, name in [
            (_("Huddles held on schedule"), "huddles_share"),
            (_("First family contact within the deadline"), "contact_share"),
        ]
    ]
    context = {
        "report": report, "period": period, "periods": PERIODS.items(), "charts": [c for c in charts if c],
        "rows": [*report.schools, report.district],
    }  # fmt: skip
    return render(request, "pulse/follow_through.html", context)


@role_required(*REVIEW_ROLES)
def follow_through_csv(request, district):
    period, report = _follow_through_report(request)
    _export(request, "pulse_follow_through", "Follow-through by school", period=period)
    rows = [_follow_through_cells(row) for row in [*report.schools, report.district]]
    return csv_response("follow-through.csv", FOLLOW_THROUGH_COLUMNS, rows)


# ----------------------------------------------------------------------------- equity

EQUITY_COLUMNS = [
    "group", "students", "absent_days", "unexcused_days", "unexcused_share", "unexcused_ratio", "suspended",
    "suspension_rate", "suspension_ratio", "escalated", "escalation_rate", "escalation_ratio", "suppressed",
]  # fmt: skip


def _equity(request, *, min_cell: int = 0):
    return equity_current(access=request.access, district=request.district, min_cell=min_cell)


def _equity_chart(report, measure: str, title: str):
    rows = [row for row in report.rows if not row.suppressed]
    top = max([float(row.ratios[measure] or 0) for row in rows] + [2.0])
    return bar_chart(
        title,
        [(subgroup_label(row), row.ratios[measure], ratio_text(row.ratios[measure])) for row in rows],
        scale=top, emphasis=lambda value: value >= equity.HIGH_RATIO, reference=1.0,
        reference_label=_("Dashed line: the district rate (ratio 1). Hatched bars marked ▲: 1.5 times the district rate or more."),
    )  # fmt: skip


def ratio_text(value) -> str:
    return "—" if value is None else f"{float(value):.2f}×"


@role_required(*REVIEW_ROLES)
def equity_page(request, district):
    """Unexcused absences, suspensions and escalations by subgroup against the district. Inside
    the district nothing is suppressed (counts, no student rows)."""
    report = _equity(request)
    charts = []
    if report is not None:
        charts = [
            _equity_chart(report, "unexcused_share", _("Unexcused share of absences, ratio to the district")),
            _equity_chart(report, "suspension_rate", _("Students suspended, ratio to the district")),
            _equity_chart(report, "escalation_rate", _("Students escalated to Tier 3, ratio to the district")),
        ]
    rows = [(subgroup_label(row), row) for row in ([report.district, *report.rows] if report else [])]
    context = {
        "report": report,
        "rows": rows,
        "charts": [c for c in charts if c],
        "min_cell": min_cell_of(request.district),
    }
    return render(request, "pulse/equity.html", context)


@role_required(*REVIEW_ROLES)
def equity_csv(request, district):
    """`for=outside`: marked for outside the district, small groups suppressed (SPEC §9)."""
    outside = request.GET.get("for") == "outside"
    min_cell = min_cell_of(request.district) if outside else 0
    report = _equity(request, min_cell=min_cell)
    _export(request, "pulse_equity", "Equity by subgroup", min_cell=min_cell, outside=outside)
    rows = []
    for row in [report.district, *report.rows] if report else []:
        hidden = row.suppressed
        cells = [
            row.students, row.absent_days, row.unexcused_days, row.unexcused_share, row.ratios["unexcused_share"],
            row.suspended, row.suspension_rate, row.ratios["suspension_rate"], row.escalated, row.escalation_rate,
            row.ratios["escalation_rate"],
        ]  # fmt: skip
        rows.append([row.group if row.dimension != "district" else "", *(["" for _c in cells] if hidden else cells),
                     "true" if hidden else "false"])  # fmt: skip
    return csv_response(f"equity{'-outside' if outside else ''}.csv", EQUITY_COLUMNS, rows)


# ----------------------------------------------------------------------------- data quality

DATA_QUALITY_COLUMNS = [
    "school", "last_attendance", "school_days_since", "stale", "unknown_code_rows", "unknown_codes",
    "missing_calendar_days", "days_without_attendance", "enrollment_gaps", "students_without_guardian_contact",
    "failed_notices",
]  # fmt: skip


@role_required(*REVIEW_ROLES)
def data_quality_page(request, district):
    """What makes the figures less true, school by school, each with where it is fixed."""
    rows = data_quality.data_quality_report(district=request.district, today=_today())
    totals = {
        "stale": sum(row.is_stale for row in rows),
        "unknown_code_rows": sum(row.unknown_code_rows for row in rows),
        "missing_calendar_days": sum(len(row.missing_calendar_days) for row in rows),
        "enrollment_gaps": sum(row.enrollment_gaps for row in rows),
        "no_guardian_contact": sum(row.no_guardian_contact for row in rows),
        "failed_notices": sum(row.failed_notices for row in rows),
    }
    # Families whose language the notices have no template for read English (issue 13): a
    # district-wide count, since a family's language does not belong to one school.
    gaps = language_gaps()
    totals["language_gap_guardians"] = sum(gap.guardians for gap in gaps)
    context = {"rows": rows, "totals": totals, "gaps": gaps, "fixes": request.access.is_admin}
    return render(request, "pulse/data_quality.html", context)


@role_required(*REVIEW_ROLES)
def data_quality_csv(request, district):
    rows = data_quality.data_quality_report(district=request.district, today=_today())
    _export(request, "pulse_data_quality", "Data quality by school")
    body = [
        [
            row.school.sis_id,
            row.last_attendance.isoformat() if row.last_attendance else "",
            "" if row.school_days_since is None else row.school_days_since,
            "Y" if row.is_stale else "N",
            row.unknown_code_rows,
            " ".join(row.unknown_codes),
            len(row.missing_calendar_days),
            row.days_without_attendance,
            row.enrollment_gaps,
            row.no_guardian_contact,
            row.failed_notices,
        ]  # fmt: skip
        for row in rows
    ]
    return csv_response("data-quality.csv", DATA_QUALITY_COLUMNS, body)


# ----------------------------------------------------------------------------- effectiveness

EFFECTIVENESS_COLUMNS = ["dimension", "code", "students", "rate_before", "rate_after", "change"]
DIMENSION_TITLES = {
    "method": gettext_lazy("By outreach method"),
    "barrier": gettext_lazy("By barrier found"),
    "intervention": gettext_lazy("By Tier 3 intervention"),
}


def _four(value) -> str:
    return "" if value is None else f"{value:.4f}"


@role_required(*REVIEW_ROLES)
def effectiveness_page(request, district):
    """What happened to attendance after each kind of support: descriptive, not causal."""
    rows = effectiveness.effectiveness_current(access=request.access, district=request.district)
    sections = []
    for dimension, title in DIMENSION_TITLES.items():
        members = [row for row in rows if row.dimension == dimension]
        chart = bar_chart(
            _("%(what)s: attendance rate in the 20 school days after") % {"what": title},
            [(row.label, row.rate_after, percent(row.rate_after)) for row in members],
        )
        sections.append({"key": dimension, "title": title, "rows": members, "chart": chart})
    return render(request, "pulse/effectiveness.html", {"sections": sections, "window": effectiveness.WINDOW})


@role_required(*REVIEW_ROLES)
def effectiveness_csv(request, district):
    rows = effectiveness.effectiveness_current(access=request.access, district=request.district)
    _export(request, "pulse_effectiveness", "Intervention effectiveness (descriptive)")
    body = [
        [row.dimension, row.code, row.students, _four(row.rate_before), _four(row.rate_after), _four(row.change)]
        for row in rows
    ]
    return csv_response("effectiveness.csv", EFFECTIVENESS_COLUMNS, body)
