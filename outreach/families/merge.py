"""Merge fields: the {names} a template may use, filling them for one student, and the checks
an admin sees before saving (an unknown field; a punitive word in a Tier 1 or 2 template).

Templates use single braces, `{student_first_name}`, in every language: the names are the same
in the Spanish templates so a district's staff can copy one into the other. Nothing else in a
template is evaluated: it is text, not a Django template, so an admin's wording can never reach
into the database.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MERGE_FIELDS = {
    "student_first_name": _("the student's first name"),
    "school": _("the school's name"),
    "days_missed_year": _("days missed this year"),
    "days_missed_month": _("days missed this month"),
    "school_days": _("school days so far this year"),
    "contact_name": _("the person families call"),
    "contact_phone": _("that person's phone number"),
    "help_line": _('the "how to get help" line'),
    "absence_date": _("the day of the absence (same-day notices)"),
}
_FIELD = re.compile(r"\{([^{}]*)\}")

# Words that turn a support message into a threat. Truancy letters and court referrals do not
# bring children back to school (SPEC §1); a legal step exists only behind the Tier 3 guard.
PUNITIVE_WORDS = [
    # English
    "truant", "truancy", "court", "courts", "fine", "fines", "fined", "penalty", "penalties", "penalize",
    "police", "jail", "arrest", "arrested", "prosecute", "prosecution", "prosecuted", "judge", "legal action",
    "citation", "sheriff", "summons", "misdemeanor", "criminal", "punish", "punishment", "law enforcement",
    # Spanish (compared without accents)
    "ausentismo ilegal", "tribunal", "tribunales", "corte", "juzgado", "multa", "multas", "multado", "sancion",
    "sanciones", "penalizacion", "policia", "carcel", "arresto", "arrestar", "juez", "demanda", "citacion",
    "fiscal", "delito", "castigo", "castigar", "accion legal", "acciones legales",
]  # fmt: skip
_PUNITIVE = re.compile(r"\b(" + "|".join(re.escape(word) for word in PUNITIVE_WORDS) + r")\b")


def fields_used(text: str) -> list[str]:
    return [match.strip() for match in _FIELD.findall(text)]


def unknown_fields(text: str) -> list[str]:
    return sorted({name for name in fields_used(text) if name not in MERGE_FIELDS})


def punitive_words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return sorted(set(_PUNITIVE.findall(plain)))


def template_check(*, subject: str, body: str, tier: int) -> None:
    """Raise a ValidationError naming every unknown field and punitive word, by form field."""
    errors: dict[str, list] = {}
    for name, text in (("subject", subject), ("body", body)):
        unknown = unknown_fields(text)
        if unknown:
            errors.setdefault(name, []).append(
                _("Unknown merge field: %(fields)s. Use one of the fields listed beside the text.")
                % {"fields": ", ".join("{" + field + "}" for field in unknown)}
            )
        if "{" in _FIELD.sub("", text) or "}" in _FIELD.sub("", text):
            errors.setdefault(name, []).append(_("A brace is not closed: write merge fields as {student_first_name}."))
        words = punitive_words(text) if tier in (1, 2) else []
        if words:
            errors.setdefault(name, []).append(
                _(
                    "Tier 1 and Tier 2 messages support families; they cannot threaten: remove %(words)s. "
                    "Legal steps belong only to a Tier 3 case, after documented supports."
                )
                % {"words": ", ".join(f"“{word}”" for word in words)}
            )
    if errors:
        raise ValidationError(errors)


def merge(text: str, values: dict[str, str]) -> str:
    """Fill the fields; a field without a value for this student becomes empty, never "{…}"."""
    return _FIELD.sub(lambda match: str(values.get(match.group(1).strip(), "")), text)
