"""Equity by subgroup: who gets marked unexcused, suspended and escalated, against the district.

For each subgroup value of SPEC §3 (the student record's flags and race/ethnicity), from the
engine's stored figures (tiers.aggregates.ClassifiedStudents) and the teams' escalations:

- unexcused share: unexcused absent days / all absent days of the group's students;
- suspension rate: students with at least one out-of-school suspension day / students;
- escalation rate: students escalated to Tier 3 (a huddle escalation or a case opened) / students;

each divided by the same figure for the whole district: a ratio of 1.5 means the group's rate
is half as high again as the district's. Set-based (pandas): one frame, grouped per field.
"""

import dataclasses
from decimal import Decimal

import pandas as pd

from .figures import BOOLEAN_SUBGROUPS, SUBGROUP_FIELDS, suppress

HIGH_RATIO = Decimal("1.5")
MEASURES = ["unexcused_share", "suspension_rate", "escalation_rate"]


def _fraction(part, whole) -> Decimal | None:
    return (Decimal(str(part)) / Decimal(str(whole))).quantize(Decimal("0.0001")) if whole else None


def _ratio(rate: Decimal | None, district_rate: Decimal | None) -> Decimal | None:
    if rate is None or not district_rate:
        return None
    return (rate / district_rate).quantize(Decimal("0.01"))


@dataclasses.dataclass
class EquityRow:
    """One subgroup value; `dimension` (the field) is what suppression weighs it against."""

    dimension: str
    value: str
    students: int
    absent_days: Decimal
    unexcused_days: Decimal
    suspended: int
    escalated: int
    unexcused_share: Decimal | None = None
    suspension_rate: Decimal | None = None
    escalation_rate: Decimal | None = None
    ratios: dict = dataclasses.field(default_factory=dict)
    suppressed: bool = False

    @property
    def group(self) -> str:
        return f"{self.dimension}={self.value}"

    def is_high(self, measure: str) -> bool:
        ratio = self.ratios.get(measure)
        return ratio is not None and ratio >= HIGH_RATIO


@dataclasses.dataclass(frozen=True)
class EquityReport:
    district: EquityRow
    rows: list[EquityRow]


def equity_report(students: pd.DataFrame, *, escalated: set[int], min_cell: int = 0) -> EquityReport:
    """`students`: ClassifiedStudents.students (one row per student with membership)."""
    frame = students[["student_id", "absent_days", "absent_unexcused", "absent_suspension", *SUBGROUP_FIELDS]].copy()
    frame["absent_days"] = frame["absent_days"].map(Decimal)
    frame["absent_unexcused"] = frame["absent_unexcused"].map(Decimal)
    frame["suspended"] = frame["absent_suspension"].map(lambda days: Decimal(days) > 0)
    frame["escalated"] = frame["student_id"].isin(list(escalated))
    district = _row("district", "", frame)
    rows = []
    for field in SUBGROUP_FIELDS:
        keys = _keys(frame, field)
        rows += [_row(field, value, group) for value, group in frame.groupby(keys, sort=True) if value]
    for row in [district, *rows]:
        row.ratios = {measure: _ratio(getattr(row, measure), getattr(district, measure)) for measure in MEASURES}
    return EquityReport(district, suppress(rows, min_cell=min_cell))


def _keys(frame: pd.DataFrame, field: str) -> pd.Series:
    if field in BOOLEAN_SUBGROUPS:
        return frame[field].astype(bool).map({True: "Y", False: "N"})
    return frame[field].fillna("").astype(str)


def _row(dimension: str, value: str, group: pd.DataFrame) -> EquityRow:
    absent, unexcused = sum(group["absent_days"], Decimal(0)), sum(group["absent_unexcused"], Decimal(0))
    row = EquityRow(
        dimension=dimension, value=value, students=len(group), absent_days=absent, unexcused_days=unexcused,
        suspended=int(group["suspended"].sum()), escalated=int(group["escalated"].sum()),
    )  # fmt: skip
    row.unexcused_share = _fraction(unexcused, absent)
    row.suspension_rate = _fraction(row.suspended, row.students)
    row.escalation_rate = _fraction(row.escalated, row.students)
    return row
