"""Stand-in for tiers.lifecycle's case transitions until that module lands on main (issue 11's
first section, the `huddle` branch): the same signatures, so switching is one import."""

import datetime

from django.db import transaction
from django.utils import timezone

from districts.models import Membership
from students.models import Student
from tiers.models import Flag


@transaction.atomic
def flags_case_opened(
    *, student: Student, on: datetime.date | None = None, by: Membership | None = None, why: str = ""
) -> list[Flag]:
    flags = list(Flag.objects.select_for_update().filter(student=student, tier=3, status__in=Flag.OPEN_STATUSES))
    Flag.objects.filter(pk__in=[f.pk for f in flags], status=Flag.Status.NEW).update(
        status=Flag.Status.IN_PROGRESS, updated_at=timezone.now()
    )
    return flags


@transaction.atomic
def flags_case_closed(
    *, student: Student, outcome: str, on: datetime.date | None = None, by: Membership | None = None
) -> list[Flag]:
    on = on or timezone.localdate()
    flags = list(Flag.objects.select_for_update().filter(student=student, tier=3, status__in=Flag.OPEN_STATUSES))
    Flag.objects.filter(pk__in=[f.pk for f in flags]).update(
        status=Flag.Status.RESOLVED,
        resolved_on=on,
        resolution=f"Case closed: {outcome}"[:200],
        updated_at=timezone.now(),
    )
    return flags
