"""Writes of the tiers app: policy versions, metrics runs, flags and weekly snapshots.

A run loads the school year, computes everything in memory, writes its rows against its own
run id, and only then — in one transaction with the flag updates — becomes the current run.
Readers follow the current run, so a crash at any point leaves the previous results in place.
"""

import contextlib
import dataclasses
import datetime
import logging
import math
import time

import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from districts.models import District
from districts.runs import BROKER_ERRORS, enqueue_or_fail, stuck
from districts.tenancy import district_fetchall, district_sql

from . import chunks, engine, flag_candidates, hooks, lifecycle, partitions, run_locks
from .engine_io import EngineResult
from .loading import SchoolYear, load_year
from .models import (
    SPEC_DEFAULTS_NOTE,
    CalculationPolicy,
    MetricsRun,
    StudentMetrics,
    StudentSchoolMetrics,
    WeeklySnapshot,
)
from .policy import Policy
from .writing import insert_frame, json_each, json_lines

logger = logging.getLogger(__name__)
phase_logger = logging.getLogger("tiers.phases")  # one record per run step; bench reads its phase and seconds


@contextlib.contextmanager
def _phase(run: MetricsRun, name: str):
    """Time one step of a run into the log: where a night's minutes go, at any district's size."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    phase_logger.info(
        "Metrics run %s (district %s): %s took %.3f s", run.pk, run.district_id, name, seconds,
        extra={"run_id": run.pk, "phase": name, "seconds": seconds},
    )  # fmt: skip


POLICY_FIELDS = [
    "chronic_threshold_pct",
    "min_membership_days",
    "partial_days",
    "exit_date_inclusive",
    "recent_window",
    "rules",
]


# ----------------------------------------------------------------------------- policy


def policy_current(*, district: District) -> CalculationPolicy:
    """The district's newest policy version; version 1 (the SPEC defaults) on first use."""
    policy = CalculationPolicy.objects.order_by("-version").first()
    if policy is None:
        try:
            with transaction.atomic():  # two first runs at once: one creates version 1, the other reads it
                policy = CalculationPolicy.objects.create(district=district, version=1, note=SPEC_DEFAULTS_NOTE)
        except IntegrityError:
            policy = CalculationPolicy.objects.order_by("-version").first()
    return policy


@transaction.atomic
def policy_update(*, district: District, user=None, note: str = "", **changes) -> CalculationPolicy:
    """A new version with `changes` applied; earlier versions stay, so old results keep their meaning."""
    current = CalculationPolicy.objects.select_for_update().order_by("-version").first() or policy_current(
        district=district
    )
    values = {field: getattr(current, field) for field in POLICY_FIELDS}
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"Not policy settings: {', '.join(sorted(unknown))}")
    values.update(changes)
    policy = CalculationPolicy(district=district, version=current.version + 1, note=note, created_by=user, **values)
    policy.full_clean()
    policy.save()
    return policy


def policy_change(
    *, district: District, user, note: str, as_of: datetime.date, **changes
) -> tuple[CalculationPolicy, MetricsRun]:
    """Save a new version and recompute with it: results follow the policy the admin just saved."""
    with transaction.atomic():
        policy = policy_update(district=district, user=user, note=note, **changes)
        run = metrics_run_start(district=district, as_of=as_of, trigger=MetricsRun.Trigger.POLICY)
    return policy, run


# ----------------------------------------------------------------------------- runs


def metrics_run_create(*, district: District, as_of: datetime.date, trigger: str) -> MetricsRun:
    return MetricsRun.objects.create(
        district=district, policy=policy_current(district=district), as_of=as_of, trigger=trigger
    )


def metrics_run_execute(*, run: MetricsRun, backfill: bool | None = None) -> MetricsRun:
    """Compute and swap in one run. Re-running the same as-of date gives identical results.
    `backfill` replays earlier weeks first; by default only on the district's first run.

    The district is computed chunk by chunk (tiers.chunks); each chunk's rows are written as soon
    as they are computed and its fired rules staged for the flag sync, then its frames are let
    go: what the process holds at once is one chunk, whatever the district's size."""
    try:
        plan = metrics_run_prepare(run=run, backfill=backfill)
        students = 0
        for chunk in range(plan.chunks):
            students += metrics_run_chunk(run=run, chunk=chunk, plan=plan)
        plan.inputs = None
        return metrics_run_finish(run=run, students=students)
    except Exception as error:
        metrics_run_failed(run=run, error=error)
        raise


