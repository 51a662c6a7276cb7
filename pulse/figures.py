"""Chronic absence per group, in the shape `export_pulse` and the pulse API publish, with SPEC §9's
small-cell suppression.

The counts come from the engine's own classification (tiers.aggregates.ClassifiedStudents):
this module only counts rows; it decides nothing about who is chronic or in which band.
"""

import dataclasses
from fractions import Fraction

import pandas as pd

from students.models import GRADE_ORDER
from tiers.aggregates import ClassifiedStudents
from tiers.policy import INSUFFICIENT_DAYS

LEVELS = ["district", "school", "grade", "subgroup"]
COLUMNS = [
    "level",
    "group",
    "students",
    "chronic",
    "chronic_rate",
    "at_risk",
    "moderate",
    "severe",
    "acute",
    "suppressed",
]
SEVERITY_COLUMNS = ["at_risk", "moderate", "severe", "acute"]
# SPEC §3's subgroup fields in its order; the booleans are published as Y/N.
BOOLEAN_SUBGROUPS = ["econ_disadvantaged", "disability", "english_learner", "homeless", "foster"]
SUBGROUP_FIELDS = ["econ_disadvantaged", "disability", "english_learner", "race_ethnicity", "homeless", "foster"]
DEFAULT_MIN_CELL = 10


@dataclasses.dataclass
class GroupRow:
    """One published group. `dimension` is what suppression compares it with: the level, or for
    subgroups the field (`english_learner=Y` is weighed against `english_learner=N` only)."""

    level: str
    group: str
    dimension: str
    students: int
    chronic: int
    bands: dict[str, int]
    suppressed: bool = False
    # The same students' prior year (tiers.aggregates.PriorYear), when the rows carried it.
    prior_students: int | None = None
    prior_chronic: int | None = None

    @property
    def chronic_rate(self) -> Fraction | None:
        return Fraction(self.chronic, self.students) if self.students else None

    @property
    def prior_rate(self) -> Fraction | None:
        return Fraction(self.prior_chronic, self.prior_students) if self.prior_students else None

    @property
    def change(self) -> Fraction | None:
        """Percentage points since the prior year (a fraction: 0.02 is two points)."""
        now, then = self.chronic_rate, self.prior_rate
        return now - then if now is not None and then is not None else None

    def as_dict(self) -> dict:
        """The API's row: counts and rate are None when suppressed."""
        shown = not self.suppressed
        rate = self.chronic_rate
        return {
            "level": self.level,
            "group": self.group,
            "students": self.students if shown else None,
            "chronic": self.chronic if shown else None,
            "chronic_rate": round(float(rate), 4) if shown and rate is not None else None,
            **{band: self.bands[band] if shown else None for band in SEVERITY_COLUMNS},
            "suppressed": self.suppressed,
        }

    def csv_row(self) -> list[str]:
        """The CSV's row: blank counts and rate when suppressed; the rate as a 4-decimal fraction."""
        row = self.as_dict()
        rate = self.chronic_rate
        row["chronic_rate"] = "" if self.suppressed or rate is None else _four_decimals(rate)
        row["suppressed"] = "true" if self.suppressed else "false"
        return ["" if row[column] is None else str(row[column]) for column in COLUMNS]


def _four_decimals(rate: Fraction) -> str:
    """Half-up rounding in integers: 1/8 is 0.1250, 2/3 is 0.6667."""
    tenth_thousandths = (rate.numerator * 20000 + rate.denominator) // (2 * rate.denominator)
    return f"{tenth_thousandths // 10000}.{tenth_thousandths % 10000:04d}"


