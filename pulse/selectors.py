"""Reads of the pulse app. Every function runs inside the district's scope; attendance figures
come from tiers (and follow-through from outreach and cases) through their selectors."""

import dataclasses
import datetime

from districts.models import District, School
from tiers.selectors import student_classification

from .figures import GroupRow, pulse_rows, suppress


@dataclasses.dataclass(frozen=True)
class PulseTable:
    as_of: datetime.date
    policy_version: int
    by: str
    min_cell: int
    rows: list[GroupRow]


def pulse_table(*, district: District, by: str, min_cell: int = 0, as_of: datetime.date | None = None):
    """The groups of `by` with suppression at `min_cell` (0: none); None before the district's
    first run when no date is given."""
    classified = student_classification(district=district, as_of=as_of)
    if classified is None:
        return None
    sis_ids = dict(School.objects.values_list("pk", "sis_id"))
    rows = suppress(pulse_rows(classified, by=by, school_sis_ids=sis_ids), min_cell=min_cell)
    return PulseTable(classified.as_of, classified.policy_version, by, min_cell, rows)


def board_current(*, district: District):
    """The dashboard's figures for the district's current run (pulse.board), or None before its
    first run."""
    from tiers.selectors import current_run

    from .board import board_get

    run = current_run()
    return board_get(district=district, run=run) if run is not None else None
