"""Starting, running, retrying and expiring export jobs.

    job = export_job_start(access=request.access, renderer="outreach.huddle_pdf",
                           params={"huddle_id": huddle.pk}, title=...)
    return redirect(job)   # the job's page polls its progress and offers the download

The owning app checks, before starting, that the requester may export this at all (so a
refusal is an immediate 403/404, not a failed job); the renderer looks its objects up again
through the requester's access when it runs.
"""

import datetime
import logging
import os
import posixpath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from districts.access import DistrictAccess
from districts.runs import enqueue_or_fail, stuck

from .models import ExportJob
from .registry import ExportRequest, export_renderer, is_registered

logger = logging.getLogger(__name__)


def export_job_start(*, access: DistrictAccess, renderer: str, params: dict, title: str) -> ExportJob:
    if not is_registered(renderer):
        raise LookupError(f"No export renderer is registered as {renderer!r}.")
    job = ExportJob.objects.create(
        district=access.district, requested_by=access.membership, renderer=renderer, params=params,
        title=title[:200], language=translation.get_language() or "",
    )  # fmt: skip
    export_job_enqueue(job=job)
    return job


def export_job_enqueue(*, job: ExportJob) -> None:
    """Send the task once the job row is committed (a worker must find it). When the broker
    cannot take it, the job fails at once with a retry button, instead of waiting forever."""
    from .tasks import render_export  # tasks import this module

    def failed(error: Exception) -> None:
        ExportJob._base_manager.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(  # any scope: by pk
            status=ExportJob.Status.FAILED,
            error=_("The file could not be queued (%(error)s). Try again in a minute.") % {"error": error},
            finished_at=timezone.now(),
        )

    enqueue_or_fail(lambda: render_export.delay(job.district_id, job.pk), on_failure=failed)


def export_job_retry(*, job: ExportJob) -> ExportJob:
    """A failed job, or one whose file has expired, runs again with the same parameters."""
    if job.status not in (ExportJob.Status.FAILED, ExportJob.Status.SUCCEEDED):
        return job
    if job.status == ExportJob.Status.SUCCEEDED and job.expired_at is None:
        return job
    job.status, job.progress, job.step, job.error = ExportJob.Status.QUEUED, 0, "", ""
    job.started_at = job.finished_at = job.expired_at = None
    job.save(update_fields=["status", "progress", "step", "error", "started_at", "finished_at", "expired_at"])
    export_job_enqueue(job=job)
    return job


def export_job_execute(*, job_id: int) -> ExportJob:
    """The task's body, in the requester's language. A job already finished is left alone (a
    message delivered twice)."""
    job = ExportJob.objects.select_related("district", "requested_by__user", "requested_by__district").get(pk=job_id)
    with translation.override(job.language or None):
        return _execute(job)


def _execute(job: ExportJob) -> ExportJob:
    if job.is_finished:
        return job
    job.status, job.started_at, job.attempts = ExportJob.Status.RUNNING, timezone.now(), job.attempts + 1
    job.save(update_fields=["status", "started_at", "attempts"])
    membership = job.requested_by
    if not (membership.is_active and membership.user.is_active):
        return _fail(job, _("The person who asked for this file no longer works in this district."))
    access = DistrictAccess.for_membership(membership)
    district = job.district

    def report(percent: int, step: str) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress=percent, step=step[:200])

    request = ExportRequest(
        job=job, district=district, access=access, params=job.params,
        today=timezone.localdate(timezone=district.tzinfo), report=report,
    )  # fmt: skip
    try:
        with timezone.override(district.tzinfo):
            result = export_renderer(job.renderer)(request)
    except (PermissionDenied, Http404):
        return _fail(job, _("You may no longer export this (your role or the record changed)."))
    except LookupError as error:
        return _fail(job, str(error))
    job.refresh_from_db(fields=["progress", "step"])
    _remove_parts(job)  # a retried job replaces the pieces of its earlier run
    job.file.save(result.filename, ContentFile(result.content), save=False)
    job.parts = _save_parts(job, result.parts)
    job.filename, job.content_type, job.size = result.filename, result.content_type, len(result.content)
    job.students = sorted(set(result.students))
    job.status, job.progress, job.step, job.finished_at = ExportJob.Status.SUCCEEDED, 100, "", timezone.now()
    job.save()
    return job


def _save_parts(job: ExportJob, parts) -> list[dict]:
    """Each piece beside the job's file, in the same unguessable folder."""
    folder = posixpath.join(posixpath.dirname(job.file.name), "parts")
    saved = []
    for part in parts:
        path = default_storage.save(posixpath.join(folder, part.filename), ContentFile(part.content))
        saved.append({"name": part.filename, "label": part.label, "path": path, "students": list(part.students)})
    return saved


def _remove_parts(job: ExportJob) -> None:
    for part in job.parts:
        default_storage.delete(part["path"])


def export_job_fail(*, job: ExportJob, error: str) -> ExportJob:
    return _fail(job, error)


def _fail(job: ExportJob, error: str) -> ExportJob:
    job.status, job.error, job.finished_at = ExportJob.Status.FAILED, error, timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_files_expire(*, now: datetime.datetime | None = None, hours: int | None = None) -> int:
    """Remove files older than EXPORT_RETENTION_HOURS: a printed huddle list is for this week's
    meeting, not for a folder on a server. The job stays (with its audit trail); its page says
    the file was removed and offers to prepare it again."""
    kept = settings.EXPORT_RETENTION_HOURS if hours is None else hours
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=kept)
    expired = 0
    for job in ExportJob.objects.filter(
        status=ExportJob.Status.SUCCEEDED, expired_at__isnull=True, finished_at__lt=cutoff
    ):
        folder = posixpath.dirname(job.file.name) if job.file else ""
        if job.file:
            job.file.delete(save=False)
        _remove_parts(job)
        if folder:
            _remove_empty_folders(posixpath.join(folder, "parts"), folder)
        job.expired_at, job.parts = timezone.now(), []
        job.save(update_fields=["file", "expired_at", "parts"])
        expired += 1
    return expired


def _remove_empty_folders(*names: str) -> None:
    """The job's random folder once its files are gone (on a local disk, empty folders would pile
    up one per export; object stores have no folders)."""
    for name in names:
        try:
            os.rmdir(default_storage.path(name))
        except (NotImplementedError, OSError):
            pass


RUNNING_LIMIT = datetime.timedelta(seconds=660)  # the task's hard time limit (exports.tasks.render_export)


def export_jobs_fail_stuck() -> int:
    """Jobs no worker took, or whose worker died with them: failed, with the retry button."""
    jobs = list(stuck(ExportJob.objects.all(), running_limit=RUNNING_LIMIT))
    for job in jobs:
        with translation.override(job.language or None):
            _fail(job, _("The file was not prepared in time (the worker stopped or never took it). Try again."))
    return len(jobs)
