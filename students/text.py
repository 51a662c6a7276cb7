"""Text as it may reach a page or a PDF. Bidirectional-override and isolate characters
(U+202A–U+202E, U+2066–U+2069) make a name display as something else ("Ana" followed by a
reversed run that reads like another word), so they never reach a page: imports strip them from
names, and names shown on pages go through `strip_bidi` (the template filter of the same name,
`{% load student_text %}`)."""

import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
BIDI_PATTERN = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi(value) -> str:
    """The text without bidirectional controls ('' for None)."""
    return BIDI_PATTERN.sub("", "" if value is None else str(value))