@dataclasses.dataclass
class RunPlan:
    """What every chunk of a run shares: plain values, so a chunk task elsewhere can rebuild it."""

    chunks: int
    year: SchoolYear
    inputs: object = None  # the whole year, when a replay already loaded it (then one chunk)


def metrics_run_prepare(*, run: MetricsRun, backfill: bool | None = None) -> RunPlan:
    """Everything before the chunks: old rows discarded, the run's own tables created (empty,
    unattached, so nobody reads them yet), and on a district's first run the replayed weeks."""
    district = run.district
    _progress(run, "loading", 5, status=MetricsRun.Status.RUNNING, started_at=timezone.now())
    with _phase(run, "discard"):
        _discard_unfinished_results(run)
    year = SchoolYear.containing(district, run.as_of)
    replay = (not _has_results(district)) if backfill is None else backfill
    with _phase(run, "prepare"):
        _results_create(run)
    plan = RunPlan(chunks=_chunk_count(district), year=year)
    if replay:
        with _phase(run, "load"):
            plan.inputs = load_year(district, year)
        _backfill_weeks(run, plan.inputs, run.policy.as_policy(), year)
        plan.chunks = 1
    _progress(run, "computing", 30)
    return plan


def metrics_run_chunk(*, run: MetricsRun, chunk: int, plan: RunPlan, redo: bool = False) -> int:
    """Load, compute and write one chunk of the run's students (`student_id mod chunks`), and
    stage its fired rules; returns its number of students. The chunk's rows are written in one
    transaction. With `redo` (a chunk task, which may be delivered twice, even at once on two
    workers) a chunk is written once: a second delivery waits for the first's transaction
    (tiers.run_locks), and finding its rows there returns their count without writing again."""
    district, policy = run.district, run.policy.as_policy()
    part = (chunk, plan.chunks)
    with _phase(run, "load"):
        inputs = plan.inputs if plan.inputs is not None else load_year(district, plan.year, chunk=part)
    with _phase(run, "engine"):
        plans = hooks.tier2_plans(district=district, as_of=run.as_of)  # outreach's supports, via its hook
        if plans is not None and plan.chunks > 1:
            plans = plans[chunks.chunk_of(plans["student_id"], plan.chunks) == chunk]
        result = engine.compute(inputs, as_of=run.as_of, policy=policy, tier2_plans=plans)
    del inputs
    with transaction.atomic():
        if redo:
            run_locks.chunk_in_turn(run.pk, chunk)
            written = _chunk_rows_written(run, part)
            if written:
                return written
        with _phase(run, "write"):
            _write_results(run, result)
        with _phase(run, "stage_flags"):
            flag_candidates.stage(district, run.pk, result, policy, chunk=part)
    return len(result.students)


def _chunk_rows_written(run: MetricsRun, part: tuple[int, int]) -> int:
    """The chunk's student rows already in the run's table (one per student: 0 or all of them,
    as a chunk writes in one transaction). A chunk of no students writes nothing, again."""
    table = StudentMetrics._meta.db_table
    if partitions.partitioned(table):
        table = partitions.run_partition(table, run.pk)
    params = {"run_id": run.pk, "chunk": part[0], "chunks": part[1]}
    return district_fetchall(run.district, CHUNK_ROWS_SQL.format(table=table), params)[0][0]


CHUNK_ROWS_SQL = """
    SELECT count(*) FROM "{table}"
    WHERE district_id = %(district_id)s AND run_id = %(run_id)s AND (student_id %% %(chunks)s) = %(chunk)s
"""


