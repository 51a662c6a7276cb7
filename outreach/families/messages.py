"""One family's message: the district's template for its kind and tier in the family's
language, filled with the student's figures, in that language's number and date formats.

A language the district has no template for gets the English one, with the district's line in
the family's language on top where it wrote one (LanguageLine); the caller counts the gap.
`TemplateBook` loads a district's templates, lines and contacts once, so a batch of thousands
asks the database three times, not three times per student.
"""

import dataclasses
import datetime

from django.utils import formats, translation
from django.utils.translation import gettext as _

from languages.family import ENGLISH

from .figures import Figures
from .merge import merge
from .models import DEFAULT_TIER, FamilyContact, LanguageLine, MessageKind, MessageTemplate


@dataclasses.dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str  # the language it is written in
    family_language: str  # the guardian's language
    fell_back: bool  # written in English because the district has no template in the family's language


class TemplateBook:
    def __init__(self, district):
        from .services import templates_ensure

        templates_ensure(district=district)
        self.templates = {(t.kind, t.tier, t.language): t for t in MessageTemplate.objects.all()}
        self.lines = dict(LanguageLine.objects.values_list("language", "text"))
        contacts = {c.school_id: c for c in FamilyContact.objects.all()}
        self.default_contact = contacts.pop(None, None)
        self.contacts = contacts

    def languages(self, kind: str) -> set[str]:
        return {language for (k, _tier, language) in self.templates if k == kind}

    def template(self, kind: str, tier: int | None, language: str) -> MessageTemplate | None:
        tiers = [tier] if tier else []
        tiers += [DEFAULT_TIER[kind], 1, 2, 3]
        return next((self.templates[(kind, t, language)] for t in tiers if (kind, t, language) in self.templates), None)

    def contact(self, school_id: int | None) -> FamilyContact | None:
        return self.contacts.get(school_id) or self.default_contact

    def compose(
        self,
        *,
        kind: str,
        student,
        school,
        family_language: str,
        figures: Figures | None,
        tier: int | None = None,
        absence_date: datetime.date | None = None,
    ) -> Message:
        template = self.template(kind, tier, family_language)
        fell_back = template is None
        language = ENGLISH if fell_back else family_language
        template = template or self.template(kind, tier, ENGLISH)
        contact = self.contact(school.pk if school else None)
        with translation.override(language):
            values = merge_values(student=student, school=school, figures=figures, contact=contact, day=absence_date)
            help_template = self.template(MessageKind.HELP_LINE, None, language)
            values["help_line"] = merge(help_template.body, values) if help_template else ""
            subject, body = merge(template.subject, values), merge(template.body, values)
        line = self.lines.get(family_language, "") if fell_back else ""
        if line:
            body = f"{line}\n\n{body}"
        return Message(
            subject=subject, body=body, language=language, family_language=family_language, fell_back=fell_back
        )


def merge_values(*, student, school, figures: Figures | None, contact, day: datetime.date | None) -> dict[str, str]:
    """The merge fields' values, formatted in the active language."""
    # Until the district names a contact, families are sent to the school itself.
    values = {
        "student_first_name": student.first_name,
        "school": school.name if school else "",
        "contact_name": contact.name if contact else (school.name if school else _("your child's school")),
        "contact_phone": contact.phone if contact else _("the number on the school's website"),
        "absence_date": formats.date_format(day, "DATE_FORMAT") if day else "",
    }
    if figures is not None:
        values |= {
            "days_missed_year": days_text(figures.absent_days),
            "days_missed_month": days_text(figures.absent_this_month),
            "school_days": formats.number_format(figures.membership_days),
        }
    return values


def days_text(value: float) -> str:
    number = float(value)
    return formats.number_format(int(number) if number.is_integer() else round(number, 1))
