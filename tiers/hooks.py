"""Inputs the engine takes from apps that sit above tiers.

Apps depend one way (districts ← students ← tiers ← outreach ← cases), yet the
`t3_after_tier2` rule needs outreach's record of Tier 2 supports. So tiers defines the hook and
outreach registers a provider in its AppConfig.ready(); tiers never imports outreach, and with
no provider registered the rule simply never fires.
"""

import datetime
from collections.abc import Callable

import pandas as pd

from districts.models import District

# provider(district=..., as_of=...) -> DataFrame of student_id:int, started:date, supports:int
Tier2PlansProvider = Callable[..., pd.DataFrame | None]

_tier2_plan_providers: list[Tier2PlansProvider] = []

TIER2_PLAN_COLUMNS = ["student_id", "started", "supports"]


def register_tier2_plans(provider: Tier2PlansProvider) -> None:
    if provider not in _tier2_plan_providers:
        _tier2_plan_providers.append(provider)


def tier2_plans(*, district: District, as_of: datetime.date) -> pd.DataFrame | None:
    """Every registered provider's Tier 2 plans as one frame, or None when no app provides any."""
    frames = [
        frame for provider in _tier2_plan_providers if (frame := provider(district=district, as_of=as_of)) is not None
    ]
    if not frames:
        return None
    return pd.concat([frame[TIER2_PLAN_COLUMNS] for frame in frames], ignore_index=True)


# callback(district=..., run=...) -> None, called after a nightly run became current.
AfterRun = Callable[..., None]

_after_nightly_run: list[AfterRun] = []


def register_after_nightly_run(callback: AfterRun) -> None:
    """Work an app above tiers does each night once the run is current: precomputing its pages'
    figures, keeping dated snapshots (pulse). A failure there is logged, never fails the run."""
    if callback not in _after_nightly_run:
        _after_nightly_run.append(callback)


def after_nightly_run_callbacks() -> list[AfterRun]:
    return list(_after_nightly_run)
