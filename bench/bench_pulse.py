"""Benchmark of the district pulse (issue 12). Run on demand; prints every figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_bench_pulse .venv/bin/python bench/bench_pulse.py
    ... bench/bench_pulse.py --students 50000 --requests 30

Builds (once; kept for the next run) a synthetic district with bench/generate_engine_district.py,
runs the metrics as of a January Friday, logs outreach for a share of the students (--supported),
and runs the pulse app's share of the nightly run (the dashboard's figures, the pulse checks and
intervention effectiveness, tiers.hooks), timed, with effectiveness timed alone beside it. Then, as a district staff member
through Django's test client (middleware, view, template: the server's whole work), it times the
dashboard and the other pulse pages, and `export_pulse` for every --by.
Targets at 200,000 students: dashboard ≤ 300 ms p95 after the nightly run; export_pulse ≤ 5 s.
"""

import argparse
import datetime
import os
import statistics
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.database import ensure_database  # noqa: E402
from bench.generate_engine_district import generate  # noqa: E402
from districts.models import District, Role  # noqa: E402
from districts.services import district_create, member_add  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402
from pulse.figures import LEVELS  # noqa: E402
from pulse.services import effectiveness_figures_store  # noqa: E402
from tiers.models import MetricsRun  # noqa: E402
from tiers.services import compute_metrics  # noqa: E402
from tiers.tasks import _after_nightly_run  # noqa: E402

START = datetime.date(2025, 8, 25)
AS_OF = datetime.date(2026, 1, 30)
P95_TARGET_MS, EXPORT_TARGET_S = 300, 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--supported", type=float, default=0.1, help="share of students with logged outreach (default 0.1)"
    )
    parser.add_argument(
        "--backfill",
        action="store_true",
        help="replay the year's past weeks on the first run (slow: ~20 engine passes)",
    )
    options = parser.parse_args()
    settings.DEBUG = False
    setup_test_environment()  # the test client's response hooks; the database is the bench's own
    ensure_database()
    call_command("migrate", verbosity=0)
    print(f"load average before: {os.getloadavg()}")
    district, user = _district(options.students)
    with district_scope(district):
        run = MetricsRun.objects.filter(is_current=True).first()
        if run is None or run.as_of != AS_OF:
            started = time.perf_counter()
            run = compute_metrics(district=district, as_of=AS_OF, backfill=options.backfill)
            print(f"metrics as of {AS_OF}: {time.perf_counter() - started:.1f} s")
        from django.core.cache import cache

        _supports(district, user, options.supported)
        cache.clear()
        started = time.perf_counter()
        _after_nightly_run(district, run)
        print(
            f"pulse nightly work (board figures + pulse checks + effectiveness): {time.perf_counter() - started:.1f} s"
        )
        started, started_cpu = time.perf_counter(), time.process_time()
        stored = effectiveness_figures_store(district=district, run=run)
        print(
            f"  of which intervention effectiveness: {time.perf_counter() - started:.1f} s "
            f"(Python CPU {time.process_time() - started_cpu:.1f} s), {len(stored.rows)} rows stored for {run.as_of}"
        )
    _pages(district, user, options.requests)
    _exports(district)
    print(f"load average after: {os.getloadavg()}")


def _supports(district, user, share: float) -> None:
    """Outreach for `share` of the students, once: one to three attempts each between October and
    January (method, and a barrier on every third), what intervention effectiveness reads."""
    import random

    from districts.models import Membership
    from outreach.models import Barrier, Method, OutreachAction
    from students.models import Student

    if OutreachAction.objects.exists():
        return
    started = time.perf_counter()
    rng = random.Random(12)
    author = Membership.objects.get(user=user)
    ids = list(Student.objects.values_list("pk", flat=True))
    chosen = rng.sample(ids, int(len(ids) * share))
    methods, barriers = [m for m, _ in Method.choices], [b for b, _ in Barrier.choices]
    actions = [
        OutreachAction(
            district=district, student_id=student_id, author=author, method=rng.choice(methods), reached=True,
            attempt_date=datetime.date(2025, 10, 1) + datetime.timedelta(days=rng.randrange(110)),
            barrier=rng.choice(barriers) if index % 3 == 0 else "",
        )
        for student_id in chosen
        for index in range(rng.randint(1, 3))
    ]  # fmt: skip
    OutreachAction.objects.bulk_create(actions, batch_size=5000)
    print(f"outreach for {len(chosen):,} students ({len(actions):,} attempts) in {time.perf_counter() - started:.1f} s")


def _district(students: int):
    slug = f"bench-pulse-{students}"
    district = District.objects.filter(slug=slug).first()
    if district is None:
        district = district_create(
            slug=slug, name=f"Bench {students:,}", school_year_start=START, school_year_end=datetime.date(2026, 6, 30)
        )
        started = time.perf_counter()
        with district_scope(district):
            counts = generate(district.pk, students, start=START)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
    with district_scope(district):
        email = f"staff@{slug}.example.org"
        from districts.models import User

        user = User.objects.filter(email=email).first()
        if user is None:
            user = member_add(district=district, email=email, role=Role.DISTRICT_STAFF).membership.user
    return district, user


def _pages(district, user, requests: int) -> None:
    client = Client()
    client.force_login(user)
    base = f"/d/{district.slug}/pulse/"
    with district_scope(district):
        from districts.models import School

        school = School.objects.order_by("pk").first()
    for label, url in [
        ("dashboard", base),
        ("groups by school", base + "groups/?by=school&sort=rate&dir=desc"),
        ("groups by subgroup", base + "groups/?by=subgroup"),
        ("school drill-down", f"{base}schools/{school.pk}/"),
        ("pulse checks", base + "checks/"),
        ("effectiveness (stored)", base + "effectiveness/"),
    ]:
        for _ in range(3):  # warm: templates, session, connection
            assert client.get(url).status_code == 200, url
        timings, cpu = [], []
        for _ in range(requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        p95 = statistics.quantiles(timings, n=20)[-1]
        cpu_p95 = statistics.quantiles(cpu, n=20)[-1]
        target = (
            f" (target {P95_TARGET_MS} ms: {'met' if p95 <= P95_TARGET_MS else 'NOT met'})"
            if label == "dashboard"
            else ""
        )
        print(
            f"{label}: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {requests}{target}; "
            f"Python CPU p50 {statistics.median(cpu):.1f} ms, p95 {cpu_p95:.1f} ms"
        )


def _exports(district) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for by in LEVELS:
            out = Path(folder, f"{by}.csv")
            started = time.perf_counter()
            call_command("export_pulse", "--district", district.slug, "--by", by, "--min-cell", "10", "--out", str(out),
                         stdout=open(os.devnull, "w"))  # fmt: skip
            seconds = time.perf_counter() - started
            rows = len(out.read_text().splitlines()) - 1
            verdict = "met" if seconds <= EXPORT_TARGET_S else "NOT met"
            print(f"export_pulse --by {by}: {seconds:.2f} s, {rows} rows (target {EXPORT_TARGET_S} s: {verdict})")


if __name__ == "__main__":
    main()
