import datetime

from django.core.management.base import BaseCommand, CommandError

from districts.audit import students_seen_record
from districts.csvfiles import csv_writer
from districts.models import District
from districts.tenancy import district_scope
from tiers.exports import DISTRICT_COLUMNS, SCHOOL_COLUMNS, district_rows, school_rows
from tiers.models import StudentMetrics, StudentSchoolMetrics
from tiers.selectors import current_run
from tiers.services import compute_metrics


class Command(BaseCommand):
    help = "Write the current metrics of a district to CSV (one row per student, or per student and school)."

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD; computes it if the current run differs"
        )
        parser.add_argument("--by-school", action="store_true")
        parser.add_argument("--out", required=True, help="FILE.csv")

    def handle(self, *args, district, as_of, by_school, out, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        with district_scope(found):
            run = current_run()
            if as_of and (run is None or run.as_of != as_of):
                run = compute_metrics(district=found, as_of=as_of)
            if run is None:
                raise CommandError("No metrics yet: run compute_metrics first, or pass --as-of.")
            columns, rows = (SCHOOL_COLUMNS, school_rows(run)) if by_school else (DISTRICT_COLUMNS, district_rows(run))
            with open(out, "w", newline="") as handle:
                writer = csv_writer(handle)
                writer.writerow(columns)
                count = 0
                for row in rows:
                    writer.writerow(row)
                    count += 1
            model = StudentSchoolMetrics if by_school else StudentMetrics
            students_seen_record(
                district=found, students=model.objects.filter(run=run).values_list("student_id", flat=True).distinct(),
                what="export_metrics", label=f"export_metrics as of {run.as_of}", out=str(out), rows=count,
            )  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} rows as of {run.as_of} to {out}"))
