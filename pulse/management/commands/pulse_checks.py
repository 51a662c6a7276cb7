import datetime

from django.core.management.base import BaseCommand, CommandError

from districts.models import District
from districts.tenancy import district_scope
from pulse.checks import school_year_label, school_year_of
from pulse.services import pulse_checks_take


class Command(BaseCommand):
    help = (
        "Count and store the week-2 and week-4 pulse checks (students absent 2+ days in their school's first "
        "10 and 20 school days) of the school year holding --as-of. The nightly run does this when a window "
        "passes; use this to backfill an earlier year from its loaded attendance, or --replace after a late import."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD, a day in the school year (default today)"
        )
        parser.add_argument("--replace", action="store_true", help="recount checks already stored")

    def handle(self, *args, district, as_of, replace, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        with district_scope(found):
            day = as_of or datetime.datetime.now(found.tzinfo).date()
            written = pulse_checks_take(district=found, as_of=day, replace=replace)
            label = school_year_label(school_year_of(found, day))
        if not written:
            self.stdout.write(
                f"Nothing written for {label}: the checks are stored already (use --replace) "
                "or their windows have not passed."
            )
        for checkpoint, rows in written.items():
            self.stdout.write(self.style.SUCCESS(f"{label}, first {checkpoint} school days: {rows} rows stored."))
