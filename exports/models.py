"""An export job: one file (a PDF, a large CSV) rendered by a Celery task instead of inside the
request, with the progress its page shows and the file it leaves for its requester."""

import secrets

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership
from districts.tenancy import district_storage_path


def export_file_path(job: "ExportJob", filename: str) -> str:
    # A random folder per file: a name that leaks into a log reveals nothing to guess the next.
    return district_storage_path(job.district_id, "exports", secrets.token_hex(12), filename)


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being prepared")
        SUCCEEDED = "succeeded", _("Ready")
        FAILED = "failed", _("Failed")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    # Only the person who asked may see the job and download its file (their access at the time
    # it was rendered decided what it holds).
    requested_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="export_jobs")
    renderer = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=export_file_path, max_length=300, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    students = models.JSONField(default=list, blank=True)  # ids the file names; audited on download
    # Pieces also offered on their own, beside the file: [{"name", "label", "path", "students"}].
    parts = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)  # the file was removed (retention)
    # The language the requester read the site in when they asked: the worker writes the job's
    # steps and errors in it, so a Spanish-speaking lead watches the progress in Spanish.
    language = models.CharField(max_length=16, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district", "status", "created_at"], name="exportjob_status_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exports:job_detail", kwargs={"district": self.district.slug, "job_id": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.file) and self.expired_at is None
