"""The nightly run's promises (issue #4): idempotent, crash-safe, flags never duplicated and kept
with their history, policy versions recorded, the export's exact format, and the nightly fan-out
by each district's own clock."""

import csv
import datetime
import math
import os
import threading
import time
import uuid
import zoneinfo
from decimal import Decimal
from fractions import Fraction

import pytest
from celery.signals import task_prerun
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django_scopes import scope, scopes_disabled

from attendnc.celery import app as celery_app
from districts.tenancy import district_cache_key
from students.models import CalendarDay
from tiers import selectors, services, tasks
from tiers.models import CalculationPolicy, Flag, MetricsRun, StudentMetrics, StudentSchoolMetrics, WeeklySnapshot

from .tiers_data import FIRST_DAY, OCT_31, count_school_days, tiers_year

UTC = datetime.UTC
NOV_28 = datetime.date(2025, 11, 28)
DEC_12 = datetime.date(2025, 12, 12)
METRIC_FIELDS = [
    "student_id", "current_school_id", "membership_days", "absent_days", "absent_excused", "absent_unexcused",
    "absent_suspension", "absent_partial", "tardy_days", "absence_rate", "chronic", "band", "remaining_days",
    "absences_left", "recent_rate", "projected_rate", "tier", "rules", "signals",
]  # fmt: skip
SNAPSHOT_FIELDS = [
    "student_id",
    "week_start",
    "as_of",
    "membership_days",
    "absent_days",
    "absence_rate",
    "band",
    "tier",
    "rules",
]


@pytest.fixture
def year(tenant_a, tenant_b):
    tiers_year(tenant_b, prefix="B")  # a second district with the same shapes: nothing may leak
    return tiers_year(tenant_a)


def compute(district, as_of, **options) -> MetricsRun:
    with scope(district=district):
        return services.compute_metrics(district=district, as_of=as_of, **options)


def metric_rows(district, run) -> list[tuple]:
    with scope(district=district):
        return sorted(StudentMetrics.objects.filter(run=run).values_list(*METRIC_FIELDS))


def flag_rows(district) -> list[tuple]:
    """Every column, timestamps included: "unchanged" means not even touched."""
    with scope(district=district):
        return sorted(Flag.objects.values_list())


def snapshot_rows(district) -> list[tuple]:
    with scope(district=district):
        return sorted(WeeklySnapshot.objects.values_list(*SNAPSHOT_FIELDS))


def open_flag(district, student, rule) -> Flag:
    with scope(district=district):
        return Flag.objects.get(student=student, rule=rule, status__in=Flag.OPEN_STATUSES)


# --- reading the year from the database --------------------------------------------------------


def test_non_instructional_days_are_not_school_days_on_either_database(year):
    """A holiday is a calendar row with instructional false. On PostgreSQL the calendar arrives
    through COPY's CSV, where a false boolean is the letter f: it must still read as false."""
    holidays = [datetime.date(2025, 10, 13), datetime.date(2025, 10, 24)]  # a Monday and a Friday
    with scope(district=year.district):
        CalendarDay.objects.filter(school=None, date=holidays[0]).update(instructional=False, event="Holiday")
        CalendarDay.objects.create(
            district=year.district, school=year.school, date=holidays[1], instructional=False, event="Teacher workday"
        )
    run = compute(year.district, OCT_31)
    with scope(district=year.district):
        steady = StudentMetrics.objects.get(run=run, student=year.steady)
        mover = StudentMetrics.objects.get(run=run, student=year.mover)
    assert steady.membership_days == 50 - 2  # both days off at the tenant's school
    assert mover.membership_days == 50 - 1  # at the other school since Oct 1: only the district holiday


