"""Writes of the tiers app: policy versions, metrics runs, flags and weekly snapshots.

A run loads the school year, computes everything in memory, writes its rows against its own
run id, and only then — in one transaction with the flag updates — becomes the current run.
Readers follow the current run, so a crash at any point leaves the previous results in place.
"""

import contextlib
import datetime
import json
import logging
import math
import time

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from districts.models import District
from districts.runs import BROKER_ERRORS, enqueue_or_fail, stuck
from districts.tenancy import district_fetchall, district_sql

from . import chunks, engine, hooks, lifecycle, partitions
from .engine_io import EngineResult
from .loading import SchoolYear, load_year
from .models import CalculationPolicy, Flag, MetricsRun, StudentMetrics, StudentSchoolMetrics, WeeklySnapshot
from .policy import RULE_TIERS, Policy
from .why import why_params
from .writing import insert_frame, json_lines, update_rows

logger = logging.getLogger(__name__)
phase_logger = logging.getLogger("tiers.phases")  # "<phase> <seconds>" per run step (bench reads it)


@contextlib.contextmanager
def _phase(run: MetricsRun, name: str):
    """Time one step of a run into the log: where a night's minutes go, at any district's size."""
    started = time.perf_counter()
    yield
    phase_logger.info("%s %.3f", name, time.perf_counter() - started, extra={"run_id": run.pk})


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
                policy = CalculationPolicy.objects.create(district=district, version=1, note="SPEC defaults")
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
    `backfill` replays earlier weeks first; by default only on the district's first run."""
    district = run.district
    _progress(run, "Loading attendance", 5, status=MetricsRun.Status.RUNNING, started_at=timezone.now())
    try:
        with _phase(run, "discard"):
            _discard_unfinished_results(run)
        policy = run.policy.as_policy()
        year = SchoolYear.containing(district, run.as_of)
        replay = (not _has_results(district)) if backfill is None else backfill
        count = _chunk_count(district)
        if replay or count == 1:
            with _phase(run, "load"):
                inputs = load_year(district, year)
            if replay:
                _backfill_weeks(run, inputs, policy, year)
        _progress(run, "Computing metrics", 30)
        with _phase(run, "load_and_engine" if count > 1 and not replay else "engine"):
            plans = hooks.tier2_plans(district=district, as_of=run.as_of)  # outreach's supports, via its hook
            if count > 1 and not replay:
                result = chunks.compute_in_chunks(
                    lambda chunk, n: load_year(district, year, chunk=(chunk, n)),
                    chunks=count, as_of=run.as_of, policy=policy, tier2_plans=plans,
                )  # fmt: skip
            else:
                result = engine.compute(inputs, as_of=run.as_of, policy=policy, tier2_plans=plans)
        _progress(run, "Writing results", 60)
        with _phase(run, "write"), transaction.atomic():
            _write_results(run, result)
        _progress(run, "Updating flags and snapshots", 85)
        with _phase(run, "swap_transaction"), transaction.atomic():
            newer = _newer_current_run(run)
            created, replaced = 0, []
            if newer is None:
                with _phase(run, "flags"):
                    created = flags_sync(
                        district=district, result=result, as_of=run.as_of, policy=policy, version=run.policy.version
                    )
                with _phase(run, "snapshot"):
                    snapshot_from_run(run=run)
                with _phase(run, "swap"):
                    replaced = _swap_current(run)
            MetricsRun.objects.filter(pk=run.pk).update(
                status=MetricsRun.Status.SUCCEEDED,
                step="Done" if newer is None else f"Done; run {newer.pk} as of {newer.as_of} stays current",
                progress=100,
                students=len(result.students),
                flags_created=created,
                finished_at=timezone.now(),
            )
        with _phase(run, "discard_replaced"):
            _discard_replaced(replaced)
        if newer is not None:
            _discard_run_results(run)  # superseded: nobody will read them
    except Exception as error:
        logger.exception("metrics run %s failed", run.pk)
        _progress(
            run,
            "Failed",
            run.progress,
            status=MetricsRun.Status.FAILED,
            error=str(error)[:2000],
            finished_at=timezone.now(),
        )
        _discard_run_results(run)  # a failed run's rows are never read: don't keep them
        raise
    run.refresh_from_db()
    return run


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
            status=MetricsRun.Status.FAILED, step="Not queued", finished_at=timezone.now(),
            error=f"The run could not be queued ({error}). Retry it once the broker is back.",
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
            run, "Interrupted", run.progress, status=MetricsRun.Status.FAILED, finished_at=timezone.now(),
            error="The run stopped without finishing (its worker stopped, or none took it in time).",
        )  # fmt: skip
        _discard_run_results(run)
    return len(runs)


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
        step="Interrupted",
        error="The run stopped without finishing.",
        finished_at=timezone.now(),
    )
    stale = MetricsRun.objects.filter(
        is_current=False, status__in=[MetricsRun.Status.FAILED, MetricsRun.Status.SUCCEEDED]
    ).exclude(pk=run.pk)
    with_rows = set(StudentMetrics.objects.filter(run__in=stale).values_list("run_id", flat=True).distinct())
    with_rows |= set(StudentSchoolMetrics.objects.filter(run__in=stale).values_list("run_id", flat=True).distinct())
    _discard_results_of(sorted(with_rows))


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


