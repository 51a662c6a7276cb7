"""The engine in chunks of students gives exactly the one-pass result (issue 14): on random small
districts (the property tests' awkward corners: overlapping enrollments, holes, fractional
days, Tier 2 plans) and on a district read from the database chunk by chunk."""

import contextlib
import threading

import pandas as pd
import pytest
from django.db import connection
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiers import chunks, engine
from tiers.loading import SchoolYear, load_year
from tiers.services import policy_current

from .test_engine_properties import districts
from .test_tiers_services import redis_worker  # noqa: F401 (a fixture)
from .tiers_data import OCT_31, tiers_year


def assert_identical(chunked, whole):
    pd.testing.assert_frame_equal(chunked.students, whole.students, check_exact=True)
    for name in ("student_schools", "absences"):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(whole, name), check_exact=True, obj=name)
    columns = list(whole.skipped.columns)
    pd.testing.assert_frame_equal(
        chunked.skipped.sort_values(columns, kind="stable").reset_index(drop=True),
        whole.skipped.sort_values(columns, kind="stable").reset_index(drop=True),
        check_exact=True,
        # The same strings; pandas infers str or object for them depending on which chunk had any.
        check_dtype=False,
        obj="skipped",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(districts(), st.integers(2, 5))
def test_chunks_of_a_random_district_give_the_one_pass_result(district, count):
    inputs, as_of, policy, plans = district
    whole = engine.compute(inputs, as_of=as_of, policy=policy, tier2_plans=plans)
    chunked = chunks.compute_in_chunks(
        lambda chunk, n: chunks.inputs_chunk(inputs, chunk, n), chunks=count, as_of=as_of, policy=policy,
        tier2_plans=plans,
    )  # fmt: skip
    assert_identical(chunked, whole)


def test_every_student_is_in_exactly_one_chunk_whatever_their_schools():
    ids = pd.Series([101, 102, 103, 104, 205, 10_000_019])
    owners = [chunks.chunk_of(ids, 3)[ids == student].tolist() for student in ids]
    assert all(len(set(owner)) == 1 for owner in owners)
    assert sorted(chunks.chunk_of(ids, 3).tolist()) == sorted(i % 3 for i in ids)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_district_read_chunk_by_chunk_gives_the_one_pass_result(tenant_a, count):
    year_data = tiers_year(tenant_a)
    district = year_data.district
    with scope(district=district):
        year = SchoolYear.containing(district, OCT_31)
        policy = policy_current(district=district).as_policy()
        whole_inputs = load_year(district, year)
        whole = engine.compute(whole_inputs, as_of=OCT_31, policy=policy)
        loaded = []

        def load(chunk, n):
            part = load_year(district, year, chunk=(chunk, n))
            loaded.append(len(part.students))
            return part

        chunked = chunks.compute_in_chunks(load, chunks=count, as_of=OCT_31, policy=policy)
    assert sum(loaded) == len(whole_inputs.students) == 5
    assert_identical(chunked, whole)


@pytest.mark.parametrize("count", [2, 3])
def test_a_chunk_reads_the_same_records_as_one_pass(tenant_a, count):
    """A chunk's records come as CSV lines the server builds, dates as day numbers (tiers.loading),
    one pass's through COPY: the same rows, dates and categories, minutes where there are some."""
    district = tiers_year(tenant_a).district
    with scope(district=district):
        year = SchoolYear.containing(district, OCT_31)
        whole = load_year(district, year).records
        parts = [load_year(district, year, chunk=(chunk, count)).records for chunk in range(count)]
    assert whole["minutes"].isna().any() and whole["minutes"].notna().any()

    def rows(frame):
        frame = frame.astype({"minutes": "float64"})
        return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)

    for part in parts:
        assert part["date"].dtype == whole["date"].dtype and part["category"].dtype == whole["category"].dtype
    pd.testing.assert_frame_equal(rows(pd.concat(parts, ignore_index=True)), rows(whole), check_exact=True)


