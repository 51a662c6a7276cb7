"""Same-day absence notices: a real SMTP server receives them, texts go through the SMS adapter,
and nothing is ever sent twice — not on a re-run import, a duplicate task or a crash between
claiming a notice and sending it."""

import datetime
import email
import http.server
import json
import socket
import threading
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from outreach.families import notices
from outreach.families.models import AbsenceNotice, FamilyContact, LanguageLine, NoticeOptOut, NoticeSettings
from outreach.families.sms import HttpSms, SmsError
from outreach.families.tasks import send_district_notices
from students.models import AttendanceRecord, Guardian

from .factories import GuardianFactory
from .tiers_data import tiers_year

MONDAY = datetime.date(2025, 10, 27)  # `monday` is absent unexcused; `recent` is not absent that day
NOON = datetime.datetime(2025, 10, 27, 16, 0, tzinfo=datetime.UTC)  # 12:00 in New York


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"

    def subjects(self):
        return [str(make_header(decode_header(message["Subject"]))) for _to, message in self.messages]

    def bodies(self):
        return [message.get_payload(decode=True).decode() for _to, message in self.messages]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    return tmp_path / "sms.jsonl"


def _texts(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def year(tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        Guardian.objects.filter(student=year.monday).update(phone="919-555-0142", preferred_channel="text")
        GuardianFactory(
            student=year.monday, name="Lucía Tester", email="Lucia@Example.com", phone="", language="Español",
            preferred_channel="email",
        )  # fmt: skip
    return year


def test_the_command_sends_each_guardian_one_notice_in_their_language(year, smtp, sms_file):
    with scope(district=year.district):
        FamilyContact.objects.create(district=year.district, name="Alpha Office", phone="919-555-0199")
    call_command("send_notices", "--district", "alpha", "--date", "2025-10-27", "--now")
    assert [to for to, _message in smtp.messages] == [["lucia@example.com"]]
    assert smtp.subjects() == ["Monday faltó hoy a clase"]
    assert "27 de octubre de 2025" in smtp.bodies()[0]
    assert smtp.messages[0][1]["Content-Language"] == "es"
    texts = _texts(sms_file)
    assert [text["to"] for text in texts] == ["+19195550142"]
    assert "Monday was marked absent today, Oct. 27, 2025" in texts[0]["body"]
    assert "call Alpha Office at 919-555-0199" in texts[0]["body"]

    call_command("send_notices", "--district", "alpha", "--date", "2025-10-27", "--now")  # the same date again
    assert len(smtp.messages) == 1 and len(_texts(sms_file)) == 1
    with scope(district=year.district):
        assert AbsenceNotice.objects.filter(status="sent").count() == 2


def test_a_rerun_import_queues_nothing_new(year):
    with scope(district=year.district):
        first = notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        AttendanceRecord.objects.filter(student=year.monday, date=MONDAY).delete()
        AttendanceRecord.objects.create(
            district=year.district,
            student=year.monday,
            school=year.school,
            date=MONDAY,
            code="U",
            category="absent_unexcused",
        )  # fmt: skip  (the import replaced the day's row)
        again = notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        assert (first.absent, first.queued, again.queued, again.already) == (1, 2, 0, 2)
        assert AbsenceNotice.objects.count() == 2


def test_the_database_refuses_a_second_notice_for_the_same_key(year):
    from django.db import IntegrityError, transaction

    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        notice = AbsenceNotice.objects.first()
        notice.pk = None
        with pytest.raises(IntegrityError), transaction.atomic():
            notice.save()


def test_a_crash_between_claim_and_send_never_sends_it_again(year, smtp, sms_file):
    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        crashed = AbsenceNotice.objects.get(channel="email")
        assert notices.notice_claim(crashed.pk, NOON)  # the worker claimed it, then died before sending
        result = notices.notices_send_due(district=year.district, now=NOON)
        assert (result.sent, len(smtp.messages)) == (1, 0)  # only the text went out
        later = NOON + notices.STALE_CLAIM + datetime.timedelta(minutes=1)
        again = notices.notices_send_due(district=year.district, now=later, ignore_quiet_hours=True)
        assert again.sent == 0 and smtp.messages == []
        crashed.refresh_from_db()
        assert crashed.status == AbsenceNotice.Status.UNCONFIRMED and crashed.sent_at is None


def test_a_duplicate_task_sends_nothing_twice(year, smtp, sms_file, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
    first = send_district_notices.delay(year.district.pk, MONDAY.isoformat()).get()
    second = send_district_notices.delay(year.district.pk, MONDAY.isoformat()).get()
    assert (first["sent"], second["sent"]) == (2, 0)
    assert len(smtp.messages) == 1 and len(_texts(sms_file)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_notice_only_one_claims_it(year):
    from django.db import connection

    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        notice = AbsenceNotice.objects.first()
    claims, start = [], threading.Barrier(4)

    def worker():
        with scope(district=year.district):
            start.wait()
            claims.append(notices.notice_claim(notice.pk, NOON))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claims) == [False, False, False, True]


def test_quiet_hours_hold_notices_until_morning_in_the_districts_time_zone(year, smtp, sms_file):
    night = datetime.datetime(2025, 10, 28, 2, 30, tzinfo=datetime.UTC)  # 22:30 in New York
    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=night)
        assert notices.notices_send_due(district=year.district, now=night).sent == 0
        due = AbsenceNotice.objects.first().due_at.astimezone(year.district.tzinfo)
        assert (due.date(), due.time()) == (datetime.date(2025, 10, 28), datetime.time(7, 30))
        assert notices.notices_send_due(district=year.district, now=night, ignore_quiet_hours=True).sent == 2


def test_an_opt_out_stops_that_channel_only(year):
    with scope(district=year.district):
        lucia = Guardian.objects.get(name="Lucía Tester")
        NoticeOptOut.objects.create(district=year.district, guardian=lucia, channel="email")
        result = notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        assert (result.queued, result.opted_out) == (1, 1)
        assert list(AbsenceNotice.objects.values_list("channel", flat=True)) == ["sms"]


def test_a_district_can_turn_notices_off(year):
    with scope(district=year.district):
        NoticeSettings.objects.create(district=year.district, enabled=False)
        assert notices.notices_queue(district=year.district, date=MONDAY, now=NOON).queued == 0


def test_an_absence_corrected_to_present_cancels_its_notice(year, smtp, sms_file):
    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        AttendanceRecord.objects.filter(student=year.monday, date=MONDAY).delete()
        result = notices.notices_send_due(district=year.district, now=NOON)
        assert (result.sent, result.cancelled) == (0, 2)
        assert smtp.messages == [] and _texts(sms_file) == []


def test_no_notice_on_a_day_without_school_or_outside_the_enrollment(year):
    with scope(district=year.district):
        saturday = datetime.date(2025, 10, 25)
        AttendanceRecord.objects.create(
            district=year.district, student=year.monday, school=year.school, date=saturday, code="U",
            category="absent_unexcused",
        )  # fmt: skip
        AttendanceRecord.objects.create(
            district=year.district,
            student=year.mover,
            school=year.school,
            date=MONDAY,
            code="U",
            category="absent_unexcused",
        )  # fmt: skip  (the mover left this school on October 1)
        assert notices.notices_queue(district=year.district, date=saturday, now=NOON).absent == 0
        assert notices.notices_queue(district=year.district, date=MONDAY, now=NOON).absent == 1


def test_failed_sends_retry_with_backoff_then_fail(year, settings, sms_file):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2  # nobody listens
    with scope(district=year.district):
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        now = NOON
        outcomes = []
        for _attempt in range(notices.MAX_ATTEMPTS):
            result = notices.notices_send_due(district=year.district, now=now)
            outcomes.append((result.retrying, result.failed))
            notice = AbsenceNotice.objects.get(channel="email")
            if notice.status == AbsenceNotice.Status.RETRY:
                assert notice.due_at > now
                now = notice.due_at
        assert notice.status == AbsenceNotice.Status.FAILED and notice.attempts == notices.MAX_ATTEMPTS
        assert outcomes[-1] == (0, 1) and all(retrying == 1 for retrying, _failed in outcomes[:-1])


def test_a_language_without_a_template_gets_english_and_the_districts_line(year, smtp, sms_file):
    with scope(district=year.district):
        Guardian.objects.filter(name="Lucía Tester").update(language="Vietnamese")
        LanguageLine.objects.create(district=year.district, language="vi", text="Thông báo từ trường của con quý vị.")
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        notices.notices_send_due(district=year.district, now=NOON)
        notice = AbsenceNotice.objects.get(channel="email")
        assert (notice.family_language, notice.language) == ("vi", "en")
    body = smtp.bodies()[0]
    assert body.startswith("Thông báo từ trường của con quý vị.") and "was marked absent today" in body


def test_the_http_sms_adapter_posts_to_the_provider():
    received = []

    class Provider(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(
                (self.headers["Authorization"], json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            )
            self.send_response(201)
            self.end_headers()
            self.wfile.write(b'{"id": "msg-1"}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.handle_request, daemon=True).start()
    adapter = HttpSms(f"http://127.0.0.1:{server.server_port}/messages", "secret", "+19195550100")
    assert adapter.send(to="+19195550142", body="Hola") == "msg-1"
    assert received == [("Bearer secret", {"from": "+19195550100", "to": "+19195550142", "body": "Hola"})]
    server.server_close()
    with pytest.raises(SmsError):
        HttpSms(f"http://127.0.0.1:{_free_port()}/messages", "secret", "+1", timeout=2).send(to="+1", body="x")


def test_every_notice_is_on_the_students_timeline(year, smtp, sms_file, login, tenant_a):
    call_command("send_notices", "--district", "alpha", "--date", "2025-10-27", "--now")
    url = reverse("outreach:student_timeline", kwargs={"district": "alpha", "student_id": year.monday.pk})
    page = login(tenant_a.user("attendance_lead")).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("Absence notice") == 2 and "lu…@example.com" in html and "…0142" in html


class Bouncing(Inbox):
    """A mail server that refuses the recipient (the address no longer exists)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: mailbox unavailable"


def test_a_bounced_address_retries_then_shows_on_the_data_quality_panel(year, settings, sms_file, tenant_a, login):
    from pulse.data_quality import data_quality_report

    inbox = Bouncing()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    try:
        with scope(district=year.district):
            notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
            now = NOON
            for _attempt in range(notices.MAX_ATTEMPTS):
                notices.notices_send_due(district=year.district, now=now)
                notice = AbsenceNotice.objects.get(channel="email")
                now = max(now, notice.due_at)
    finally:
        controller.stop()
    assert inbox.messages == []  # refused at RCPT: nothing delivered
    assert notice.status == AbsenceNotice.Status.FAILED and "mailbox unavailable" in notice.error
    with scope(district=year.district):
        rows = {row.school.pk: row for row in data_quality_report(district=year.district, today=MONDAY)}
    assert rows[notice.school_id].failed_notices == 1
    assert sum(row.failed_notices for row in rows.values()) == 1  # the text message got through
    url = reverse("pulse_review:data_quality", kwargs={"district": year.district.slug})
    page = login(tenant_a.user("district_admin")).get(url).content.decode()
    assert '<span class="stat">1</span> same-day notices that did not reach a family' in page


def test_a_lead_records_a_familys_opt_out_on_the_timeline_and_the_next_queueing_honours_it(
    year, tenant_a, tenant_b, login
):
    lead = login(tenant_a.user("district_admin"))
    timeline = reverse("outreach:student_timeline", kwargs={"district": "alpha", "student_id": year.monday.pk})
    url = reverse("outreach:notice_opt_out", kwargs={"district": "alpha", "student_id": year.monday.pk})
    with scope(district=year.district):
        lucia = Guardian.objects.get(name="Lucía Tester")
    page = lead.get(timeline).content.decode()
    assert "Lucía Tester gets notices by email (lucia@example.com)." in page

    assert lead.post(url, {"guardian": lucia.pk, "channel": "email", "stop": "1"}).status_code == 302
    with scope(district=year.district):
        assert NoticeOptOut.objects.filter(guardian=lucia, channel="email").exists()
        notices.notices_queue(district=year.district, date=MONDAY, now=NOON)
        assert not AbsenceNotice.objects.filter(channel="email").exists()
        assert AbsenceNotice.objects.filter(channel="sms").count() == 1  # the other guardian's texts go on
    spanish = lead.get(timeline, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Lucía Tester pidió dejar de recibir avisos por correo electrónico" in spanish

    lead.post(url, {"guardian": lucia.pk, "channel": "email", "stop": "0"})
    with scope(district=year.district):
        assert not NoticeOptOut.objects.filter(guardian=lucia).exists()
    with scope(district=year.district):
        other = GuardianFactory(student=year.recent)
    assert (
        lead.post(url, {"guardian": other.pk, "channel": "email", "stop": "1"}).status_code == 404
    )  # not this student's
    stranger = login(tenant_b.user("district_admin"))
    other_district = reverse("outreach:notice_opt_out", kwargs={"district": "beta", "student_id": year.monday.pk})
    assert stranger.post(other_district, {"guardian": lucia.pk, "channel": "email", "stop": "1"}).status_code == 404
