"""How many students a policy draft would move, computed in memory before anything is saved.

The engine runs twice on the same loaded school year and the same as-of date: once with the
current policy ("before") and once with the draft ("after"). Computing "before" too, instead of
reading the stored results, keeps attendance that arrived since the last run out of the
comparison: the preview shows what the policy change does, and nothing else. When no attendance
changed since the current run, "before" equals the current results.

The loaded frames are cached briefly per district, so each change in the form costs one engine
pass, not a reload of the year.
"""

import dataclasses
import datetime

import pandas as pd
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from districts.models import District
from districts.tenancy import district_cache_key

from . import engine
from .engine_io import EngineInput
from .loading import SchoolYear, load_year
from .policy import BANDS, INSUFFICIENT_DAYS, Policy
from .policy_changes import policy_changes

CACHE_SECONDS = 120
MAX_SEPARATE_CHANGES = 6  # each costs an engine pass; past this only the combined effect shows
BAND_LABELS = {
    INSUFFICIENT_DAYS: gettext_lazy("Too few days"), "satisfactory": gettext_lazy("Satisfactory (under 5%)"),
    "at_risk": gettext_lazy("At risk (5–10%)"), "moderate": gettext_lazy("Moderate (10–20%)"),
    "severe": gettext_lazy("Severe (20–30%)"), "acute": gettext_lazy("Acute (30% or more)"),
}  # fmt: skip
TIER_LABELS = {0: gettext_lazy("No tier"), 2: gettext_lazy("Tier 2"), 3: gettext_lazy("Tier 3")}
BECAME_CHRONIC = ngettext_lazy(
    "%(count)s student would become chronically absent", "%(count)s students would become chronically absent", "count"
)
LEFT_CHRONIC = ngettext_lazy(
    "%(count)s student would no longer be chronically absent",
    "%(count)s students would no longer be chronically absent",
    "count",
)
TIER_UP = ngettext_lazy("%(count)s student would move up a tier", "%(count)s students would move up a tier", "count")
TIER_DOWN = ngettext_lazy(
    "%(count)s student would move down a tier", "%(count)s students would move down a tier", "count"
)
BAND_CHANGED = ngettext_lazy("%(count)s student would change band", "%(count)s students would change band", "count")


@dataclasses.dataclass(frozen=True)
class Count:
    label: str
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before


@dataclasses.dataclass(frozen=True)
class Moves:
    became_chronic: int
    left_chronic: int
    tier_up: int
    tier_down: int
    band_changed: int

    @property
    def any(self) -> bool:
        return any(dataclasses.astuple(self))

    @property
    def summary(self) -> str:
        """ "1 student would become chronically absent; 2 students would move up a tier." in the
        reader's language, each clause whole and in its own plural."""
        parts = [
            (self.became_chronic, BECAME_CHRONIC), (self.left_chronic, LEFT_CHRONIC), (self.tier_up, TIER_UP),
            (self.tier_down, TIER_DOWN), (self.band_changed, BAND_CHANGED),
        ]  # fmt: skip
        said = [str(text % {"count": count}) for count, text in parts if count]
        return "; ".join(said) + "." if said else _("No student would change.")


@dataclasses.dataclass(frozen=True)
class ChangeEffect:
    label: str
    moves: Moves


@dataclasses.dataclass(frozen=True)
class PolicyPreview:
    as_of: datetime.date
    students: int  # enrolled at some point this year, up to the as-of date
    chronic: Count
    bands: list[Count]
    tiers: list[Count]
    moves: Moves
    changes: list[ChangeEffect]
    more_changes: int  # changes beyond MAX_SEPARATE_CHANGES, not previewed one by one


def policy_preview(
    *, district: District, current: Policy, current_version: int, draft: Policy, as_of: datetime.date
) -> PolicyPreview:
    inputs = _year_inputs(district, as_of)
    before = _baseline(district, inputs, current, current_version, as_of)
    after = _outcomes(inputs, as_of, draft)
    changes = policy_changes(current, draft)
    effects = [
        ChangeEffect(change.label, _moves(before, _outcomes(inputs, as_of, change.apply(current))))
        for change in (changes[:MAX_SEPARATE_CHANGES] if len(changes) > 1 else [])
    ]
    if len(changes) == 1:
        effects = [ChangeEffect(changes[0].label, _moves(before, after))]
    return PolicyPreview(
        as_of=as_of,
        students=len(after),
        chronic=Count(_("Chronically absent"), int(before["chronic"].sum()), int(after["chronic"].sum())),
        bands=[Count(BAND_LABELS[band], *_count(before, after, "band", band)) for band in [*BANDS, INSUFFICIENT_DAYS]],
        tiers=[Count(label, *_count(before, after, "tier", tier)) for tier, label in TIER_LABELS.items()],
        moves=_moves(before, after),
        changes=effects,
        more_changes=max(0, len(changes) - MAX_SEPARATE_CHANGES) if len(changes) > 1 else 0,
    )


def _year_inputs(district: District, as_of: datetime.date) -> EngineInput:
    year = SchoolYear.containing(district, as_of)
    key = district_cache_key(district, "tiers", "preview-year", year.start.isoformat())
    inputs = cache.get(key)
    if inputs is None:
        inputs = load_year(district, year)
        cache.set(key, inputs, CACHE_SECONDS)
    return inputs


def _baseline(
    district: District, inputs: EngineInput, policy: Policy, version: int, as_of: datetime.date
) -> pd.DataFrame:
    key = district_cache_key(district, "tiers", "preview-baseline", version, as_of.isoformat())
    outcomes = cache.get(key)
    if outcomes is None:
        outcomes = _outcomes(inputs, as_of, policy)
        cache.set(key, outcomes, CACHE_SECONDS)
    return outcomes


def _outcomes(inputs: EngineInput, as_of: datetime.date, policy: Policy) -> pd.DataFrame:
    """Chronic, band and tier of every student with membership this year."""
    students = engine.compute(inputs, as_of=as_of, policy=policy).students
    enrolled = students[students["membership_days"] > 0]
    return enrolled[["chronic", "band", "tier"]].astype({"chronic": bool, "tier": "int64"})


def _count(before: pd.DataFrame, after: pd.DataFrame, column: str, value) -> tuple[int, int]:
    return int((before[column] == value).sum()), int((after[column] == value).sum())


def _moves(before: pd.DataFrame, after: pd.DataFrame) -> Moves:
    # The exit-date setting can change who has any membership at all: align on both sets.
    index = before.index.union(after.index)
    missing = {"chronic": False, "band": "", "tier": 0}
    before, after = (frame.reindex(index).fillna(missing).astype({"chronic": bool}) for frame in (before, after))
    return Moves(
        became_chronic=int((~before["chronic"] & after["chronic"]).sum()),
        left_chronic=int((before["chronic"] & ~after["chronic"]).sum()),
        tier_up=int((after["tier"] > before["tier"]).sum()),
        tier_down=int((after["tier"] < before["tier"]).sum()),
        band_changed=int((after["band"] != before["band"]).sum()),
    )