def test_a_nightly_run_in_chunks_stores_what_one_pass_stores(tenant_a, tenant_b, monkeypatch):
    """The run itself (load, engine, write, flags, snapshot) with 2 students a chunk: the same rows."""
    from tiers import services

    from .test_tiers_services import NOV_28, compute, flag_rows, metric_rows, snapshot_rows

    stored = {}
    for name, district_tenant, chunk_students in [("one pass", tenant_a, 50_000), ("chunks", tenant_b, 2)]:
        monkeypatch.setattr(services, "CHUNK_STUDENTS", chunk_students)
        year = tiers_year(district_tenant, prefix="T")
        compute(year.district, OCT_31)  # the first run replays the year in one pass
        run = compute(year.district, NOV_28)
        assert services._chunk_count(year.district) == (1 if chunk_students > 5 else 3)
        ids = {student.pk: index for index, student in enumerate(year.students)}
        stored[name] = (
            [(ids[row[0]], *row[2:]) for row in metric_rows(year.district, run)],
            sorted((ids[row[2]], *row[3:10]) for row in flag_rows(year.district)),
            sorted((ids[row[0]], *row[1:]) for row in snapshot_rows(year.district)),
        )
    assert stored["chunks"] == stored["one pass"]
    assert stored["one pass"][0] and stored["one pass"][1]


# --- past one worker: the chunks as a Celery chord ----------------------------------------------


def _stored(district, run, students):
    from .test_tiers_services import flag_rows, metric_rows, snapshot_rows

    ids = {student.pk: index for index, student in enumerate(students)}
    return (
        [(ids[row[0]], *row[2:]) for row in metric_rows(district, run)],
        sorted((ids[row[2]], *row[3:10], row[11], row[12]) for row in flag_rows(district)),
        sorted((ids[row[0]], *row[1:]) for row in snapshot_rows(district)),
    )


def _nights(district, monkeypatch, *, chunk_students, redeliver=(), during_chunk=None):
    """The first run (one pass, it replays the year), then two nights through the task, with a
    flag resolved in between: what the district stores after each night."""
    from tiers import services, tasks
    from tiers.lifecycle import flags_resolve
    from tiers.models import Flag, MetricsRun

    from .test_tiers_services import DEC_12, NOV_28, compute

    monkeypatch.setattr(services, "CHUNK_STUDENTS", chunk_students)
    chunk_calls = []
    real_chunk = tasks.metrics_run_chunk

    def chunk(**kwargs):
        chunk_calls.append(kwargs["chunk"])
        if during_chunk is not None:
            during_chunk(**kwargs)
        if kwargs["chunk"] in redeliver:  # delivered twice: the second finds the first's rows
            real_chunk(**kwargs)
        return real_chunk(**kwargs)

    monkeypatch.setattr(tasks, "metrics_run_chunk", chunk)
    compute(district, OCT_31)
    nights = []
    for as_of in (NOV_28, DEC_12):
        with scope(district=district):
            run = services.metrics_run_create(district=district, as_of=as_of, trigger=MetricsRun.Trigger.NIGHTLY)
        tasks.compute_district_metrics.apply(args=(district.pk, as_of.isoformat()), kwargs={"run_id": run.pk})
        with scope(district=district):
            run.refresh_from_db()
            assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current, run.error
            nights.append(run)
            first = Flag.objects.filter(status=Flag.Status.NEW).order_by("student_id", "rule").first()
            if as_of == NOV_28 and first is not None:
                flags_resolve(flags=Flag.objects.filter(pk=first.pk), reason="other", note="met the family", on=as_of)
    return nights, chunk_calls


@pytest.mark.parametrize("chunk_students,redeliver", [(2, ()), (1, (0, 3))])
def test_a_night_as_a_chord_of_chunk_tasks_stores_what_one_process_stores(
    tenant_a, tenant_b, monkeypatch, settings, chunk_students, redeliver
):
    settings.METRICS_CHUNK_TASKS = True
    whole_year = tiers_year(tenant_a, prefix="T")
    whole, calls = _nights(whole_year.district, monkeypatch, chunk_students=50_000)
    assert calls == []  # one chunk: one task computes it
    chord_year = tiers_year(tenant_b, prefix="T")
    chord, calls = _nights(chord_year.district, monkeypatch, chunk_students=chunk_students, redeliver=redeliver)
    count = 5 // chunk_students + (5 % chunk_students > 0)
    assert sorted(calls) == sorted(list(range(count)) * 2)  # a task per chunk and night
    for one, other in zip(whole, chord):
        assert other.students == one.students == 5
        assert other.flags_created == one.flags_created
    assert _stored(chord_year.district, chord[-1], chord_year.students) == _stored(
        whole_year.district, whole[-1], whole_year.students
    )


