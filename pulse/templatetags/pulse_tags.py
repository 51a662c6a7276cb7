"""Template helpers of the pulse pages: their tabs, and numbers fit for SVG attributes."""

from django import template
from django.utils.translation import gettext

from pulse.tabs import tab_links

register = template.Library()


@register.simple_tag(takes_context=True)
def pulse_tab_links(context) -> list[dict]:
    return tab_links(context["request"])


@register.filter
def svg_number(value) -> str:
    """A coordinate as SVG wants it whatever the reader's language: "152.5", never "152,5"."""
    if value is None or value == "":
        return "0"
    return f"{float(value):.1f}".removesuffix(".0")


@register.filter
def points(value) -> str:
    """A change in rate (0.021) as percentage points: "+2.1 pts"; "—" when there is none."""
    if value is None or value == "":
        return "—"
    return gettext("%(points)s pts") % {"points": f"{float(value) * 100:+.1f}"}


@register.filter
def pair(first, second) -> list:
    """Two values to loop over in a template: {% for value in a|pair:b %}."""
    return [first, second]
