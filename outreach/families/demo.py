"""The demo's family messages chapter (order 250): the district's templates in English and
Spanish, the family liaison families call, a line for Vietnamese-speaking families, last
week's nudge letters for the middle school (real PDFs, each on the student's timeline), and
the same-day notices of the last school days in the outbox — sent, one that failed, one family
that opted out of texts — so a newcomer sees families served in both languages."""

import datetime
import random

from django.utils import formats
from django.utils.translation import gettext as _

from districts.models import School
from exports.models import ExportJob
from exports.services import export_job_execute
from students.demo_story import register_demo_chapter
from students.models import Guardian

from .letters import LETTERS_RENDERER, letter_batch_reserve, letter_signer
from .models import AbsenceNotice, FamilyContact, LanguageLine, Letter, LetterBatch, MessageTemplate, NoticeOptOut
from .notices import notices_queue
from .services import templates_ensure

LETTER_SCHOOL = "MS-200"
LIAISON = ("Marisol Reyes", "919-555-0100")
LETTER_SCHOOL_CONTACT = ("Daniel Ortiz", "919-555-0142")  # the middle school's own attendance clerk
VIETNAMESE_LINE = (
    "Đây là tin nhắn từ trường của con quý vị. Nếu cần giúp đỡ bằng tiếng Việt, xin gọi cô Lan Nguyễn: 919-555-0107."
)


def play_family_messages(*, district, today: datetime.date, calendar) -> dict[str, int]:
    rng = random.Random(f"families-{today.isoformat()}")
    # seed_demo rebuilds the roster; what hangs on the district itself is this chapter's to clear.
    for model in (Letter, LetterBatch, AbsenceNotice, NoticeOptOut, LanguageLine, FamilyContact, MessageTemplate):
        model.objects.all().delete()
    ExportJob.objects.filter(renderer=LETTERS_RENDERER).delete()
    templates_ensure(district=district)
    FamilyContact.objects.create(district=district, name=LIAISON[0], phone=LIAISON[1])
    school = School.objects.filter(sis_id=LETTER_SCHOOL).first()
    if school is not None:
        name, phone = LETTER_SCHOOL_CONTACT
        FamilyContact.objects.create(district=district, school=school, name=name, phone=phone)
    LanguageLine.objects.create(district=district, language="vi", text=VIETNAMESE_LINE)
    letters = _letters(district, calendar)
    notices = _notices(district, calendar, rng)
    return {"nudge letters": letters, "absence notices": notices}


def _letters(district, calendar) -> int:
    """Last Friday's letters for the middle school (families whose child has missed 5+ days),
    printed by its attendance lead from the browser: the job's page offers all.pdf and each
    student's letter."""
    school = School.objects.filter(sis_id=LETTER_SCHOOL).first()
    fridays = [day for day in calendar.elapsed if day.weekday() == 4][-1:]
    if school is None or not fridays:
        return 0
    lead = letter_signer(district, school)
    batch = letter_batch_reserve(
        district=district, school=school, selection="absences:5", as_of=fridays[0], by=lead, again=False
    )
    job = ExportJob.objects.create(
        district=district, requested_by=lead, renderer=LETTERS_RENDERER, params={"batch_id": batch.pk},
        title=_("Nudge letters, %(school)s, as of %(date)s")
        % {"school": school.name, "date": formats.date_format(fridays[0], "DATE_FORMAT")},
    )  # fmt: skip
    export_job_execute(job_id=job.pk)
    return batch.letters.count()


def _notices(district, calendar, rng: random.Random) -> int:
    """The last three school days: earlier days' notices sent in the afternoon, one bounced."""
    days = calendar.elapsed[-3:]
    texting = list(Guardian.objects.filter(preferred_channel="text").exclude(phone="").values_list("pk", flat=True))
    for guardian_id in rng.sample(texting, min(3, len(texting))):
        NoticeOptOut.objects.create(district=district, guardian_id=guardian_id, channel="sms")
    for day in days:
        afternoon = datetime.datetime.combine(day, datetime.time(15, 45), tzinfo=district.tzinfo)
        notices_queue(district=district, date=day, now=afternoon)
        sent_at = afternoon + datetime.timedelta(minutes=2)
        AbsenceNotice.objects.filter(date=day).update(
            status=AbsenceNotice.Status.SENT, sent_at=sent_at, claimed_at=sent_at, attempts=1
        )
    bounced = AbsenceNotice.objects.filter(channel="email").order_by("date", "pk").first()
    if bounced is not None:
        AbsenceNotice.objects.filter(pk=bounced.pk).update(
            status=AbsenceNotice.Status.FAILED, sent_at=None, attempts=4,
            error="550 Mailbox unavailable: the address may be out of date.",
        )  # fmt: skip
    # Fallback English for languages without templates, as the outbox records a real send.
    AbsenceNotice.objects.filter(status=AbsenceNotice.Status.SENT).exclude(family_language__in=["en", "es"]).update(
        language="en"
    )
    return AbsenceNotice.objects.count()


register_demo_chapter("outreach family messages", play_family_messages, order=250)
