"""Same-day notices on the student's timeline (outreach.timeline gathers them): the family was
told, on which channel and in which language, or why they were not."""

from django.utils.translation import gettext as _

from .models import AbsenceNotice


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
