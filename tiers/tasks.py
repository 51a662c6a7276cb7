"""The nightly run: one task per district at 02:00 in the district's own time zone.

Beat calls `nightly_dispatch` every 15 minutes; it starts the run of each district whose local
clock has passed 02:00 and that has no nightly run for its local date yet. That way a district
in Honolulu and one in Raleigh each run at their own night, a missed beat tick catches up, and
a second tick the same night does nothing.
"""

import datetime
import logging
import resource

from celery import chord, group, shared_task
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from districts.models import District
from districts.tasks import RETRYABLE_ERRORS, DistrictTask
from districts.tenancy import district_scope

from . import run_locks
from .aggregates import district_aggregates
from .hooks import after_nightly_run_callbacks
from .loading import SchoolYear
from .models import MetricsRun
from .services import (
    RunPlan,
    metrics_run_chunk,
    metrics_run_create,
    metrics_run_execute,
    metrics_run_failed,
    metrics_run_finish,
    metrics_run_prepare,
    metrics_run_start,
    metrics_runs_fail_stuck,
)

NIGHTLY_HOUR = 2
logger = logging.getLogger(__name__)


COMPUTE_TIME_LIMIT = 35 * 60  # hard limit, seconds; the sweep fails a run running longer


@shared_task(base=DistrictTask, bind=True, soft_time_limit=30 * 60, time_limit=COMPUTE_TIME_LIMIT)
def compute_district_metrics(
    self, district, as_of: str, run_id: int | None = None, trigger: str = MetricsRun.Trigger.NIGHTLY
):
    """`trigger` is for a run created here (no `run_id`); a run queued beforehand carries its own
    (metrics_run_enqueue sends none), and only a nightly one does the nightly work after it."""
    as_of_date = datetime.date.fromisoformat(as_of)
    run = (
        MetricsRun.objects.get(pk=run_id)
        if run_id
        else metrics_run_create(district=district, as_of=as_of_date, trigger=trigger)
    )
    if run.status in (MetricsRun.Status.SUCCEEDED, MetricsRun.Status.FAILED):
        # A message delivered twice (acks_late after a lost ack), or one the sweep already gave up
        # on (its retry is a new run): the run is done either way.
        return run.pk
    # Another delivery of this message may be at work on the run right now (tiers.run_locks): it
    # holds the run's start until it has computed the run in one process, or sent the chord.
    with run_locks.alone(run_locks.START, run.pk) as alone:
        if not alone:
            return run.pk
        run.refresh_from_db()
        chunked = _in_chunk_tasks(run)
        if run.status in (MetricsRun.Status.SUCCEEDED, MetricsRun.Status.FAILED) or (chunked and _chunks_sent(run)):
            return run.pk  # done, or its chunks are out: their tables must stay as they are
        # Queued, retrying, or left half-prepared (or half-computed, in one process) by a worker
        # that died: nobody else is writing this run's tables, so it starts over.
        try:
            if chunked:
                return _start_chunk_tasks(run)
            run = metrics_run_execute(run=run)
        except RETRYABLE_ERRORS:
            if self.request.retries < self.max_retries:  # DistrictTask retries it after a backoff
                MetricsRun.objects.filter(pk=run.pk).update(
                    status=MetricsRun.Status.QUEUED, step="retrying", finished_at=None
                )
            raise
    _after_run(district, run)
    return run.pk


def _after_run(district: District, run: MetricsRun) -> None:
    """The nightly work after a nightly run only: the run's own trigger decides, not the task's
    argument, which defaults to nightly and which a run queued by hand ("Recompute now", a policy
    change, a retry) never set — those runs did the nightly work too. After them the figures' cache
    fills when first asked for, and pulse's effectiveness figures too (pulse.effectiveness)."""
    if run.trigger == MetricsRun.Trigger.NIGHTLY and run.status == MetricsRun.Status.SUCCEEDED:
        _warm_aggregates(district, run)
        _after_nightly_run(district, run)


# ----------------------------------------------------------------------------- past one worker
#
# A district of more than one chunk (tiers.services.CHUNK_STUDENTS) runs as a Celery chord when
# METRICS_CHUNK_TASKS is on: the run is prepared here (its empty tables, any replay), each chunk is
# a task that any worker takes — it loads, computes and writes its students' rows and stages their
# fired rules — and the chord's callback attaches the tables, syncs the flags, writes the snapshot
# and swaps, in one transaction as in one process. Results are identical to the one-process run
# (tests/test_engine_chunks.py); a worker holds one chunk at a time, whatever the district's size.


def _in_chunk_tasks(run: MetricsRun) -> bool:
    from .services import _chunk_count, _has_results

    return settings.METRICS_CHUNK_TASKS and _chunk_count(run.district) > 1 and _has_results(run.district)


def _chunks_sent(run: MetricsRun) -> bool:
    """A chorded run's chunks are out once its preparation is done: metrics_run_prepare moves the
    step on from "loading" as its last write, just before the chord is sent. (A worker dying in
    between leaves the run running with no chunks: the sweep fails it, the previous run stays.)"""
    return run.status == MetricsRun.Status.RUNNING and run.step != "loading"


