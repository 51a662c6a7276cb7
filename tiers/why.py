"""The plain-language "why" of a flag: the rule's numbers and the dates behind them, so an
attendance lead can read it aloud at the huddle without opening anything else.

A flag stores its why as a code (its rule, or how a person raised it) and the figures of the
day it was written (`why_params`), never as prose: the same flag reads in English to one
person and in Spanish to the next, with the reader's dates and decimal comma. Parameters are
JSON: numbers as numbers, dates as ISO strings, a person's own words as they wrote them.
"""

import datetime
import functools

import pandas as pd
from django.utils import dateformat, formats, translation
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from .policy import Policy

# A why written by a person (or stored as prose before codes existed): shown as written.
TEXT = "text"
# A huddle's referral to Tier 3 (outreach.services.huddle_row_escalate).
ESCALATED = "escalated"
# A counselor opened a Tier 3 case for a student without a Tier 3 flag (tiers.lifecycle).
CASE_OPENED = "case_opened"


def why_params(rule_id: str, row, recent_dates: list, early_dates: list, policy: Policy) -> dict:
    """The figures a rule's why quotes, from the engine's row for the student."""
    rule = policy.rule(rule_id)
    absent, rate = _number(row.absent_days), _rate(row.absence_rate)
    of_days = {"absent": absent, "membership": int(row.membership_days), "rate": rate}
    params = {
        "t2_first_10_days": lambda: {"window": rule.window, "dates": _iso(early_dates)},
        "t2_recent_absences": lambda: {"window": rule.window, "dates": _iso(recent_dates)},
        "t2_at_risk_rate": lambda: of_days | {"low": _rate(rule.rate_low), "high": _rate(rule.rate_high)},
        "t2_chronic": lambda: of_days | {"threshold": _rate(policy.chronic_threshold)},
        "t2_prior_year_chronic": lambda: of_days | {"prior_rate": _rate(row.prior_rate)},
        "t2_monday_friday": lambda: {"absent": absent, "share": _rate(row.monday_friday_share)},
        "t2_tardies": lambda: {"tardies": int(row.last20_tardy), "days": rule.days, "window": rule.window},
        "t3_severe_rate": lambda: of_days | {"low": _rate(rule.rate_low)},
        "t3_absent_days": lambda: {"absent": absent, "days": rule.days, "dates": _iso(recent_dates[-3:])},
        "t3_after_tier2": lambda: {"rate": rate, "weeks": rule.weeks, "supports": rule.supports},
        "t3_repeat_chronic": lambda: {"rate": rate, "prior_rate": _rate(row.prior_rate)},
    }
    return params[rule_id]()


class WhyText(str):
    """A why passed where text is expected (tiers.lifecycle notes it on the flag's event): reads
    as its English text, and a flag given one stores its code and figures."""

    code: str
    params: dict


def why_of(code: str, params: dict) -> WhyText:
    with translation.override("en"):
        text = WhyText(why_render(code, params))
    text.code, text.params = code, params
    return text


def why_render(code: str, params: dict) -> str:
    """The why in the active language."""
    render = _TEXTS.get(code)
    if render is None:
        return str(params.get("text", ""))
    return render(params)


# ----------------------------------------------------------------------------- stored values


def _number(value) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else round(number, 3)


def _rate(value) -> float:
    return round(float(value), 4)


def _iso(dates: list) -> list[str]:
    return [pd.Timestamp(day).date().isoformat() for day in dates]


# ----------------------------------------------------------------------------- rendering


def pct(rate) -> str:
    """A rate as a percentage with one decimal, in the reader's number format."""
    value = formats.number_format(round(float(rate) * 100, 1), decimal_pos=1)
    return pgettext("a percentage", "%(value)s%%") % {"value": value}


def days(count) -> str:
    number = float(count)
    shown = formats.number_format(int(number) if number.is_integer() else number)
    # Fractional counting can give 2.5 days: plural, as English and Spanish both say.
    plural_count = int(number) if number.is_integer() else 2
    return ngettext("%(count)s day", "%(count)s days", plural_count) % {"count": shown}


def short_date(day: datetime.date) -> str:
    """ "Oct 14" / "14 oct": a day of this school year, in the reader's words."""
    return _short_date(day, get_language())


@functools.lru_cache(maxsize=2048)
def _short_date(day: datetime.date, language: str | None) -> str:
    """Cached per language: a huddle page prints some 700 dates, most of them the same few weeks'."""
    return dateformat.format(day, pgettext("date format: short month and day, see Django's date filter", "M j"))


def day_list(dates: list[str]) -> str:
    return ", ".join(short_date(datetime.date.fromisoformat(day)) for day in dates)


def _of_days(p: dict, **more) -> dict:
    """The figures most whys quote: days absent, of how many school days, and the rate."""
    membership = formats.number_format(p["membership"])
    return {"days": days(p["absent"]), "membership": membership, "rate": pct(p["rate"])} | more


