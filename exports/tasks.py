"""The export task, and the hourly removal of old export files."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from districts.tasks import RETRYABLE_ERRORS, DistrictTask

from . import services
from .models import ExportJob

logger = logging.getLogger(__name__)


@shared_task(base=DistrictTask, soft_time_limit=600, time_limit=660)
def render_export(district, job_id: int) -> str:
    try:
        return services.export_job_execute(job_id=job_id).status
    except RETRYABLE_ERRORS:
        raise  # DistrictTask retries these with backoff; the job stays "being prepared" meanwhile
    except SoftTimeLimitExceeded:
        job = ExportJob.objects.get(pk=job_id)
        with translation.override(job.language or None):
            return services.export_job_fail(job=job, error=_("Preparing the file took too long.")).status
    except Exception as error:
        logger.exception("export job %s failed", job_id)
        job = ExportJob.objects.get(pk=job_id)
        with translation.override(job.language or None):
            message = _("The file could not be prepared (%(error)s).") % {"error": f"{type(error).__name__}: {error}"}
            return services.export_job_fail(job=job, error=message).status


@shared_task
def export_files_expire() -> int:
    with scopes_disabled():  # a sweep over every district's old files, by date only
        return services.export_files_expire()


@shared_task
def export_jobs_sweep() -> int:
    with scopes_disabled():  # every district's stuck jobs, by status and time only
        return services.export_jobs_fail_stuck()