def pulse_rows(classified: ClassifiedStudents, *, by: str, school_sis_ids: dict[int, str]) -> list[GroupRow]:
    """One row per group of `by` that has a student with membership. `students` counts those with
    at least the policy's minimum membership days at that level (school rows: days at that
    school); chronic and the band counts are among them."""
    if by not in LEVELS:
        raise ValueError(f"by must be one of {', '.join(LEVELS)}, not {by!r}")
    if by == "district":
        return [_row("district", "", "district", classified.students)]
    if by == "school":
        schools = classified.schools
        keys = schools["school_id"].astype("int64").map(lambda pk: school_sis_ids.get(pk, str(pk)))
        return [_row("school", sis_id, "school", rows) for sis_id, rows in sorted(schools.groupby(keys))]
    if by == "grade":
        rows = [_row("grade", grade, "grade", group) for grade, group in _values(classified.students, "grade")]
        return sorted(rows, key=lambda row: (GRADE_ORDER.get(row.group, len(GRADE_ORDER)), row.group))
    return [
        _row("subgroup", f"{field}={value}", field, group)
        for field in SUBGROUP_FIELDS
        for value, group in _values(classified.students, field)
    ]


def _values(students: pd.DataFrame, field: str) -> list[tuple[str, pd.DataFrame]]:
    """Each value of the field some student has, booleans as Y then N; blanks are no value."""
    if field in BOOLEAN_SUBGROUPS:
        flags = students[field].astype(bool)
        return [
            (label, students[flags == value]) for value, label in [(True, "Y"), (False, "N")] if (flags == value).any()
        ]
    keys = students[field].fillna("").astype(str)
    return [(value, rows) for value, rows in sorted(students.groupby(keys)) if value]


def _row(level: str, group: str, dimension: str, rows: pd.DataFrame) -> GroupRow:
    counted = rows[rows["band"] != INSUFFICIENT_DAYS]
    bands = counted["band"].value_counts()
    prior_students = prior_chronic = None
    if "prior_band" in rows.columns:
        last_year = rows[rows["prior_band"].notna() & (rows["prior_band"] != INSUFFICIENT_DAYS)]
        prior_students, prior_chronic = len(last_year), int(last_year["prior_chronic"].astype(bool).sum())
    return GroupRow(
        level=level,
        group=group,
        dimension=dimension,
        students=len(counted),
        chronic=int(counted["chronic"].astype(bool).sum()),
        bands={band: int(bands.get(band, 0)) for band in SEVERITY_COLUMNS},
        prior_students=prior_students,
        prior_chronic=prior_chronic,
    )


def suppress(rows: list[GroupRow], *, min_cell: int) -> list[GroupRow]:
    """SPEC §9: a group under `min_cell` students is suppressed; where exactly one group of a
    dimension is, the next smallest of that dimension (by students, then group name) is too, so
    the hidden one cannot be recovered by subtracting the others from the total. Marks the rows
    in place and returns them."""
    if min_cell <= 0:
        return rows
    dimensions: dict[str, list[GroupRow]] = {}
    for row in rows:
        dimensions.setdefault(row.dimension, []).append(row)
    for members in dimensions.values():
        small = [row for row in members if row.students < min_cell]
        for row in small:
            row.suppressed = True
        if len(small) == 1:
            rest = sorted((row for row in members if not row.suppressed), key=lambda row: (row.students, row.group))
            if rest:
                rest[0].suppressed = True
    return rows


def min_cell_of(district) -> int:
    """The district's smallest published group outside the district (District.settings
    "pulse_min_cell", default 10)."""
    try:
        return max(0, int(district.settings.get("pulse_min_cell", DEFAULT_MIN_CELL)))
    except (TypeError, ValueError):
        return DEFAULT_MIN_CELL


def suppressed_checks(checks, *, min_cell: int) -> set[int]:
    """The ids of the pulse checks (pulse.models.PulseCheck) a file for outside the district
    blanks: the same rule, where the groups that add up to a total are one year's checkpoint
    at one level (the district's grades; the schools; one school's grades)."""
    cells = []
    for check in checks:
        level = ("school" if check.school_id else "district") + ("/grade" if check.grade else "")
        dimension = f"{check.school_year}/{check.checkpoint}/{level}" + (
            f"/{check.school_id}" if check.school_id and check.grade else ""
        )
        cells.append(
            GroupRow(
                level="check", group=f"{check.school_id or ''}/{check.grade}", dimension=dimension,
                students=check.students, chronic=check.two_or_more, bands=dict.fromkeys(SEVERITY_COLUMNS, 0),
            )
        )  # fmt: skip
    suppress(cells, min_cell=min_cell)
    return {check.pk for check, cell in zip(checks, cells) if cell.suppressed}
