"""Benchmark of a nudge letter batch (issue 13): 2,000 students at one school, one letter each
(a fifth in Spanish) as per-student PDFs plus all.pdf, through `manage.py nudge_letters`' code
path. Target: ≤ 60 s. Run on demand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_families .venv/bin/python bench/bench_letters.py
    ... bench/bench_letters.py --students 2000

The school's year runs from 25 August with 45 school days to the as-of date; each student has
0–9 unexcused absences. The district is rebuilt on each run (2,000 students delete in seconds).
"""

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django_scopes import scope, scopes_disabled  # noqa: E402

from bench.database import ensure_database  # noqa: E402
from districts.models import District, Membership, Role, RoleGrant, School, User  # noqa: E402
from districts.services import district_create  # noqa: E402
from outreach.families.letters import letter_batch_print  # noqa: E402
from students.models import AttendanceRecord, CalendarDay, Enrollment, Guardian, Student  # noqa: E402

FIRST_DAY = datetime.date(2025, 8, 25)


def school_days(count: int) -> list[datetime.date]:
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def build(district: District, students: int, seed: int = 17) -> tuple[School, Membership, datetime.date]:
    rng = np.random.default_rng(seed)
    days = school_days(45)
    with scope(district=district):
        school = School.objects.create(district=district, sis_id="MS-1", name="Bench Middle School")
        CalendarDay.objects.bulk_create([CalendarDay(district=district, date=day, minutes=360) for day in days])
        pupils = Student.objects.bulk_create(
            [
                Student(district=district, sis_id=f"L{n:05d}", first_name=f"Student{n}", last_name="Bench", grade="7")
                for n in range(students)
            ]
        )
        Enrollment.objects.bulk_create(
            [Enrollment(district=district, student=p, school=school, grade="7", entry_date=FIRST_DAY) for p in pupils]
        )
        Guardian.objects.bulk_create(
            [
                Guardian(
                    district=district, student=p, name=f"Family {n}", language="Spanish" if n % 5 == 0 else "English",
                    preferred_channel="letter",
                )
                for n, p in enumerate(pupils)
            ]
        )  # fmt: skip
        records = []
        for pupil, count in zip(pupils, rng.integers(0, 10, size=students)):
            for index in rng.choice(len(days), size=int(count), replace=False):
                records.append(
                    AttendanceRecord(
                        district=district, student=pupil, school=school, date=days[index], code="U",
                        category="absent_unexcused",
                    )
                )  # fmt: skip
        AttendanceRecord.objects.bulk_create(records, batch_size=5000)
        user, _created = User.objects.get_or_create(email="bench-lead@example.org")
        lead = Membership.objects.create(district=district, user=user)
        RoleGrant.objects.create(district=district, membership=lead, role=Role.ATTENDANCE_LEAD, school=school)
    return school, lead, days[-1]


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the layout workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    args = parser.parse_args(argv)
    ensure_database()
    call_command("migrate", verbosity=0)
    slug = f"bench-letters-{args.students}"
    with scopes_disabled():
        District.objects.filter(slug=slug).delete()
    district = district_create(slug=slug, name=f"Letter benchmark {args.students}")
    school, lead, as_of = build(district, args.students)
    out = Path(tempfile.mkdtemp(prefix="attendnc-letters-"))
    with scope(district=district):
        started, cpu = time.perf_counter(), _cpu()
        batch, singles = letter_batch_print(
            district=district, school=school, selection="absences:0", as_of=as_of, by=lead, out_dir=out
        )
        elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    size = sum(path.stat().st_size for path in out.iterdir())
    print(
        f"{len(singles):,} letters ({batch.total:,} students) as of {as_of}: {elapsed:.1f} s "
        f"({elapsed / max(len(singles), 1) * 1000:.0f} ms a letter), {size / 1e6:.1f} MB in {out}; target <= 60 s"
    )
    print(
        f"CPU time {cpu:.1f} s (this process and its {settings.LETTERS_PROCESSES} layout workers, LETTERS_PROCESSES); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
