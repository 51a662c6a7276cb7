"""Writes for family messaging: a district's templates (installed from the shipped defaults on
first use), its contacts and its lines for languages without templates."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from districts.models import District, Membership, School

from .defaults import DEFAULT_TEMPLATES
from .merge import template_check
from .models import DEFAULT_TIER, FamilyContact, LanguageLine, MessageKind, MessageTemplate


def templates_ensure(*, district: District) -> int:
    """Copy the shipped English and Spanish templates a district does not have yet."""
    have = set(MessageTemplate.objects.values_list("kind", "tier", "language"))
    missing = [
        MessageTemplate(
            district=district, kind=kind, tier=DEFAULT_TIER[kind], language=language, subject=subject, body=body
        )
        for kind, by_language in DEFAULT_TEMPLATES.items()
        for language, (subject, body) in by_language.items()
        if (kind, DEFAULT_TIER[kind], language) not in have
    ]
    MessageTemplate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def template_save(
    *, district: District, by: Membership, kind: str, tier: int, language: str, subject: str, body: str
) -> MessageTemplate:
    """Create or change the district's template for a kind, tier and language; refused with
    the reasons (unknown merge field, punitive wording in Tier 1–2) before anything is stored."""
    if kind not in MessageKind.values:
        raise ValidationError({"kind": _("Choose what the message is for.")})
    if tier not in (1, 2, 3):
        raise ValidationError({"tier": _("Choose Tier 1, 2 or 3.")})
    language = (language or "").strip().lower()
    if not language or len(language) > 16:
        raise ValidationError({"language": _("Give the language as a short code, such as es or vi.")})
    if not body.strip():
        raise ValidationError({"body": _("Write the message.")})
    template_check(subject=subject, body=body, tier=tier)
    with transaction.atomic():
        template, _created = MessageTemplate.objects.select_for_update().get_or_create(
            district=district, kind=kind, tier=tier, language=language, defaults={"body": body}
        )
        template.subject, template.body, template.updated_by = subject.strip(), body.strip(), by
        template.full_clean(exclude=["district", "updated_by"])
        template.save()
    return template


def language_line_save(*, district: District, language: str, text: str) -> LanguageLine | None:
    """The line added to English messages for a language without templates; blank removes it."""
    language = (language or "").strip().lower()
    if not language:
        raise ValidationError({"language": _("Give the language as a short code, such as es or vi.")})
    if not text.strip():
        LanguageLine.objects.filter(language=language).delete()
        return None
    template_check(subject="", body=text, tier=1)
    line, _created = LanguageLine.objects.update_or_create(
        district=district, language=language, defaults={"text": text.strip()}
    )
    return line


def family_contact_save(*, district: District, school: School | None, name: str, phone: str) -> FamilyContact | None:
    """Whom the families of a school (or, without one, every school without its own) are told
    to call. A school's contact saved empty is removed: its letters name the district's again."""
    if school is not None and school.district_id != district.pk:
        raise ValidationError(_("That school is not in this district."))
    if school is not None and not name.strip() and not phone.strip():
        FamilyContact.objects.filter(district=district, school=school).delete()
        return None
    if not name.strip() or not phone.strip():
        raise ValidationError(_("Give both the contact person and a phone number."))
    contact, _created = FamilyContact.objects.update_or_create(
        district=district, school=school, defaults={"name": name.strip(), "phone": phone.strip()}
    )
    return contact


def template_check_only(*, subject: str, body: str, tier: int) -> None:
    """The checks of template_save without saving (the preview button)."""
    template_check(subject=subject, body=body, tier=tier)


def notice_opt_out_set(*, guardian, channel: str, stop: bool, by: Membership, request=None) -> bool:
    """A family asked to stop (or to get again) same-day notices on one channel: kept per guardian
    and channel, honoured from the next queueing on; audit-logged. True if anything changed."""
    from districts.models import AuditEvent
    from districts.services import audit_record

    from .models import Channel, NoticeOptOut

    if channel not in Channel.values:
        raise ValidationError(_("Choose email or text message."))
    if stop:
        _row, changed = NoticeOptOut.objects.get_or_create(
            district=guardian.district, guardian=guardian, channel=channel, defaults={"created_by": by}
        )
    else:
        changed = NoticeOptOut.objects.filter(guardian=guardian, channel=channel).delete()[0] > 0
    if changed:
        audit_record(
            district=guardian.district,
            user=by.user,
            action=AuditEvent.Action.CHANGE,
            object_type="notice_opt_out",
            object_id=guardian.pk,
            object_label=f"Same-day notices by {channel} {'stopped' if stop else 'resumed'} for guardian {guardian.pk}",
            request=request,
            students=[guardian.student_id],
        )
    return changed
