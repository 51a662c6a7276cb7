from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from districts.models import District, Role, School
from districts.services import member_add
from districts.tenancy import district_scope

from .create_district import _describe


class Command(BaseCommand):
    help = "Give a person a role in a district, creating their account if needed."

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--school", help="school SIS id; required for attendance_lead and counselor")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="omit to let the person set one via password reset")

    def handle(self, *args, **options):
        district = District.objects.filter(slug=options["district"]).first()
        if district is None:
            raise CommandError(f"No district with slug {options['district']!r}.")
        with district_scope(district):
            school = None
            if options["school"]:
                school = School.objects.filter(sis_id=options["school"]).first()
                if school is None:
                    raise CommandError(f"No school with SIS id {options['school']!r} in {district.slug}.")
            try:
                grant = member_add(
                    district=district,
                    email=options["email"],
                    role=options["role"],
                    school=school,
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    password=options["password"],
                )
            except ValidationError as error:
                raise CommandError(_describe(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{grant.membership.user.email}: {grant} in {district.slug}"))
