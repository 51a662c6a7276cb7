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


@shared_task(base=DistrictTask, name="outreach.families.tasks.print_letter_batch")
def print_letter_batch(district, batch_id: int):
    """Lay out a reserved batch of nudge letters; its page shows the letters done so far."""
    from .letters import letter_batch_folder, letter_batch_render
    from .models import LetterBatch

    batch = LetterBatch.objects.select_related("district", "school", "created_by").get(pk=batch_id)
    if batch.status != LetterBatch.Status.RUNNING or batch.done:
        return batch.status  # a redelivered job: the batch was already rendered (or failed)
    letter_batch_render(batch=batch, out_dir=letter_batch_folder(batch))
    return LetterBatch.Status.DONE
