"""The case plan on paper, for the meeting with the family: plain words, the goal, the supports
and who to call, in the family's language. Paper leaves the building, so it carries no notes,
no figures about anyone else and nothing marked sensitive. It is laid out by a worker through
the export jobs (registered in CasesConfig.ready as "cases.plan_pdf"); the download is
audit-logged with the student by the exports app."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from exports.registry import ExportFile, ExportRequest
from languages.family import family_language

from . import display, permissions, selectors
from .models import Case

# WeasyPrint logs every layout step at INFO; keep the request log readable.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

RENDERER = "cases.plan_pdf"


def filename(case: Case) -> str:
    sis_id = "".join(ch if ch.isalnum() else "-" for ch in case.student.sis_id or str(case.student_id))
    return f"attendance-plan-{sis_id}.pdf"


def plan_language(case: Case) -> str:
    """The language of the student's first guardian, when the interface speaks it; else English."""
    guardian = case.student.guardians.order_by("name").first()
    code = family_language(guardian.language if guardian else "")
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE.split("-")[0]


def case_pdf(page: display.CasePage, *, language: str) -> bytes:
    from weasyprint import HTML  # loading Pango costs ~0.3 s: only exports pay it

    with translation.override(language):
        html = render_to_string("cases/case_pdf.html", {"page": page, "case": page.case, "language": language})
    return HTML(string=html).write_pdf()


def render_case_pdf(export: ExportRequest) -> ExportFile:
    """The export renderer: the case as its requester may read it now."""
    case = selectors.case_get_visible(access=export.access, case_id=export.params["case_id"])
    if not permissions.reads_case(export.access, case):
        raise PermissionDenied("The plan is for the case's counselors and the district's staff.")
    export.progress(20, _("Reading the case"))
    page = display.case_page(access=export.access, case=case, today=export.today)
    language = export.params.get("language") or plan_language(case)
    export.progress(50, _("Laying out the plan"))
    return ExportFile(
        content=case_pdf(page, language=language), filename=filename(case), content_type="application/pdf",
        students=[case.student_id],
    )  # fmt: skip
