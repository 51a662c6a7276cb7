"""What differs between two calculation policies, one setting at a time, in words an admin reads.

The policy page's history says what each version changed, and its preview shows how many
students each single change would move; both need the changes as separate, applicable steps.
Nothing here is stored: the history is worked out from the stored versions' settings each time
the page is shown, so a change's words are in the reader's language when it is made.
"""

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .policy import DEFAULT_RULES, FRACTIONAL_DAYS, RULE_LABELS, Policy, RuleSettings

# The numbers each trigger rule reads (tiers.engine), with how the policy page names them.
RULE_NUMBERS: dict[str, list[tuple[str, str]]] = {
    "t2_first_10_days": [
        ("days", gettext_lazy("Absent days, at least")),
        ("window", gettext_lazy("Within the first school days")),
    ],
    "t2_recent_absences": [
        ("days", gettext_lazy("Absent days, at least")),
        ("window", gettext_lazy("Within the last school days")),
    ],
    "t2_at_risk_rate": [
        ("rate_low", gettext_lazy("Absence rate from (%)")),
        ("rate_high", gettext_lazy("Up to, not including (%)")),
        ("min_membership", gettext_lazy("School days enrolled, at least")),
    ],
    "t2_chronic": [],
    "t2_prior_year_chronic": [("days", gettext_lazy("Absent days this year, at least"))],
    "t2_monday_friday": [
        ("days", gettext_lazy("Absent days, at least")),
        ("share", gettext_lazy("Share on a Monday or Friday, at least (%)")),
    ],
    "t2_tardies": [
        ("days", gettext_lazy("Tardy days, at least")),
        ("window", gettext_lazy("Within the last school days")),
    ],
    "t3_severe_rate": [
        ("rate_low", gettext_lazy("Absence rate, at least (%)")),
        ("min_membership", gettext_lazy("School days enrolled, at least")),
    ],
    "t3_absent_days": [("days", gettext_lazy("Absent days this year, at least"))],
    "t3_after_tier2": [
        ("weeks", gettext_lazy("Weeks after the Tier 2 plan began")),
        ("supports", gettext_lazy("Documented supports, at least")),
    ],
    "t3_repeat_chronic": [],
}
PERCENT_NUMBERS = frozenset({"rate_low", "rate_high", "share"})
assert set(RULE_NUMBERS) == set(DEFAULT_RULES)


@dataclasses.dataclass(frozen=True)
class PolicyChange:
    label: str  # "Chronic threshold: 10% → 8%", in the language active when it was made
    apply: Callable[[Policy], Policy]  # the same change made to another policy


def percent(value: Fraction) -> str:
    """5% rather than 5.00%, 12.5% rather than 12.50% (in Spanish 12,5 %)."""
    text = f"{float(value * 100):.2f}".rstrip("0").rstrip(".")
    return pgettext("a percentage", "%(value)s%%") % {"value": formats.number_format(Decimal(text))}


def _number(name: str, value) -> str:
    return percent(value) if name in PERCENT_NUMBERS else formats.number_format(value)


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
        "partial_days": lambda: _("fractional days") if value == FRACTIONAL_DAYS else _("whole days (half-day rule)"),
        "exit_date_inclusive": lambda: _("last day enrolled") if value else _("first day not enrolled"),
    }.get(name, lambda: formats.number_format(value))()


TOP_LABELS = {
    "chronic_threshold": gettext_lazy("Chronic threshold"),
    "min_membership_days": gettext_lazy("Minimum school days enrolled"),
    "partial_days": gettext_lazy("Partial days count as"),
    "exit_date_inclusive": gettext_lazy("Exit date is the"),
    "recent_window": gettext_lazy("Recent window (school days)"),
}


def _lower_first(text: str) -> str:
    """A setting's name inside a sentence: "weeks after the Tier 2 plan began" keeps its capitals."""
    return text[:1].lower() + text[1:]


def policy_changes(old: Policy, new: Policy) -> list[PolicyChange]:
    changes = [
        PolicyChange(
            _("%(setting)s: %(old)s → %(new)s")
            % {
                "setting": label,
                "old": _describe_top(name, getattr(old, name)),
                "new": _describe_top(name, getattr(new, name)),
            },
            _with(**{name: getattr(new, name)}),
        )
        for name, label in TOP_LABELS.items()
        if getattr(old, name) != getattr(new, name)
    ]
    for rule_id in DEFAULT_RULES:
        changes += _rule_changes(rule_id, old.rule(rule_id), new.rule(rule_id))
    return changes


def _rule_changes(rule_id: str, old: RuleSettings, new: RuleSettings) -> list[PolicyChange]:
    rule = {"rule": RULE_LABELS[rule_id], "code": rule_id}
    if old.enabled != new.enabled:
        text = _("%(rule)s (%(code)s): turned on") if new.enabled else _("%(rule)s (%(code)s): turned off")
        return [PolicyChange(text % rule, _with_rule(rule_id, **dataclasses.asdict(new)))]
    return [
        PolicyChange(
            _("%(rule)s (%(code)s): %(setting)s %(old)s → %(new)s")
            % {
                **rule,
                "setting": _lower_first(str(setting)),
                "old": _number(name, getattr(old, name)),
                "new": _number(name, getattr(new, name)),
            },
            _with_rule(rule_id, **{name: getattr(new, name)}),
        )
        for name, setting in RULE_NUMBERS[rule_id]
        if getattr(old, name) != getattr(new, name)
    ]
