"""Benchmark of the figures' cache after a run (tiers.aggregates, issue 14): time and peak memory
of computing the district's figures, the bounded computation (sums in SQL, the prior year a chunk
of students at a time) beside the whole-district one it replaced (tests/aggregates_reference.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_bench \\
        .venv/bin/python bench/bench_figures.py --students 50000 100000 200000 --weeks 22 --prior summaries

Reuses the districts bench_engine.py builds (bench-<students>; built here with a first run when
missing). The benchmark districts hold no prior year and one week of snapshots, which a real
district by late January does not: --weeks adds earlier weeks' snapshot rows (the latest week's
rows moved back a week at a time, fewer days enrolled and absent), --prior adds a prior year
(`summaries`: 70% of students with a prior-year summary; `daily`: this year's calendar,
enrollments and records 52 weeks earlier, so the prior year to date is an engine pass). Each is
added once and kept. Each computation runs in a fresh child process, so the peak RSS printed
(ru_maxrss) is its own, beside a child that only sets Django up and reads the run (the floor);
then one more child computes both and says whether every figure is identical.
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from districts.models import District  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    parser.add_argument("--weeks", type=int, default=0, help="weeks of snapshot rows to hold (adds earlier weeks)")
    parser.add_argument("--prior", choices=["none", "summaries", "daily"], default="none")
    parser.add_argument("--repeat", type=int, default=1, help="old/new pairs per size")
    parser.add_argument("--no-check", action="store_true", help="skip the child that compares every figure")
    parser.add_argument("--child", nargs=2, metavar=("SLUG", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Needs PostgreSQL and a database named *bench* (DATABASE_URL).")
    for students in args.students:
        district = prepared(students, weeks=args.weeks, prior=args.prior)
        print(f"{students:,} students ({district.slug}): weeks of snapshots {weeks_held(district)}, prior {args.prior}")
        floor = run_child(district.slug, "none")
        print(f"  floor (Django set up, run read): peak {floor['peak_mb']:.0f} MB")
        for _ in range(args.repeat):
            for what in ("old", "new"):
                load = os.getloadavg()[0]
                figures = run_child(district.slug, what)
                print(
                    f"  {what}: {figures['seconds']:.2f}s, peak {figures['peak_mb']:.0f} MB "
                    f"({figures['peak_mb'] - floor['peak_mb']:.0f} MB over the floor), {figures['groups']} groups | "
                    f"load {load:.1f} → {os.getloadavg()[0]:.1f} ({time.strftime('%H:%M:%S', time.gmtime())} UTC)",
                    flush=True,
                )
        if not args.no_check:
            same = run_child(district.slug, "both")
            print(f"  every figure identical: {same['identical']}", flush=True)


def run_child(slug: str, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", slug, what], cwd=ROOT, capture_output=True, text=True, env=os.environ
    )
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(slug: str, what: str) -> dict:
    from tests import aggregates_reference
    from tiers import aggregates
    from tiers.models import MetricsRun

    district = District.objects.get(slug=slug)
    with district_scope(district):
        run = MetricsRun.objects.select_related("policy").get(is_current=True)
        started = time.perf_counter()
        result = {}
        if what == "old":
            report = aggregates_reference.compute(district, run)
        elif what == "new":
            report = aggregates._compute(district, run)
        elif what == "both":
            report = aggregates._compute(district, run)
            result["identical"] = report == aggregates_reference.compute(district, run)
        else:
            report = {"groups": []}
        result.update(
            seconds=time.perf_counter() - started,
            peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            groups=len(report["groups"]),
        )
    return result


def prepared(students: int, *, weeks: int, prior: str) -> District:
    from bench.bench_engine import AS_OF, build
    from tiers.models import MetricsRun
    from tiers.services import compute_metrics

    district = District.objects.filter(slug=f"bench-{students}").first() or build(students)
    with district_scope(district):
        if not MetricsRun.objects.filter(is_current=True).exists():
            compute_metrics(district=district, as_of=AS_OF, backfill=False)
    with connection.cursor() as cursor:
        if weeks and weeks_held(district) < weeks:
            _add_weeks(cursor, district.pk, weeks)
        if prior == "summaries":
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM students_prioryearsummary WHERE district_id = %s)", [district.pk]
            )
            if not cursor.fetchone()[0]:
                _add_summaries(cursor, district.pk)
        if prior == "daily":
            first = datetime.date(2025, 8, 25) - datetime.timedelta(days=364)
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM students_calendarday WHERE district_id = %s AND date <= %s)",
                [district.pk, first + datetime.timedelta(days=300)],
            )
            if not cursor.fetchone()[0]:
                _add_last_year(cursor, district.pk)
        cursor.execute("ANALYZE")
    return district


def weeks_held(district: District) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT week_start) FROM tiers_weeklysnapshot WHERE district_id = %s", [district.pk]
        )
        return cursor.fetchone()[0]


def _add_weeks(cursor, district_id: int, weeks: int) -> None:
    started = time.perf_counter()
    cursor.execute("SELECT max(week_start) FROM tiers_weeklysnapshot WHERE district_id = %s", [district_id])
    (latest,) = cursor.fetchone()
    for back in range(1, weeks):
        cursor.execute(
            "INSERT INTO tiers_weeklysnapshot (district_id, student_id, week_start, as_of, membership_days, absent_days, "
            "absence_rate, band, tier, rules) "
            "SELECT district_id, student_id, week_start - 7 * %(back)s, as_of - 7 * %(back)s, "
            "greatest(membership_days - 5 * %(back)s, 1), round(absent_days * (%(weeks)s - %(back)s) / %(weeks)s, 3), "
            "absence_rate, band, tier, rules FROM tiers_weeklysnapshot "
            "WHERE district_id = %(district)s AND week_start = %(latest)s ON CONFLICT DO NOTHING",
            {"back": back, "weeks": weeks, "district": district_id, "latest": latest},
        )
    print(f"  added {weeks - 1} earlier weeks of snapshots in {time.perf_counter() - started:.1f}s")


def _add_summaries(cursor, district_id: int) -> None:
    cursor.execute("SELECT setseed(0.5)")
    cursor.execute(
        "INSERT INTO students_prioryearsummary (district_id, student_id, school_year, days_enrolled, days_absent) "
        "SELECT district_id, id, '2024-25', e, floor(random() * random() * e * 0.4)::int "
        "FROM (SELECT district_id, id, 5 + floor(random() * 176)::int AS e FROM students_student "
        "      WHERE district_id = %s AND random() < 0.7) s",
        [district_id],
    )
    print(f"  added {cursor.rowcount:,} prior-year summaries")


def _add_last_year(cursor, district_id: int) -> None:
    started = time.perf_counter()
    for table, columns, shifted in (
        ("students_calendarday", "school_id, instructional, minutes, event", "date"),
        ("students_enrollment", "student_id, school_id, grade, exit_reason", "entry_date, exit_date"),
        ("students_attendancerecord", "student_id, school_id, code, category, minutes_absent", "date"),
    ):
        moved = ", ".join(f"{name.strip()} - 364" for name in shifted.split(","))
        cursor.execute(
            f"INSERT INTO {table} (district_id, {columns}, {shifted}) SELECT district_id, {columns}, {moved} "
            f"FROM {table} WHERE district_id = %s",
            [district_id],
        )
    print(
        f"  added last year's daily attendance (this year's, 52 weeks earlier) in {time.perf_counter() - started:.1f}s"
    )


if __name__ == "__main__":
    main()
