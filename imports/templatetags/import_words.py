"""Held-row reasons in words on the import pages (a reason's code is for filters and machines)."""

from django import template

from imports.models import reason_words as _reason_words

register = template.Library()


@register.filter
def reason_words(code: str) -> str:
    return _reason_words(code)
