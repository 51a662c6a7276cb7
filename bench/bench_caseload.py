"""Benchmark of a counselor's caseload page (issue 11). Run on demand; prints every figure.

    .venv/bin/python bench/bench_caseload.py                      # SQLite, in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_cases .venv/bin/python bench/bench_caseload.py

It builds a throwaway test database (Django's test-database machinery: the configured database
itself is never touched): one middle school of 600 students with a 180-day calendar and half a
year of attendance (absences, tardies and half days), the real nightly engine's figures, and 60
open cases led by one counselor, each with a written plan, interventions, a referral (a third
still waiting, some past the partner's response time), meetings and reviews, all through the
cases services. It then requests the caseload ~50 times with the Django test client as that
counselor. Server time is the handler's wall time: middleware, view, queries and template (the
progress since each plan started is computed per request from the attendance records).
Targets: p95 <= 150 ms, <= 20 queries.
"""

import argparse
import datetime
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402

from cases import services  # noqa: E402
from districts.models import Role  # noqa: E402
from districts.services import district_create, member_add, school_create  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402
from students.models import AttendanceRecord, CalendarDay, Enrollment, Student  # noqa: E402
from tiers.services import compute_metrics  # noqa: E402

YEAR_START, AS_OF = datetime.date(2025, 8, 25), datetime.date(2026, 1, 16)
HOLIDAYS = (
    {datetime.date(2025, 9, 1), datetime.date(2025, 11, 11)}
    | {datetime.date(2025, 11, 26) + datetime.timedelta(days=n) for n in range(3)}
    | {datetime.date(2025, 12, 22) + datetime.timedelta(days=n) for n in range(12)}
)
P95_TARGET_MS, QUERY_TARGET = 150, 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after warm-up, as a preforking server")
    options = parser.parse_args()

    settings.DEBUG = False  # as in production: templates without debug bookkeeping
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        url, user = _build(options)
        _measure(url, user, options)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _school_days() -> list[datetime.date]:
    days, day = [], YEAR_START
    while day <= datetime.date(2026, 6, 10):
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def _build(options):
    started = time.perf_counter()
    rng = random.Random(11)
    district = district_create(slug="bench", name="Benchmark Unified", school_year_start=YEAR_START,
                               school_year_end=datetime.date(2026, 6, 10))  # fmt: skip
    with district_scope(district):
        school = school_create(district=district, sis_id="MS-1", name="Benchmark Middle School")
        counselor = member_add(
            district=district, email="counselor@bench.example.org", role=Role.COUNSELOR, school=school
        ).membership
        days = _school_days()
        CalendarDay.objects.bulk_create(
            [CalendarDay(district=district, school=school, date=d, instructional=True, minutes=390) for d in days]
        )
        students = Student.objects.bulk_create(
            [Student(district=district, sis_id=f"B{n:05d}", first_name=f"Student{n}", last_name=f"Family{n % 89}",
                     grade=str(6 + n % 3)) for n in range(options.students)]
        )  # fmt: skip
        Enrollment.objects.bulk_create(
            [
                Enrollment(district=district, student=s, school=school, grade=s.grade, entry_date=YEAR_START)
                for s in students
            ]
        )
        elapsed = [d for d in days if d <= AS_OF]
        records = []
        for index, student in enumerate(students):
            rate = 0.22 if index < options.cases else rng.choice([0.01, 0.03, 0.06, 0.12])
            for day in elapsed:
                roll = rng.random()
                if roll < rate:
                    records.append(AttendanceRecord(district=district, student=student, school=school, date=day,
                                                    code="U", category="absent_unexcused"))  # fmt: skip
                elif roll < rate + 0.02:
                    records.append(AttendanceRecord(district=district, student=student, school=school, date=day,
                                                    code="H", category="partial_day", minutes_absent=rng.choice([60, 240])))  # fmt: skip
        AttendanceRecord.objects.bulk_create(records, batch_size=5000)
        compute_metrics(district=district, as_of=AS_OF, backfill=False)
        partners = [
            services.partner_create(
                district=district,
                name=f"Partner {n}",
                services=[barrier],
                expected_response_days=rng.choice([5, 10, 14]),
            )  # fmt: skip
            for n, barrier in enumerate(["transportation", "mental_health", "housing", "academic"])
        ]
        for index, student in enumerate(students[: options.cases]):
            _case(student, counselor, partners, elapsed, index, rng)
    print(f"database: {connection.vendor}")
    print(f"school: {options.students} students, {len(records)} attendance records, {options.cases} open cases")
    print(f"build: {time.perf_counter() - started:.1f} s")
    return f"/d/{district.slug}/cases/", counselor.user


def _case(student, counselor, partners, elapsed, index, rng) -> None:
    opened = elapsed[rng.randint(20, 60)]
    case = services.case_open(student=student, by=counselor, opened_on=opened)
    start = elapsed[elapsed.index(opened) + 2]
    partner = partners[index % len(partners)]
    services.case_plan_update(
        case=case, by=counselor, barriers=list(partner.services), goal_rate="0.90", plan_started_on=start,
        goal_by=start + datetime.timedelta(weeks=10),
    )  # fmt: skip
    for offset, kind in enumerate(["check_in_check_out", "mentoring"]):
        services.intervention_create(case=case, by=counselor, kind=kind, description=kind,
                                     start_date=elapsed[elapsed.index(start) + offset * 5])  # fmt: skip
    referral = services.referral_create(
        case=case, by=counselor, partner=partner, service=partner.services[0], referred_on=start
    )
    if index % 3:
        services.referral_update(referral=referral, by=counselor, connected_on=start + datetime.timedelta(days=4))
    services.meeting_create(case=case, by=counselor, held_on=start, family_attended=True)
    for after in (10, 20):
        if elapsed.index(start) + after < len(elapsed):
            services.review_create(case=case, by=counselor, review_date=elapsed[elapsed.index(start) + after])


def _measure(url, user, options) -> None:
    client = Client()
    client.force_login(user)
    for _ in range(3):  # warm: template cache, session, connection
        assert client.get(url).status_code == 200
    if options.gc_freeze:
        gc.collect()
        gc.freeze()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)
    assert response.content.decode().count('href="/d/bench/cases/') >= options.cases
    timings, cpu = [], []
    for _ in range(options.requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    p95 = _p95(timings)
    print(
        f"requests: {len(timings)}; page {len(response.content) / 1024:.0f} KiB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"server time ms: min {min(timings):.1f}  p50 {statistics.median(timings):.1f}  p95 {p95:.1f}  max {max(timings):.1f}"
    )
    # On a shared machine wall time includes waiting for a CPU; the process's own CPU time does not.
    print(f"CPU time ms:    min {min(cpu):.1f}  p50 {statistics.median(cpu):.1f}  p95 {_p95(cpu):.1f}")
    print(f"queries per request: {query_count}")
    verdict = "OK" if p95 <= P95_TARGET_MS and query_count <= QUERY_TARGET else "OVER TARGET"
    print(f"targets: p95 <= {P95_TARGET_MS} ms, <= {QUERY_TARGET} queries -> {verdict}")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


if __name__ == "__main__":
    main()
