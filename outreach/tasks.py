"""Monday's huddles: one task per district, in the district's own time zone.

Beat calls `huddle_dispatch` every 15 minutes. A district is due once its local clock has
passed HUDDLE_HOUR on Monday (after the nightly run of 02:00 has refreshed the flags) and some
school of it has no huddle for the week yet; a beat missed on Monday catches up later in the
week, and a second tick finds nothing left to do.
"""

import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from districts.models import District, School
from districts.tasks import DistrictTask
from districts.tenancy import district_scope

from .models import Huddle
from .services import huddles_generate, week_start_of

HUDDLE_HOUR = 5


@shared_task(base=DistrictTask)
def generate_district_huddles(district, week_start: str):
    huddles = huddles_generate(district=district, week_start=datetime.date.fromisoformat(week_start))
    return [huddle.pk for huddle in huddles]


def districts_due(now: datetime.datetime) -> list[tuple[District, datetime.date]]:
    due = []
    for district in District.objects.all():
        local = now.astimezone(district.tzinfo)
        if local.weekday() == 0 and local.hour < HUDDLE_HOUR:
            continue
        week = week_start_of(local.date())
        with district_scope(district):
            missing = School.objects.exclude(pk__in=Huddle.objects.filter(week_start=week).values("school_id")).exists()
        if missing:
            due.append((district, week))
    return due


@shared_task
def huddle_dispatch():
    """Fan out: one of the few places that reads across districts (ids only)."""
    with scopes_disabled():
        due = districts_due(timezone.now())
    for district, week in due:
        transaction.on_commit(lambda pk=district.pk, day=week.isoformat(): generate_district_huddles.delay(pk, day))
    return [district.slug for district, _ in due]