def test_a_chunk_task_that_fails_fails_the_run_and_the_previous_run_stays_current(tenant_a, monkeypatch, settings):
    from tiers import selectors, services, tasks
    from tiers.models import Flag, MetricsRun, StudentMetrics

    from .test_tiers_services import NOV_28, compute, flag_rows

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    first = compute(year.district, OCT_31)
    flags_before = flag_rows(year.district)
    monkeypatch.setattr(services, "CHUNK_STUDENTS", 2)
    real_chunk = tasks.metrics_run_chunk

    def chunk(**kwargs):
        if kwargs["chunk"] == 1:
            raise RuntimeError("worker lost its chunk")
        return real_chunk(**kwargs)

    monkeypatch.setattr(tasks, "metrics_run_chunk", chunk)
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=NOV_28, trigger=MetricsRun.Trigger.NIGHTLY)
    with pytest.raises(RuntimeError, match="lost its chunk"):
        tasks.compute_district_metrics.apply(args=(year.district.pk, NOV_28.isoformat()), kwargs={"run_id": run.pk})
    with scope(district=year.district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.FAILED and "lost its chunk" in run.error
        assert selectors.current_run() == first
        assert not StudentMetrics.objects.filter(run=run).exists()
        assert Flag.objects.exists()
    assert flag_rows(year.district) == flags_before


@pytest.mark.redis
@pytest.mark.usefixtures("redis_worker")
def test_a_night_as_a_chord_runs_through_a_real_broker(transactional_db, tenant_a, monkeypatch, settings):
    """The chunk tasks and the callback go through Redis to a worker (not eager): the run ends
    current, with every student's row, as in one process."""
    from tiers import services, tasks
    from tiers.models import MetricsRun, StudentMetrics

    from .test_tiers_services import NOV_28, _wait_for, compute

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    compute(year.district, OCT_31)
    monkeypatch.setattr(services, "CHUNK_STUDENTS", 2)
    seen, real = [], tasks.metrics_run_chunk
    monkeypatch.setattr(tasks, "metrics_run_chunk", lambda **kwargs: seen.append(kwargs["chunk"]) or real(**kwargs))
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=NOV_28, trigger=MetricsRun.Trigger.MANUAL)
    tasks.compute_district_metrics.apply_async(args=(year.district.pk, NOV_28.isoformat()), kwargs={"run_id": run.pk})
    _wait_for(year.district, run)
    with scope(district=year.district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current, run.error
        assert StudentMetrics.objects.filter(run=run).count() == run.students == 5
    assert sorted(seen) == [0, 1, 2]  # through the worker's tasks, one per chunk


# --- delivered twice: the start, a chunk, the callback (acks_late redelivery, a retry) ----------


def test_a_start_delivered_again_while_its_chunks_run_leaves_them_alone(tenant_a, tenant_b, monkeypatch, settings):
    """The run's start message arrives again while its chunks are computing: it must see the run
    started and do nothing (it used to recreate the run's tables under the chunks and send a
    second chord; the night failed)."""
    from tiers import tasks

    settings.METRICS_CHUNK_TASKS = True
    whole_year = tiers_year(tenant_a, prefix="T")
    whole, _calls = _nights(whole_year.district, monkeypatch, chunk_students=50_000)
    prepared, real_prepare = [], tasks.metrics_run_prepare
    monkeypatch.setattr(tasks, "metrics_run_prepare", lambda **kw: prepared.append(kw["run"].pk) or real_prepare(**kw))
    again = []

    def start_again(*, run, chunk, **_kwargs):
        if chunk == 1 and run.pk not in again:  # chunk 0 is written, 1 and 2 are to come
            again.append(run.pk)
            tasks.compute_district_metrics.apply(
                args=(run.district_id, run.as_of.isoformat()), kwargs={"run_id": run.pk}
            )

    chord_year = tiers_year(tenant_b, prefix="T")
    chord, calls = _nights(chord_year.district, monkeypatch, chunk_students=2, during_chunk=start_again)
    assert again == [run.pk for run in chord]
    assert sorted(prepared) == [run.pk for run in chord]  # prepared once a night
    assert sorted(calls) == sorted([0, 1, 2] * 2)  # no second chord
    assert [run.students for run in chord] == [5, 5]
    assert _stored(chord_year.district, chord[-1], chord_year.students) == _stored(
        whole_year.district, whole[-1], whole_year.students
    )


def test_a_start_redelivered_after_its_worker_died_preparing_starts_over(tenant_a, monkeypatch, settings):
    """The first delivery's worker died halfway through preparing (the run is running, its step
    still "loading", its tables half made, no chunk sent): the redelivery prepares it again."""
    from tiers import services, tasks
    from tiers.models import MetricsRun, StudentMetrics

    from .test_tiers_services import NOV_28, compute

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    compute(year.district, OCT_31)
    monkeypatch.setattr(services, "CHUNK_STUDENTS", 2)
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=NOV_28, trigger=MetricsRun.Trigger.NIGHTLY)
        services._progress(run, "loading", 5, status=MetricsRun.Status.RUNNING)
        services._results_create(run)
    tasks.compute_district_metrics.apply(args=(year.district.pk, NOV_28.isoformat()), kwargs={"run_id": run.pk})
    with scope(district=year.district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current, run.error
        assert StudentMetrics.objects.filter(run=run).count() == run.students == 5


def _at_once(*calls):
    """Each call in a thread of its own (its own database connection), all at the same time."""
    results, errors = [], []

    def call_in_thread(call):
        try:
            results.append(call())
        except Exception as error:  # the test asserts there were none
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call_in_thread, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def _meeting(count: int, wait_s: float = 3):
    """Lets `count` callers meet before going on, or each alone after `wait_s`: two deliveries
    that can overlap are made to, and one that must wait for the other is not stuck."""
    barrier = threading.Barrier(count)

    def meet():
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=wait_s)

    return meet


