"""The huddle on paper (PDF) and in a spreadsheet (CSV).

Both are built from the same HuddlePage the screen shows, so they list exactly the rows the
reader may see. Paper leaves the building: sensitive notes never go on it, and neither do
contact details beyond the guardian's name, language, channel and phone.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from districts.csvfiles import csv_text
from exports.registry import ExportFile, ExportRequest

from . import display, permissions, selectors
from .display import HuddlePage
from .models import Huddle
from .sections import reason_label

# WeasyPrint logs every layout step at INFO ("Step 5 - Creating layout - Page 12"): noise that
# would bury the request log at the root logger's INFO level.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Codes for other tools, and beside each its plain-language value for the people reading it.
CSV_COLUMNS = [
    "section", "student_sis_id", "student_name", "grade", "days_missed", "membership_days", "absence_rate", "band",
    "absences_left_before_chronic", "trend_points", "rules", "owner", "next_step", "next_step_due",
    "checklist_overdue", "last_contact_date", "last_contact_method", "last_contact_reached", "guardian",
    "guardian_language", "guardian_channel", "guardian_phone", "discussed", "outcome",
    "section_code", "agenda", "band_label", "rules_label", "outcome_code",
]  # fmt: skip


def filename(huddle: Huddle, extension: str) -> str:
    school = "".join(ch if ch.isalnum() else "-" for ch in huddle.school.sis_id or str(huddle.school_id))
    return f"huddle-{school}-{huddle.week_start:%Y-%m-%d}.{extension}"


def huddle_pdf(page: HuddlePage, *, request=None, appendix: bool = False) -> bytes:
    """The agenda on paper; with `appendix`, ready to close and on track after it."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only exports need it

    context = {"page": page, "huddle": page.huddle, "appendix": appendix}
    html = render_to_string("outreach/huddle_pdf.html", context, request=request)
    return HTML(string=html, base_url=request.build_absolute_uri("/") if request else None).write_pdf()


def render_huddle_pdf(export: ExportRequest) -> ExportFile:
    """The export renderer "outreach.huddle_pdf" (registered in OutreachConfig.ready): the whole
    huddle, for the school's team and district staff, as its requester may see it now."""
    huddle = selectors.huddle_get_visible(access=export.access, huddle_id=export.params["huddle_id"])
    if not permissions.sees_school(export.access, huddle.school_id):
        raise PermissionDenied("Exports are the whole huddle: for the school's team and district staff.")
    export.progress(10, _("Reading the huddle"))
    page = display.huddle_page(access=export.access, huddle=huddle, today=export.today)
    export.progress(40, _("Laying out %(count)s rows") % {"count": page.total})
    return ExportFile(
        content=huddle_pdf(page, appendix=bool(export.params.get("appendix"))),
        filename=filename(huddle, "pdf"),
        content_type="application/pdf",
        students=[view.row.student_id for view in page.rows],
    )


def huddle_csv(page: HuddlePage) -> str:
    return csv_text(CSV_COLUMNS, (_csv_row(view) for view in page.rows))


def _csv_row(view) -> list:
    row, guardian, contact = view.row, (view.guardians[0] if view.guardians else None), view.last_contact
    owner = row.owner.user.get_full_name() or row.owner.user.email if row.owner else ""
    return [
        row.get_section_display(), row.student.sis_id, row.student.full_name, row.grade, view.days_missed,
        row.membership_days, f"{row.absence_rate:.4f}", row.band, "" if row.absences_left is None else row.absences_left,
        "" if row.trend is None else f"{float(row.trend) * 100:.1f}", ";".join(r["rule"] for r in row.reasons if r["rule"]),
        owner, row.next_step, row.next_step_due.isoformat() if row.next_step_due else "", view.overdue_steps,
        contact.action.attempt_date.isoformat() if contact else "", contact.action.get_method_display() if contact else "",
        ("yes" if contact.action.reached else "no") if contact else "", guardian.name if guardian else "",
        guardian.language if guardian else "", guardian.get_preferred_channel_display() if guardian else "",
        guardian.phone if guardian else "", "yes" if row.discussed else "no", row.get_outcome_display() if row.outcome else "",
        row.section, "yes" if row.on_agenda else "no", view.band_label,
        "; ".join(reason_label(r) for r in row.reasons if r.get("rule")), row.outcome,
    ]  # fmt: skip
