"""A message template and a letter batch in a district's data, for the isolation matrix's
template_id and batch_id."""

import datetime

from django_scopes import scope

from outreach.families.models import LetterBatch, MessageTemplate
from outreach.families.services import templates_ensure


def family_records(records):
    cached = getattr(records, "_family", None)
    if cached is None:
        district = records.district
        with scope(district=district):
            templates_ensure(district=district)
            template = MessageTemplate.objects.order_by("pk").first()
            school = records.student.enrollments.get().school
            batch = LetterBatch.objects.create(
                district=district, school=school, selection="absences:2", as_of=datetime.date(2025, 11, 17),
                status=LetterBatch.Status.DONE,
            )  # fmt: skip
        cached = records._family = (template, batch)  # batch: no route names it since letters are export jobs
    return cached
