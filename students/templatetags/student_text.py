"""`{{ name|strip_bidi }}`: a name without bidirectional-override characters (students.text)."""

from django import template

from students.text import strip_bidi as _strip_bidi

register = template.Library()


@register.filter
def strip_bidi(value):
    return _strip_bidi(value)
