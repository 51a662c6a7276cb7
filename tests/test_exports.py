"""Export jobs (exports app): a renderer registered by name runs in a task, the file lands in the
district's folder, the page shows progress and then the download, which is audit-logged with
every student the file names and sent with Cache-Control: no-store."""

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError as BrokerError

from districts.models import AuditEvent, Role
from exports import services, tasks
from exports.models import ExportJob
from exports.registry import ExportFile, register_export_renderer, unregister_export_renderer

RENDERER = "tests.roster_txt"
HX = {"HX-Request": "true"}
calls = []


def roster_txt(export):
    """A tiny renderer: the names of the students the requester may see."""
    from students.selectors import student_list_visible

    calls.append(export.params)
    if export.params.get("refuse"):
        raise PermissionDenied("not any more")
    if export.params.get("explode"):
        raise ValueError("the template is broken")
    export.progress(50, "Writing names")
    students = list(student_list_visible(access=export.access).order_by("sis_id"))
    text = "\n".join(f"{s.sis_id} {s.full_name}" for s in students)
    return ExportFile(text.encode(), "roster.txt", "text/plain", students=[s.pk for s in students])


@pytest.fixture(autouse=True)
def renderer():
    calls.clear()
    register_export_renderer(RENDERER, roster_txt)
    yield
    unregister_export_renderer(RENDERER)


def _start(tenant, role=Role.ATTENDANCE_LEAD, capture=None, **params) -> ExportJob:
    from districts.access import DistrictAccess

    with scope(district=tenant.district):
        membership = tenant.user(role).memberships.get()
        access = DistrictAccess.for_membership(membership)
        with capture(execute=True):
            job = services.export_job_start(access=access, renderer=RENDERER, params=params, title="Roster names")
        job.refresh_from_db()
    return job


def _url(name, job, district="alpha"):
    return reverse(f"exports:{name}", kwargs={"district": district, "job_id": job.pk})


def test_a_job_renders_in_the_task_and_stores_the_file_in_the_districts_folder(
    tenant_a, records_a, django_capture_on_commit_callbacks, settings
):
    job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    assert (job.status, job.progress, job.filename, job.content_type) == ("succeeded", 100, "roster.txt", "text/plain")
    assert job.file.name.startswith(f"districts/{tenant_a.district.pk}/exports/")
    assert Path(settings.MEDIA_ROOT, job.file.name).read_bytes().startswith(b"A-1 ")
    assert job.students == [records_a.student.pk]  # the lead sees only their school's student
    assert job.attempts == 1 and job.finished_at is not None


def test_the_page_offers_the_download_which_is_audited_per_student_and_never_cached(
    tenant_a, records_a, login, django_capture_on_commit_callbacks
):
    job = _start(tenant_a, role=Role.DISTRICT_ADMIN, capture=django_capture_on_commit_callbacks)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    page = client.get(_url("job_detail", job))
    assert "Your file is ready" in page.content.decode() and "no-store" in page["Cache-Control"]
    with scopes_disabled():
        assert not AuditEvent.objects.exists(), "preparing a file shows nobody anything"
    response = client.get(_url("job_download", job))
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == 'attachment; filename="roster.txt"'
    assert records_a.student.full_name in body and records_a.unenrolled.full_name in body
    with scopes_disabled():
        event = AuditEvent.objects.get()
    expected = sorted([records_a.student.pk, records_a.other_student.pk, records_a.unenrolled.pk])
    assert (event.action, event.object_type, event.object_id) == ("export", f"export:{RENDERER}", str(job.pk))
    assert event.students == expected and event.user == tenant_a.user(Role.DISTRICT_ADMIN)


def test_only_the_requester_sees_the_job(tenant_a, tenant_b, records_a, login, django_capture_on_commit_callbacks):
    job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    for user in (tenant_a.user(Role.DISTRICT_ADMIN), tenant_a.user(Role.COUNSELOR)):
        client = login(user)
        assert client.get(_url("job_detail", job)).status_code == 404
        assert client.get(_url("job_download", job)).status_code == 404
        assert client.post(_url("job_retry", job)).status_code == 404
    client = login(tenant_b.user(Role.ATTENDANCE_LEAD))
    assert client.get(_url("job_download", job, district="beta")).status_code == 404
    with scopes_disabled():
        assert not AuditEvent.objects.exists()