def metrics_run_finish(*, run: MetricsRun, students: int) -> MetricsRun:
    """After every chunk: attach the run's tables, then in one transaction sync the flags from
    the staged candidates, write the week's snapshot and make the run current. A crash anywhere
    before that commit leaves the previous run current and its flags as they were."""
    district = run.district
    _progress(run, "flags", 85)
    with _phase(run, "attach"), transaction.atomic():
        _results_attach(run)
    with _phase(run, "flag_statistics"):
        lifecycle.flags_statistics_refresh()
    with _phase(run, "swap_transaction"), transaction.atomic():
        newer = _newer_current_run(run)
        created, replaced = 0, []
        if newer is None:
            with _phase(run, "flags"):
                created = flags_sync(district=district, run=run, as_of=run.as_of)
            with _phase(run, "snapshot"):
                snapshot_from_run(run=run)
            with _phase(run, "swap"):
                replaced = _swap_current(run)
        MetricsRun.objects.filter(pk=run.pk).update(
            status=MetricsRun.Status.SUCCEEDED,
            step="done" if newer is None else f"done_superseded:{newer.pk}:{newer.as_of.isoformat()}",
            progress=100,
            students=students,
            flags_created=created,
            finished_at=timezone.now(),
        )
    with _phase(run, "discard_replaced"):
        _discard_replaced(replaced, staged=run.pk)
    if newer is not None:
        _discard_run_results(run)  # superseded: nobody will read them
    run.refresh_from_db()
    return run


def metrics_run_failed(*, run: MetricsRun, error: Exception) -> None:
    """A failed run records why and leaves nothing behind: its rows are never read. A run that
    already succeeded (a late duplicate of one of its tasks failing) stays as it is: its rows
    may be the current results."""
    if MetricsRun.objects.filter(pk=run.pk, status=MetricsRun.Status.SUCCEEDED).exists():
        logger.error("a task of metrics run %s failed after the run succeeded", run.pk, exc_info=error)
        return
    logger.error("metrics run %s failed", run.pk, exc_info=error)
    _progress(
        run,
        "failed",
        MetricsRun.objects.filter(pk=run.pk).values_list("progress", flat=True).first() or 0,
        status=MetricsRun.Status.FAILED,
        error=str(error)[:2000],
        finished_at=timezone.now(),
    )
    _discard_run_results(run)


# Students per engine chunk: a chunk's records and the engine's work on them are what a run holds
# in memory at once (about 3 MB per 1,000 students), whatever the district's size.
CHUNK_STUDENTS = 50_000


def _chunk_count(district: District) -> int:
    """How many chunks of students the engine runs in (tiers.chunks; results are identical)."""
    (students,) = district_fetchall(
        district, "SELECT count(*) FROM students_student WHERE district_id = %(district_id)s"
    )[0]
    return max(1, math.ceil(students / CHUNK_STUDENTS))


def compute_metrics(
    *, district: District, as_of: datetime.date, trigger: str = MetricsRun.Trigger.COMMAND, backfill: bool | None = None
) -> MetricsRun:
    return metrics_run_execute(
        run=metrics_run_create(district=district, as_of=as_of, trigger=trigger), backfill=backfill
    )


def metrics_run_start(*, district: District, as_of: datetime.date, trigger: str) -> MetricsRun:
    """Queue a run and hand it to a worker once the row is committed (the worker must see it).
    Used by the nightly fan-out, the "Recompute now" button and a policy change."""
    with transaction.atomic():
        run = metrics_run_create(district=district, as_of=as_of, trigger=trigger)
        metrics_run_enqueue(run=run)
    return run


def metrics_run_enqueue(*, run: MetricsRun) -> None:
    """Send the run's task after the commit; a broker that refuses it fails the run at once (with
    the retry button on its page) rather than leaving it queued forever. With eager tasks (the
    demo, tests) a failing run must not undo the request: the run records its own failure."""
    from .tasks import compute_district_metrics  # the task module imports this one

    def send():
        try:
            compute_district_metrics.delay(run.district_id, run.as_of.isoformat(), run_id=run.pk)
        except BROKER_ERRORS:
            raise
        except Exception:
            logger.exception("metrics run %s failed in-process", run.pk)  # recorded on the run already

    def failed(error: Exception) -> None:
        MetricsRun._base_manager.filter(pk=run.pk, status=MetricsRun.Status.QUEUED).update(  # any scope: by pk
            status=MetricsRun.Status.FAILED, step="not_queued", finished_at=timezone.now(),
            error=f"not_queued:{error}",  # a code: MetricsRun.error_text
        )  # fmt: skip

    enqueue_or_fail(send, on_failure=failed)


