"""Benchmark of the weekly huddle page (issue 5). Run on demand; prints every figure.

    .venv/bin/python bench/bench_huddle.py                      # SQLite, in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_huddle .venv/bin/python bench/bench_huddle.py

It builds a throwaway test database (Django's test-database machinery: the configured database
itself is never touched), fills one school with 800 students of whom 150 are flagged
(bench/generate_huddle_school.py, the same school the query-count test uses), generates the
week's huddle, then requests the page ~50 times with the Django test client as the school's
attendance lead. Server time is the handler's wall time: middleware, view, queries and template.
Targets (issue 10): p95 ≤ 80 ms, ≤ 20 queries.

By default the school has a worked history, as week 14 of a real year looks: two past huddles
held, owners assigned, contacts logged, Tier 3 candidates answered, a few follow-ups slipped, a
few flags ready to close and the rest on track (generate_huddle_school.work_the_weeks).
--first-huddle measures a district's first huddle instead (every flag new, all on the agenda).
"""

import argparse
import datetime
import gc
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402

from bench.generate_huddle_school import build_huddle_school, work_the_weeks  # noqa: E402
from districts.models import Role  # noqa: E402
from districts.services import district_create, member_add, school_create  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402
from outreach.models import Section  # noqa: E402
from outreach.services import huddle_generate  # noqa: E402

WEEK = datetime.date(2025, 11, 17)
P95_TARGET_MS, QUERY_TARGET = 80, 20  # issue 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=800)
    parser.add_argument("--flagged", type=int, default=150)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--first-huddle", action="store_true",
        help="measure the school's first huddle (every flag new, every row on the agenda) instead of "
        "the default: the third huddle after two weeks worked by the team (generate_huddle_school.work_the_weeks)",
    )  # fmt: skip
    parser.add_argument(
        "--agenda", type=int, default=None,
        help="with --first-huddle: keep this many rows on the agenda and put the rest on track",
    )  # fmt: skip
    parser.add_argument(
        "--gc-freeze", action=argparse.BooleanOptionalAction, default=True,
        help="gc.freeze() once the app is loaded and before the first request, as attendnc/wsgi.py does in every "
        "server process (default); --no-gc-freeze shows the cyclic collector's tail instead",
    )  # fmt: skip
    options = parser.parse_args()

    settings.DEBUG = False  # as in production: templates without debug bookkeeping
    engine = engines["django"].engine
    engine.debug = False  # the engine may exist already, built while DEBUG was still the development default
    print(f"templates: debug {engine.debug}, loaders {engine.loaders}")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        url, user, rows = _build(options)
        _measure(url, user, rows, options)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _build(options):
    started = time.perf_counter()
    district = district_create(slug="bench", name="Benchmark Unified", school_year_start=datetime.date(2025, 8, 25),
                               school_year_end=datetime.date(2026, 6, 10))  # fmt: skip
    with district_scope(district):
        school = school_create(district=district, sis_id="MS-1", name="Benchmark Middle School")
        grant = member_add(district=district, email="lead@bench.example.org", role=Role.ATTENDANCE_LEAD, school=school)
        counselor = member_add(
            district=district, email="counselor@bench.example.org", role=Role.COUNSELOR, school=school
        )
        build_huddle_school(
            district=district, school=school, author=grant.membership, week_start=WEEK,
            students=options.students, flagged=options.flagged,
        )  # fmt: skip
        if not options.first_huddle:
            work_the_weeks(
                district=district, school=school, team=[grant.membership, counselor.membership], week_start=WEEK
            )
        generated = time.perf_counter()
        huddle = huddle_generate(district=district, school=school, week_start=WEEK)
        generation = time.perf_counter() - generated
        rows = huddle.rows.count()
        if options.first_huddle and options.agenda is not None:
            keep = list(huddle.rows.order_by("position").values_list("pk", flat=True)[: options.agenda])
            huddle.rows.exclude(pk__in=keep).update(
                section=Section.ON_TRACK, owner=grant.membership, next_step="Check in with the family",
                next_step_due=WEEK + datetime.timedelta(days=10),
            )  # fmt: skip
        on_track = huddle.rows.filter(section=Section.ON_TRACK).count()
        sections = dict(Counter(huddle.rows.values_list("section", flat=True)))
    print(
        f"database: {connection.vendor}; {'first huddle' if options.first_huddle else 'worked history (three huddles held)'}"
    )
    print(f"sections: {sections}")
    print(
        f"school: {options.students} students, {options.flagged} flagged -> {rows} huddle rows "
        f"({rows - on_track} on the agenda, {on_track} on track as one line each)"
    )
    print(f"build: {time.perf_counter() - started:.1f} s (huddle generation {generation * 1000:.0f} ms)")
    return f"/d/{district.slug}/huddles/{huddle.pk}/", grant.membership.user, (rows, on_track)


def _measure(url, user, rows, options) -> None:
    client = Client()
    client.force_login(user)
    if options.gc_freeze:
        # Where attendnc/wsgi.py freezes: after loading, before any request (so the templates compiled and
        # the catalogs read by the first requests stay collectable, as in a server). Without it, 1 request
        # in ~17 pays a generation-2 collection over this process's whole heap: +120 ms of CPU (2026-12-01).
        gc.collect()
        gc.freeze()
    for _ in range(3):  # warm: template cache, session, connection
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)  # now: the next request clears the log the capture reads from
    rows, on_track = rows
    body = response.content.decode()
    assert body.count("data-row-focus") == rows - on_track
    lines_url = f"{url}?part=on_track"  # the collapsed on-track list, loaded when opened
    lines = client.get(lines_url, headers={"HX-Request": "true"}).content.decode()
    assert lines.count('class="on-track__item"') == on_track
    timings, cpu = _timed(client, url, options.requests)
    lines_timings, lines_cpu = _timed(client, lines_url, options.requests, headers={"HX-Request": "true"})
    p95 = _p95(timings)
    print(f"gc.freeze() before the first request (as attendnc/wsgi.py): {'yes' if options.gc_freeze else 'no'}")
    print(
        f"requests: {len(timings)}; page {len(response.content) / 1024:.0f} KiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"server time ms: min {min(timings):.1f}  p50 {statistics.median(timings):.1f}  p95 {p95:.1f}  max {max(timings):.1f}"
    )
    # On a shared machine wall time includes waiting for a CPU; the process's own CPU time does not.
    print(f"CPU time ms:    min {min(cpu):.1f}  p50 {statistics.median(cpu):.1f}  p95 {_p95(cpu):.1f}")
    print(
        f"opening the on-track list ({on_track} lines, {len(lines) / 1024:.0f} KiB): server p50 "
        f"{statistics.median(lines_timings):.1f} p95 {_p95(lines_timings):.1f} ms; CPU p50 {statistics.median(lines_cpu):.1f} "
        f"p95 {_p95(lines_cpu):.1f} ms"
    )
    print(f"queries per request: {query_count}")
    verdict = "OK" if p95 <= P95_TARGET_MS and query_count <= QUERY_TARGET else "OVER TARGET"
    print(f"targets: p95 <= {P95_TARGET_MS} ms, <= {QUERY_TARGET} queries -> {verdict}")


def _timed(client, url, requests, **extra):
    timings, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url, **extra)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return timings, cpu


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


if __name__ == "__main__":
    main()
