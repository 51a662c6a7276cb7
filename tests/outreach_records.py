"""A huddle, a row and a logged action in a district's data (tests/district_data.py), made on
first use: the isolation matrix fills the outreach routes' URL kwargs from these."""

import dataclasses
import datetime

from django_scopes import scope

from districts.models import Membership, Role
from outreach.models import Huddle, HuddleRow, OutreachAction


@dataclasses.dataclass
class OutreachRecords:
    huddle: Huddle
    row: HuddleRow
    action: OutreachAction


def outreach_records(records) -> OutreachRecords:
    """Cached on the DistrictRecords object, so one case's three kwargs name the same rows."""
    cached = getattr(records, "_outreach", None)
    if cached is None:
        cached = _create(records)
        records._outreach = cached
    return cached


def _create(records) -> OutreachRecords:
    district, student = records.district, records.student
    with scope(district=district):
        school = student.enrollments.get().school
        author = Membership.objects.get(grants__role=Role.ATTENDANCE_LEAD, grants__school=school)
        huddle = Huddle.objects.create(
            district=district,
            school=school,
            week_start=datetime.date(2025, 11, 17),
            generated_at=datetime.datetime.now(datetime.UTC),
        )
        row = HuddleRow.objects.create(
            district=district, huddle=huddle, student=student, section="new", grade=student.grade
        )
        action = OutreachAction.objects.create(
            district=district,
            student=student,
            huddle_row=row,
            author=author,
            attempt_date=datetime.date(2025, 11, 18),
            method="call",
            reached=True,
            barrier="transportation",
        )
    return OutreachRecords(huddle, row, action)