def metrics_run_retry(*, run: MetricsRun) -> MetricsRun:
    """A failed run is done; retrying starts a new one for the same date."""
    return metrics_run_start(district=run.district, as_of=run.as_of, trigger=MetricsRun.Trigger.MANUAL)


def metrics_runs_fail_stuck() -> int:
    """Runs no worker took, or whose worker died (killed past the hard time limit, or gone with its
    message): failed within minutes by beat, their rows removed, retryable from their page."""
    from .tasks import COMPUTE_TIME_LIMIT

    runs = list(stuck(MetricsRun.objects.all(), running_limit=datetime.timedelta(seconds=COMPUTE_TIME_LIMIT)))
    for run in runs:
        _progress(
            run, "interrupted", run.progress, status=MetricsRun.Status.FAILED, finished_at=timezone.now(),
            error="interrupted",  # a code: MetricsRun.error_text
        )  # fmt: skip
        _discard_run_results(run)
    flag_candidates.drop_leftovers(finished=_finished_runs)
    return len(runs)


def _finished_runs(run_ids) -> set[int]:
    """Of these run ids (any district), the runs no longer queued or running, or gone."""
    active = MetricsRun._base_manager.filter(
        pk__in=run_ids, status__in=[MetricsRun.Status.QUEUED, MetricsRun.Status.RUNNING]
    ).values_list("pk", flat=True)
    return set(run_ids) - set(active)


def _progress(run: MetricsRun, step: str, percent: int, **fields) -> None:
    # Outside any transaction, so the progress page sees each step as it happens.
    MetricsRun.objects.filter(pk=run.pk).update(step=step, progress=percent, **fields)


def _has_results(district: District) -> bool:
    return MetricsRun.objects.filter(status=MetricsRun.Status.SUCCEEDED).exists()


# A run still "running" this long after it started had its worker killed (a full recompute of
# the largest district takes about a minute).
INTERRUPTED_AFTER = datetime.timedelta(hours=6)


def _discard_unfinished_results(run: MetricsRun) -> None:
    """Rows of runs that never became current (killed halfway) are dead weight: drop them.
    Only of runs that can no longer become current — not of one working alongside this run (the
    nightly run and a policy change on a two-process worker), whose rows it is about to swap in."""
    MetricsRun.objects.filter(
        status=MetricsRun.Status.RUNNING, started_at__lt=timezone.now() - INTERRUPTED_AFTER
    ).exclude(pk=run.pk).update(
        status=MetricsRun.Status.FAILED,
        step="interrupted",
        error="stopped",  # a code: MetricsRun.error_text
        finished_at=timezone.now(),
    )
    stale = MetricsRun.objects.filter(
        is_current=False, status__in=[MetricsRun.Status.FAILED, MetricsRun.Status.SUCCEEDED]
    ).exclude(pk=run.pk)
    with_rows = set(StudentMetrics.objects.filter(run__in=stale).values_list("run_id", flat=True).distinct())
    with_rows |= set(StudentSchoolMetrics.objects.filter(run__in=stale).values_list("run_id", flat=True).distinct())
    _discard_results_of(sorted(with_rows))
    # A run killed before its first chunk has no rows, only its flag candidates' table.
    flag_candidates.drop_leftovers(finished=lambda ids: set(stale.filter(pk__in=ids).values_list("pk", flat=True)))


def _newer_current_run(run: MetricsRun) -> MetricsRun | None:
    """Swaps of one district take turns (the district row is locked until the commit), and a run
    never replaces a current run of a later as-of date: two overlapping computes, say last
    night's and a policy change's, end with the newer date current, and no IntegrityError on
    the one-current constraint."""
    District.objects.select_for_update().filter(pk=run.district_id).first()
    current = MetricsRun.objects.filter(is_current=True).exclude(pk=run.pk).first()
    return current if current is not None and current.as_of > run.as_of else None


