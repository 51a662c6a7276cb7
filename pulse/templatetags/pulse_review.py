"""Filters of the district review pages: shares as whole percents, day counts without
trailing zeros, ratios to two decimals, all in the reader's number format."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{number_format(Decimal(value) * 100, decimal_pos=0)}%"


@register.filter
def days(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return number_format(value, decimal_pos=0 if value == value.to_integral() else 1)


@register.filter
def ratio(value) -> str:
    if value is None:
        return "—"
    return number_format(Decimal(value), decimal_pos=2)


@register.filter
def points(value) -> str:
    """A change in rate (0.021) as signed percentage points in the reader's format."""
    if value is None:
        return "—"
    shown = number_format(Decimal(str(value)) * 100, decimal_pos=1, force_grouping=False)
    return ("+" if value > 0 else "") + shown
