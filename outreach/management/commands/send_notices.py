import datetime

from django.core.management.base import BaseCommand, CommandError

from districts.models import District
from districts.tenancy import district_scope
from outreach.families.notices import notices_queue, notices_send_due


class Command(BaseCommand):
    help = (
        "Queue a day's same-day absence notices (one per student recorded absent_unexcused on that "
        "membership day, per guardian with a usable address on their preferred channel) and send those "
        "due. Running it again for the same date sends nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument("--date", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--now", action="store_true", help="send now, even inside the district's quiet hours")

    def handle(self, *args, district, date, now, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        with district_scope(found):
            queued = notices_queue(district=found, date=date)
            sent = notices_send_due(district=found, ignore_quiet_hours=now)
        self.stdout.write(
            f"{found.slug} {date:%Y-%m-%d}: {queued.absent} student(s) absent unexcused; "
            f"{queued.queued} notice(s) queued, {queued.already} already in the outbox, "
            f"{queued.opted_out} opted out, {queued.no_address} without a usable address"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"sent {sent.sent}, retrying {sent.retrying}, failed {sent.failed}, "
                f"cancelled {sent.cancelled} (corrected to present)"
            )
        )