def test_progress_polling_stops_once_the_job_has_finished(
    tenant_a, records_a, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # queued: no worker has taken it
        with scope(district=tenant_a.district):
            from districts.access import DistrictAccess

            access = DistrictAccess.for_membership(tenant_a.user(Role.ATTENDANCE_LEAD).memberships.get())
            job = services.export_job_start(access=access, renderer=RENDERER, params={}, title="Roster names")
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    waiting = client.get(_url("job_detail", job))
    text = waiting.content.decode()
    assert 'hx-trigger="every 1s"' in text and 'http-equiv="refresh"' in text  # and without JavaScript
    assert client.get(_url("job_detail", job), headers=HX).status_code == 200
    assert client.get(_url("job_download", job)).status_code == 302  # not ready: back to its page
    tasks.render_export.delay(tenant_a.district.pk, job.pk)
    finished = client.get(_url("job_detail", job), headers=HX)
    assert finished.status_code == 286 and "Download" in finished.content.decode()


def test_a_refused_or_broken_render_fails_with_a_reason_and_can_be_retried(
    tenant_a, records_a, login, django_capture_on_commit_callbacks
):
    refused = _start(tenant_a, capture=django_capture_on_commit_callbacks, refuse=True)
    assert refused.status == "failed" and "may no longer export" in refused.error
    broken = _start(tenant_a, capture=django_capture_on_commit_callbacks, explode=True)
    assert broken.status == "failed" and "the template is broken" in broken.error
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    assert "Try again" in client.get(_url("job_detail", broken)).content.decode()
    with scope(district=tenant_a.district):
        ExportJob.objects.filter(pk=broken.pk).update(params={})  # the bug is fixed meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_url("job_retry", broken)).status_code == 302
    with scope(district=tenant_a.district):
        broken.refresh_from_db()
    assert (broken.status, broken.error, broken.attempts) == ("succeeded", "", 2)


def test_a_failed_enqueue_marks_the_job_failed_instead_of_queued_forever(
    tenant_a, records_a, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.render_export, "delay", broker_down)
    job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    assert job.status == "failed" and "could not be queued" in job.error and job.finished_at


def test_a_job_of_someone_who_left_renders_nothing(tenant_a, records_a):
    with scope(district=tenant_a.district):
        membership = tenant_a.user(Role.ATTENDANCE_LEAD).memberships.get()
        job = ExportJob.objects.create(
            district=tenant_a.district, requested_by=membership, renderer=RENDERER, title="x"
        )
        membership.is_active = False
        membership.save()
    tasks.render_export.delay(tenant_a.district.pk, job.pk)
    with scope(district=tenant_a.district):
        job.refresh_from_db()
    assert job.status == "failed" and "no longer works" in job.error and not calls


def test_a_task_delivered_twice_does_not_render_again(tenant_a, records_a, django_capture_on_commit_callbacks):
    job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    assert tasks.render_export.delay(tenant_a.district.pk, job.pk).get() == "succeeded"
    assert len(calls) == 1


def test_old_files_are_removed_and_can_be_prepared_again(
    tenant_a, records_a, login, settings, django_capture_on_commit_callbacks
):
    job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    path = Path(settings.MEDIA_ROOT, job.file.name)
    with scopes_disabled():
        assert services.export_files_expire(now=timezone.now() + datetime.timedelta(hours=1)) == 0
        assert services.export_files_expire(now=timezone.now() + datetime.timedelta(hours=25)) == 1
    assert not path.exists()
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    assert client.get(_url("job_download", job)).status_code == 302
    page = client.get(_url("job_detail", job)).content.decode()
    assert "was removed" in page and "Prepare it again" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("job_retry", job))
    with scope(district=tenant_a.district):
        job.refresh_from_db()
    assert job.is_downloadable and len(calls) == 2


def test_the_worker_writes_a_jobs_steps_and_errors_in_the_requesters_language(
    tenant_a, records_a, django_capture_on_commit_callbacks
):
    from django.utils import translation

    with translation.override("es"):
        job = _start(tenant_a, capture=django_capture_on_commit_callbacks)
    assert job.language == "es" and job.status == "succeeded"
    with scope(district=tenant_a.district):
        membership = tenant_a.user(Role.ATTENDANCE_LEAD).memberships.get()
        spanish = ExportJob.objects.create(
            district=tenant_a.district, requested_by=membership, renderer=RENDERER, title="x", language="es"
        )
        english = ExportJob.objects.create(
            district=tenant_a.district, requested_by=membership, renderer=RENDERER, title="x"
        )
        membership.is_active = False
        membership.save()
    for queued in (spanish, english):
        tasks.render_export.delay(tenant_a.district.pk, queued.pk)
    with scope(district=tenant_a.district):
        spanish.refresh_from_db()
        english.refresh_from_db()
    assert spanish.error == "La persona que pidió este archivo ya no trabaja en este distrito."
    assert english.error == "The person who asked for this file no longer works in this district."