def _discard_replaced(run_ids) -> None:
    """Rows of the runs just swapped out: nobody reads them. The run is current and done
    whatever happens here; a leftover is removed by the next run's _discard_unfinished_results."""
    try:
        with transaction.atomic():
            _discard_results_of(run_ids)
    except Exception:
        logger.exception("removing the rows of replaced runs %s failed", run_ids)


def _discard_results_of(run_ids) -> None:
    """A run's rows: its own partition dropped (PostgreSQL), and any row in the shared table."""
    run_ids = [int(pk) for pk in run_ids or []]
    if not run_ids:
        return
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
            "rules": students["rules"].map(json.dumps),
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
    """On PostgreSQL the run's rows go into a partition of their own (tiers.partitions), attached
    when complete; elsewhere into the table. Readers see neither until the swap."""
    table = model._meta.db_table
    if not partitions.partitioned(table):
        insert_frame(run.district, model, frame)
        return
    part = partitions.create_run_partition(table, run.pk)
    insert_frame(run.district, model, frame, table=part)
    partitions.attach_run_partition(table, run.pk)


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
            f"Replaying week of {_week_start(checkpoint):%b} {_week_start(checkpoint).day}",
            5 + 25 * index // max(len(checkpoints), 1),
        )
        result = engine.compute(inputs, as_of=checkpoint, policy=policy)
        with transaction.atomic():
            flags_sync(
                district=run.district, result=result, as_of=checkpoint, policy=policy, version=run.policy.version
            )
            snapshot_write(district=run.district, result=result, as_of=checkpoint)


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
# (about 5 s of a 200,000-student run). Rows of students no longer counted are deleted first.
SNAPSHOT_STALE_SQL = """
    DELETE FROM tiers_weeklysnapshot s
    WHERE s.district_id = %(district_id)s AND s.week_start = %(week)s AND NOT EXISTS (
        SELECT 1 FROM tiers_studentmetrics m
        WHERE m.district_id = %(district_id)s AND m.run_id = %(run_id)s AND m.student_id = s.student_id
          AND m.membership_days > 0
    )
"""
SNAPSHOT_UPSERT_SQL = (
    SNAPSHOT_FROM_RUN_SQL
    + """
    ON CONFLICT (district_id, student_id, week_start) DO UPDATE SET
        as_of = EXCLUDED.as_of, membership_days = EXCLUDED.membership_days, absent_days = EXCLUDED.absent_days,
        absence_rate = EXCLUDED.absence_rate, band = EXCLUDED.band, tier = EXCLUDED.tier, rules = EXCLUDED.rules
"""
)


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
        cursor.execute(*district_sql(run.district, SNAPSHOT_STALE_SQL, params))
        cursor.execute(*district_sql(run.district, SNAPSHOT_UPSERT_SQL, params))


