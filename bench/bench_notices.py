"""Benchmark of the same-day notice pass (issue 13): after an import of 200,000 students, queue
the notices for a day with 10,000 unexcused absences. Target: ≤ 10 s to queue. Run on demand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_families .venv/bin/python bench/bench_notices.py
    ... bench/bench_notices.py --students 200000 --absent 10000

The district is written straight into the tables with COPY (the import itself has its own
benchmark): 250 schools, one enrollment and one or two guardians per student (email, text or
phone preferred, a fifth of them Spanish-speaking), the day on the district calendar, and the
absences. The pass is then run twice: the second must queue nothing.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scope, scopes_disabled  # noqa: E402

from bench.database import ensure_database  # noqa: E402
from districts.models import District, School  # noqa: E402
from districts.services import district_create  # noqa: E402
from outreach.families.models import AbsenceNotice  # noqa: E402
from outreach.families.notices import notices_queue  # noqa: E402
from students.models import AttendanceRecord, CalendarDay, Enrollment, Guardian, Student  # noqa: E402
from tiers.writing import insert_frame  # noqa: E402

DAY = datetime.date(2025, 10, 27)
NOON = datetime.datetime(2025, 10, 27, 16, 0, tzinfo=datetime.UTC)


def build(district: District, students: int, absent: int, seed: int = 13) -> None:
    rng = np.random.default_rng(seed)
    with scope(district=district):
        schools = School.objects.bulk_create(
            [School(district=district, sis_id=f"S{n:03d}", name=f"School {n}") for n in range(250)]
        )
        CalendarDay.objects.create(district=district, school=None, date=DAY, minutes=360)
    school_ids = np.array([school.pk for school in schools])
    ids = np.arange(students)
    insert_frame(
        district, Student,
        pd.DataFrame({
            "district_id": district.pk, "sis_id": [f"B{n:07d}" for n in ids], "first_name": "Ana", "last_name": "Bench",
            "grade": "5", "home_language": "", "race_ethnicity": "", "econ_disadvantaged": False,
            "disability": False, "english_learner": False, "homeless": False, "foster": False,
            "updated_at": pd.Timestamp.now(tz="UTC"),
        }),
    )  # fmt: skip
    with scope(district=district):
        student_ids = np.array(Student.objects.order_by("sis_id").values_list("pk", flat=True))
    home = school_ids[ids % len(school_ids)]
    insert_frame(
        district, Enrollment,
        pd.DataFrame({
            "district_id": district.pk, "student_id": student_ids, "school_id": home, "grade": "5",
            "entry_date": datetime.date(2025, 8, 25), "exit_reason": "",
        }),
    )  # fmt: skip
    second = rng.random(students) < 0.45
    owners = np.concatenate([student_ids, student_ids[second]])
    channel = rng.choice(["email", "text", "phone", "letter"], size=len(owners), p=[0.3, 0.45, 0.2, 0.05])
    insert_frame(
        district, Guardian,
        pd.DataFrame({
            "district_id": district.pk, "student_id": owners, "name": [f"Guardian {n}" for n in range(len(owners))],
            "relationship": "Mother", "phone": [f"919555{n % 10000:04d}" for n in range(len(owners))],
            "email": [f"family{n}@example.com" for n in range(len(owners))],
            "language": rng.choice(["English", "Spanish"], size=len(owners), p=[0.8, 0.2]),
            "preferred_channel": channel,
        }),
    )  # fmt: skip
    chosen = rng.choice(students, size=absent, replace=False)
    insert_frame(
        district, AttendanceRecord,
        pd.DataFrame({
            "district_id": district.pk, "student_id": student_ids[chosen], "school_id": home[chosen], "date": DAY,
            "code": "U", "category": "absent_unexcused",
        }),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--absent", type=int, default=10_000)
    args = parser.parse_args(argv)
    ensure_database()
    call_command("migrate", verbosity=0)
    slug = f"bench-notices-{args.students}-{args.absent}"
    with scopes_disabled():
        district = District.objects.filter(slug=slug).first()
    if district is None:  # built once, kept for the next run (deleting 200,000 students costs minutes)
        district = district_create(slug=slug, name=f"Notice benchmark {args.students}")
        started = time.perf_counter()
        build(district, args.students, args.absent)
        print(f"built {args.students:,} students, {args.absent:,} absences in {time.perf_counter() - started:.1f} s")
    with scope(district=district):
        AbsenceNotice.objects.all().delete()
        started = time.perf_counter()
        first = notices_queue(district=district, date=DAY, now=NOON)
        queued_in = time.perf_counter() - started
        started = time.perf_counter()
        second = notices_queue(district=district, date=DAY, now=NOON)
        again_in = time.perf_counter() - started
        total = AbsenceNotice.objects.count()
    print(
        f"queue: {first.absent:,} absent students -> {first.queued:,} notices in {queued_in:.2f} s "
        f"({first.no_address:,} without a usable address); target <= 10 s"
    )
    print(
        f"re-run: {second.queued} new, {second.already:,} already queued, in {again_in:.2f} s; outbox holds {total:,}"
    )


if __name__ == "__main__":
    main()
