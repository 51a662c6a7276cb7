"""Benchmark of a district's SIS import (issue 3). Run on demand; prints every figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_imports .venv/bin/python bench/bench_import.py
    ... bench/bench_import.py --students 20000 200000

For each size it generates the canonical CSV folder if missing (bench/generate_district.py),
gives it a fresh district, then runs `manage.py import_sis` — the command-line code path —
in a child process, so the wall time and peak memory (the child's own VmHWM, bench/memory.py) are
that import's alone. The same folder is then imported a second time: nothing may change.

Each figure is printed beside its floor, measured in the same run on the same machine load: a
plain PostgreSQL COPY of the same files into fresh tables (columns typed as the import reads
them) and a build of an index on each file's key. Targets (issue 14): a first import ≤ 5× the
floor, the same files again ≤ 3×, peak RSS ≤ 1 GB at 200,000 students.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from bench.database import ensure_database  # noqa: E402
from bench.generate_district import START, generate  # noqa: E402
from districts.models import District  # noqa: E402
from districts.services import district_create  # noqa: E402
from districts.tenancy import district_sql  # noqa: E402
from imports.parsing.canonical import FILE_ENTITIES  # noqa: E402
from imports.placing import KEYS  # noqa: E402
from imports.schema import DATE, ENTITIES, INT  # noqa: E402
from students import partitions  # noqa: E402

YEAR_END = START + datetime.timedelta(days=299)
DATA = Path(os.environ.get("BENCH_DATA", Path(tempfile.gettempdir()) / "attendnc-bench"))
# Tables holding a district's imported rows, children first, cleared between runs with raw SQL
# (an ORM cascade over 3M rows would take longer than the import being measured).
TABLES = [
    "imports_importchange", "imports_quarantinedrow", "imports_importrun", "imports_columnmapping",
    "students_attendancerecord", "students_prioryearsummary", "students_guardian", "students_enrollment",
    "students_calendarday", "students_attendancecode", "students_mentorassignment", "students_student",
    "districts_school",
]  # fmt: skip


def fresh_district(slug: str) -> District:
    """The benchmark's district, emptied of everything a previous run imported."""
    with scopes_disabled():
        district = District.objects.filter(slug=slug).first()
    if district is None:
        # The generated year (bench/generate_district.py): rows outside the district's year are held.
        return district_create(
            slug=slug,
            name=f"Benchmark {slug}",
            school_year_start=START,
            school_year_end=START + datetime.timedelta(days=299),
        )
    district.school_year_start, district.school_year_end = START, YEAR_END
    district.save(update_fields=["school_year_start", "school_year_end"])
    tables = _existing_tables()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(*district_sql(district, f"DELETE FROM {table} WHERE district_id = %(district_id)s"))
        # A new district has no partitions of its own (students.partitions): its first import
        # makes them. The emptied ones of the previous run go.
        for partitioning in partitions.ALL:
            cursor.execute(f"DROP TABLE IF EXISTS {partitioning.district_partition(district.pk)}")
        # A first import should meet tables as a new district would, not millions of dead rows.
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return district


def _existing_tables() -> list[str]:
    present = set(connection.introspection.table_names())
    dependent = [
        table for table in present
        if table.startswith(("tiers_", "outreach_", "cases_")) and "district_id" in _columns(table)
    ]  # fmt: skip
    return [*dependent, *(table for table in TABLES if table in present)]


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


# The child reports its own peak (bench.memory): RUSAGE_CHILDREN would give the largest of every
# child so far, and the child's own ru_maxrss keeps this process's peak (it may have just
# generated 200,000 students: the first and the second import both read 1,210 MiB then).
CHILD = f"""import runpy, sys
sys.path.insert(0, {str(ROOT)!r})
from bench.memory import peak_kib
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("PEAK_KIB", peak_kib(), file=sys.stderr)
"""


