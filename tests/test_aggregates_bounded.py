"""The figures' cache from sums (tiers.aggregates, issue 14) gives exactly the report the
whole-district computation gave (tests/aggregates_reference.py, the code it replaced): on random
synthetic districts (the engine benchmark's generator: transfers, partial days, a skewed absence
distribution) with random grades, races and subgroups, every week's snapshots, and the prior year
from the summaries or, to date, from last year's daily attendance — read in one chunk and in
several. Every figure is compared exactly, floats included."""

import datetime

import pytest
from django.db import connection
from django_scopes import scope

from districts.services import district_create
from tiers import aggregates, services
from tiers.models import MetricsRun

from . import aggregates_reference

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the generator writes through PostgreSQL's COPY"
)

START = datetime.date(2025, 8, 25)
AS_OF = datetime.date(2026, 1, 30)
GRADES = ["K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "PK", "07", ""]
RACES = ["", "Asian", "Black or African American", "Hispanic/Latino", "White", "Two or more races"]


def random_district(seed: int, students: int = 1700):
    from bench.generate_engine_district import generate

    district = district_create(
        slug=f"random-{seed}",
        name=f"Random {seed}",
        school_year_start=START,
        school_year_end=datetime.date(2026, 6, 30),
    )
    with scope(district=district):
        generate(district.pk, students, start=START, seed=seed)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [1 / (seed + 1)])
            cursor.execute(
                "UPDATE students_student SET grade = (%s::text[])[1 + floor(random() * %s)::int], "
                "race_ethnicity = (%s::text[])[1 + floor(random() * %s)::int], homeless = random() < 0.05, "
                "foster = random() < 0.02, english_learner = random() < 0.2 WHERE district_id = %s",
                [GRADES, len(GRADES), RACES, len(RACES), district.pk],
            )
        services.compute_metrics(district=district, as_of=AS_OF)  # the first run: every week's snapshots
    return district


def add_prior_summaries(district, seed: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [1 / (seed + 2)])
        cursor.execute(
            "INSERT INTO students_prioryearsummary (district_id, student_id, school_year, days_enrolled, days_absent) "
            "SELECT district_id, id, '2024-25', e, floor(random() * random() * e * 0.4)::int "
            "FROM (SELECT district_id, id, 5 + floor(random() * 176)::int AS e FROM students_student "
            "      WHERE district_id = %s AND random() < 0.7) s",
            [district.pk],
        )


def add_last_years_daily_attendance(district) -> None:
    """This year's calendar, enrollments and records 52 weeks earlier: last year on record."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO students_calendarday (district_id, school_id, date, instructional, minutes, event) "
            "SELECT district_id, school_id, date - 364, instructional, minutes, event FROM students_calendarday "
            "WHERE district_id = %s",
            [district.pk],
        )
        cursor.execute(
            "INSERT INTO students_enrollment (district_id, student_id, school_id, grade, entry_date, exit_date, exit_reason) "
            "SELECT district_id, student_id, school_id, grade, entry_date - 364, exit_date - 364, exit_reason "
            "FROM students_enrollment WHERE district_id = %s",
            [district.pk],
        )
        cursor.execute(
            "INSERT INTO students_attendancerecord (district_id, student_id, school_id, date, code, category, minutes_absent) "
            "SELECT district_id, student_id, school_id, date - 364, code, category, minutes_absent "
            "FROM students_attendancerecord WHERE district_id = %s",
            [district.pk],
        )


def both(district, monkeypatch, chunk_students: int) -> tuple[dict, dict]:
    monkeypatch.setattr(services, "CHUNK_STUDENTS", chunk_students)
    with scope(district=district):
        run = MetricsRun.objects.get(is_current=True)
        return aggregates._compute(district, run), aggregates_reference.compute(district, run)


def assert_same(bounded: dict, whole: dict) -> None:
    assert [(g["dimension"], g["key"]) for g in bounded["groups"]] == [
        (g["dimension"], g["key"]) for g in whole["groups"]
    ]
    for mine, theirs in zip(bounded["groups"], whole["groups"]):
        assert mine == theirs, (mine["dimension"], mine["key"])
    assert bounded == whole


@pytest.mark.parametrize("seed", [3, 11])
def test_random_districts_give_the_whole_district_figures(db, monkeypatch, seed):
    district = random_district(seed)
    bounded, whole = both(district, monkeypatch, chunk_students=50_000)
    assert_same(bounded, whole)
    dimensions = {group["dimension"] for group in whole["groups"]}
    assert dimensions == set(aggregates.DIMENSIONS)
    assert sum(group["dimension"] == "week" for group in whole["groups"]) >= 20
    assert sum(group["dimension"] == "school" for group in whole["groups"]) >= 2
    assert all(group["prior_year"] is None for group in whole["groups"])

    with scope(district=district):
        add_prior_summaries(district, seed)
    for chunk_students in (50_000, 400):  # the prior year in one chunk, then in five
        bounded, whole = both(district, monkeypatch, chunk_students)
        assert whole["prior_year_basis"].startswith("Full prior school year 2024-25")
        assert sum(group["prior_year"] is not None for group in whole["groups"]) > 20
        assert_same(bounded, whole)


@pytest.mark.parametrize("chunk_students", [50_000, 600])
def test_the_prior_year_to_date_read_by_chunks_gives_the_whole_district_figures(db, monkeypatch, chunk_students):
    district = random_district(5, students=1000)
    with scope(district=district):
        add_prior_summaries(district, 5)  # not read: last year's daily attendance takes precedence
        add_last_years_daily_attendance(district)
    bounded, whole = both(district, monkeypatch, chunk_students)
    assert whole["prior_year_basis"].startswith("Prior year to date: 2024-25 through Jan 30, 2025")
    assert whole["groups"][0]["prior_year"]["shares"] is not None
    assert_same(bounded, whole)


def test_a_run_with_no_student_enrolled_gives_the_empty_figures(tenant_a, monkeypatch):
    from tiers.models import StudentMetrics, StudentSchoolMetrics

    from .tiers_data import OCT_31, tiers_year

    year = tiers_year(tenant_a)
    with scope(district=year.district):
        run = services.compute_metrics(district=year.district, as_of=OCT_31)
        StudentMetrics.objects.filter(run=run).update(membership_days=0)
        StudentSchoolMetrics.objects.filter(run=run).update(membership_days=0)
    bounded, whole = both(year.district, monkeypatch, 50_000)
    assert whole["groups"][0]["students"] == 0
    assert_same(bounded, whole)
