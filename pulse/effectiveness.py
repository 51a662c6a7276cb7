"""Intervention effectiveness, descriptive only: for each outreach method, barrier and Tier 3
intervention kind, the attendance rate of the students it touched in the 20 school days before
it and the 20 after. It describes what happened next; it does not say the support caused it
(students are flagged when attendance dips, and dips often recover on their own).

Each student counts once per group, at their first event of it, and only with 20 membership
days on both sides (school days the student was enrolled, the engine's own counting through
cases.progress.attendance_days: three queries for all students). The windows are computed for
every event at once in pandas (cumulative absences per student), not student by student.
"""

import dataclasses
import datetime

import pandas as pd
from django.core.exceptions import PermissionDenied

from cases.models import Case, Intervention, InterventionKind
from cases.progress import attendance_days, data_window
from cases.selectors import case_list_visible
from districts.access import DistrictAccess
from districts.models import District
from outreach.models import Barrier, Method, OutreachAction
from outreach.selectors import outreach_action_list_visible
from tiers.models import MetricsRun
from tiers.selectors import current_run

from .models import EffectivenessFigures

WINDOW = 20
DIMENSIONS = ["method", "barrier", "intervention"]


@dataclasses.dataclass(frozen=True)
class EffectRow:
    """One support's figures; `as_stored` is what EffectivenessFigures keeps of it."""

    dimension: str
    code: str
    label: str
    students: int
    rate_before: float | None
    rate_after: float | None

    @property
    def change(self) -> float | None:
        if self.rate_before is None or self.rate_after is None:
            return None
        return self.rate_after - self.rate_before

    def as_stored(self) -> dict:
        return {
            "dimension": self.dimension, "code": self.code, "students": self.students,
            "rate_before": self.rate_before, "rate_after": self.rate_after,
        }  # fmt: skip


def events_frame(*, access: DistrictAccess | None = None) -> pd.DataFrame:
    """(student_id, date, dimension, code): every outreach attempt by method and by barrier,
    every Tier 3 intervention by kind; those `access` may see, or the whole district's."""
    actions = OutreachAction.objects.all() if access is None else outreach_action_list_visible(access=access)
    cases = Case.objects.all() if access is None else case_list_visible(access=access)
    actions = list(actions.values_list("student_id", "attempt_date", "method", "barrier"))
    interventions = list(
        Intervention.objects.filter(case__in=cases).values_list("case__student_id", "start_date", "kind")
    )
    rows = [(s, d, "method", m) for s, d, m, _b in actions]
    rows += [(s, d, "barrier", b) for s, d, _m, b in actions if b]
    rows += [(s, d, "intervention", k) for s, d, k in interventions]
    return pd.DataFrame(rows, columns=["student_id", "date", "dimension", "code"])


def days_frame(days: dict[int, dict[datetime.date, object]]) -> pd.DataFrame:
    """One row per student and membership day, in date order, with the running total of
    absences up to and including that day (`pos` counts the student's days from 0)."""
    rows = [(student, day, float(absent)) for student, by_day in days.items() for day, absent in by_day.items()]
    frame = pd.DataFrame(rows, columns=["student_id", "date", "absent"]).astype({"absent": float})
    frame = frame.sort_values(["student_id", "date"])
    frame["pos"] = frame.groupby("student_id").cumcount()
    frame["cum"] = frame.groupby("student_id")["absent"].cumsum()
    return frame.reset_index(drop=True)


def effect_rows(events: pd.DataFrame, days: pd.DataFrame) -> list[EffectRow]:
    """The before/after rates per group, vectorised over all events."""
    if events.empty or days.empty:
        return []
    first = events.sort_values("date").drop_duplicates(["student_id", "dimension", "code"])
    first = first.assign(date=pd.to_datetime(first["date"])).sort_values("date")
    timeline = days.assign(date=pd.to_datetime(days["date"])).sort_values("date")
    # The event's first membership day on or after it: `pos` is where "after" starts.
    placed = pd.merge_asof(
        first, timeline[["student_id", "date", "pos"]], on="date", by="student_id", direction="forward"
    ).dropna(subset=["pos"])
    placed["pos"] = placed["pos"].astype(int)
    totals = days.set_index(["student_id", "pos"])["cum"]

    # cum(k) = absences on days 0..k; cum(-1) = 0.
    def cum_at(offsets: pd.Series) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([placed["student_id"], offsets])
        return pd.Series(totals.reindex(keys).to_numpy(), index=placed.index).where(offsets >= 0, 0.0)

    before = cum_at(placed["pos"] - 1) - cum_at(placed["pos"] - 1 - WINDOW)
    after = cum_at(placed["pos"] - 1 + WINDOW) - cum_at(placed["pos"] - 1)
    full = (placed["pos"] >= WINDOW) & after.notna()
    placed = placed.assign(before=before, after=after)[full]
    grouped = placed.groupby(["dimension", "code"]).agg(
        students=("student_id", "nunique"), before=("before", "sum"), after=("after", "sum")
    )
    rows = [
        EffectRow(
            dimension=dimension,
            code=code,
            label=label_of(dimension, code),
            students=int(row.students),
            rate_before=float(1 - row.before / (row.students * WINDOW)),
            rate_after=float(1 - row.after / (row.students * WINDOW)),
        )  # fmt: skip
        for (dimension, code), row in grouped.iterrows()
    ]
    order = {name: index for index, name in enumerate(DIMENSIONS)}
    return sorted(rows, key=lambda row: (order[row.dimension], -row.students, row.label))


def effectiveness_current(*, access: DistrictAccess, district: District) -> list[EffectRow]:
    """What the review page and the board report show: the district-wide figures the nightly run
    stored for the current run's date (computed and stored here when that night's step has not
    run, e.g. a run started by hand). For district-wide roles only: they see every student's
    supports, and these figures are all of them."""
    from .services import effectiveness_figures_store

    if not access.sees_all_schools:
        raise PermissionDenied("Intervention effectiveness is for district-wide roles.")
    run = current_run()
    if run is None:
        return []
    stored = EffectivenessFigures.objects.filter(as_of=run.as_of).first()
    if stored is None:
        stored = effectiveness_figures_store(district=district, run=run)
    return stored_rows(stored.rows)


def stored_rows(rows: list[dict]) -> list[EffectRow]:
    """EffectivenessFigures.rows as EffectRows, labelled in the reader's language."""
    return [EffectRow(label=label_of(row["dimension"], row["code"]), **row) for row in rows]


def label_of(dimension: str, code: str) -> str:
    labels = {"method": Method.choices, "barrier": Barrier.choices, "intervention": InterventionKind.choices}
    return str(dict(labels[dimension]).get(code, code))


def effectiveness_report(
    *, access: DistrictAccess | None, district: District, run: MetricsRun | None = None
) -> list[EffectRow]:
    """Computed now, through `run`'s date (default: the current run's)."""
    events = events_frame(access=access)
    if events.empty:
        return []
    window = data_window(district=district, run=run)
    days = attendance_days(window=window, student_ids=sorted(events["student_id"].unique().tolist()))
    return effect_rows(events, days_frame(days))
