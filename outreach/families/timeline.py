"""Same-day notices on the student's timeline (outreach.timeline gathers them): the family was
told, on which channel and in which language, or why they were not."""

from django.utils import formats
from django.utils.translation import gettext as _

from .models import AbsenceNotice, Letter


def notice_events(student):
    from ..timeline import Event  # the timeline imports this module

    for notice in AbsenceNotice.objects.filter(student=student).order_by("-date"):
        title = _("Absence notice (%(channel)s): %(status)s") % {
            "channel": notice.get_channel_display(),
            "status": notice.get_status_display(),
        }
        detail = _("In %(language)s to %(recipient)s") % {"language": notice.language, "recipient": _masked(notice)}
        if notice.error and notice.status != AbsenceNotice.Status.SENT:
            detail += f" — {notice.error}"
        yield Event(notice.date, "notice", title, detail)


def _masked(notice: AbsenceNotice) -> str:
    """Enough of the address to recognise it, not to copy it off a shared screen."""
    recipient = notice.recipient
    if "@" in recipient:
        name, _at, domain = recipient.partition("@")
        return f"{name[:2]}…@{domain}"
    return f"…{recipient[-4:]}"


def letter_lines(action_ids: list[int]) -> dict[int, str]:
    """The line a nudge letter's outreach action shows: its language and the figures it quoted."""
    letters = Letter.objects.filter(action_id__in=action_ids).values(
        "action_id", "language", "absent_days", "membership_days"
    )
    return {
        letter["action_id"]: _("Nudge letter (%(language)s): %(missed)s of %(days)s school days missed")
        % {
            "language": letter["language"],
            "missed": formats.number_format(letter["absent_days"].normalize()),
            "days": letter["membership_days"],
        }
        for letter in letters
    }
