"""Held-row reasons and import errors in words on the import pages (their codes are for filters
and machines)."""

from django import template

from imports.messages import entity_words as _entity_words
from imports.messages import error_text, note_text
from imports.models import reason_words as _reason_words

register = template.Library()


@register.filter
def reason_words(code: str) -> str:
    return _reason_words(code)


@register.filter
def error_words(error: dict) -> str:
    """A stored import error's message in the reader's language."""
    return error_text(error)


@register.filter
def note_words(note) -> str:
    """A stored note on what an import read or skipped, in the reader's language."""
    return note_text(note)


@register.filter
def entity_words(name: str) -> str:
    """An import's entity ("prior_year") as people say it, in their language."""
    return _entity_words(name)
