"""Running in production: /healthz reports each dependency, the app refuses the demo key, runs
the broker refused or a dead worker left behind become failed with a retry, a failed run's rows
go, and two overlapping computes end with the newer date current."""

import datetime
import threading

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError as BrokerError

from attendnc import health
from attendnc.celery import app as celery_app
from districts.models import Role
from imports import services as import_services
from imports import tasks as import_tasks
from imports.messages import error_text
from imports.models import ImportRun
from tiers import services, tasks
from tiers.models import MetricsRun, StudentMetrics

from .test_deploy import manage, production_env
from .tiers_data import OCT_31, tiers_year

NOV_28 = datetime.date(2025, 11, 28)


@pytest.fixture
def tasks_on_workers():
    """The app as in production: tasks go to the broker (the tests otherwise run them in-process)."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.update(task_always_eager=False)
    yield
    celery_app.conf.update(task_always_eager=saved)


def broker_down(*args, **kwargs):
    raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


# --- /healthz --------------------------------------------------------------------------------


def test_healthz_reports_database_redis_and_workers_separately(client, db, settings):
    body = client.get(reverse("healthz")).json()
    assert body["database"]["status"] == "ok"
    assert body["redis"]["status"] == ("ok" if settings.REDIS_URL else "not_used")
    assert body["celery"]["status"] == "not_used"  # the tests run tasks in-process
    assert body["status"] == "ok"


@pytest.mark.redis
def test_healthz_says_when_no_worker_answers(client, db, settings, monkeypatch, tasks_on_workers):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    monkeypatch.setattr(health, "PING_TIMEOUT", 0.3)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200  # the web container itself is fine
    body = response.json()
    assert body["celery"] == {"status": "down", "error": "RuntimeError: no worker answered"}
    assert body["status"] == "degraded" and body["redis"]["status"] == "ok"
    assert client.get(reverse("healthz") + "?strict=1").status_code == 503


def test_healthz_with_redis_down_still_answers(client, db, settings, tasks_on_workers):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    body = client.get(reverse("healthz")).json()
    assert body["redis"]["status"] == "down" and body["celery"]["status"] == "down"
    assert body["database"]["status"] == "ok"


def test_healthz_is_503_without_the_database(client, db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Unreachable())
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["database"]["status"] == "down"


# --- the demo key -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "insecure-demo-key-only-for-local-development",
        "change-me-to-a-long-random-string-of-at-least-fifty-characters",
    ],
)
def test_the_app_refuses_to_start_with_debug_off_and_the_demo_key(tmp_path, key):
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", SECRET_KEY=key)
    result = manage("check", env=env)
    assert result.returncode != 0 and "SECRET_KEY is the demo's" in result.stderr


# --- runs the broker refused ------------------------------------------------------------------


def test_a_metrics_run_the_broker_refuses_fails_and_can_be_retried(
    tenant_a, login, monkeypatch, django_capture_on_commit_callbacks
):
    tiers_year(tenant_a)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    monkeypatch.setattr(tasks.compute_district_metrics, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tiers:run_start", kwargs={"district": "alpha"}), {"as_of": "2025-10-31"})
    with scope(district=tenant_a.district):
        run = MetricsRun.objects.get()
    assert run.status == "failed" and run.error.startswith("not_queued:") and "could not be queued" in run.error_text
    page = client.get(response["Location"]).content.decode()
    assert "Retry this run" in page and "could not be queued" in page

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(reverse("tiers:run_retry", kwargs={"district": "alpha", "run_id": run.pk}))
    with scope(district=tenant_a.district):
        again = MetricsRun.objects.exclude(pk=run.pk).get()
    assert retried["Location"].endswith(f"/runs/{again.pk}/") and again.as_of == run.as_of
    assert again.status == "succeeded"


def test_an_import_the_broker_refuses_fails_and_can_be_retried(
    tenant_a, login, monkeypatch, django_capture_on_commit_callbacks
):
    from .import_support import run_import  # noqa: F401 (the module's fixtures)

    with scope(district=tenant_a.district):
        run = ImportRun.objects.create(district=tenant_a.district, kind=ImportRun.Kind.REPLAY)
    monkeypatch.setattr(import_tasks.import_run_execute, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True), scope(district=tenant_a.district):
        import_services.import_run_enqueue(run=run)
    with scope(district=tenant_a.district):
        run.refresh_from_db()
    assert run.status == "failed" and "could not be queued" in error_text(run.errors[0])
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": run.pk})
    assert "Retry this import" in client.get(url).content.decode()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run_retry", kwargs={"district": "alpha", "import_run_id": run.pk}))
    with scope(district=tenant_a.district):
        run.refresh_from_db()
    assert run.status == "succeeded"  # a replay with nothing held finishes at once


# --- runs a dead worker left behind -------------------------------------------------------------


def test_the_sweep_fails_runs_stuck_queued_or_running_and_removes_their_rows(tenant_a):
    year = tiers_year(tenant_a)
    district = year.district
    now = timezone.now()
    with scope(district=district):
        done = services.compute_metrics(district=district, as_of=OCT_31)
        stuck_running = services.metrics_run_create(district=district, as_of=NOV_28, trigger="nightly")
        rows = [StudentMetrics(district=district, run=stuck_running, student=s, **_figures()) for s in year.students]
        StudentMetrics.objects.bulk_create(rows)
        MetricsRun.objects.filter(pk=stuck_running.pk).update(
            status="running", started_at=now - datetime.timedelta(hours=1)
        )
        stuck_queued = services.metrics_run_create(district=district, as_of=NOV_28, trigger="manual")
        MetricsRun.objects.filter(pk=stuck_queued.pk).update(created_at=now - datetime.timedelta(hours=3))
        waiting = services.metrics_run_create(district=district, as_of=NOV_28, trigger="manual")  # just queued
    with scopes_disabled():
        assert tasks.metrics_runs_sweep.delay().get() == 2
        statuses = dict(MetricsRun.objects.values_list("pk", "status"))
        assert not StudentMetrics.objects.filter(run=stuck_running).exists()
        assert StudentMetrics.objects.filter(run=done).exists()
    assert statuses == {
        done.pk: "succeeded",
        stuck_running.pk: "failed",
        stuck_queued.pk: "failed",
        waiting.pk: "queued",
    }


def test_a_message_redelivered_after_the_sweep_gave_up_does_nothing(tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger="manual")
        MetricsRun.objects.filter(pk=run.pk).update(status="failed", error="interrupted")
    tasks.compute_district_metrics.delay(year.district.pk, "2025-10-31", run_id=run.pk)
    with scope(district=year.district):
        assert MetricsRun.objects.get(pk=run.pk).status == "failed"
        assert not StudentMetrics.objects.exists()


def test_a_database_error_mid_run_retries_the_run(tenant_a, monkeypatch):
    year = tiers_year(tenant_a)
    real, calls = services.metrics_run_execute, []

    def flaky(*, run, **options):
        calls.append(run.pk)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(run=run, **options)

    monkeypatch.setattr(tasks, "metrics_run_execute", flaky)
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger="manual")
    # throw=False: as on a worker, the Retry is handled rather than raised to the caller
    tasks.compute_district_metrics.apply(args=(year.district.pk, "2025-10-31"), kwargs={"run_id": run.pk}, throw=False)
    with scope(district=year.district):
        run.refresh_from_db()
    assert calls == [run.pk, run.pk] and run.status == "succeeded"


def test_a_failed_runs_rows_are_removed_at_once(tenant_a, monkeypatch):
    year = tiers_year(tenant_a)

    def broken(**kwargs):
        raise RuntimeError("flags could not be written")

    monkeypatch.setattr(services, "flags_sync", broken)
    with scope(district=year.district), pytest.raises(RuntimeError):
        services.compute_metrics(district=year.district, as_of=OCT_31)
    with scope(district=year.district):
        assert MetricsRun.objects.get().status == "failed"
        assert not StudentMetrics.objects.exists()


# --- overlapping computes ---------------------------------------------------------------------


def test_an_older_date_finishing_last_does_not_replace_a_newer_one(tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        newer = services.compute_metrics(district=year.district, as_of=NOV_28)
        older = services.compute_metrics(district=year.district, as_of=OCT_31)
        current = MetricsRun.objects.get(is_current=True)
        older.refresh_from_db()
        assert current == newer and older.status == "succeeded" and "stays current" in older.step_text
        assert not StudentMetrics.objects.filter(run=older).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL")
def test_two_overlapping_computes_end_with_the_newer_date_current(transactional_db, tenant_a):
    year = tiers_year(tenant_a)
    district, errors, barrier = year.district, [], threading.Barrier(2)
    with scope(district=district):  # last month's run: the two below are routine nightly-size runs
        services.compute_metrics(district=district, as_of=datetime.date(2025, 9, 30))
    real_swap = services._newer_current_run

    def together(run):
        barrier.wait(timeout=60)  # both reach the swap at once
        return real_swap(run)

    services._newer_current_run = together
    try:

        def compute(as_of):
            try:
                with scope(district=district):
                    services.compute_metrics(district=district, as_of=as_of)
            except Exception as error:
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=compute, args=(day,)) for day in (NOV_28, OCT_31)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        services._newer_current_run = real_swap
    assert not errors, errors
    with scope(district=district):
        assert MetricsRun.objects.get(is_current=True).as_of == NOV_28
        assert set(MetricsRun.objects.values_list("status", flat=True)) == {"succeeded"}


def _figures() -> dict:
    return {
        "membership_days": 10, "absent_days": 1, "absent_excused": 0, "absent_unexcused": 1, "absent_suspension": 0,
        "absent_partial": 0, "tardy_days": 0, "absence_rate": 0.1, "chronic": True, "band": "moderate",
        "remaining_days": 100, "absences_left": 0, "recent_rate": 0.1, "projected_rate": 0.1, "tier": 2, "rules": [],
        "signals": {},
    }  # fmt: skip
