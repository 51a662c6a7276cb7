"""The district team's pulse pages: the dashboard and its tables. Thin: the figures come from
pulse.board (cached per metrics run), the words from pulse.labels."""

from django.shortcuts import render

from districts.access import role_required
from districts.models import Role

from . import selectors
from .charts import trend_chart
from .figures import SEVERITY_COLUMNS
from .labels import BAND_LABELS

DISTRICT_ROLES = (Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)
SORTS = {
    "name": lambda item: (item["order"],),
    "students": lambda item: (item["row"].students,),
    "rate": lambda item: (item["rate"] is None, item["rate"] or 0),
    "change": lambda item: (item["change"] is None, item["change"] or 0),
}


@role_required(*DISTRICT_ROLES)
def dashboard(request, district):
    board = selectors.board_current(district=request.district)
    context = {"board": board}
    if board is not None:
        row = board.district
        context.update(
            chart=trend_chart(board.this_year, board.last_year),
            weeks=_week_table(board),
            bands=[(band, BAND_LABELS[band], row.bands[band]) for band in SEVERITY_COLUMNS],
        )
    return render(request, "pulse/dashboard.html", context)


def _week_table(board) -> list[dict]:
    last = {week.number: week for week in board.last_year}
    return [{"week": week, "last": last.get(week.number)} for week in board.this_year]
