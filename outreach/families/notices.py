"""The same-day absence notice outbox: queue one notice per absent student's guardian on their
preferred channel, then send those due, never twice.

Never twice is the database's job, not the code's good intentions:
- queueing inserts against the unique key (student, date, channel, recipient), so a re-run
  import or a second pass adds nothing;
- a notice is claimed (queued → sending) by one conditional UPDATE before its message leaves,
  and recorded (sent) after; a duplicate task, or a worker redelivered the same job after a
  crash (acks_late), finds it claimed and moves on;
- a notice left "sending" by a crash between claim and send is never sent again: after
  STALE_CLAIM it is marked unconfirmed and shown on the data-quality panel for a person to check.
A notice whose absence was corrected to present before it left is cancelled; a failed send is
retried with backoff, then marked failed.
"""

import dataclasses
import datetime
import logging
import re

from django.core.mail import EmailMessage, get_connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from districts.models import District
from languages.family import family_language
from students.models import AttendanceCategory, AttendanceRecord, CalendarDay, Enrollment, Guardian

from .figures import figures_current
from .messages import TemplateBook
from .models import AbsenceNotice, Channel, MessageKind, NoticeOptOut, NoticeSettings
from .sms import sms_backend

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
BACKOFF = datetime.timedelta(minutes=5)  # 5, 10, 20 minutes between tries
STALE_CLAIM = datetime.timedelta(minutes=15)
UNEXCUSED = AttendanceCategory.ABSENT_UNEXCUSED


@dataclasses.dataclass
class QueueResult:
    absent: int = 0  # students recorded absent_unexcused on a membership day
    queued: int = 0  # new notices
    already: int = 0  # notices already in the outbox for the date (a re-run)
    opted_out: int = 0
    no_address: int = 0  # guardians with no usable address on their channel


@dataclasses.dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0  # claimed by someone else first


def notice_settings(district: District) -> NoticeSettings:
    return NoticeSettings.objects.filter(district=district).first() or NoticeSettings(district=district)


def channel_for(guardian: dict) -> tuple[str, str] | None:
    """The guardian's preferred channel and address, normalised; None without a usable one.
    Phone-call families get a text (an automated notice cannot call); letter families none."""
    email, phone = (guardian["email"] or "").strip().lower(), _digits(guardian["phone"])
    preferred = guardian["preferred_channel"]
    if preferred == Guardian.Channel.EMAIL:
        return (Channel.EMAIL, email) if email else None
    if preferred in (Guardian.Channel.TEXT, Guardian.Channel.PHONE):
        return (Channel.SMS, phone) if phone else None
    if preferred == Guardian.Channel.LETTER:
        return None
    return (Channel.EMAIL, email) if email else (Channel.SMS, phone) if phone else None


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 10:
        digits = "1" + digits
    return f"+{digits}" if len(digits) >= 11 else ""


def absent_on(date: datetime.date):
    """Unexcused absences on a membership day: enrolled at the school that day, and the day is
    instructional in the school's calendar (or the district default where the school has none)."""
    enrolled = Enrollment.objects.filter(
        student_id=OuterRef("student_id"), school_id=OuterRef("school_id"), entry_date__lte=date
    ).filter(Q(exit_date__isnull=True) | Q(exit_date__gt=date))
    days = {row["school_id"]: row["instructional"] for row in CalendarDay.objects.filter(date=date).values()}
    schools = [school for school, instructional in days.items() if school is not None and instructional]
    if days.get(None):
        schools_with_own = [school for school in days if school is not None]
        in_calendar = Q(school_id__in=schools) | ~Q(school_id__in=schools_with_own)
    else:
        in_calendar = Q(school_id__in=schools)
    records = AttendanceRecord.objects.filter(date=date, category=UNEXCUSED).filter(in_calendar)
    return records.filter(Exists(enrolled)).values_list("student_id", "school_id").distinct()


def notices_queue(*, district: District, date: datetime.date, now: datetime.datetime | None = None) -> QueueResult:
    now = now or timezone.now()
    result = QueueResult()
    absent = dict(absent_on(date))  # student -> school (one school a day)
    result.absent = len(absent)
    if not absent or not notice_settings(district).enabled:
        return result
    opted_out = set(NoticeOptOut.objects.values_list("guardian_id", "channel"))
    existing = set(AbsenceNotice.objects.filter(date=date).values_list("student_id", "channel", "recipient"))
    due = due_after_quiet_hours(district, now)
    new, seen = [], set()
    guardians = Guardian.objects.filter(student_id__in=list(absent)).values(
        "id", "student_id", "email", "phone", "preferred_channel", "language"
    )
    for guardian in guardians:
        channel = channel_for(guardian)
        if channel is None:
            result.no_address += 1
            continue
        if (guardian["id"], channel[0]) in opted_out:
            result.opted_out += 1
            continue
        key = (guardian["student_id"], *channel)
        if key in existing or key in seen:
            result.already += key in existing
            continue
        seen.add(key)
        language = family_language(guardian["language"])
        new.append(
            AbsenceNotice(
                district=district, student_id=guardian["student_id"], guardian_id=guardian["id"],
                school_id=absent[guardian["student_id"]], date=date, channel=channel[0], recipient=channel[1],
                language=language, family_language=language, due_at=due,
            )
        )  # fmt: skip
    # ignore_conflicts: a pass running at the same moment inserted the same key first.
    AbsenceNotice.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    result.queued = len(new)
    return result


