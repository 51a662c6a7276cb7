"""Same-day absence notices on a worker. Beat calls `notices_dispatch` every ten minutes; each
district's task queues today's notices (its own today, in its time zone) and sends those due.
Running twice is harmless: the outbox's unique key and the claim make every pass idempotent,
and acks_late (DistrictTask) redelivers a job whose worker died rather than losing it."""

import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from districts.models import District
from districts.tasks import DistrictTask

from .letters import letter_files_expire
from .models import NoticeSettings
from .notices import notices_queue, notices_send_due


@shared_task(base=DistrictTask, name="outreach.families.tasks.send_district_notices", acks_late=True)
def send_district_notices(district, date: str | None = None):
    day = datetime.date.fromisoformat(date) if date else timezone.localdate(timezone=district.tzinfo)
    queued = notices_queue(district=district, date=day)
    sent = notices_send_due(district=district)
    return {"queued": queued.queued, "sent": sent.sent, "failed": sent.failed, "cancelled": sent.cancelled}


@shared_task(name="outreach.families.tasks.notices_dispatch")
def notices_dispatch():
    """Fan out to every district that has not turned notices off (ids only, across districts)."""
    with scopes_disabled():
        off = set(NoticeSettings.objects.filter(enabled=False).values_list("district_id", flat=True))
        ids = [pk for pk in District.objects.values_list("pk", flat=True) if pk not in off]
    for pk in ids:
        transaction.on_commit(lambda pk=pk: send_district_notices.delay(pk))
    return len(ids)


@shared_task(name="outreach.families.tasks.letter_files_expire")
def letter_files_expire_task() -> int:
    """Hourly: letter batches' folders past EXPORT_RETENTION_HOURS (any district, by date only)."""
    with scopes_disabled():
        return letter_files_expire()
