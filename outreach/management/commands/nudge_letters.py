import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from districts.audit import students_seen_record
from districts.models import District, School
from districts.tenancy import district_scope
from outreach.families.letters import letter_batch_print, letter_signer


class Command(BaseCommand):
    help = (
        "Print nudge letters for one school: one PDF per student enrolled there on the date with at least N "
        "absent days this year, named <student SIS id>.pdf, in the guardian's language, plus all.pdf. Each "
        "letter is logged on the student's timeline; the same batch again is refused unless --again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="district slug")
        parser.add_argument("--school", required=True, help="the school's SIS id")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD; default: today")
        parser.add_argument("--min-absences", required=True, type=int, help="absent days this year, at least")
        parser.add_argument("--out", required=True, type=Path, help="folder for the PDFs")
        parser.add_argument("--again", action="store_true", help="print a batch that was already printed")

    def handle(self, *args, district, school, as_of, min_absences, out, again, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"No district with slug {district!r}.")
        if min_absences < 0:
            raise CommandError("--min-absences must be 0 or more.")
        as_of = as_of or timezone.localdate(timezone=found.tzinfo)
        with district_scope(found):
            at = School.objects.filter(sis_id=school).first()
            if at is None:
                raise CommandError(f"No school with SIS id {school!r} in {found.slug}.")
            try:
                batch, singles = letter_batch_print(
                    district=found, school=at, selection=f"absences:{min_absences}", as_of=as_of,
                    by=letter_signer(found, at), out_dir=out, again=again,
                )  # fmt: skip
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            # Letters leave the building: the command line's export is on the audit log too.
            students_seen_record(
                district=found, students=batch.letters.values_list("student_id", flat=True), what="nudge letters",
                label=f"{at.sis_id} as of {as_of:%Y-%m-%d}", folder=str(out),
            )  # fmt: skip
        self.stdout.write(
            self.style.SUCCESS(f"{found.slug} {at.sis_id} as of {as_of:%Y-%m-%d}: {len(singles)} letter(s) in {out}")
        )