def due_after_quiet_hours(district: District, now: datetime.datetime) -> datetime.datetime:
    """Now, or the end of the district's quiet hours (in its own time zone) when now is inside them."""
    quiet = notice_settings(district)
    local = now.astimezone(district.tzinfo)
    start, end, clock = quiet.quiet_start, quiet.quiet_end, local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=district.tzinfo)


def notices_release_stale(*, now: datetime.datetime | None = None) -> int:
    """Claims older than STALE_CLAIM were stopped mid-send: unconfirmed, never sent again."""
    now = now or timezone.now()
    return AbsenceNotice.objects.filter(status=AbsenceNotice.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=AbsenceNotice.Status.UNCONFIRMED, error="Stopped between claiming and recording the send."
    )


def notices_send_due(
    *, district: District, now: datetime.datetime | None = None, ignore_quiet_hours: bool = False
) -> SendResult:
    now = now or timezone.now()
    notices_release_stale(now=now)
    waiting = Q(status=AbsenceNotice.Status.QUEUED) | Q(status=AbsenceNotice.Status.RETRY, due_at__lte=now)
    if not ignore_quiet_hours:
        waiting = waiting & Q(due_at__lte=now)
    ids = list(AbsenceNotice.objects.filter(waiting).order_by("due_at", "id").values_list("id", flat=True))
    result = SendResult()
    if not ids:
        return result
    book = TemplateBook(district)
    mail = get_connection(fail_silently=False)  # opened by the first email; a refusal is that notice's failure
    try:
        for notice_id in ids:
            outcome = notice_send(notice_id=notice_id, book=book, mail=mail, now=now)
            setattr(result, outcome, getattr(result, outcome) + 1)
    finally:
        mail.close()
    return result


def notice_claim(notice_id: int, now: datetime.datetime) -> bool:
    """One conditional UPDATE: whoever changes the row owns the send; everyone else sees 0 rows."""
    claimable = [AbsenceNotice.Status.QUEUED, AbsenceNotice.Status.RETRY]
    return bool(
        AbsenceNotice.objects.filter(pk=notice_id, status__in=claimable).update(
            status=AbsenceNotice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def notice_send(*, notice_id: int, book: TemplateBook, mail, now: datetime.datetime) -> str:
    if not notice_claim(notice_id, now):
        return "skipped"
    notice = AbsenceNotice.objects.select_related("student", "school").get(pk=notice_id)
    if not AttendanceRecord.objects.filter(student_id=notice.student_id, date=notice.date, category=UNEXCUSED).exists():
        _record(notice, AbsenceNotice.Status.CANCELLED, error="Corrected to present before sending.")
        return "cancelled"
    message = _compose(book, notice)
    try:
        _deliver(notice, message, mail)
    except Exception as error:  # noqa: BLE001 - any failure of the channel is retried, then shown
        logger.warning("absence notice %s failed: %s", notice.pk, error)
        if notice.attempts >= MAX_ATTEMPTS:
            _record(notice, AbsenceNotice.Status.FAILED, error=str(error)[:300])
            return "failed"
        retry_at = now + BACKOFF * (2 ** (notice.attempts - 1))
        _record(notice, AbsenceNotice.Status.RETRY, error=str(error)[:300], due_at=retry_at)
        return "retrying"
    _record(notice, AbsenceNotice.Status.SENT, sent_at=timezone.now(), language=message.language, error="")
    return "sent"


def _compose(book: TemplateBook, notice: AbsenceNotice):
    figures = figures_current(student_ids=[notice.student_id], month_of=notice.date).get(notice.student_id)
    return book.compose(
        kind=MessageKind.ABSENCE_NOTICE, student=notice.student, school=notice.school,
        family_language=notice.family_language, figures=figures, absence_date=notice.date,
    )  # fmt: skip


def _deliver(notice: AbsenceNotice, message, mail) -> None:
    if notice.channel == Channel.EMAIL:
        EmailMessage(
            subject=message.subject, body=message.body, to=[notice.recipient], connection=mail,
            headers={"Content-Language": message.language, "X-AttendNC-Notice": str(notice.pk)},
        ).send()  # fmt: skip
        return
    sms_backend().send(to=notice.recipient, body=message.body)  # SmsError: retried like any failure


def _record(notice: AbsenceNotice, status: str, **fields) -> None:
    AbsenceNotice.objects.filter(pk=notice.pk, status=AbsenceNotice.Status.SENDING).update(status=status, **fields)
