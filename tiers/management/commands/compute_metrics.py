import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from districts.models import District
from districts.tenancy import district_scope
from tiers.services import compute_metrics


class Command(BaseCommand):
    help = "Recompute every student's metrics, flags and snapshots for one district (the nightly job)."

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            help="YYYY-MM-DD; default: yesterday in the district's time zone",
        )

    def handle(self, *args, district, as_of, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        as_of = as_of or timezone.localdate(timezone=found.tzinfo) - datetime.timedelta(days=1)
        with district_scope(found):
            run = compute_metrics(district=found, as_of=as_of)
        self.stdout.write(
            self.style.SUCCESS(
                f"{found.slug}: {run.students} students as of {run.as_of} in {run.seconds:.1f}s, "
                f"{run.flags_created} new flags (policy v{run.policy.version})"
            )
        )
