"""Imports run in Celery: a district's year of attendance takes minutes, not a request."""

from celery import shared_task

from districts.tasks import DistrictTask

from . import services
from .models import ImportRun


@shared_task(base=DistrictTask, acks_late=True)
def import_run_execute(district, run_id: int) -> str:
    """Idempotent: a run already finished is left as it is; a run interrupted mid-way rolled
    back with its transaction and simply runs again."""
    run = ImportRun.objects.select_related("mapping", "district").get(pk=run_id)
    return services.import_run_process(run=run).status
