"""How the tiers pages write rates and day counts: 18.0%, 9 days, 2.5 days."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(value, places: int = 1) -> str:
    """A rate (0.18, Decimal("0.1800"), Fraction(1, 10)) as a percentage: "18.0%"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.filter
def day_count(value) -> str:
    """Whole days without decimals (9), fractional ones as they are (2.5)."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)).normalize():f}"
