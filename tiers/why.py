"""The plain-language "why" of a flag: the rule's numbers and the dates behind them, so an
attendance lead can read it aloud at the huddle without opening anything else."""

import pandas as pd

from .policy import Policy


def _pct(value: float) -> str:
    return f"{float(value) * 100:.1f}%"


def _days(value) -> str:
    number = float(value)
    text = f"{number:g}"
    return f"{text} day" if number == 1 else f"{text} days"


def _dates(dates: list) -> str:
    return ", ".join(pd.Timestamp(day).strftime("%b %-d") for day in dates)


def why_text(rule_id: str, row, recent_dates: list, early_dates: list, policy: Policy) -> str:
    rule = policy.rule(rule_id)
    absent, membership, rate = row.absent_days, row.membership_days, row.absence_rate
    of_days = f"absent {_days(absent)} of {membership} school days ({_pct(rate)})"
    texts = {
        "t2_first_10_days": lambda: (
            f"{_days(len(early_dates))} absent in the first {rule.window} school days: {_dates(early_dates)}"
        ),
        "t2_recent_absences": lambda: (
            f"{_days(len(recent_dates))} absent in the last {rule.window} school days: {_dates(recent_dates)}"
        ),
        "t2_at_risk_rate": lambda: (
            f"{of_days[0].upper() + of_days[1:]}, between {_pct(rule.rate_low)} and {_pct(rule.rate_high)}"
        ),
        "t2_chronic": lambda: (
            f"{of_days[0].upper() + of_days[1:]}: at or above the {_pct(policy.chronic_threshold)} chronic threshold"
        ),
        "t2_prior_year_chronic": lambda: (
            f"Chronically absent last year ({_pct(row.prior_rate)}) and {of_days} this year"
        ),
        "t2_monday_friday": lambda: (
            f"{_pct(row.monday_friday_share)} of {_days(absent)} absent fell on a Monday or Friday"
        ),
        "t2_tardies": lambda: (
            f"{row.last20_tardy} tardy or early-dismissal days in the last 20 school days"
            if rule.window == 20
            else f"{rule.days} or more tardy or early-dismissal days in the last {rule.window} school days"
        ),
        "t3_severe_rate": lambda: f"{of_days[0].upper() + of_days[1:]}: at or above {_pct(rule.rate_low)}",
        "t3_absent_days": lambda: (
            f"{_days(absent)} absent this year ({rule.days} or more); most recent: {_dates(recent_dates[-3:]) or 'earlier in the year'}"
        ),
        "t3_after_tier2": lambda: (
            f"Still chronically absent ({_pct(rate)}) {rule.weeks} weeks after a Tier 2 plan with {rule.supports}+ supports"
        ),
        "t3_repeat_chronic": lambda: (
            f"Chronically absent last year ({_pct(row.prior_rate)}) and again this year ({_pct(rate)})"
        ),
    }
    return texts[rule_id]()