def test_each_step_of_a_run_is_logged_with_its_run_district_and_seconds(year, caplog):
    """Operators read where a night's minutes went from the log, and bench/bench_engine.py reads
    each record's phase and seconds: a line must say which run and district it is about."""
    with caplog.at_level("INFO", logger="tiers.phases"):
        run = compute(year.district, OCT_31)
    steps = [record for record in caplog.records if record.name == "tiers.phases"]
    assert {"engine", "write", "flags", "swap"} <= {record.phase for record in steps}
    engine = next(record for record in steps if record.phase == "engine")
    assert engine.run_id == run.pk and engine.seconds >= 0
    assert engine.getMessage().startswith(f"Metrics run {run.pk} (district {year.district.pk}): engine took ")


# --- idempotence and crash safety -------------------------------------------------------------


def test_the_same_as_of_date_twice_gives_identical_results_and_no_new_flags(year):
    first = compute(year.district, OCT_31)
    metrics, flags, snapshots = (
        metric_rows(year.district, first),
        flag_rows(year.district),
        snapshot_rows(year.district),
    )
    assert first.status == MetricsRun.Status.SUCCEEDED and flags and len(metrics) == 5

    second = compute(year.district, OCT_31)

    assert second.flags_created == 0
    assert metric_rows(year.district, second) == metrics
    assert flag_rows(year.district) == flags
    assert snapshot_rows(year.district) == snapshots
    first.refresh_from_db()
    assert second.is_current and not first.is_current


def test_the_second_run_replaces_the_first_runs_rows(year):
    first = compute(year.district, OCT_31)
    first_rows = metric_rows(year.district, first)
    second = compute(year.district, OCT_31)
    assert metric_rows(year.district, second) == first_rows
    assert metric_rows(year.district, first) == []  # swapped out, so deleted


def test_a_crash_before_the_swap_leaves_the_previous_run_current_and_readable(year, monkeypatch):
    first = compute(year.district, OCT_31)
    expected, flags = metric_rows(year.district, first), flag_rows(year.district)

    def crash(run):
        raise RuntimeError("worker killed during the swap")

    monkeypatch.setattr(services, "_swap_current", crash)
    with pytest.raises(RuntimeError, match="killed"):
        compute(year.district, NOV_28)

    with scope(district=year.district):
        failed = MetricsRun.objects.get(as_of=NOV_28)
        assert failed.status == MetricsRun.Status.FAILED and not failed.is_current
        assert "worker killed" in failed.error and failed.finished_at
        assert selectors.current_run() == first
        current = sorted(selectors.student_metrics_current().values_list(*METRIC_FIELDS))
        assert not StudentMetrics.objects.filter(run=failed).exists()  # written, never swapped in, removed
    assert current == expected
    assert flag_rows(year.district) == flags  # the flag updates rolled back with the swap