def _discard_run_results(run: MetricsRun) -> None:
    _discard_results_of([run.pk])


def _discard_replaced(run_ids, *, staged: int) -> None:
    """Rows of the runs just swapped out, and the run's own staged flag candidates: nobody reads
    them. The run is current and done whatever happens here (an error must not reach the caller,
    which would mark the run failed and drop the results just made current); a leftover is
    removed by the next run's _discard_unfinished_results."""
    try:
        flag_candidates.drop([staged])
        with transaction.atomic():
            _discard_results_of(run_ids)
    except Exception:
        logger.exception("removing the rows of replaced runs %s failed", run_ids)


def _discard_results_of(run_ids) -> None:
    """A run's rows: its own partition dropped (PostgreSQL), and any row in the shared table."""
    run_ids = [int(pk) for pk in run_ids or []]
    if not run_ids:
        return
    flag_candidates.drop(run_ids)
    for model in (StudentMetrics, StudentSchoolMetrics):
        if partitions.partitioned(model._meta.db_table):
            partitions.drop_run_partitions(model._meta.db_table, run_ids)
        model.objects.filter(run__in=run_ids).delete()


def _swap_current(run: MetricsRun) -> list[int]:
    """Make `run` current; returns the runs it replaced, whose rows the caller removes once the
    swap has committed (dropping a partition locks its parent: not for the whole swap)."""
    previous = list(
        MetricsRun.objects.select_for_update().filter(is_current=True).exclude(pk=run.pk).values_list("pk", flat=True)
    )
    MetricsRun.objects.filter(pk__in=previous).update(is_current=False)
    MetricsRun.objects.filter(pk=run.pk).update(is_current=True)
    return previous


def _write_results(run: MetricsRun, result: EngineResult) -> None:
    students = result.students.reset_index()
    signal_columns = [
        "first10_absent",
        "last10_absent",
        "last20_absent",
        "last10_tardy",
        "last20_tardy",
        "monday_friday_share",
        "longest_streak",
        "previous_rate",
        "trend",
        "prior_rate",
        "prior_year_chronic",
        "chronic_years",
    ]
    signals = json_lines(students[signal_columns])
    frame = pd.DataFrame(
        {
            "district_id": run.district_id,
            "run_id": run.pk,
            "student_id": students["student_id"],
            "current_school_id": students["current_school_id"],
            "membership_days": students["membership_days"],
            "absent_days": students["absent_days"].astype(float).round(3),
            "absent_excused": students["absent_excused"].astype(float).round(3),
            "absent_unexcused": students["absent_unexcused"].astype(float).round(3),
            "absent_suspension": students["absent_suspension"].astype(float).round(3),
            "absent_partial": students["absent_partial"].astype(float).round(3),
            "tardy_days": students["tardy_days"],
            "absence_rate": students["absence_rate"],
            "chronic": students["chronic"].astype(bool),
            "band": students["band"],
            "remaining_days": students["remaining_days"],
            "absences_left": students["absences_left"],
            "recent_rate": students["recent_rate"].round(4),
            "projected_rate": students["projected_rate"].round(4),
            "tier": students["tier"],
            "rules": json_each(students["rules"]),
            "signals": signals,
        }
    )
    _insert_run_rows(run, StudentMetrics, frame)
    schools = result.student_schools
    _insert_run_rows(
        run,
        StudentSchoolMetrics,
        schools.assign(
            district_id=run.district_id,
            run_id=run.pk,
            absent_days=schools["absent_days"].astype(float).round(3),
            chronic=schools["chronic"].astype(bool),
        )[
            [
                "district_id",
                "run_id",
                "student_id",
                "school_id",
                "membership_days",
                "absent_days",
                "absence_rate",
                "chronic",
                "band",
            ]
        ],
    )


def _insert_run_rows(run: MetricsRun, model, frame: pd.DataFrame) -> None:
    """On PostgreSQL into the run's own table (tiers.partitions), attached once every chunk has
    written; elsewhere into the table. Readers see neither until the swap."""
    table = model._meta.db_table
    part = partitions.run_partition(table, run.pk) if partitions.partitioned(table) else None
    insert_frame(run.district, model, frame, table=part)