# ----------------------------------------------------------------------------- flags


def flags_sync(*, district: District, result: EngineResult, as_of: datetime.date, policy: Policy, version: int) -> int:
    """Open a flag for every newly fired rule, keep the open ones current, and mark those whose
    rule no longer holds. Returns the number of new flags. Never duplicates an open flag. Which
    fired rules may open a flag again after the team closed one is lifecycle.flags_openable's call.

    A flag's "why" tells why it was raised: written when the flag opens, and again when a lapsed
    flag holds once more (a new episode). Today's figures live in StudentMetrics beside it.
    Rewriting every open flag's text each night would cost most of a run at 200,000 students
    for text nobody reads differently.
    """
    fired = result.students["rules"].explode().dropna().rename("rule").reset_index()
    open_flags = pd.DataFrame(
        list(Flag.objects.filter(status__in=Flag.OPEN_STATUSES).values("id", "student_id", "rule", "currently_met")),
        columns=["id", "student_id", "rule", "currently_met"],
    )
    merged = fired.merge(open_flags, on=["student_id", "rule"], how="outer", indicator=True)
    new = lifecycle.flags_openable(
        merged[merged["_merge"] == "left_only"][["student_id", "rule"]], fired, result.absences
    )
    held_again = merged[(merged["_merge"] == "both") & ~merged["currently_met"].astype(bool)]
    lapsed = merged[(merged["_merge"] == "right_only") & merged["currently_met"].astype(bool)]

    whys = _whys(pd.concat([new, held_again]), result.students, result.absences, policy)
    new_whys, again_whys = whys[: len(new)], whys[len(new) :]
    Flag.objects.bulk_create(
        [
            Flag(
                district=district,
                student_id=student,
                rule=rule,
                tier=RULE_TIERS[rule],
                first_met=as_of,
                last_met=as_of,
                why_code=rule,
                why_params=params,
                policy_version=version,
                follows_id=None if pd.isna(follows) else int(follows),
            )
            for student, rule, follows, params in zip(new["student_id"], new["rule"], new["follows_id"], new_whys)
        ],
        batch_size=2000,
    )
    update_rows(
        district,
        Flag,
        pd.DataFrame(
            {
                "id": held_again["id"].astype("int64"),
                "why_code": held_again["rule"],
                "why_params": [json.dumps(params) for params in again_whys],
                "last_met": as_of,
                "currently_met": True,
            }
        ),
    )
    Flag.objects.filter(pk__in=[int(pk) for pk in lapsed["id"]]).update(currently_met=False)
    # One set-based statement moves "last met" for every flag that still holds.
    Flag.objects.filter(status__in=Flag.OPEN_STATUSES, currently_met=True).exclude(last_met=as_of).update(
        last_met=as_of
    )
    return len(new)


def _whys(pairs: pd.DataFrame, students: pd.DataFrame, absences: pd.DataFrame, policy: Policy) -> list[dict]:
    needed = absences[absences["student_id"].isin(pairs["student_id"])]
    membership = students["membership_days"].reindex(needed["student_id"]).to_numpy()
    recent_window = policy.rule("t2_recent_absences").window
    early_window = policy.rule("t2_first_10_days").window
    recent = _dates_by_student(needed[needed["ordinal"].to_numpy() > membership - recent_window])
    early = _dates_by_student(needed[needed["ordinal"] <= early_window])
    rows = students.loc[pairs["student_id"]]
    return [
        why_params(rule, row, recent.get(student, []), early.get(student, []), policy)
        for rule, student, row in zip(pairs["rule"], pairs["student_id"], rows.itertuples())
    ]


def _dates_by_student(absences: pd.DataFrame) -> dict[int, list]:
    ordered = absences.sort_values(["student_id", "date"], kind="stable")
    students, starts = np.unique(ordered["student_id"].to_numpy(), return_index=True)
    chunks = np.split(ordered["date"].to_numpy(), starts[1:])
    return dict(zip(students.tolist(), (list(chunk) for chunk in chunks)))
