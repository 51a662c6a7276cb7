"""Priority schools (SPEC §8): where the district should look first, and why.

Three lists, each of the top few schools that are worse than the district as a whole: the
highest chronic rate, the sharpest rise since the prior year, the most students two absences
away from chronic (as a share of the school). A school on several lists is shown once with every
reason. Schools with fewer students than the district's minimum cell size are
left out: one chronic student in a school of four is not a priority, it is noise.
"""

import dataclasses
from fractions import Fraction

from .board import Board, SchoolName
from .figures import GroupRow

TOP = 3


@dataclasses.dataclass(frozen=True)
class Reason:
    kind: str  # "highest_rate", "sharpest_rise", "most_near_chronic"
    rate: Fraction | None = None
    change: Fraction | None = None
    students: int | None = None


@dataclasses.dataclass(frozen=True)
class PrioritySchool:
    school: SchoolName
    row: GroupRow
    near_chronic: int
    reasons: list[Reason]


def priority_schools(board: Board, *, min_students: int) -> list[PrioritySchool]:
    rows = [row for row in board.levels["school"] if row.students >= max(1, min_students)]
    reasons: dict[str, list[Reason]] = {}

    def add(row: GroupRow, reason: Reason) -> None:
        reasons.setdefault(row.group, []).append(reason)

    district = board.district
    above = [row for row in rows if district.chronic_rate is None or row.chronic_rate > district.chronic_rate]
    for row in sorted(above, key=lambda row: (-row.chronic_rate, row.group))[:TOP]:
        add(row, Reason("highest_rate", rate=row.chronic_rate))
    rising = [
        row for row in rows
        if row.change is not None and row.change > 0 and (district.change is None or row.change > district.change)
    ]  # fmt: skip
    for row in sorted(rising, key=lambda row: (-row.change, row.group))[:TOP]:
        add(row, Reason("sharpest_rise", rate=row.chronic_rate, change=row.change))
    near_share = Fraction(sum(board.near_chronic.values()), district.students) if district.students else 0

    def share(row: GroupRow) -> Fraction:
        return Fraction(board.near_chronic.get(row.group, 0), row.students)

    near = [row for row in rows if board.near_chronic.get(row.group) and share(row) > near_share]
    for row in sorted(near, key=lambda row: (-share(row), row.group))[:TOP]:
        add(row, Reason("most_near_chronic", students=board.near_chronic[row.group]))
    by_group = {row.group: row for row in rows}
    chosen = [
        PrioritySchool(board.schools[group], by_group[group], board.near_chronic.get(group, 0), found)
        for group, found in reasons.items()
    ]
    return sorted(chosen, key=lambda school: (-len(school.reasons), -school.row.chronic_rate, school.school.name))
