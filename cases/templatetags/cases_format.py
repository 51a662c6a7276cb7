"""How the cases pages write a change in attendance: "+4.0 points", "−2.5 points"."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def points(value) -> str:
    """A change between two rates (fractions) in percentage points, signed."""
    if value is None:
        return "—"
    number = float(value) * 100
    sign = "+" if number > 0 else ("−" if number < 0 else "±")
    return _("%(sign)s%(points)s points") % {"sign": sign, "points": f"{abs(number):.1f}"}


@register.filter
def change_class(value) -> str:
    if value is None or float(value) == 0:
        return "flat"
    return "up" if float(value) > 0 else "down"


@register.filter
def percent_input(value) -> str:
    return "" if value is None else f"{float(value) * 100:g}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