def test_the_run_after_a_crash_succeeds_and_discards_the_stale_rows(year, monkeypatch):
    compute(year.district, OCT_31)
    monkeypatch.setattr(services, "_swap_current", lambda run: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        compute(year.district, NOV_28)
    monkeypatch.undo()

    third = compute(year.district, NOV_28)

    with scope(district=year.district):
        failed = MetricsRun.objects.get(status=MetricsRun.Status.FAILED)
        assert not StudentMetrics.objects.filter(run=failed).exists()
        assert not StudentSchoolMetrics.objects.filter(run=failed).exists()
        assert selectors.current_run() == third
        assert set(StudentMetrics.objects.values_list("run_id", flat=True)) == {third.pk}
    assert third.status == MetricsRun.Status.SUCCEEDED


def test_a_run_that_overlaps_another_keeps_its_results(year, monkeypatch):
    """Two runs of one district at once (the nightly run and a policy change on a two-process
    worker): the one that started second must not discard the first one's rows as "stale"."""
    real_swap = services._swap_current

    def another_run_meanwhile(run):
        monkeypatch.setattr(services, "_swap_current", real_swap)
        compute(year.district, NOV_28)
        real_swap(run)

    monkeypatch.setattr(services, "_swap_current", another_run_meanwhile)
    slower = compute(year.district, OCT_31)

    assert slower.is_current
    assert len(metric_rows(year.district, slower)) == 5


# --- flags --------------------------------------------------------------------------------------


def test_flags_are_never_duplicated_across_runs(year):
    for as_of in [OCT_31, NOV_28, DEC_12, OCT_31, DEC_12]:
        compute(year.district, as_of)
    with scope(district=year.district):
        pairs = list(Flag.objects.filter(status__in=Flag.OPEN_STATUSES).values_list("student_id", "rule"))
    assert pairs and len(pairs) == len(set(pairs))


def test_the_database_refuses_a_second_open_flag_for_the_same_rule(year):
    compute(year.district, OCT_31)
    flag = open_flag(year.district, year.monday, "t2_chronic")
    with scope(district=year.district):
        duplicate = dict(
            district=year.district,
            student=year.monday,
            rule="t2_chronic",
            tier=2,
            first_met=OCT_31,
            last_met=OCT_31,
            why="again",
            policy_version=1,
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Flag.objects.create(**duplicate)
        Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.RESOLVED)
        Flag.objects.create(**duplicate)  # history: a resolved flag does not block a new one


def test_a_lapsed_flag_is_marked_not_met_and_refreshed_when_it_holds_again(year):
    compute(year.district, OCT_31)
    flag = open_flag(year.district, year.recent, "t2_recent_absences")
    assert flag.currently_met and flag.first_met == datetime.date(2025, 10, 17)  # the backfilled week
    assert "Oct 14, Oct 15, Oct 16" in flag.why

    compute(year.district, NOV_28)
    lapsed = open_flag(year.district, year.recent, "t2_recent_absences")
    assert lapsed.pk == flag.pk and not lapsed.currently_met
    assert lapsed.last_met == OCT_31 and lapsed.status == Flag.Status.NEW

    again = compute(year.district, DEC_12)
    held = open_flag(year.district, year.recent, "t2_recent_absences")
    assert held.pk == flag.pk and held.currently_met
    assert held.first_met == flag.first_met and held.last_met == DEC_12
    assert "Dec 1, Dec 2, Dec 3" in held.why
    with scope(district=year.district):
        assert Flag.objects.filter(student=year.recent, rule="t2_recent_absences").count() == 1
    assert again.status == MetricsRun.Status.SUCCEEDED


def test_flags_quote_the_numbers_and_dates_of_when_they_were_raised(year):
    compute(year.district, OCT_31, backfill=False)  # raised on Oct 31, not in a replayed week
    chronic = open_flag(year.district, year.monday, "t2_chronic")
    assert chronic.why == "Absent 9 days of 50 school days (18.0%): at or above the 10.0% chronic threshold"
    recent = open_flag(year.district, year.monday, "t2_recent_absences")
    assert recent.why == "4 days absent in the last 20 school days: Oct 6, Oct 13, Oct 20, Oct 27"

    compute(year.district, NOV_28)  # still chronic: today's figures are in the metrics, the why stays
    later = open_flag(year.district, year.monday, "t2_chronic")
    assert later.why == chronic.why and later.last_met == NOV_28 and later.first_met == OCT_31


# --- policy versions ------------------------------------------------------------------------------


def test_a_policy_update_makes_a_new_version_and_results_record_it(year, tenant_a):
    first = compute(year.district, OCT_31)
    assert first.policy.version == 1
    with scope(district=year.district):
        policy = services.policy_update(
            district=year.district,
            user=tenant_a.user("district_admin"),
            note="State guidance: 5%",
            chronic_threshold_pct=Decimal("5.00"),
        )
        assert list(CalculationPolicy.objects.values_list("version", flat=True)) == [2, 1]
        assert CalculationPolicy.objects.get(version=1).chronic_threshold_pct == Decimal("10.00")
    assert policy.version == 2 and policy.as_policy().chronic_threshold == Fraction(1, 20)

    second = compute(year.district, OCT_31)

    assert second.policy.version == 2
    recent = open_flag(year.district, year.recent, "t2_chronic")  # 3 of 50 days = 6% ≥ 5%
    assert recent.policy_version == 2
    assert open_flag(year.district, year.monday, "t2_chronic").policy_version == 1  # first met under v1
    with scope(district=year.district):
        assert StudentMetrics.objects.get(run=second, student=year.recent).chronic


def test_a_policy_update_refuses_unknown_settings_and_bad_values(year):
    with scope(district=year.district):
        with pytest.raises(ValueError, match="Not policy settings"):
            services.policy_update(district=year.district, chronic_treshold=5)
        with pytest.raises(ValidationError):
            services.policy_update(district=year.district, partial_days="quarter")
        assert not CalculationPolicy.objects.filter(version__gt=1).exists()


# --- history ----------------------------------------------------------------------------------------


def test_the_first_run_backfills_weekly_snapshots_and_dates_flags_in_earlier_weeks(year):
    compute(year.district, OCT_31)
    with scope(district=year.district):
        weeks = sorted(set(WeeklySnapshot.objects.values_list("week_start", flat=True)))
        monday_week2 = WeeklySnapshot.objects.get(student=year.monday, week_start=datetime.date(2025, 9, 1))
    assert weeks[0] == FIRST_DAY and weeks[-1] == datetime.date(2025, 10, 27) and len(weeks) == 10
    assert (monday_week2.as_of, monday_week2.membership_days, monday_week2.absent_days) == (
        datetime.date(2025, 9, 5), 10, Decimal("1.000"),
    )  # fmt: skip
    # 1 of 10 days on Sep 5 is exactly 10%: chronic from that week on, not "new" on Oct 31.
    assert open_flag(year.district, year.monday, "t2_chronic").first_met == datetime.date(2025, 9, 5)


def test_later_runs_do_not_replay_the_year(year):
    compute(year.district, OCT_31)
    before = snapshot_rows(year.district)
    compute(year.district, NOV_28)
    after = snapshot_rows(year.district)
    assert {row[1] for row in after} - {row[1] for row in before} == {datetime.date(2025, 11, 24)}


# --- export ------------------------------------------------------------------------------------------


def read_csv(path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_export_metrics_writes_the_issues_columns_and_formats(year, tmp_path):
    out = tmp_path / "metrics.csv"
    call_command(
        "export_metrics", "--district=alpha", "--as-of=2025-10-31", f"--out={out}", stdout=open(os.devnull, "w")
    )
    header, *rows = read_csv(out)
    assert header == [
        "student_sis_id", "school_sis_id", "membership_days", "absent_days", "absence_rate", "chronic", "band",
        "tier", "flags", "projected_rate", "absences_left_before_chronic",
    ]  # fmt: skip
    by_student = {row[0]: row for row in rows}
    assert set(by_student) == {"T001", "T002", "T003", "T004", "T005"}  # no district B rows
    remaining = count_school_days(OCT_31)
    projected = (9 + Fraction(4, 20) * remaining) / (50 + remaining)
    left = max(0, math.ceil(Fraction(1, 10) * (50 + remaining)) - 1 - 9)
    assert by_student["T002"] == [
        "T002", year.school.sis_id, "50", "9", "0.1800", "true", "moderate", "3",
        "t2_recent_absences;t2_chronic;t2_prior_year_chronic;t2_monday_friday;t3_repeat_chronic",
        f"{float(projected):.4f}", str(left),
    ]  # fmt: skip
    assert by_student["T001"][3:9] == ["0", "0.0000", "false", "satisfactory", "0", ""]
    assert by_student["T004"][1] == year.other_school.sis_id  # the mover's current school
    assert by_student["T005"][3:6] == ["1", "0.0200", "false"]  # 200 of 360 minutes: a half day or more


def test_export_metrics_by_school_has_one_row_per_student_and_school(year, tmp_path):
    compute(year.district, OCT_31)
    out = tmp_path / "schools.csv"
    call_command("export_metrics", "--district=alpha", "--by-school", f"--out={out}", stdout=open(os.devnull, "w"))
    header, *rows = read_csv(out)
    assert header == [
        "student_sis_id",
        "school_sis_id",
        "membership_days",
        "absent_days",
        "absence_rate",
        "chronic",
        "band",
    ]
    mover = [row for row in rows if row[0] == "T004"]
    # Aug 25 – Sep 30 is 27 school days at the first school (exit date not counted), Oct 1–31 is 23.
    assert mover == [
        ["T004", year.school.sis_id, "27", "1", "0.0370", "false", "satisfactory"],
        ["T004", year.other_school.sis_id, "23", "1", "0.0435", "false", "satisfactory"],
    ]
    assert len(rows) == 6


# --- the nightly fan-out -----------------------------------------------------------------------------


@pytest.fixture
def honolulu_and_new_york(tenant_a, tenant_b):
    with scopes_disabled():
        tenant_a.district.timezone = "Pacific/Honolulu"
        tenant_a.district.save()
    return tenant_a.district, tenant_b.district


def tick(now: datetime.datetime) -> list[tuple[str, datetime.date]]:
    """One beat tick at `now`: which districts are due, and queue their run as the dispatch does."""
    with scopes_disabled():
        due = tasks.districts_due(now)
    for district, as_of in due:
        with scope(district=district):
            services.metrics_run_create(district=district, as_of=as_of, trigger=MetricsRun.Trigger.NIGHTLY)
    return sorted((district.slug, as_of) for district, as_of in due)


def test_nightly_dispatch_picks_districts_by_their_own_clock(honolulu_and_new_york):
    nov_2, nov_3 = datetime.date(2025, 11, 2), datetime.date(2025, 11, 3)
    # 12:15 UTC on Nov 3 is 02:15 in Honolulu and 07:15 in New York: both run for Nov 2.
    assert tick(datetime.datetime(2025, 11, 3, 12, 15, tzinfo=UTC)) == [("alpha", nov_2), ("beta", nov_2)]
    # 06:45 UTC on Nov 4 is 01:45 in New York (EST) and 20:45 on Nov 3 in Honolulu: nobody.
    assert tick(datetime.datetime(2025, 11, 4, 6, 45, tzinfo=UTC)) == []
    # 07:15 UTC is 02:15 in New York: its night has come, for the last full day, Nov 3.
    assert tick(datetime.datetime(2025, 11, 4, 7, 15, tzinfo=UTC)) == [("beta", nov_3)]
    assert tick(datetime.datetime(2025, 11, 4, 7, 30, tzinfo=UTC)) == []
    # 12:15 UTC is 02:15 in Honolulu, five hours later by the world's clock.
    assert tick(datetime.datetime(2025, 11, 4, 12, 15, tzinfo=UTC)) == [("alpha", nov_3)]


def test_nightly_dispatch_follows_daylight_saving_time(honolulu_and_new_york):
    # In July New York is UTC-4: 05:45 UTC is 01:45 there, 06:15 UTC already 02:15.
    assert ("beta", datetime.date(2026, 6, 30)) not in tick(datetime.datetime(2026, 7, 1, 5, 45, tzinfo=UTC))
    assert ("beta", datetime.date(2026, 6, 30)) in tick(datetime.datetime(2026, 7, 1, 6, 15, tzinfo=UTC))


def test_nightly_dispatch_does_not_start_a_second_run_for_the_same_night(
    honolulu_and_new_york, monkeypatch, django_capture_on_commit_callbacks
):
    hawaii, new_york = honolulu_and_new_york
    sent = []
    monkeypatch.setattr(tasks.compute_district_metrics, "delay", lambda *args, **kwargs: sent.append((args, kwargs)))
    night = datetime.datetime(2025, 11, 4, 12, 15, tzinfo=UTC)
    monkeypatch.setattr(tasks.timezone, "now", lambda: night)

    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(tasks.nightly_dispatch()) == ["alpha", "beta"]
    # The next beat tick, 15 minutes later, while both runs still wait in the queue.
    monkeypatch.setattr(tasks.timezone, "now", lambda: night + datetime.timedelta(minutes=15))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.nightly_dispatch() == []

    with scopes_disabled():
        runs = list(
            MetricsRun.objects.order_by("district__slug").values_list("district__slug", "as_of", "trigger", "status")
        )
    assert runs == [
        ("alpha", datetime.date(2025, 11, 3), "nightly", "queued"),
        ("beta", datetime.date(2025, 11, 3), "nightly", "queued"),
    ]
    with scopes_disabled():
        run_ids = {run.district_id: run.pk for run in MetricsRun.objects.all()}
    assert sorted(sent) == sorted(
        ((district.pk, "2025-11-03"), {"run_id": run_ids[district.pk]}) for district in (hawaii, new_york)
    )


def test_the_nightly_task_fills_the_figures_cache_for_the_morning(year):
    run_id = tasks.compute_district_metrics.delay(year.district.pk, "2025-10-31").get()
    with scope(district=year.district):
        run = MetricsRun.objects.get(pk=run_id)
    assert cache.get(district_cache_key(year.district, "tiers", "aggregates", run.pk))["run_id"] == run.pk


def _nightly_work(monkeypatch) -> list[tuple[str, int]]:
    """Records what the task does after a run: (step, run id)."""
    done = []
    monkeypatch.setattr(tasks, "_warm_aggregates", lambda district, run: done.append(("figures", run.pk)))
    monkeypatch.setattr(tasks, "_after_nightly_run", lambda district, run: done.append(("pulse", run.pk)))
    return done


@pytest.mark.parametrize("trigger", [MetricsRun.Trigger.MANUAL, MetricsRun.Trigger.POLICY, MetricsRun.Trigger.NIGHTLY])
def test_only_a_nightly_run_does_the_nightly_work_after_it(
    year, monkeypatch, django_capture_on_commit_callbacks, trigger
):
    """Queued runs reach the task with their id and no trigger: "Recompute now", a policy change
    and a retry used to do the nightly work (figures' cache, pulse checks, effectiveness) as if nightly."""
    done = _nightly_work(monkeypatch)
    with scope(district=year.district), django_capture_on_commit_callbacks(execute=True):
        run = services.metrics_run_start(district=year.district, as_of=OCT_31, trigger=trigger)
    with scope(district=year.district):
        run.refresh_from_db()
    assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current, run.error
    assert done == ([("figures", run.pk), ("pulse", run.pk)] if trigger == MetricsRun.Trigger.NIGHTLY else [])


def test_a_policy_change_and_a_retry_do_not_do_the_nightly_work(year, monkeypatch, django_capture_on_commit_callbacks):
    done = _nightly_work(monkeypatch)
    with scope(district=year.district), django_capture_on_commit_callbacks(execute=True):
        _policy, run = services.policy_change(
            district=year.district, user=None, note="stricter", as_of=OCT_31, chronic_threshold_pct=Decimal("8.00")
        )
    with scope(district=year.district):
        failed = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.NIGHTLY)
        MetricsRun.objects.filter(pk=failed.pk).update(status=MetricsRun.Status.FAILED)
        failed.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            retry = services.metrics_run_retry(run=failed)
        assert MetricsRun.objects.get(pk=run.pk).status == MetricsRun.Status.SUCCEEDED
        assert MetricsRun.objects.get(pk=retry.pk).status == MetricsRun.Status.SUCCEEDED
    assert done == []


def test_a_task_delivered_twice_does_not_run_a_finished_run_again(year):
    run = compute(year.district, OCT_31)
    finished_at = run.finished_at
    assert tasks.compute_district_metrics.delay(year.district.pk, "2025-10-31", run_id=run.pk).get() == run.pk
    with scope(district=year.district):
        assert MetricsRun.objects.get(pk=run.pk).finished_at == finished_at
        assert MetricsRun.objects.count() == 1


def test_beat_ticks_the_nightly_dispatch_every_15_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-metrics-dispatch"]
    assert entry["task"] == "tiers.tasks.nightly_dispatch" == tasks.nightly_dispatch.name
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert schedule.minute == {0, 15, 30, 45} and schedule.hour == set(range(24))
    assert schedule.day_of_week == set(range(7))
    # Every district's 02:00 falls within a quarter hour of a tick, whatever its UTC offset.
    local_two_am = datetime.datetime(2025, 11, 4, 2, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))  # UTC+05:30
    due_in = schedule.remaining_estimate(local_two_am.astimezone(UTC) - datetime.timedelta(seconds=1))
    assert due_in <= datetime.timedelta(minutes=15)


