import datetime

from django.core.management.base import BaseCommand, CommandError

from districts.models import District
from districts.tenancy import district_scope
from pulse.exports import write_pulse_csv
from pulse.figures import LEVELS
from pulse.selectors import pulse_table


class Command(BaseCommand):
    help = (
        "Write chronic absence per group (district, school, grade or subgroup) to CSV, one row per group: "
        "level,group,students,chronic,chronic_rate,at_risk,moderate,severe,acute,suppressed. "
        "Groups under --min-cell students are suppressed, with the next smallest of their dimension "
        "when one alone would be."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            help="YYYY-MM-DD; default the current run's date. Another date is computed in memory, nothing stored.",
        )
        parser.add_argument("--by", required=True, choices=LEVELS)
        parser.add_argument("--min-cell", type=int, default=0, help="smallest group published (default 0: all)")
        parser.add_argument("--out", required=True, help="FILE.csv")

    def handle(self, *args, district, as_of, by, min_cell, out, **options):
        if min_cell < 0:
            raise CommandError("--min-cell must be 0 or more.")
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        with district_scope(found):
            table = pulse_table(district=found, by=by, min_cell=min_cell, as_of=as_of)
        if table is None:
            raise CommandError("No metrics yet: run compute_metrics first, or pass --as-of.")
        with open(out, "w", newline="", encoding="utf-8") as handle:
            write_pulse_csv(handle, table.rows)
        suppressed = sum(row.suppressed for row in table.rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(table.rows)} {by} rows as of {table.as_of} ({suppressed} suppressed) to {out}"
            )
        )
