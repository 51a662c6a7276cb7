"""Reads for family messaging, including what the pulse data-quality panel shows: families
whose language the district has no template for, and notices that failed or were never confirmed."""

import dataclasses

from django.db.models import Count

from languages.family import family_language
from students.models import Guardian

from .models import AbsenceNotice, LanguageLine, MessageKind, MessageTemplate


@dataclasses.dataclass(frozen=True)
class LanguageGap:
    language: str  # the family-language code
    guardians: int  # guardians who read it
    notices_in_english: int  # notices sent in English for lack of a template
    has_line: bool  # the district wrote a line in that language


def language_gaps() -> list[LanguageGap]:
    """Languages the district's families read that its notices have no template for, most
    families first (call inside the district's scope). For the pulse data-quality panel."""
    templated = set(
        MessageTemplate.objects.filter(kind=MessageKind.ABSENCE_NOTICE).values_list("language", flat=True)
    ) or {"en", "es"}  # the shipped defaults, before a district's first message installs them
    counts: dict[str, int] = {}
    for raw, n in Guardian.objects.values_list("language").annotate(n=Count("id")).values_list("language", "n"):
        code = family_language(raw)
        if code not in templated:
            counts[code] = counts.get(code, 0) + n
    fallbacks = dict(
        AbsenceNotice.objects.exclude(language="").filter(language="en")
        .exclude(family_language="en").values_list("family_language").annotate(n=Count("id"))
        .values_list("family_language", "n")
    )  # fmt: skip
    lines = set(LanguageLine.objects.values_list("language", flat=True))
    languages = set(counts) | set(fallbacks)
    gaps = [LanguageGap(code, counts.get(code, 0), fallbacks.get(code, 0), code in lines) for code in languages]
    return sorted(gaps, key=lambda gap: (-gap.guardians, gap.language))


def notice_problems():
    """Notices that did not reach a family: failed after their retries, or stopped mid-send."""
    return AbsenceNotice.objects.filter(
        status__in=[AbsenceNotice.Status.FAILED, AbsenceNotice.Status.UNCONFIRMED]
    ).select_related("student", "school")


def notice_counts(date=None) -> dict[str, int]:
    """Notices by status, keyed by the status's label in the reader's language."""
    notices = AbsenceNotice.objects.all() if date is None else AbsenceNotice.objects.filter(date=date)
    labels = dict(AbsenceNotice.Status.choices)
    counts = notices.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    return {str(labels.get(status, status)): n for status, n in counts}


@dataclasses.dataclass(frozen=True)
class GuardianNotices:
    guardian: Guardian
    channel: str  # the channel same-day notices go to this guardian on
    channel_label: str
    address: str
    opted_out: bool


def guardian_notices(student) -> list[GuardianNotices]:
    """Each guardian of the student that same-day notices can reach, on which channel, and
    whether they asked to stop (call inside the district's scope). For the student's timeline,
    where whoever takes the family's call records it."""
    from .models import Channel, NoticeOptOut
    from .notices import channel_for

    guardians = list(student.guardians.order_by("pk"))
    stopped = set(NoticeOptOut.objects.filter(guardian__in=guardians).values_list("guardian_id", "channel"))
    rows = []
    for guardian in guardians:
        found = channel_for(
            {"email": guardian.email, "phone": guardian.phone, "preferred_channel": guardian.preferred_channel}
        )
        if found is None:
            continue
        channel, address = found
        label = str(Channel(channel).label)
        rows.append(GuardianNotices(guardian, channel, label, address, (guardian.pk, channel) in stopped))
    return rows