# --- a real broker and a real worker --------------------------------------------------------------


def _reachable_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set: the real-worker test needs a Redis broker (scripts/test sets one).")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {url} is not reachable ({error}).")
    return url


@pytest.fixture
def redis_worker():
    """A Celery worker thread on a real Redis broker, on a queue of its own so that other test
    runs sharing the Redis server neither take this test's tasks nor give it theirs."""
    from celery.contrib.testing.worker import start_worker

    url = _reachable_redis()
    queue = f"tiers-test-{uuid.uuid4().hex[:8]}"
    names = ["broker_url", "result_backend", "task_always_eager", "task_default_queue"]
    saved = {name: celery_app.conf[name] for name in names}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False, task_default_queue=queue)
    try:
        with start_worker(celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            yield queue
    finally:
        celery_app.conf.update(saved)


@pytest.mark.redis
def test_compute_district_metrics_runs_on_a_real_worker(transactional_db, year, redis_worker):
    threads = []

    def seen(sender=None, **kwargs):
        threads.append((sender.name, threading.current_thread()))

    task_prerun.connect(seen, weak=False)
    try:
        with scope(district=year.district):
            run = services.metrics_run_start(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.MANUAL)
        _wait_for(year.district, run)
    finally:
        task_prerun.disconnect(seen)
    assert threads == [(tasks.compute_district_metrics.name, threads[0][1])]
    assert threads[0][1] is not threading.main_thread()  # the worker's thread, through the broker
    with scope(district=year.district):
        run.refresh_from_db()
        assert run.status == MetricsRun.Status.SUCCEEDED, run.error
        assert selectors.current_run() == run
        monday = selectors.student_metrics_current().get(student=year.monday)
    assert (monday.membership_days, monday.absent_days, monday.tier) == (50, Decimal("9.000"), 3)
    assert run.step == "done" and run.step_text == "Done" and run.progress == 100 and run.students == 5


def _wait_for(district, run) -> None:
    deadline = time.monotonic() + 60
    with scope(district=district):
        while MetricsRun.objects.get(pk=run.pk).status in (MetricsRun.Status.QUEUED, MetricsRun.Status.RUNNING):
            assert time.monotonic() < deadline, "the worker did not finish the run within 60 s"
            time.sleep(0.2)


def test_a_flag_the_team_resolved_does_not_reopen_while_its_rule_keeps_holding(year):
    compute(year.district, OCT_31)
    flag = open_flag(year.district, year.monday, "t2_chronic")
    with scope(district=year.district):
        Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.RESOLVED, resolution="Family plan agreed")
    compute(year.district, NOV_28)  # still chronic
    with scope(district=year.district):
        flags = list(Flag.objects.filter(student=year.monday, rule="t2_chronic"))
    assert [(f.pk, f.status, f.currently_met) for f in flags] == [(flag.pk, Flag.Status.RESOLVED, True)]


@pytest.mark.parametrize(
    ("step", "language", "says"),
    [
        ("computing", "es", "Calculando las cifras"),
        ("replaying:2025-09-08", "en", "Replaying the week of September 8"),
        ("replaying:2025-09-08", "es", "Reprocesando la semana del 8 de septiembre"),
        ("done_superseded:12:2025-10-31", "en", "Done; run 12 as of Oct. 31, 2025 stays current"),
        ("Computing metrics", "es", "Computing metrics"),  # stored as prose before codes: as written
    ],
)
def test_a_runs_step_is_stored_as_a_code_and_read_in_the_viewers_language(step, language, says):
    from django.utils import translation

    with translation.override(language):
        assert MetricsRun(step=step).step_text == says