def _results_create(run: MetricsRun) -> None:
    """The run's empty tables: a partition-to-be per results table, and its flag candidates."""
    for model in (StudentMetrics, StudentSchoolMetrics):
        if partitions.partitioned(model._meta.db_table):
            partitions.create_run_partition(model._meta.db_table, run.pk)
    flag_candidates.create(run.pk)


def _results_attach(run: MetricsRun) -> None:
    for model, step in ((StudentMetrics, "attach_metrics"), (StudentSchoolMetrics, "attach_schools")):
        if partitions.partitioned(model._meta.db_table):
            with _phase(run, step):
                partitions.attach_run_partition(model._meta.db_table, run.pk)
    with _phase(run, "index_candidates"):
        flag_candidates.index(run.pk)


# ----------------------------------------------------------------------------- history


def _backfill_weeks(run: MetricsRun, inputs, policy: Policy, year: SchoolYear) -> None:
    """On a district's first run, replay the year week by week so flags get their real
    first-met week and the trend charts have a history, instead of everything looking new."""
    days = pd.to_datetime(inputs.calendar["date"]).dt.date
    as_of_week = _week_start(run.as_of)
    checkpoints = sorted(
        {max(group) for week, group in _by_week(days) if week < as_of_week and min(group) >= year.start}
    )
    for index, checkpoint in enumerate(checkpoints):
        _progress(
            run,
            f"replaying:{_week_start(checkpoint).isoformat()}",
            5 + 25 * index // max(len(checkpoints), 1),
        )
        result = engine.compute(inputs, as_of=checkpoint, policy=policy)
        flag_candidates.clear(run.pk)
        flag_candidates.stage(run.district, run.pk, result, policy)
        flag_candidates.index(run.pk)
        lifecycle.flags_statistics_refresh()
        with transaction.atomic():
            flags_sync(district=run.district, run=run, as_of=checkpoint)
            snapshot_write(district=run.district, result=result, as_of=checkpoint)
    flag_candidates.clear(run.pk)


def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _by_week(days: pd.Series):
    weeks: dict[datetime.date, list[datetime.date]] = {}
    for day in set(days):
        weeks.setdefault(_week_start(day), []).append(day)
    return weeks.items()


def snapshot_write(*, district: District, result: EngineResult, as_of: datetime.date) -> int:
    """The week's snapshot is the latest run of that week: replace, then insert."""
    week = _week_start(as_of)
    WeeklySnapshot.objects.filter(week_start=week).delete()
    students = result.students.reset_index()
    students = students[students["membership_days"] > 0]
    frame = pd.DataFrame(
        {
            "district_id": district.pk,
            "student_id": students["student_id"],
            "week_start": week,
            "as_of": as_of,
            "membership_days": students["membership_days"],
            "absent_days": students["absent_days"].astype(float).round(3),
            "absence_rate": students["absence_rate"],
            "band": students["band"],
            "tier": students["tier"],
            "rules": students["rules"].map(list),
        }
    )
    return insert_frame(district, WeeklySnapshot, frame)


SNAPSHOT_FROM_RUN_SQL = """
    INSERT INTO tiers_weeklysnapshot
        (district_id, student_id, week_start, as_of, membership_days, absent_days, absence_rate, band, tier, rules)
    SELECT district_id, student_id, %(week)s, %(as_of)s, membership_days, absent_days, absence_rate, band, tier, rules
    FROM tiers_studentmetrics
    WHERE district_id = %(district_id)s AND run_id = %(run_id)s AND membership_days > 0
"""


