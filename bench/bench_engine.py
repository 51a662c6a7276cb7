"""Benchmark of the nightly recompute (issue 4). Run on demand; prints every figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_bench .venv/bin/python bench/bench_engine.py
    ... bench/bench_engine.py --students 20000 100000 200000

For each size it builds a synthetic district in PostgreSQL (COPY), then in a fresh child
process (so peak memory is that run's alone) times a full steady-state nightly recompute —
load, engine, write, flags, snapshot and swap — and the engine alone; then it times the floor:
one hand-written SQL aggregate of membership and absent days over the same data.
Targets at 200,000 students: recompute ≤ 60 s, ≤ 2 GB peak, engine/floor ≤ 3×.
"""

import argparse
import datetime
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.database import ensure_database  # noqa: E402
from bench.generate_engine_district import generate  # noqa: E402
from bench.memory import peak_kib  # noqa: E402
from districts.models import District  # noqa: E402
from districts.services import district_create  # noqa: E402
from districts.tenancy import district_fetchall, district_scope  # noqa: E402

START = datetime.date(2025, 8, 25)
AS_OF = datetime.date(2026, 1, 30)  # about 110 of 180 instructional days
# The timed night follows a first run as of the day before (the Thursday): a Friday night, with
# every open flag's "last met" moving on and the week's snapshot rows replaced.

FLOOR_SQL = """
WITH membership AS (
    SELECT e.student_id, count(*) AS days
    FROM students_enrollment e
    JOIN students_calendarday c ON c.district_id = e.district_id AND c.school_id = e.school_id
     AND c.instructional AND c.date >= e.entry_date AND (e.exit_date IS NULL OR c.date < e.exit_date)
     AND c.date <= %(as_of)s
    WHERE e.district_id = %(district_id)s
    GROUP BY e.student_id
), absent AS (
    SELECT r.student_id, count(DISTINCT r.date) AS days
    FROM students_attendancerecord r
    WHERE r.district_id = %(district_id)s AND r.date <= %(as_of)s
      AND r.category IN ('absent_excused', 'absent_unexcused', 'suspension_out_of_school')
    GROUP BY r.student_id
)
SELECT count(*), sum(membership.days), sum(coalesce(absent.days, 0))
FROM membership LEFT JOIN absent USING (student_id)
"""


def build(students: int) -> District:
    slug = f"bench-{students}"
    district = district_create(
        slug=slug, name=f"Bench {students:,}", school_year_start=START, school_year_end=datetime.date(2026, 6, 30)
    )
    started = time.perf_counter()
    with district_scope(district):
        counts = generate(district.pk, students, start=START)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  generated {counts} in {time.perf_counter() - started:.1f}s")
    return district


def measure(slug: str) -> dict:
    """In the child process: one warm-up run (the district's first), then the timed ones."""
    from tiers import engine
    from tiers.loading import SchoolYear, load_year
    from tiers.services import compute_metrics, policy_current

    district = District.objects.get(slug=slug)
    figures = {}
    with district_scope(district):
        started = time.perf_counter()
        compute_metrics(district=district, as_of=AS_OF - datetime.timedelta(days=1), backfill=False)
        figures["first_run_s"] = time.perf_counter() - started
        phases = _PhaseLog()
        started = time.perf_counter()
        with phases:
            run = compute_metrics(district=district, as_of=AS_OF, backfill=False)
        figures["nightly_run_s"] = time.perf_counter() - started
        run.refresh_from_db()
        if not run.is_current:
            # With --keep, a district whose current run is dated after AS_OF times a night that
            # never swaps (a run dated earlier than the current one is not made current).
            sys.exit(f"The timed night (run {run.pk}, as of {AS_OF}) did not become current: a later-dated run is.")
        # Peak of the runs alone (the process then loads and computes in one pass, for the engine figure).
        figures["run_peak_rss_mb"] = peak_mb()
        figures["phases"] = phases.seconds
        figures["students"] = run.students
        started = time.perf_counter()
        inputs = load_year(district, SchoolYear.containing(district, AS_OF))
        figures["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        result = engine.compute(inputs, as_of=AS_OF, policy=policy_current(district=district).as_policy())
        figures["engine_s"] = time.perf_counter() - started
        figures["records"] = len(inputs.records)
        figures["chronic_share"] = float(result.students["chronic"].mean())
    figures["peak_rss_mb"] = peak_mb()
    return figures


def peak_mb() -> float:
    return peak_kib() / 1024


class _PhaseLog(logging.Handler):
    """Collects the run's own per-step timings (tiers.services logs them to "tiers.phases")."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.seconds[record.phase] = self.seconds.get(record.phase, 0.0) + record.seconds

    def __enter__(self):
        log = logging.getLogger("tiers.phases")
        log.setLevel(logging.INFO)
        log.addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("tiers.phases").removeHandler(self)


def floor(district: District) -> float:
    started = time.perf_counter()
    rows = district_fetchall(district, FLOOR_SQL, {"as_of": AS_OF})
    elapsed = time.perf_counter() - started
    print(
        f"  floor SQL: {rows[0][0]:,} students, {rows[0][1]:,} membership days, {rows[0][2]:,} absent days in {elapsed:.1f}s"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, nargs="+", default=[20_000, 100_000, 200_000])
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse a district built by an earlier run (no flush; building 200k takes minutes)",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Refusing to run: the benchmark empties its database; use one named *bench*.")
    ensure_database()
    call_command("migrate", verbosity=0)
    if not args.keep:
        call_command("flush", interactive=False, verbosity=0)  # TRUNCATE: leftovers of earlier runs
    table = []
    for students in args.students:
        print(f"{students:,} students")
        district = District.objects.filter(slug=f"bench-{students}").first() if args.keep else None
        district = district or build(students)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", district.slug], capture_output=True, text=True, env=os.environ
        )
        if child.returncode:
            sys.exit(child.stderr)
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        figures["floor_s"] = floor(district)
        load = os.getloadavg()
        print(f"  machine load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
        print("  steps of the nightly recompute, each beside the SQL floor of the same run:")
        for name, seconds in figures["phases"].items():
            print(f"    {name:<18} {seconds:6.2f}s   {seconds / figures['floor_s']:5.2f}× floor")
        print(
            f"  nightly recompute {figures['nightly_run_s']:.1f}s (first run {figures['first_run_s']:.1f}s) | "
            f"load {figures['load_s']:.1f}s, engine {figures['engine_s']:.1f}s | peak {figures['peak_rss_mb']:.0f} MB "
            f"(the runs alone {figures['run_peak_rss_mb']:.0f} MB) | "
            f"{figures['records']:,} records, {figures['chronic_share']:.1%} chronic"
        )
        table.append((students, figures))
    print(
        "\nstudents   recompute   engine   load   floor   recompute/floor   (load+engine)/floor   peak MB   s per 10k students"
    )
    for students, f in table:
        print(
            f"{students:>8,}   {f['nightly_run_s']:>8.1f}s  {f['engine_s']:>6.1f}s  {f['load_s']:>5.1f}s  {f['floor_s']:>5.1f}s"
            f"   {f['nightly_run_s'] / f['floor_s']:>14.1f}×   {(f['load_s'] + f['engine_s']) / f['floor_s']:>18.1f}×   {f['peak_rss_mb']:>7.0f}   {f['nightly_run_s'] / students * 10_000:>8.2f}"
        )


if __name__ == "__main__":
    main()