def run_command(slug: str, folder: Path, *extra: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, output) of `manage.py import_sis` in a child process."""
    started = time.perf_counter()
    command = [str(ROOT / "manage.py"), "import_sis", "--district", slug, "--format", "csv", *extra, str(folder)]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "MEDIA_ROOT": str(DATA / "media")},  # the kept copy of the upload, outside the repo
    )
    wall = time.perf_counter() - started
    if result.returncode:
        print(result.stdout, result.stderr, sep="\n")
        raise SystemExit(f"import_sis exited with {result.returncode}")
    peak = int(next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("PEAK_KIB")))
    return wall, peak / 1024, result.stdout


FLOOR_SCHEMA = "bench_copy_floor"


def copy_floor(folder: Path) -> float:
    """Seconds to COPY every canonical CSV of `folder` into a fresh table of its columns (dates
    as date, counts as integer, the rest text) and index each table on its key: what the
    database itself needs to take in the same rows, the floor an import is compared with."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:  # one transaction, as an import is
        cursor.execute(f"DROP SCHEMA IF EXISTS {FLOOR_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {FLOOR_SCHEMA}")
        for path in sorted(folder.glob("*.csv")):
            entity = ENTITIES[FILE_ENTITIES[path.name]]
            with open(path, "rb") as handle:
                header = handle.readline().decode("utf-8-sig").strip().split(",")
            kinds = {field.name: field.kind for field in entity.fields}
            types = {DATE: "date", INT: "integer"}
            columns = ", ".join(f"{name} {types.get(kinds.get(name), 'text')}" for name in header)
            table = f"{FLOOR_SCHEMA}.{entity.name}"
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            with (
                open(path, "rb") as handle,
                cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := handle.read(1024 * 1024):
                    copy.write(chunk)
            cursor.execute(f"CREATE INDEX ON {table} ({', '.join(KEYS[entity.name])})")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {FLOOR_SCHEMA} CASCADE")
    return seconds


def load_average() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def _run_seconds(output: str) -> float | None:
    """The run's own time, started to finished, from the command's summary line."""
    found = re.search(r" in ([0-9.]+)s \(", output)
    return float(found[1]) if found else None


def bench(students: int) -> None:
    folder = DATA / f"district-{students}"
    if not (folder / "attendance.csv").exists():
        started = time.perf_counter()
        counts = generate(students, folder)
        print(f"generated {folder} in {time.perf_counter() - started:.1f}s: {counts}")
    rows = sum(sum(1 for _ in open(path)) - 1 for path in folder.glob("*.csv"))
    megabytes = sum(path.stat().st_size for path in folder.glob("*.csv")) / 1024**2
    slug = f"bench-import-{students}"
    fresh_district(slug)
    print(f"\n== {students:,} students: {rows:,} rows, {megabytes:,.0f} MB of CSV")
    floor = copy_floor(folder)
    print(f"floor: COPY + index of the same files {floor:.1f}s ({load_average()})")
    for label, target in (("first import", 5), ("same files again", 3)):
        wall, peak, output = run_command(slug, folder)
        summary = [line for line in output.splitlines() if line.startswith(("  attendance", "Read"))]
        print(
            f"{label}: {wall:.1f}s wall = {wall / floor:.1f}× the floor (target ≤ {target}×), "
            f"{rows / wall:,.0f} rows/s, peak RSS {peak:,.0f} MiB ({load_average()})"
        )
        for line in summary:
            print("   ", line.strip())
        run_seconds = _run_seconds(output)
        if run_seconds is not None:
            # Without the child's start (Python, Django, its checks) and the kept copy of the files.
            print(f"    the import run itself: {run_seconds:.1f}s = {run_seconds / floor:.1f}× the floor")
    floor = copy_floor(folder)
    print(f"floor again, after the imports: {floor:.1f}s ({load_average()})")


def bench_one_file(rows: int) -> None:
    """Peak memory of one import of a single attendance.csv of at least `rows` rows (issue 9: a
    1M-row file stays under 1 GB of worker memory). The district's roster is imported first, in
    its own process, so the measured child reads nothing but that file."""
    students = max(1000, rows * 200_000 // 2_950_000 + 1000)  # ≈14.8 absence records per student
    folder = DATA / f"district-{students}"
    if not (folder / "attendance.csv").exists():
        generate(students, folder)
    roster, single = DATA / f"roster-{students}", DATA / f"attendance-{students}"
    for target, names in (
        (roster, [p.name for p in folder.glob("*.csv") if p.name != "attendance.csv"]),
        (single, ["attendance.csv"]),
    ):
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            if not (target / name).exists():
                (target / name).symlink_to(folder / name)
    lines = sum(1 for _ in open(single / "attendance.csv")) - 1
    slug = f"bench-one-file-{students}"
    fresh_district(slug)
    run_command(slug, roster)
    wall, peak, output = run_command(slug, single)
    verdict = "under" if peak < 1024 else "OVER"
    print(f"\n== one attendance.csv of {lines:,} rows ({(single / 'attendance.csv').stat().st_size / 1024**2:,.0f} MB)")
    print(f"import: {wall:.1f}s wall, peak RSS {peak:,.0f} MiB ({verdict} 1 GiB)")
    for line in output.splitlines():
        if line.startswith(("  attendance", "Read")):
            print("   ", line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description="SIS import benchmark")
    parser.add_argument("--students", type=int, nargs="+", default=[20000])
    parser.add_argument(
        "--one-file", type=int, metavar="ROWS", help="only: peak memory importing one attendance file of ROWS rows"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: the benchmark measures the COPY path.")
    ensure_database()
    call_command("migrate", verbosity=0)
    print(f"database {settings.DATABASES['default']['NAME']}, data in {DATA}")
    if args.one_file:
        bench_one_file(args.one_file)
        return
    for students in sorted(args.students):
        bench(students)


if __name__ == "__main__":
    main()
