"""What differs between two calculation policies, one setting at a time, in words an admin reads.

The policy page's history says what each version changed, and its preview shows how many
students each single change would move; both need the changes as separate, applicable steps.
"""

import dataclasses
from collections.abc import Callable
from fractions import Fraction

from .policy import DEFAULT_RULES, FRACTIONAL_DAYS, RULE_LABELS, Policy, RuleSettings

# The numbers each trigger rule reads (tiers.engine), with how the policy page names them.
RULE_NUMBERS: dict[str, list[tuple[str, str]]] = {
    "t2_first_10_days": [("days", "Absent days, at least"), ("window", "Within the first school days")],
    "t2_recent_absences": [("days", "Absent days, at least"), ("window", "Within the last school days")],
    "t2_at_risk_rate": [
        ("rate_low", "Absence rate from (%)"),
        ("rate_high", "Up to, not including (%)"),
        ("min_membership", "School days enrolled, at least"),
    ],
    "t2_chronic": [],
    "t2_prior_year_chronic": [("days", "Absent days this year, at least")],
    "t2_monday_friday": [("days", "Absent days, at least"), ("share", "Share on a Monday or Friday, at least (%)")],
    "t2_tardies": [("days", "Tardy days, at least"), ("window", "Within the last school days")],
    "t3_severe_rate": [
        ("rate_low", "Absence rate, at least (%)"),
        ("min_membership", "School days enrolled, at least"),
    ],
    "t3_absent_days": [("days", "Absent days this year, at least")],
    "t3_after_tier2": [("weeks", "Weeks after the Tier 2 plan began"), ("supports", "Documented supports, at least")],
    "t3_repeat_chronic": [],
}
PERCENT_NUMBERS = frozenset({"rate_low", "rate_high", "share"})
assert set(RULE_NUMBERS) == set(DEFAULT_RULES)


@dataclasses.dataclass(frozen=True)
class PolicyChange:
    label: str  # "Chronic threshold: 10% → 8%"
    apply: Callable[[Policy], Policy]  # the same change made to another policy


def percent(value: Fraction) -> str:
    """5% rather than 5.00%, 12.5% rather than 12.50%."""
    text = f"{float(value * 100):.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _number(name: str, value) -> str:
    return percent(value) if name in PERCENT_NUMBERS else str(value)


def _with_rule(rule_id: str, **values) -> Callable[[Policy], Policy]:
    def apply(policy: Policy) -> Policy:
        rules = dict(policy.rules)
        rules[rule_id] = dataclasses.replace(policy.rule(rule_id), **values)
        return dataclasses.replace(policy, rules=rules)

    return apply


def _with(**values) -> Callable[[Policy], Policy]:
    return lambda policy: dataclasses.replace(policy, **values)


def _describe_top(name: str, value) -> str:
    return {
        "chronic_threshold": lambda: percent(value),
        "partial_days": lambda: "fractional days" if value == FRACTIONAL_DAYS else "whole days (half-day rule)",
        "exit_date_inclusive": lambda: "last day enrolled" if value else "first day not enrolled",
    }.get(name, lambda: str(value))()


TOP_LABELS = {
    "chronic_threshold": "Chronic threshold",
    "min_membership_days": "Minimum school days enrolled",
    "partial_days": "Partial days count as",
    "exit_date_inclusive": "Exit date is the",
    "recent_window": "Recent window (school days)",
}


def policy_changes(old: Policy, new: Policy) -> list[PolicyChange]:
    changes = [
        PolicyChange(
            f"{label}: {_describe_top(name, getattr(old, name))} → {_describe_top(name, getattr(new, name))}",
            _with(**{name: getattr(new, name)}),
        )
        for name, label in TOP_LABELS.items()
        if getattr(old, name) != getattr(new, name)
    ]
    for rule_id in DEFAULT_RULES:
        changes += _rule_changes(rule_id, old.rule(rule_id), new.rule(rule_id))
    return changes


def _rule_changes(rule_id: str, old: RuleSettings, new: RuleSettings) -> list[PolicyChange]:
    label = f"{RULE_LABELS[rule_id]} ({rule_id})"
    if old.enabled != new.enabled:
        state = "on" if new.enabled else "off"
        return [PolicyChange(f"{label}: turned {state}", _with_rule(rule_id, **dataclasses.asdict(new)))]
    return [
        PolicyChange(
            f"{label}: {text.lower()} {_number(name, getattr(old, name))} → {_number(name, getattr(new, name))}",
            _with_rule(rule_id, **{name: getattr(new, name)}),
        )
        for name, text in RULE_NUMBERS[rule_id]
        if getattr(old, name) != getattr(new, name)
    ]
