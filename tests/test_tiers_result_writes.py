"""How a run writes its results (issue 14): on PostgreSQL into a partition of its own, attached
when complete and dropped when replaced; the week's snapshot updated in place. The promises of
issue 4 stay: a crash at any step leaves the previous results current and readable, and the
results are the same as the plain path's (SQLite runs these tests through the ORM fallback)."""

import datetime

import pytest
from django.db import connection
from django_scopes import scope

from tiers import partitions, selectors, services
from tiers.loading import SchoolYear, load_year
from tiers.models import MetricsRun, StudentMetrics, StudentSchoolMetrics, WeeklySnapshot

from .factories import EnrollmentFactory, StudentFactory
from .test_tiers_services import METRIC_FIELDS, NOV_28, OCT_31, SNAPSHOT_FIELDS, compute, metric_rows, snapshot_rows
from .tiers_data import FIRST_DAY, tiers_year

OCT_30 = datetime.date(2025, 10, 30)
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's")


@pytest.fixture
def year(tenant_a, tenant_b):
    tiers_year(tenant_b, prefix="B")
    return tiers_year(tenant_a)


def _tables_like(prefix: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", [prefix + "%"])
        return {row[0] for row in cursor.fetchall()}


@postgres_only
def test_each_run_has_its_own_partition_and_a_replaced_runs_is_dropped(year):
    first = compute(year.district, OCT_31)
    assert partitions.partitioned("tiers_studentmetrics") and partitions.partitioned("tiers_studentschoolmetrics")
    assert f"tiers_studentmetrics_run{first.pk}" in _tables_like("tiers_studentmetrics_run")

    second = compute(year.district, NOV_28)

    assert _tables_like("tiers_studentmetrics_run") == {f"tiers_studentmetrics_run{second.pk}"}
    assert _tables_like("tiers_studentschoolmetrics_run") == {f"tiers_studentschoolmetrics_run{second.pk}"}
    with scope(district=year.district):
        assert selectors.student_metrics_current().count() == 5
        assert not StudentMetrics.objects.filter(run=first).exists()


@postgres_only
def test_the_partition_enforces_the_parents_keys(year):
    """The run's own table carries the parent's foreign keys and unique key once attached."""
    run = compute(year.district, OCT_31)
    part = partitions.run_partition("tiers_studentmetrics", run.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f'", [part])
        assert cursor.fetchone()[0] == 4  # district, run, student, current school
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [part])
        assert cursor.fetchone()[0] == 5  # primary key, unique, school/tier, student, current school


def test_a_crash_halfway_through_writing_leaves_the_previous_run_current(year, monkeypatch):
    first = compute(year.district, OCT_31)
    expected = metric_rows(year.district, first)
    real_insert = services._insert_run_rows

    def die_on_the_school_rows(run, model, frame):
        if model is StudentSchoolMetrics:
            raise RuntimeError("worker killed while writing")
        real_insert(run, model, frame)

    monkeypatch.setattr(services, "_insert_run_rows", die_on_the_school_rows)
    with pytest.raises(RuntimeError, match="killed"):
        compute(year.district, NOV_28)

    with scope(district=year.district):
        failed = MetricsRun.objects.get(as_of=NOV_28)
        assert failed.status == MetricsRun.Status.FAILED and selectors.current_run() == first
        assert sorted(selectors.student_metrics_current().values_list(*METRIC_FIELDS)) == expected
        assert not StudentMetrics.objects.filter(run=failed).exists()
    if connection.vendor == "postgresql":
        assert f"tiers_studentmetrics_run{failed.pk}" not in _tables_like("tiers_studentmetrics_run")


def test_a_crash_removing_the_replaced_rows_keeps_the_new_run_current_and_the_next_run_cleans_up(year, monkeypatch):
    first = compute(year.district, OCT_31)

    def die(run_ids):
        if run_ids:
            raise RuntimeError("killed while dropping")

    monkeypatch.setattr(services, "_discard_results_of", die)
    second = compute(year.district, NOV_28)
    monkeypatch.undo()

    assert second.status == MetricsRun.Status.SUCCEEDED and second.is_current
    with scope(district=year.district):
        assert selectors.current_run() == second
        assert selectors.student_metrics_current().count() == 5
        assert StudentMetrics.objects.filter(run=first).exists()  # left over, never read

    third = compute(year.district, NOV_28)
    with scope(district=year.district):
        assert set(StudentMetrics.objects.values_list("run_id", flat=True)) == {third.pk}
        assert set(StudentSchoolMetrics.objects.values_list("run_id", flat=True)) == {third.pk}


def test_a_failure_dropping_the_staged_candidates_after_the_swap_keeps_the_new_run(year, monkeypatch):
    """The swap has committed: a cleanup error must not reach the failure path, which would mark
    the run failed and drop the results just made current."""
    compute(year.district, OCT_31)

    def die(run_ids):
        raise RuntimeError("lock timeout while dropping the staged candidates")

    monkeypatch.setattr(services.flag_candidates, "drop", die)
    second = compute(year.district, NOV_28)
    monkeypatch.undo()

    assert second.status == MetricsRun.Status.SUCCEEDED and second.is_current
    with scope(district=year.district):
        assert selectors.current_run() == second
        assert selectors.student_metrics_current().count() == 5


def test_a_later_night_of_the_week_leaves_the_same_snapshot_as_writing_it_afresh(year):
    compute(year.district, OCT_30)
    with scope(district=year.district):
        # Gone from the roster by Friday: no membership, so no snapshot row that week.
        year.steady.enrollments.all().delete()
    run = compute(year.district, OCT_31)
    in_place = snapshot_rows(year.district)

    with scope(district=year.district):
        WeeklySnapshot.objects.filter(week_start=datetime.date(2025, 10, 27)).delete()
        inputs = load_year(year.district, SchoolYear.containing(year.district, OCT_31))
        policy = run.policy.as_policy()
        from tiers import engine

        services.snapshot_write(
            district=year.district, result=engine.compute(inputs, as_of=OCT_31, policy=policy), as_of=OCT_31
        )
    afresh = snapshot_rows(year.district)

    assert in_place == afresh
    assert year.steady.pk not in {row[0] for row in in_place if row[1] == datetime.date(2025, 10, 27)}
    assert len([row for row in in_place if row[1] == datetime.date(2025, 10, 27)]) == 4
    assert SNAPSHOT_FIELDS[0] == "student_id"


def test_a_student_new_on_a_later_night_of_the_week_gets_the_weeks_row_and_no_other_district_changes(
    year, tenant_a, tenant_b
):
    """The week's rows are updated and a newcomer's inserted in one MERGE (PostgreSQL); nothing
    stale, so no row is deleted; the other district's week is untouched."""
    compute(tenant_b.district, OCT_30)
    others = snapshot_rows(tenant_b.district)
    compute(year.district, OCT_30)
    with scope(district=year.district):
        newcomer = StudentFactory(district=year.district, sis_id="T900", first_name="Newcomer", last_name="Tester")
        EnrollmentFactory(student=newcomer, school=tenant_a.school, entry_date=FIRST_DAY)
    run = compute(year.district, OCT_31)
    in_place = snapshot_rows(year.district)

    with scope(district=year.district):
        WeeklySnapshot.objects.filter(week_start=datetime.date(2025, 10, 27)).delete()
        inputs = load_year(year.district, SchoolYear.containing(year.district, OCT_31))
        from tiers import engine

        services.snapshot_write(
            district=year.district,
            result=engine.compute(inputs, as_of=OCT_31, policy=run.policy.as_policy()),
            as_of=OCT_31,
        )
    afresh = snapshot_rows(year.district)

    week = [row for row in in_place if row[1] == datetime.date(2025, 10, 27)]
    assert in_place == afresh
    assert newcomer.pk in {row[0] for row in week} and len(week) == 6
    assert {row[2] for row in week} == {OCT_31}
    assert snapshot_rows(tenant_b.district) == others


@postgres_only
def test_the_snapshot_table_leaves_room_for_a_nights_update_beside_each_row(db):
    """Later nights of a week update every row of the week; with half of each page free the new
    versions are heap-only tuples (no index entries): migration 0008."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'tiers_weeklysnapshot'::regclass")
        assert "fillfactor=50" in (cursor.fetchone()[0] or [])


@postgres_only
def test_the_migration_reverses_and_reapplies_keeping_rows_and_names(year):
    run = compute(year.district, OCT_31)
    before = metric_rows(year.district, run)

    def names(table):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                "UNION SELECT indexname FROM pg_indexes WHERE tablename = %s",
                [table, table],
            )
            return {row[0] for row in cursor.fetchall()}

    named = names("tiers_studentmetrics")
    with connection.schema_editor() as editor:
        partitions.rebuild(editor, "tiers_studentmetrics", partition=False)
    assert not partitions.partitioned("tiers_studentmetrics")
    assert metric_rows(year.district, run) == before
    with connection.schema_editor() as editor:
        partitions.rebuild(editor, "tiers_studentmetrics", partition=True)
    assert partitions.partitioned("tiers_studentmetrics")
    assert metric_rows(year.district, run) == before
    assert names("tiers_studentmetrics") == named
    second = compute(year.district, NOV_28)  # rows from the default partition are replaced too
    with scope(district=year.district):
        assert set(StudentMetrics.objects.values_list("run_id", flat=True)) == {second.pk}


def _killed_before_its_first_chunk(district, as_of, *, status, started_hours_ago: float) -> MetricsRun:
    """A run whose worker died right after creating its tables: its flag candidates' table
    exists, no row of it was written anywhere."""
    from django.utils import timezone

    from tiers import flag_candidates

    with scope(district=district):
        run = services.metrics_run_create(district=district, as_of=as_of, trigger="nightly")
        MetricsRun.objects.filter(pk=run.pk).update(
            status=status, step="loading", started_at=timezone.now() - datetime.timedelta(hours=started_hours_ago)
        )
    flag_candidates.create(run.pk)
    return run


@postgres_only
def test_the_sweep_drops_the_staged_candidates_of_a_run_killed_before_its_first_chunk(year, tenant_b):
    from django_scopes import scopes_disabled

    from tiers import flag_candidates, tasks

    killed = _killed_before_its_first_chunk(year.district, OCT_31, status="running", started_hours_ago=48)
    failed_earlier = _killed_before_its_first_chunk(tenant_b.district, OCT_30, status="failed", started_hours_ago=48)
    working = _killed_before_its_first_chunk(year.district, NOV_28, status="running", started_hours_ago=0)
    staged = {flag_candidates.table_name(run.pk) for run in (killed, failed_earlier, working)}
    assert staged <= _tables_like("tiers_flagcandidates_run")

    with scopes_disabled():
        assert tasks.metrics_runs_sweep() == 1  # the killed run is failed, as before

    assert _tables_like("tiers_flagcandidates_run") == {flag_candidates.table_name(working.pk)}
    with scope(district=year.district):
        assert MetricsRun.objects.get(pk=working.pk).status == MetricsRun.Status.RUNNING


@postgres_only
def test_the_next_run_drops_the_staged_candidates_a_killed_run_left(year, tenant_b):
    """No sweep ran (beat down, or the command line): the district's next run finds the run
    still "running" hours later, fails it and drops its table; another district's stays."""
    from tiers import flag_candidates

    killed = _killed_before_its_first_chunk(year.district, OCT_30, status="running", started_hours_ago=12)
    others = _killed_before_its_first_chunk(tenant_b.district, OCT_30, status="running", started_hours_ago=0)

    run = compute(year.district, OCT_31)

    assert run.status == MetricsRun.Status.SUCCEEDED
    with scope(district=year.district):
        assert MetricsRun.objects.get(pk=killed.pk).status == MetricsRun.Status.FAILED
    assert _tables_like("tiers_flagcandidates_run") == {flag_candidates.table_name(others.pk)}
