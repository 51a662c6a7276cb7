"""The district's Tier 3 settings, kept in District.settings["cases"] (admins edit them on the
partner directory page): the default review schedule and the deadline for a written plan."""

import dataclasses

from districts.models import District

from .models import REVIEW_EVERY_MAX_DAYS, REVIEW_EVERY_MIN_DAYS

DEFAULT_REVIEW_EVERY_DAYS = 14
# Calendar days from the trigger to a written plan before the plan counts as late.
DEFAULT_PLAN_DEADLINE_DAYS = 14


@dataclasses.dataclass(frozen=True)
class CaseSettings:
    review_every_days: int = DEFAULT_REVIEW_EVERY_DAYS
    plan_deadline_days: int = DEFAULT_PLAN_DEADLINE_DAYS


def case_settings(district: District) -> CaseSettings:
    stored = (district.settings or {}).get("cases", {})
    every = int(stored.get("review_every_days", DEFAULT_REVIEW_EVERY_DAYS))
    every = min(max(every, REVIEW_EVERY_MIN_DAYS), REVIEW_EVERY_MAX_DAYS)
    return CaseSettings(
        review_every_days=every,
        plan_deadline_days=int(stored.get("plan_deadline_days", DEFAULT_PLAN_DEADLINE_DAYS)),
    )
