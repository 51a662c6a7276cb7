"""The pulse figures as files: CSV tables and the board-ready PDF."""

import copy
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from districts.csvfiles import csv_writer
from districts.models import Role
from exports.registry import ExportFile, ExportRequest

from .figures import COLUMNS, GroupRow, min_cell_of, suppress

BOARD_PDF = "pulse.board_pdf"
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def write_pulse_csv(handle, rows: list[GroupRow]) -> None:
    """export_pulse's contract: the header, then one row per group. SIS ids come from district
    files, so cells go through the app's formula-escaping writer like every CSV."""
    writer = csv_writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.csv_row())


def render_board_pdf(export: ExportRequest) -> ExportFile:
    """The export renderer "pulse.board_pdf" (registered in PulseConfig.ready): the whole
    dashboard on paper for the school board, in the requester's language. Counts only, no
    student rows. `params["outside"]`: marked for outside the district, so every table applies
    small-cell suppression at the district's minimum."""
    from . import selectors
    from .board_report import board_report
    from .board_review import review_tables

    if not export.access.has_role(Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF):
        raise PermissionDenied("The district pulse is for district staff and admins.")
    outside = bool(export.params.get("outside"))
    language = export.access.membership.user.language or "en"
    with translation.override(language):
        export.progress(10, _("Reading the figures"))
        board = selectors.board_current(district=export.district)
        if board is None:
            raise Http404("No figures yet.")
        min_cell = min_cell_of(export.district) if outside else 0
        report = board_report(copy.deepcopy(board), district=export.district, min_cell=min_cell)
        export.progress(25, _("Reading follow-through, equity, data quality and effectiveness"))
        review = review_tables(access=export.access, district=export.district, board=report.board, min_cell=min_cell)
        export.progress(40, _("Laying out the report"))
        html = render_to_string(
            "pulse/board_pdf.html", {"report": report, "board": report.board, "review": review,
                                     "district": export.district, "outside": outside, "min_cell": min_cell,
                                     "LANGUAGE_CODE": language},
        )  # fmt: skip
        from weasyprint import HTML  # loading Pango costs ~0.3 s: only exports need it

        content = HTML(string=html).write_pdf()
    suffix = "-outside" if outside else ""
    return ExportFile(
        content=content,
        filename=f"district-pulse-{board.as_of:%Y-%m-%d}{suffix}.pdf",
        content_type="application/pdf",
        students=[],
    )


def suppressed_copy(rows: list[GroupRow], *, min_cell: int) -> list[GroupRow]:
    return suppress(copy.deepcopy(rows), min_cell=min_cell)
