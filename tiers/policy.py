"""The numbers a district's calculation runs on (SPEC §4), as one immutable value.

The engine takes a `Policy`; the database keeps versioned copies (tiers.models) so every stored
result can name the version that produced it. Thresholds are Fractions: a rate decision is an
exact integer comparison, never a float one.
"""

import dataclasses
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

WHOLE_DAYS = "whole"
FRACTIONAL_DAYS = "fractional"


@dataclasses.dataclass(frozen=True)
class RuleSettings:
    enabled: bool = True
    days: int = 0  # a count of absent/tardy days the rule needs
    window: int = 0  # a window of membership days
    rate_low: Fraction = Fraction(0)
    rate_high: Fraction = Fraction(0)
    min_membership: int = 0
    share: Fraction = Fraction(0)
    weeks: int = 0
    supports: int = 0


# The trigger rules of SPEC §4 with their default numbers; every number is editable per district.
DEFAULT_RULES: dict[str, RuleSettings] = {
    "t2_first_10_days": RuleSettings(days=2, window=10),
    "t2_recent_absences": RuleSettings(days=3, window=20),
    "t2_at_risk_rate": RuleSettings(rate_low=Fraction(5, 100), rate_high=Fraction(10, 100), min_membership=20),
    "t2_chronic": RuleSettings(),
    "t2_prior_year_chronic": RuleSettings(days=1),
    "t2_monday_friday": RuleSettings(days=3, share=Fraction(60, 100)),
    "t2_tardies": RuleSettings(days=5, window=20),
    "t3_severe_rate": RuleSettings(rate_low=Fraction(20, 100), min_membership=20),
    "t3_absent_days": RuleSettings(days=15),
    "t3_after_tier2": RuleSettings(weeks=4, supports=2),
    "t3_repeat_chronic": RuleSettings(),
}

RULE_TIERS = {rule_id: int(rule_id[1]) for rule_id in DEFAULT_RULES}

RULE_LABELS = {
    "t2_first_10_days": _("Absences in the first days of the year"),
    "t2_recent_absences": _("Recent absences"),
    "t2_at_risk_rate": _("At risk: 5–10% absent"),
    "t2_chronic": _("Chronically absent"),
    "t2_prior_year_chronic": _("Chronic last year, missing again"),
    "t2_monday_friday": _("Monday/Friday pattern"),
    "t2_tardies": _("Frequent tardies"),
    "t3_severe_rate": _("Severe: 20%+ absent"),
    "t3_absent_days": _("Many absent days"),
    "t3_after_tier2": _("Still chronic after Tier 2 supports"),
    "t3_repeat_chronic": _("Chronic two years running"),
}

# Band edges (SPEC §4): satisfactory < 5% ≤ at_risk < 10% ≤ moderate < 20% ≤ severe < 30% ≤ acute.
BANDS = ["satisfactory", "at_risk", "moderate", "severe", "acute"]
BAND_EDGES = [Fraction(5, 100), Fraction(10, 100), Fraction(20, 100), Fraction(30, 100)]
INSUFFICIENT_DAYS = "insufficient_days"


@dataclasses.dataclass(frozen=True)
class Policy:
    chronic_threshold: Fraction = Fraction(10, 100)
    min_membership_days: int = 10
    partial_days: str = WHOLE_DAYS
    exit_date_inclusive: bool = False
    recent_window: int = 20  # membership days behind "recent rate" and the trend
    rules: dict[str, RuleSettings] = dataclasses.field(default_factory=lambda: dict(DEFAULT_RULES))

    def rule(self, rule_id: str) -> RuleSettings:
        return self.rules.get(rule_id, DEFAULT_RULES[rule_id])

    def enabled(self, rule_id: str) -> bool:
        return self.rule(rule_id).enabled