def _prepared_run(district, monkeypatch):
    from tiers import services
    from tiers.models import MetricsRun

    from .test_tiers_services import NOV_28, compute

    compute(district, OCT_31)
    monkeypatch.setattr(services, "CHUNK_STUDENTS", 2)
    with scope(district=district):
        run = services.metrics_run_create(district=district, as_of=NOV_28, trigger=MetricsRun.Trigger.NIGHTLY)
        plan = services.metrics_run_prepare(run=run, backfill=False)
    return run, plan.chunks, [plan.year.start.isoformat(), plan.year.end.isoformat()]


def _chunk_rows(district, run, chunk, chunks):
    """The chunk's student ids in the run's own table (read by name: before the swap it is not
    attached, and the ORM reads through the parent)."""
    from tiers import partitions
    from tiers.models import StudentMetrics

    table = StudentMetrics._meta.db_table
    if partitions.partitioned(table):
        table = partitions.run_partition(table, run.pk)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT student_id FROM "{table}" WHERE run_id = %s', [run.pk])
        return sorted(student for (student,) in cursor.fetchall() if student % chunks == chunk)


def test_a_chunk_delivered_twice_at_once_is_written_once(transactional_db, tenant_a, monkeypatch, settings):
    """Two workers take the same chunk (a redelivery while the first still runs): the second waits
    for the first's rows and returns their count; the run then finishes with every row once."""
    from tiers import selectors, services, tasks
    from tiers.models import MetricsRun, StudentMetrics

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    district = year.district
    run, chunks_count, year_args = _prepared_run(district, monkeypatch)
    meet, real_write = _meeting(2), services._write_results
    monkeypatch.setattr(services, "_write_results", lambda run, result: meet() or real_write(run, result))

    def chunk_task(chunk):
        return lambda: tasks.compute_metrics_chunk.apply(
            args=(district.pk, run.pk, chunk, chunks_count, year_args)
        ).get()

    results, errors = _at_once(chunk_task(0), chunk_task(0))
    assert not errors
    expected = sorted(student.pk for student in year.students if student.pk % chunks_count == 0)
    assert [result["students"] for result in results] == [len(expected)] * 2
    assert _chunk_rows(district, run, 0, chunks_count) == expected  # each student once
    results = [results[0]] + [chunk_task(chunk)() for chunk in range(1, chunks_count)]
    tasks.finish_metrics_run.apply(args=(results, district.pk, run.pk, MetricsRun.Trigger.NIGHTLY))
    late = chunk_task(0)()  # delivered again after the run succeeded: nothing happens
    with scope(district=district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED and selectors.current_run() == run, run.error
        assert StudentMetrics.objects.filter(run=run).count() == run.students == 5
    assert late["students"] is None
    assert _chunk_rows(district, run, 0, chunks_count) == expected


def test_the_chords_callback_delivered_twice_at_once_swaps_once(transactional_db, tenant_a, monkeypatch, settings):
    """Two deliveries of the callback at once: one attaches, syncs and swaps; the other steps
    aside (it used to fail attaching tables already attached, mark the run failed and drop the
    rows just made current)."""
    from tiers import selectors, tasks
    from tiers.models import MetricsRun, StudentMetrics

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    district = year.district
    run, chunks_count, year_args = _prepared_run(district, monkeypatch)
    results = [
        tasks.compute_metrics_chunk.apply(args=(district.pk, run.pk, chunk, chunks_count, year_args)).get()
        for chunk in range(chunks_count)
    ]
    meet, real_finish = _meeting(2), tasks.metrics_run_finish
    finished = []
    monkeypatch.setattr(
        tasks, "metrics_run_finish", lambda **kw: meet() or finished.append(kw["run"].pk) or real_finish(**kw)
    )

    def callback():
        return tasks.finish_metrics_run.apply(args=(results, district.pk, run.pk, MetricsRun.Trigger.NIGHTLY)).get()

    answers, errors = _at_once(callback, callback)
    assert not errors and answers == [run.pk, run.pk]
    assert finished == [run.pk]
    with scope(district=district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED and selectors.current_run() == run, run.error
        assert StudentMetrics.objects.filter(run=run).count() == run.students == 5


@pytest.mark.redis
@pytest.mark.usefixtures("redis_worker")
def test_a_start_sent_twice_through_a_real_broker_runs_one_chord(transactional_db, tenant_a, monkeypatch, settings):
    """The same start message twice through Redis to a worker (a redelivery, same task id): the
    run is prepared once, each chunk computed once, and it ends current with every row."""
    from tiers import services, tasks
    from tiers.models import MetricsRun, StudentMetrics

    from .test_tiers_services import NOV_28, _wait_for, compute

    settings.METRICS_CHUNK_TASKS = True
    year = tiers_year(tenant_a)
    compute(year.district, OCT_31)
    monkeypatch.setattr(services, "CHUNK_STUDENTS", 2)
    seen, real = [], tasks.metrics_run_chunk
    monkeypatch.setattr(tasks, "metrics_run_chunk", lambda **kwargs: seen.append(kwargs["chunk"]) or real(**kwargs))
    prepared, real_prepare = [], tasks.metrics_run_prepare
    monkeypatch.setattr(tasks, "metrics_run_prepare", lambda **kw: prepared.append(kw["run"].pk) or real_prepare(**kw))
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=NOV_28, trigger=MetricsRun.Trigger.MANUAL)
    for _delivery in range(2):
        tasks.compute_district_metrics.apply_async(
            args=(year.district.pk, NOV_28.isoformat()), kwargs={"run_id": run.pk}, task_id=f"start-{run.pk}"
        )
    _wait_for(year.district, run)
    with scope(district=year.district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current, run.error
        assert StudentMetrics.objects.filter(run=run).count() == run.students == 5
    assert prepared == [run.pk]
    assert sorted(seen) == [0, 1, 2]


def test_a_run_lock_whose_connection_died_leaves_the_blocks_own_error(transactional_db):
    """The connection dropped inside the block (the database restarted): its session ended and
    the lock with it; releasing it must not raise over the block's error, which decides the retry."""
    from tiers import run_locks

    with pytest.raises(RuntimeError, match="the database went away"):
        with run_locks.alone(run_locks.START, 1) as held:
            assert held
            connection.connection.close()
            raise RuntimeError("the database went away")
    connection.close()
    with run_locks.alone(run_locks.START, 1) as held:
        assert held
