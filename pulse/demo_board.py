"""The demo's pulse chapter (students.demo_story, order 400): what a district that ran AttendNC
last year would have on record, so every panel of the dashboard has last year beside this one.

- Last year's weekly snapshots (tiers.WeeklySnapshot), which the engine keeps from every night's
  run: one per student with a prior-year summary and school week, laid out so that each
  student's year ends at their summary's days enrolled and absent, absences a little more likely
  as the winter comes (the demo has no daily attendance from last year to compute them from).
- This year's week-2 and week-4 pulse checks, counted from the demo's attendance by the service
  the nightly run uses, and last year's as last year's nightly run stored them: the same schools
  and grades, with shares drawn near this year's.
- The dashboard's figures for the current run, computed and cached, and intervention
  effectiveness stored for its date, as the nightly run does (pulse.nightly).

Deterministic for the same `today` (its own random.Random) and safe to replay: it replaces what
it wrote before.
"""

import datetime
import random
from decimal import Decimal

import numpy as np

from districts.models import District
from students.models import PriorYearSummary
from tiers.classification import severity_bands
from tiers.models import WeeklySnapshot
from tiers.selectors import current_run, policy_shown

from .board import board_compute
from .models import PulseCheck
from .services import effectiveness_figures_store, pulse_checks_take

A_YEAR = datetime.timedelta(days=364)  # 52 weeks: last year's same weekday


def demo_pulse(*, district: District, today: datetime.date, calendar) -> dict[str, int]:
    rng = random.Random(f"demo_pulse:{today.isoformat()}")
    weeks = _last_year_snapshots(district, calendar, rng)
    taken = pulse_checks_take(district=district, as_of=today - datetime.timedelta(days=1), replace=True)
    earlier = _last_year_checks(district, calendar, rng)
    run = current_run()
    effects = 0
    if run is not None:
        from django.core.cache import cache

        from districts.tenancy import district_cache_key

        cache.set(district_cache_key(district, "pulse", "board", run.pk), board_compute(district=district, run=run))
        effects = len(effectiveness_figures_store(district=district, run=run).rows)
    return {
        "last year's weekly figures": weeks,
        "pulse checks": sum(taken.values()) + earlier,
        "effectiveness rows": effects,
    }


def _last_year_snapshots(district: District, calendar, rng: random.Random) -> int:
    policy = policy_shown(district=district).as_policy()
    days = [day - A_YEAR for day in calendar.instructional]
    WeeklySnapshot.objects.filter(week_start__lt=calendar.instructional[0] - datetime.timedelta(days=6)).delete()
    week_of = [day - datetime.timedelta(days=day.weekday()) for day in days]
    ends = [index for index in range(len(days)) if index + 1 == len(days) or week_of[index + 1] != week_of[index]]
    # Absences a little more likely later in the year (winter illness, the long middle).
    weight = np.linspace(0.8, 1.3, len(days))
    summaries = PriorYearSummary.objects.filter(school_year=calendar.prior_school_year).values_list(
        "student_id", "days_enrolled", "days_absent"
    )
    snapshots = []
    for student_id, enrolled, absent in summaries:
        enrolled = min(enrolled, len(days))
        absent = min(absent, enrolled)
        keys = np.array([rng.random() ** (1 / weight[index]) for index in range(enrolled)])
        marked = np.zeros(len(days), dtype="int64")
        marked[np.argsort(-keys)[:absent]] = 1
        cumulative_absent = np.cumsum(marked)
        for end in ends:
            membership = min(end + 1, enrolled)
            if membership <= 0:
                continue
            missed = int(cumulative_absent[min(end, enrolled - 1)])
            snapshots.append((student_id, week_of[end], days[end], membership, missed))
    if not snapshots:
        return 0
    membership = np.array([row[3] for row in snapshots])
    missed = np.array([row[4] for row in snapshots])
    bands = severity_bands(missed, membership, unit=1, minimum=policy.min_membership_days)
    WeeklySnapshot.objects.bulk_create(
        [
            WeeklySnapshot(
                district=district, student_id=student_id, week_start=week_start, as_of=as_of,
                membership_days=days_in, absent_days=Decimal(absent_days),
                absence_rate=(Decimal(absent_days) / days_in).quantize(Decimal("0.0001")), band=band, tier=0,
                rules=[],
            )
            for (student_id, week_start, as_of, days_in, absent_days), band in zip(snapshots, bands)
        ],
        batch_size=5000,
    )  # fmt: skip
    return len(snapshots)


def _last_year_checks(district: District, calendar, rng: random.Random) -> int:
    """Last year's checks: this year's schools and grades, each with a share near this year's."""
    label = calendar.prior_school_year
    PulseCheck.objects.filter(school_year=label).delete()
    this_year = PulseCheck.objects.filter(school__isnull=False).exclude(grade="").exclude(school_year=label)
    totals: dict[tuple, list[int]] = {}
    rows = []
    for check in this_year:
        students = max(1, round(check.students * rng.uniform(0.95, 1.05)))
        share = (check.two_or_more / check.students if check.students else 0) * rng.uniform(0.8, 1.3)
        flagged = min(students, round(students * share))
        window = (check.window_start - A_YEAR, check.window_end - A_YEAR, check.taken_on - A_YEAR)
        rows.append((check.checkpoint, check.school_id, check.grade, window, students, flagged))
        for key in [(check.checkpoint, check.school_id, ""), (check.checkpoint, None, check.grade),
                    (check.checkpoint, None, "")]:  # fmt: skip
            total = totals.setdefault(key, [0, 0, window])
            total[0] += students
            total[1] += flagged
    rows += [(key[0], key[1], key[2], window, students, flagged) for key, (students, flagged, window) in totals.items()]
    PulseCheck.objects.bulk_create(
        [
            PulseCheck(
                district=district, school_year=label, checkpoint=checkpoint, school_id=school_id, grade=grade,
                window_start=window[0], window_end=window[1], taken_on=window[2], students=students,
                two_or_more=flagged,
            )
            for checkpoint, school_id, grade, window, students, flagged in rows
        ]
    )  # fmt: skip
    return len(rows)
