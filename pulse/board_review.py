"""The review pages' tables as the board PDF prints them: follow-through, equity, data quality
and intervention effectiveness, read by the same functions the pages use.

For a report marked for outside the district (`min_cell` > 0), SPEC §9 applies to each table by
the group it describes:

- follow-through and data quality describe schools: a school whose chronic-absence row is blank
  (under the minimum, or its complement; pulse.figures.suppress on the dashboard's school rows)
  is blank here too, so one rule decides which schools a reader outside the district sees;
- equity describes subgroups: equity_report's own suppression, the subgroup field as dimension;
- effectiveness describes the students each support reached: a support under the minimum is
  blank, with its complement inside the same kind (method, barrier, intervention).
"""

import dataclasses
import datetime

from cases.selectors import case_list_visible
from districts.access import DistrictAccess
from districts.models import District
from outreach.families.selectors import LanguageGap, language_gaps
from outreach.selectors import escalated_student_ids
from tiers.selectors import student_classification

from . import data_quality, effectiveness, equity, follow_through
from .board import Board
from .figures import SEVERITY_COLUMNS, GroupRow, suppress
from .labels import subgroup_label


@dataclasses.dataclass(frozen=True)
class ReviewTables:
    follow_through: follow_through.FollowThroughReport
    equity: list[tuple[str, equity.EquityRow]]  # (label, row): the district first, then each subgroup value
    data_quality: list[data_quality.SchoolDataQuality]
    effectiveness: list[dict]  # {"dimension", "rows": [EffectRow]}
    hidden_schools: set[int]  # school pks blank in the follow-through and data-quality tables
    hidden_effects: set[str]  # "dimension:code" of the effectiveness rows left blank
    # Guardians who read a language the family messages have no template for (district-wide,
    # as on the data-quality page); for outside readers, languages under the minimum are left out
    # and the total is blank under it, since a rare language can name a family.
    language_gaps: list[LanguageGap]
    language_gap_guardians: int | None


def equity_current(*, access: DistrictAccess, district: District, min_cell: int = 0) -> equity.EquityReport | None:
    """Equity by subgroup from the current run, escalations being a huddle's or a case opened."""
    classified = student_classification(district=district)
    if classified is None:
        return None
    escalated = escalated_student_ids() | set(case_list_visible(access=access).values_list("student_id", flat=True))
    return equity.equity_report(classified.students, escalated=escalated, min_cell=min_cell)


def year_start(district: District, today: datetime.date) -> datetime.date:
    """The school year's first day, or 120 days back when the district has not set it."""
    start = district.school_year_start
    return start if start and start <= today else today - datetime.timedelta(days=120)


def review_tables(*, access: DistrictAccess, district: District, board: Board, min_cell: int) -> ReviewTables:
    """`board`: the dashboard's figures with suppression already applied to its rows (the
    report's copy), which names the blank schools. The tables are read as of the morning after
    the figures' date, so every page of the report describes the same day."""
    today = board.as_of + datetime.timedelta(days=1)
    effects = effectiveness.effectiveness_current(access=access, district=district)
    hidden_schools = {
        board.schools[row.group].pk for row in board.levels["school"] if row.suppressed and row.group in board.schools
    }
    return ReviewTables(
        follow_through=follow_through.follow_through_report(
            access=access, district=district, today=today, start=year_start(district, today)
        ),
        equity=equity_rows(equity_current(access=access, district=district, min_cell=min_cell)),
        data_quality=data_quality.data_quality_report(district=district, today=today),
        effectiveness=[
            {"dimension": dimension, "rows": [row for row in effects if row.dimension == dimension]}
            for dimension in effectiveness.DIMENSIONS
        ],
        hidden_schools=hidden_schools if min_cell else set(),
        hidden_effects=hidden_effects(effects, min_cell=min_cell),
        **language_gap_figures(min_cell=min_cell),
    )


def language_gap_figures(*, min_cell: int) -> dict:
    gaps = [gap for gap in language_gaps() if gap.guardians]
    total = sum(gap.guardians for gap in gaps)
    if min_cell:
        gaps = [gap for gap in gaps if gap.guardians >= min_cell]
    return {"language_gaps": gaps, "language_gap_guardians": None if min_cell and total < min_cell else total}


def equity_rows(report: equity.EquityReport | None) -> list[tuple[str, equity.EquityRow]]:
    return [(subgroup_label(row), row) for row in ([report.district, *report.rows] if report else [])]


def hidden_effects(rows: list, *, min_cell: int) -> set[str]:
    cells = [
        GroupRow(level="effect", group=row.code, dimension=row.dimension, students=row.students, chronic=0,
                 bands=dict.fromkeys(SEVERITY_COLUMNS, 0))
        for row in rows
    ]  # fmt: skip
    suppress(cells, min_cell=min_cell)
    return {f"{row.dimension}:{row.code}" for row, cell in zip(rows, cells) if cell.suppressed}
