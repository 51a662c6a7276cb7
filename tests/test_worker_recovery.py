"""A real Celery worker (prefork, its own queue on the real Redis) is killed with SIGKILL in the
middle of an import and of a metrics run, inside the transaction writing their rows; the run
recovers without anyone touching it: the message goes back to the queue (acks_late,
reject_on_worker_lost), a fresh worker process runs it again from the start, and the run ends
succeeded with exactly the rows one clean run writes. tests/kill_worker.py holds the pause.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_scopes import scope

from attendnc.celery import app as celery_app
from imports import services as import_services
from imports.models import ImportRun
from students.models import AttendanceRecord, Student
from tiers import services as tiers_services
from tiers.models import MetricsRun, StudentMetrics

from .tiers_data import OCT_31, tiers_year

ROOT = Path(__file__).resolve().parent.parent
CANONICAL = ROOT / "tests" / "fixtures" / "imports" / "canonical"

pytestmark = pytest.mark.redis


@pytest.fixture
def killable_worker(transactional_db, tmp_path):
    """Start a worker on a queue of its own; yields a function that waits for the run's pause and
    SIGKILLs the process running it."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the real-worker test needs a Redis broker (scripts/test sets one).")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the test database on a server (PostgreSQL)")
    queue = f"recovery-{uuid.uuid4().hex[:8]}"
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ATTENDNC_TEST_PAUSE_DIR": str(tmp_path),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.kill_worker", "worker", "-Q", queue, "--pool=prefork",
         "--concurrency=1", "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    saved = {name: celery_app.conf[name] for name in ("task_always_eager", "task_default_queue")}
    celery_app.conf.update(task_always_eager=False, task_default_queue=queue)

    def kill_mid_run(timeout=90) -> int:
        marker = tmp_path / "paused"
        deadline = time.monotonic() + timeout
        while not marker.exists() or not marker.read_text():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (
                "the run never reached its pause:\n" + (tmp_path / "worker.log").read_text()[-3000:]
            )
            time.sleep(0.2)
        pid = int(marker.read_text())
        os.kill(pid, signal.SIGKILL)
        return pid

    try:
        yield kill_mid_run
    finally:
        celery_app.conf.update(saved)
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def _wait_finished(district, model, pk, timeout=120):
    deadline = time.monotonic() + timeout
    with scope(district=district):
        while True:
            run = model.objects.get(pk=pk)
            if run.status not in ("queued", "running"):
                return run
            assert time.monotonic() < deadline, f"{model.__name__} {pk} still {run.status} after {timeout}s"
            time.sleep(0.3)


def test_a_worker_killed_mid_compute_recovers_by_itself(killable_worker, tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        run = tiers_services.metrics_run_start(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.MANUAL)
    killed = killable_worker()
    with scope(district=year.district):
        assert MetricsRun.objects.get(pk=run.pk).status == "running"  # killed inside the write
    run = _wait_finished(year.district, MetricsRun, run.pk)
    assert run.status == "succeeded" and run.is_current, run.error
    with scope(district=year.district):
        assert StudentMetrics.objects.filter(run=run).count() == Student.objects.count() == len(year.students)
    assert killed != os.getpid()


def test_a_worker_killed_mid_import_recovers_by_itself(killable_worker, tenant_a):
    with scope(district=tenant_a.district):
        run = import_services.import_run_create(district=tenant_a.district, format="csv", path=CANONICAL)
        import_services.import_run_enqueue(run=run)
    killable_worker()
    run = _wait_finished(tenant_a.district, ImportRun, run.pk)
    assert run.status == "succeeded", run.errors
    with scope(district=tenant_a.district):
        # Exactly one clean import's rows: the killed attempt's transaction left nothing behind.
        assert AttendanceRecord.objects.count() == run.entity_counts["attendance"]["added"] > 0
