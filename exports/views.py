"""An export job's page (progress, then the download) and the download itself.

Only the person who asked sees a job: anyone else, in this district or another, gets 404."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from districts.audit import students_shown
from districts.models import AuditEvent

from . import services
from .models import ExportJob


def _own_job(request, job_id: int) -> ExportJob:
    job = ExportJob.objects.filter(pk=job_id, requested_by=request.access.membership).first()
    if job is None:
        raise Http404("No such export.")
    return job


@never_cache
def job_detail(request, district, job_id):
    """Polled by htmx every second until the file is ready (286 stops the polling); without
    JavaScript the page refreshes itself while the job runs."""
    job = _own_job(request, job_id)
    parts = job.parts if job.is_downloadable else []
    if parts:  # the list names each piece's students
        students_shown(
            request, [student for part in parts for student in part["students"]], what=f"export:{job.renderer}:parts",
            obj=job, label=job.title,
        )  # fmt: skip
    context = {"job": job, "parts": parts}
    if request.htmx:
        return render(request, "exports/job_detail.html#progress", context, status=286 if job.is_finished else 200)
    return render(request, "exports/job_detail.html", context)


def job_download(request, district, job_id):
    job = _own_job(request, job_id)
    if not job.is_downloadable:
        return redirect(job)
    students_shown(
        request, job.students, what=f"export:{job.renderer}", action=AuditEvent.Action.EXPORT, obj=job, label=job.title
    )
    response = FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)
    response["Content-Type"] = job.content_type or "application/octet-stream"
    response["Cache-Control"] = "no-store"
    return response


def job_part_download(request, district, job_id, part):
    """One piece of a finished export (one student's letter), logged like the whole file."""
    job = _own_job(request, job_id)
    if part >= len(job.parts):
        raise Http404("No such part.")
    if not job.is_downloadable:
        return redirect(job)
    piece = job.parts[part]
    students_shown(
        request, piece["students"], what=f"export:{job.renderer}:part", action=AuditEvent.Action.EXPORT, obj=job,
        label=f"{job.title}: {piece['name']}",
    )  # fmt: skip
    try:
        opened = default_storage.open(piece["path"], "rb")
    except FileNotFoundError:
        raise Http404("This part is no longer on the server.") from None
    response = FileResponse(opened, as_attachment=True, filename=piece["name"])
    response["Content-Type"] = job.content_type or "application/octet-stream"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def job_retry(request, district, job_id):
    job = _own_job(request, job_id)
    services.export_job_retry(job=job)
    return redirect(job)
