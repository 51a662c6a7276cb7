import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from districts.models import District, School
from districts.tenancy import district_scope
from outreach.services import huddle_generate, week_start_of


class Command(BaseCommand):
    help = "Generate (or bring up to date) each school's weekly huddle for one district. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument(
            "--week", type=datetime.date.fromisoformat, help="YYYY-MM-DD, any day of the week; default: this week"
        )
        parser.add_argument("--school", help="one school's SIS id; default: every school")

    def handle(self, *args, district, week, school, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        week_start = week_start_of(week or timezone.localdate(timezone=found.tzinfo))
        with district_scope(found):
            schools = School.objects.all()
            if school:
                schools = schools.filter(sis_id=school)
                if not schools.exists():
                    raise CommandError(f"No school with SIS id {school!r} in {found.slug}.")
            for each in schools:
                huddle = huddle_generate(district=found, school=each, week_start=week_start)
                rows = huddle.rows.count()
                self.stdout.write(f"{each.sis_id} {each.name}: {rows} row{'s' if rows != 1 else ''}")
        self.stdout.write(self.style.SUCCESS(f"{found.slug}: huddles for the week of {week_start:%Y-%m-%d}"))