# Later nights of a week update the week's rows in place: an UPDATE that keeps the student and
# district fires no foreign-key check, where DELETE + INSERT checked both keys of every row again
# (6.2 s against 2.2 s at 200,000 students, 3.1 s of it the checks at commit). The table's
# fillfactor (50, migration 0008) leaves room on each page for the new versions, so the update
# touches no index (heap-only tuples). One MERGE updates the week's rows and inserts those of
# students new this week, joining the two sides once (0.8 s at 200,000 students against 1.4-1.5 s
# for INSERT … ON CONFLICT DO UPDATE, which probed the unique index and locked every row first).
# Swaps of a district take turns (the district row is locked), so no other writer adds the
# week's rows under it; if one did, the unique key fails the swap and the previous run stays.
SNAPSHOT_MERGE_SQL = """
    MERGE INTO tiers_weeklysnapshot s
    USING (
        SELECT student_id, membership_days, absent_days, absence_rate, band, tier, rules FROM tiers_studentmetrics
        WHERE district_id = %(district_id)s AND run_id = %(run_id)s AND membership_days > 0
    ) m
    ON s.district_id = %(district_id)s AND s.week_start = %(week)s AND s.student_id = m.student_id
    WHEN MATCHED THEN UPDATE SET
        as_of = %(as_of)s, membership_days = m.membership_days, absent_days = m.absent_days,
        absence_rate = m.absence_rate, band = m.band, tier = m.tier, rules = m.rules
    WHEN NOT MATCHED THEN INSERT
        (district_id, student_id, week_start, as_of, membership_days, absent_days, absence_rate, band, tier, rules)
        VALUES (%(district_id)s, m.student_id, %(week)s, %(as_of)s, m.membership_days, m.absent_days, m.absence_rate,
                m.band, m.tier, m.rules)
"""
SNAPSHOT_WEEK_ROWS_SQL = """
    SELECT count(*) FROM tiers_weeklysnapshot WHERE district_id = %(district_id)s AND week_start = %(week)s
"""
# Rows of students no longer counted (no row of tonight's run with membership): after the MERGE
# the week has more rows than it merged only when there are some, so the anti-join (0.5-0.7 s at
# 200,000 students) runs only then.
SNAPSHOT_STALE_SQL = """
    DELETE FROM tiers_weeklysnapshot s
    WHERE s.district_id = %(district_id)s AND s.week_start = %(week)s AND NOT EXISTS (
        SELECT 1 FROM tiers_studentmetrics m
        WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.student_id = s.student_id
          AND m.membership_days > 0
    )
"""


def snapshot_from_run(*, run: MetricsRun) -> None:
    """The same snapshot as snapshot_write, copied inside the database from the run's own rows:
    at 200,000 students that saves sending every row back over the wire."""
    week = _week_start(run.as_of)
    params = {"week": week, "as_of": run.as_of, "run_id": run.pk}
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            WeeklySnapshot.objects.filter(week_start=week).delete()
            cursor.execute(*district_sql(run.district, SNAPSHOT_FROM_RUN_SQL, params))
            return
        cursor.execute("SET LOCAL jit = off")  # as the flag sync: compiling would take longer than running
        cursor.execute(*district_sql(run.district, SNAPSHOT_MERGE_SQL, params))
        merged = cursor.rowcount
        cursor.execute(*district_sql(run.district, SNAPSHOT_WEEK_ROWS_SQL, params))
        (week_rows,) = cursor.fetchone()
        if merged < 0 or week_rows > merged:
            cursor.execute(*district_sql(run.district, SNAPSHOT_STALE_SQL, params))


# ----------------------------------------------------------------------------- flags


def flags_sync(*, district: District, run: MetricsRun, as_of: datetime.date) -> int:
    """Open a flag for every newly fired rule, keep the open ones current, and mark those whose
    rule no longer holds — from the run's staged candidates (tiers.flag_candidates), set-based
    in SQL (tiers.lifecycle.flags_sync_from_candidates has the rules). Returns the number of new
    flags. Never duplicates an open flag.

    A flag's "why" tells why it was raised: written when the flag opens, and again when a lapsed
    flag holds once more (a new episode). Today's figures live in StudentMetrics beside it.
    Rewriting every open flag's text each night would cost most of a run at 200,000 students
    for text nobody reads differently.
    """
    return lifecycle.flags_sync_from_candidates(
        district_id=district.pk,
        candidates=flag_candidates.table_name(run.pk),
        as_of=as_of,
        policy_version=run.policy.version,
    )
