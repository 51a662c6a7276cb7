"""The calculation policy form (district admins) and the "Recompute now" form."""

import dataclasses
from decimal import Decimal
from fractions import Fraction

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .models import CalculationPolicy
from .policy import DEFAULT_RULES, FRACTIONAL_DAYS, RULE_LABELS, RULE_TIERS, WHOLE_DAYS
from .policy_changes import PERCENT_NUMBERS, RULE_NUMBERS

EXCLUSIVE, INCLUSIVE = "exclusive", "inclusive"
INTEGER_LIMITS = {
    "days": (1, 200),
    "window": (1, 200),
    "min_membership": (1, 200),
    "weeks": (1, 40),
    "supports": (0, 20),
}


def _percent_field(label, *, minimum: str = "0.01") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal(minimum), max_value=Decimal("100"), max_digits=5, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip


def _percent(value: Fraction) -> Decimal:
    return (Decimal(value.numerator * 100) / Decimal(value.denominator)).quantize(Decimal("0.01"))


@dataclasses.dataclass
class RuleFields:
    rule_id: str
    label: str
    tier: int
    enabled: forms.BoundField
    numbers: list[forms.BoundField]


class PolicyForm(forms.Form):
    """Every setting of CalculationPolicy; rule fields are named `<rule_id>__<number>`."""

    chronic_threshold_pct = _percent_field(gettext_lazy("Chronic absence threshold (%)"))
    min_membership_days = forms.IntegerField(
        label=gettext_lazy("Minimum school days enrolled"), min_value=1, max_value=200,
        help_text=gettext_lazy("Below this a student's rate is reported as “too few days”, never as chronic."),
    )  # fmt: skip
    partial_days = forms.ChoiceField(
        label=gettext_lazy("Partial days"),
        choices=[
            (WHOLE_DAYS, gettext_lazy("Whole days: a day counts as absent when half or more of it was missed")),
            (FRACTIONAL_DAYS, gettext_lazy("Fractional days: minutes missed ÷ the day's minutes")),
        ],
        widget=forms.RadioSelect,
    )
    exit_date = forms.ChoiceField(
        label=gettext_lazy("The exit date in the SIS is"),
        choices=[
            (EXCLUSIVE, gettext_lazy("The first day not enrolled (SPEC default)")),
            (INCLUSIVE, gettext_lazy("The last day enrolled")),
        ],
        widget=forms.RadioSelect,
    )
    recent_window = forms.IntegerField(
        label=gettext_lazy("Recent window (school days)"), min_value=5, max_value=90,
        help_text=gettext_lazy(
            "The recent absence rate, the trend and the projected year-end rate look at this many school days."
        ),
    )  # fmt: skip
    note = forms.CharField(
        label=gettext_lazy("What changed, and why"), max_length=300, required=False,
        help_text=gettext_lazy("Kept with the version, so next year's team knows."),
    )  # fmt: skip

    def __init__(self, *args, policy: CalculationPolicy, **kwargs):
        self.policy = policy
        current = policy.as_policy()
        initial = {
            "chronic_threshold_pct": policy.chronic_threshold_pct,
            "min_membership_days": policy.min_membership_days,
            "partial_days": policy.partial_days,
            "exit_date": INCLUSIVE if policy.exit_date_inclusive else EXCLUSIVE,
            "recent_window": policy.recent_window,
        }
        super().__init__(*args, initial=initial, **kwargs)
        for rule_id in DEFAULT_RULES:
            settings = current.rule(rule_id)
            self.fields[f"{rule_id}__enabled"] = forms.BooleanField(
                label=pgettext_lazy("a trigger rule", "On"), required=False, initial=settings.enabled
            )
            for name, label in RULE_NUMBERS[rule_id]:
                value = getattr(settings, name)
                field = _percent_field(label, minimum="0") if name in PERCENT_NUMBERS else forms.IntegerField(
                    label=label, min_value=INTEGER_LIMITS[name][0], max_value=INTEGER_LIMITS[name][1]
                )  # fmt: skip
                field.initial = _percent(value) if name in PERCENT_NUMBERS else value
                self.fields[f"{rule_id}__{name}"] = field

    def rule_fields(self) -> list[RuleFields]:
        return [
            RuleFields(
                rule_id,
                RULE_LABELS[rule_id],
                RULE_TIERS[rule_id],
                self[f"{rule_id}__enabled"],
                [self[f"{rule_id}__{name}"] for name, _ in RULE_NUMBERS[rule_id]],
            )
            for rule_id in DEFAULT_RULES
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("t2_at_risk_rate__rate_low"), data.get("t2_at_risk_rate__rate_high")
        if low is not None and high is not None and low >= high:
            self.add_error("t2_at_risk_rate__rate_high", gettext("Must be above the rate the rule starts from."))
        return data

    def policy_values(self) -> dict:
        """The cleaned form as tiers.services.policy_update keyword arguments."""
        data = self.cleaned_data
        rules = {}
        for rule_id in DEFAULT_RULES:
            stored = {"enabled": data[f"{rule_id}__enabled"]}
            for name, _ in RULE_NUMBERS[rule_id]:
                value = data[f"{rule_id}__{name}"]
                stored[f"{name}_pct" if name in PERCENT_NUMBERS else name] = (
                    str(value) if name in PERCENT_NUMBERS else value
                )
            rules[rule_id] = stored
        return {
            "chronic_threshold_pct": data["chronic_threshold_pct"],
            "min_membership_days": data["min_membership_days"],
            "partial_days": data["partial_days"],
            "exit_date_inclusive": data["exit_date"] == INCLUSIVE,
            "recent_window": data["recent_window"],
            "rules": rules,
        }

    def draft(self) -> CalculationPolicy:
        """The edited policy as an unsaved next version, for the preview and the change list."""
        return CalculationPolicy(district=self.policy.district, version=self.policy.version + 1, **self.policy_values())


class RunStartForm(forms.Form):
    as_of = forms.DateField(
        label=gettext_lazy("Figures as of"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Normally yesterday, the last full day of attendance."),
    )  # fmt: skip

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of > timezone.localdate():
            raise forms.ValidationError(gettext("Choose today or an earlier day: future days have no attendance yet."))
        return as_of
