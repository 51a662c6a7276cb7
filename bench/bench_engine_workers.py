"""Benchmark of the nightly run past one worker (issue 14): the chunks as a Celery chord.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_bench REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/bench_engine_workers.py --students 1000000 --workers 1 2

Builds (or with --keep reuses) a synthetic district as bench_engine.py does, runs a first night
in one process, then for each worker count starts that many Celery worker processes (one task at
a time each, on the default queue of its own Redis database) and times a real next night through the broker:
the run's task prepares it, the chunk tasks spread over the workers, the chord's callback swaps.
Prints wall time to the swap and each worker process's peak RSS (solo pool: tasks run in the worker
itself), then the time and peak of the callback's work after the swap (the figures' cache, pulse),
with the machine's load average and the SQL floor of the same data, measured before each night.
The Redis database must be the benchmark's alone: the run purges its queue, and a test run on the
same database clears it under the running chord. Worker logs (each step's time): /tmp/bench-workers-*.
"""

import argparse
import datetime
import math
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from attendnc.celery import app as celery_app  # noqa: E402
from bench.bench_engine import AS_OF, build, floor  # noqa: E402
from bench.database import ensure_database  # noqa: E402
from districts.models import District  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", action="store_true", help="reuse the district an earlier run built")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Needs PostgreSQL and a database named *bench* (DATABASE_URL).")
    if not settings.REDIS_URL:
        sys.exit("Needs a broker: set REDIS_URL.")
    ensure_database()
    call_command("migrate", verbosity=0)
    district = District.objects.filter(slug=f"bench-{args.students}").first() if args.keep else None
    if district is None:
        print(f"building {args.students:,} students")
        district = build(args.students)

    from tiers.models import MetricsRun
    from tiers.services import compute_metrics

    with district_scope(district):
        if not MetricsRun.objects.filter(status=MetricsRun.Status.SUCCEEDED).exists():
            started = time.perf_counter()
            compute_metrics(district=district, as_of=AS_OF - datetime.timedelta(days=2), backfill=False)
            print(f"  first run (one process, creates every flag): {time.perf_counter() - started:.1f}s")
    for workers in args.workers:
        floor_s = floor(district)  # before each night: on a shared machine the floor moves with the load
        # Each night later than any run before (an older date would not swap: no flags, no snapshot).
        with district_scope(district):
            latest = MetricsRun.objects.order_by("-as_of").values_list("as_of", flat=True).first()
        as_of = latest + datetime.timedelta(days=1)
        before = os.getloadavg()
        figures = night_through_workers(district, as_of, workers)
        load = os.getloadavg()
        print(
            f"  {workers} worker(s): nightly run {figures['wall_s']:.1f}s ({figures['wall_s'] / floor_s:.1f}× the floor "
            f"{floor_s:.1f}s), {figures['chunks']} chunks, peak RSS per worker process max {max(figures['peaks']):.0f} MB "
            f"(all: {', '.join(f'{p:.0f}' for p in figures['peaks'])}); then the callback's work after the swap "
            f"(figures' cache, pulse) {figures['after_s']:.0f}s more, peak RSS per worker with it "
            f"{', '.join(f'{p:.0f}' for p in figures['peaks_after'])} MB; load average before {before[0]:.1f}, "
            f"after {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} ({time.strftime('%H:%M:%S', time.gmtime())} UTC)",
            flush=True,
        )


def night_through_workers(district: District, as_of: datetime.date, workers: int) -> dict:
    from tiers.models import MetricsRun
    from tiers.services import CHUNK_STUDENTS, metrics_run_create
    from tiers.tasks import compute_district_metrics

    # The default queue of the broker's own Redis database (REDIS_URL): the chord's chunk tasks
    # are sent by the workers themselves, to their default queue. Emptied first.
    tag = uuid.uuid4().hex[:8]
    celery_app.conf.update(task_always_eager=False)
    celery_app.control.purge()
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0", "METRICS_CHUNK_TASKS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "attendnc", "worker", "--pool=solo", f"--hostname=bench{index}-{tag}@%h", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(f"/tmp/bench-workers-{tag}-{index}.log", "w"),
        )
        for index in range(workers)
    ]  # fmt: skip
    try:
        time.sleep(8)  # the workers start (Django set-up) before the clock does
        with district_scope(district):
            # A nightly run, said so to the task too (its callback does the nightly work after the swap).
            run = metrics_run_create(district=district, as_of=as_of, trigger=MetricsRun.Trigger.NIGHTLY)
        started = time.perf_counter()
        compute_district_metrics.apply_async(
            args=(district.pk, as_of.isoformat()), kwargs={"run_id": run.pk, "trigger": MetricsRun.Trigger.NIGHTLY}
        )
        with district_scope(district):
            while True:
                run.refresh_from_db()
                if run.status in (MetricsRun.Status.SUCCEEDED, MetricsRun.Status.FAILED):
                    break
                time.sleep(0.5)
        wall = time.perf_counter() - started
        if run.status != MetricsRun.Status.SUCCEEDED:
            sys.exit(f"run {run.pk} failed: {run.error}")
        peaks = [_peak_rss_mb(proc.pid) for proc in procs]  # solo pool: the task ran in this process
        chunks = run.students and math.ceil(run.students / CHUNK_STUDENTS)
        # A nightly run's callback goes on after the swap (tiers.tasks._after_run: the figures'
        # cache, pulse's nightly work): timed and measured apart, once every worker is idle.
        after_s = _wait_idle([f"bench{index}-{tag}@{socket.gethostname()}" for index in range(workers)])
        peaks_after = [_peak_rss_mb(proc.pid) for proc in procs]
    finally:
        stopping = time.perf_counter()
        for proc in procs:
            proc.terminate()  # a warm shutdown: a worker first finishes the task it is running
        for proc in procs:
            proc.wait(timeout=600)
        print(f"  workers stopped in {time.perf_counter() - stopping:.1f}s (logs: /tmp/bench-workers-{tag}-*.log)")
    return {"wall_s": wall, "chunks": chunks, "peaks": peaks, "after_s": after_s, "peaks_after": peaks_after}


def _wait_idle(hostnames: list[str], limit_s: float = 600) -> float:
    """Seconds until no worker runs a task any more (the callback's work after the swap)."""
    started = time.perf_counter()
    inspect = celery_app.control.inspect(destination=hostnames, timeout=2)
    while time.perf_counter() - started < limit_s:
        active = inspect.active() or {}
        if len(active) == len(hostnames) and not any(active.values()):
            break
        time.sleep(1)
    return time.perf_counter() - started


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
