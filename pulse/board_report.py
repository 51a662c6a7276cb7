"""The whole dashboard as one report: what the board PDF prints, section by section.

With `min_cell` (a report marked for outside the district) every table applies SPEC §9's
suppression, and a school whose row is blanked is left off the priority list, whose reasons
would otherwise publish its figures.
"""

import dataclasses

from django.utils import timezone

from districts.models import District

from .board import Board
from .charts import LineChart, band_bar, trend_chart
from .figures import SEVERITY_COLUMNS, SUBGROUP_FIELDS, suppress, suppressed_checks
from .labels import BAND_LABELS, SUBGROUP_LABELS, group_label
from .priority import PrioritySchool, priority_schools

LEVEL_ORDER = ["school", "grade", "subgroup"]


@dataclasses.dataclass
class Report:
    board: Board
    chart: LineChart | None
    weeks: list[dict]
    bands: list[tuple]
    priority: list[PrioritySchool]
    tables: list[dict]  # {"level", "sections": [{"title", "items"}]}
    checks: list  # selectors.CheckComparison, suppressed lines blanked
    hidden_checks: set[int]


def board_report(board: Board, *, district: District, min_cell: int) -> Report:
    from . import selectors

    rows_by_level = {level: board.rows(level) for level in LEVEL_ORDER}
    suppress([board.district], min_cell=min_cell)
    for rows in rows_by_level.values():
        suppress(rows, min_cell=min_cell)
    shown = dataclasses.replace(
        board, levels={**board.levels, "school": [row for row in board.levels["school"] if not row.suppressed]}
    )
    comparisons = selectors.pulse_check_comparison(district=district, today=board.as_of or timezone.localdate())
    checks = [line.now for check in comparisons for line in [*check.schools, *check.grades] if line.now]
    checks += [line.before for check in comparisons for line in [*check.schools, *check.grades] if line.before]
    district_row = board.district
    return Report(
        board=board,
        chart=None if district_row.suppressed else trend_chart(board.this_year, board.last_year),
        weeks=week_table(board),
        bands=[(band, BAND_LABELS[band], district_row.bands[band]) for band in SEVERITY_COLUMNS],
        priority=priority_schools(shown, min_students=max(min_cell, 1)),
        tables=[{"level": level, "sections": sections(board, rows_by_level[level])} for level in LEVEL_ORDER],
        checks=comparisons,
        hidden_checks=suppressed_checks(checks, min_cell=min_cell),
    )


def week_table(board: Board) -> list[dict]:
    last = {week.number: week for week in board.last_year}
    return [{"week": week, "last": last.get(week.number)} for week in board.this_year]


def item(board: Board, row) -> dict:
    school = board.school(row)
    return {"row": row, "label": group_label(row, school.name if school else None), "school": school,
            "bar": band_bar(row)}  # fmt: skip


def sections(board: Board, rows) -> list[dict]:
    """One section per subgroup field (each compared within itself), one for schools or grades."""
    items = [item(board, row) for row in rows]
    if rows and rows[0].level == "subgroup":
        fields = [(field, [entry for entry in items if entry["row"].dimension == field]) for field in SUBGROUP_FIELDS]
        return [{"title": SUBGROUP_LABELS[field], "items": members} for field, members in fields if members]
    if rows and rows[0].level == "school":
        items = sorted(items, key=lambda entry: entry["label"].lower())
    return [{"title": "", "items": items}]