def _first_days(p: dict) -> str:
    return _("%(days)s absent in the first %(window)s school days: %(dates)s") % {
        "days": days(len(p["dates"])),
        "window": p["window"],
        "dates": day_list(p["dates"]),
    }


def _recent(p: dict) -> str:
    return _("%(days)s absent in the last %(window)s school days: %(dates)s") % {
        "days": days(len(p["dates"])),
        "window": p["window"],
        "dates": day_list(p["dates"]),
    }


def _tardies(p: dict) -> str:
    if p["window"] == 20:
        return _("%(count)s tardy or early-dismissal days in the last 20 school days") % {"count": p["tardies"]}
    return _("%(days)s or more tardy or early-dismissal days in the last %(window)s school days") % {
        "days": p["days"],
        "window": p["window"],
    }


def _absent_days(p: dict) -> str:
    recent = day_list(p["dates"]) or _("earlier in the year")
    return _("%(days)s absent this year (%(rule_days)s or more); most recent: %(dates)s") % {
        "days": days(p["absent"]),
        "rule_days": p["days"],
        "dates": recent,
    }


def _escalated(p: dict) -> str:
    text = _("Escalated by the %(school)s attendance team on %(date)s: %(reason)s.") % {
        "school": p["school"],
        "date": formats.date_format(datetime.date.fromisoformat(p["date"]), "DATE_FORMAT"),
        "reason": p["reason"].rstrip(" .!"),  # the sentence's own period ends it: never "partner.."
    }
    history = tier2_history_render(p.get("history"))
    return f"{text} {history}" if history else text


def tier2_history_render(history: dict | str | None) -> str:
    """The Tier 2 account a referral carries (outreach.services.tier2_history_params), in the
    reader's language: weeks on the huddle, contacts logged and reached, the first one, and the
    supports offered in the team's own words. A string is a referral stored as prose before."""
    if not history:
        return ""
    if isinstance(history, str):
        return history
    weeks = ngettext("%(count)s huddle week", "%(count)s huddle weeks", history["weeks"]) % {"count": history["weeks"]}
    contacts = ngettext(
        "%(count)s contact logged (%(reached)s reached)", "%(count)s contacts logged (%(reached)s reached)",
        history["contacts"],
    ) % {"count": history["contacts"], "reached": history["reached"]}  # fmt: skip
    text = _("Tier 2: %(weeks)s, %(contacts)s") % {"weeks": weeks, "contacts": contacts}
    if history.get("first"):
        text += _(", first on %(date)s") % {"date": short_date(datetime.date.fromisoformat(history["first"]))}
    if history.get("supports"):
        text += _("; supports: %(supports)s") % {"supports": "; ".join(history["supports"])}
    return text + "."


def _case_opened(p: dict) -> str:
    return _("Tier 3 case opened on %(date)s.") % {
        "date": formats.date_format(datetime.date.fromisoformat(p["date"]), "DATE_FORMAT")
    }


_TEXTS = {
    "t2_first_10_days": _first_days,
    "t2_recent_absences": _recent,
    "t2_at_risk_rate": lambda p: (
        _("Absent %(days)s of %(membership)s school days (%(rate)s), between %(low)s and %(high)s")
        % _of_days(p, low=pct(p["low"]), high=pct(p["high"]))
    ),
    "t2_chronic": lambda p: (
        _("Absent %(days)s of %(membership)s school days (%(rate)s): at or above the %(threshold)s chronic threshold")
        % _of_days(p, threshold=pct(p["threshold"]))
    ),
    "t2_prior_year_chronic": lambda p: (
        _(
            "Chronically absent last year (%(prior)s) and absent %(days)s of %(membership)s school days "
            "(%(rate)s) this year"
        )
        % _of_days(p, prior=pct(p["prior_rate"]))
    ),
    "t2_monday_friday": lambda p: (
        _("%(share)s of %(days)s absent fell on a Monday or Friday")
        % {"share": pct(p["share"]), "days": days(p["absent"])}
    ),
    "t2_tardies": _tardies,
    "t3_severe_rate": lambda p: (
        _("Absent %(days)s of %(membership)s school days (%(rate)s): at or above %(low)s")
        % _of_days(p, low=pct(p["low"]))
    ),
    "t3_absent_days": _absent_days,
    "t3_after_tier2": lambda p: (
        _("Still chronically absent (%(rate)s) %(weeks)s weeks after a Tier 2 plan with %(supports)s+ supports")
        % {"rate": pct(p["rate"]), "weeks": p["weeks"], "supports": p["supports"]}
    ),
    "t3_repeat_chronic": lambda p: (
        _("Chronically absent last year (%(prior)s) and again this year (%(rate)s)")
        % {"prior": pct(p["prior_rate"]), "rate": pct(p["rate"])}
    ),
    ESCALATED: _escalated,
    CASE_OPENED: _case_opened,
}
