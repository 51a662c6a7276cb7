"""Imports run in Celery: a district's year of attendance takes minutes, not a request."""

from celery import shared_task
from django_scopes import scopes_disabled

from districts.tasks import RETRYABLE_ERRORS, DistrictTask

from . import services
from .models import ImportRun


@shared_task(base=DistrictTask, bind=True, soft_time_limit=55 * 60, time_limit=services.IMPORT_TIME_LIMIT)
def import_run_execute(self, district, run_id: int) -> str:
    """Idempotent: a run already finished is left as it is; a run interrupted mid-way rolled
    back with its transaction and simply runs again (a worker killed mid-import hands the message
    back: DistrictTask's reject_on_worker_lost). A database or broker error retries after a backoff."""
    run = ImportRun.objects.select_related("mapping", "district").get(pk=run_id)
    try:
        return services.import_run_process(run=run).status
    except RETRYABLE_ERRORS:
        if self.request.retries < self.max_retries:
            ImportRun.objects.filter(pk=run.pk).update(
                status=ImportRun.Status.QUEUED,
                stage="retrying",
                errors=[],
                finished_at=None,
            )
        raise


@shared_task
def import_runs_sweep() -> int:
    """Beat, every few minutes: runs stuck queued or running past their limit become failed."""
    with scopes_disabled():  # every district's runs, by status and time only
        return services.import_runs_fail_stuck()
