import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from districts.services import district_create


class Command(BaseCommand):
    help = "Create a district (a tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="URL name, e.g. wake-county")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="America/New_York", help="IANA time zone")
        parser.add_argument("--year-start", type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--year-end", type=datetime.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, slug, name, timezone, year_start, year_end, **options):
        try:
            district = district_create(
                slug=slug, name=name, timezone=timezone, school_year_start=year_start, school_year_end=year_end
            )
        except ValidationError as error:
            raise CommandError(_describe(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Created district {district.name} at /d/{district.slug}/"))


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)