def _start_chunk_tasks(run: MetricsRun) -> int:
    try:
        plan = metrics_run_prepare(run=run, backfill=False)
    except RETRYABLE_ERRORS:
        raise
    except Exception as error:
        metrics_run_failed(run=run, error=error)
        raise
    year = [plan.year.start.isoformat(), plan.year.end.isoformat()]
    header = group(
        compute_metrics_chunk.si(run.district_id, run.pk, chunk, plan.chunks, year) for chunk in range(plan.chunks)
    )
    chord(header)(finish_metrics_run.s(run.district_id, run.pk, run.trigger))
    return run.pk


@shared_task(base=DistrictTask, bind=True, soft_time_limit=30 * 60, time_limit=COMPUTE_TIME_LIMIT)
def compute_metrics_chunk(self, district, run_id: int, chunk: int, chunks: int, year: list[str]) -> dict:
    """One chunk of a run (see above). A chunk delivered twice or retried is written once
    (tiers.services.metrics_run_chunk with `redo`); one delivered after the run succeeded does nothing."""
    run = MetricsRun.objects.get(pk=run_id)
    if run.status == MetricsRun.Status.SUCCEEDED:
        return {"students": None, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if run.status != MetricsRun.Status.RUNNING:
        raise RuntimeError(f"Run {run_id} is {run.status}: chunk {chunk} of {chunks} not computed.")
    plan = RunPlan(chunks=chunks, year=SchoolYear(*map(datetime.date.fromisoformat, year)))
    try:
        students = metrics_run_chunk(run=run, chunk=chunk, plan=plan, redo=True)
    except RETRYABLE_ERRORS as error:
        if self.request.retries >= self.max_retries:  # the chord's callback will never run
            metrics_run_failed(run=run, error=error)
        raise
    except Exception as error:
        metrics_run_failed(run=run, error=error)
        raise
    return {"students": students, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


@shared_task(bind=True, soft_time_limit=30 * 60, time_limit=COMPUTE_TIME_LIMIT, acks_late=True)
def finish_metrics_run(self, chunks: list[dict], district_id: int, run_id: int, trigger: str) -> int:
    """The chord's callback: every chunk is written; attach, sync flags, snapshot, swap. (`trigger`
    is kept for messages already sent; the run's own decides what follows the swap.)"""
    district = District.objects.get(pk=district_id)
    with district_scope(district), run_locks.alone(run_locks.FINISH, run_id) as alone:
        if not alone:
            return run_id  # another delivery of this callback is finishing the run
        run = MetricsRun.objects.get(pk=run_id)
        if run.status != MetricsRun.Status.RUNNING:
            return run.pk  # failed by a chunk, or finished by an earlier delivery of this callback
        try:
            run = metrics_run_finish(run=run, students=sum(chunk["students"] for chunk in chunks))
        except Exception as error:
            metrics_run_failed(run=run, error=error)
            raise
        logger.info("run %s: %s chunks, peak RSS per chunk task %s MB", run.pk, len(chunks),
                    [round(chunk["peak_rss_mb"]) for chunk in chunks])  # fmt: skip
        _after_run(district, run)
        return run.pk


@shared_task
def metrics_runs_sweep() -> int:
    """Beat, every few minutes: runs stuck queued or running past their limit become failed."""
    with scopes_disabled():  # every district's runs, by status and time only
        return metrics_runs_fail_stuck()


def _warm_aggregates(district: District, run: MetricsRun) -> None:
    """Fill the figures' cache at night: with last year's daily data on record, the prior year to
    date is a second engine pass, which the first person to open the figures page should not wait for.
    The run itself is done and current by now, so a failure here is logged, not raised."""
    try:
        district_aggregates(district=district, run=run)
    except Exception:
        logger.exception("warming the aggregates of run %s failed", run.pk)


def _after_nightly_run(district: District, run: MetricsRun) -> None:
    """The apps above tiers' nightly work (tiers.hooks): each one's failure is logged, not raised."""
    for callback in after_nightly_run_callbacks():
        try:
            callback(district=district, run=run)
        except Exception:
            logger.exception("nightly work %s after run %s failed", getattr(callback, "__name__", callback), run.pk)


def districts_due(now: datetime.datetime) -> list[tuple[District, datetime.date]]:
    """Districts whose local night has come and that have not run for their local yesterday."""
    due = []
    for district in District.objects.all():
        local = now.astimezone(district.tzinfo)
        if local.hour < NIGHTLY_HOUR:
            continue
        as_of = local.date() - datetime.timedelta(days=1)  # the last full day of attendance
        with district_scope(district):
            ran = MetricsRun.objects.filter(trigger=MetricsRun.Trigger.NIGHTLY, as_of=as_of).exists()
        if not ran:
            due.append((district, as_of))
    return due


@shared_task
def nightly_dispatch():
    """Fan out: this is one of the few places that reads across districts (ids only).

    The run row is created here, queued, before the task is sent: the next beat tick then sees
    it and does not start a second run for the same night, even while the first one still waits
    in the queue behind other districts."""
    with scopes_disabled():
        due = districts_due(timezone.now())
    for district, as_of in due:
        with district_scope(district):
            metrics_run_start(district=district, as_of=as_of, trigger=MetricsRun.Trigger.NIGHTLY)
    return [district.slug for district, _ in due]
