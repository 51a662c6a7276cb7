"""A school the size the huddle must handle (issue #5): 800 students, 150 of them flagged, a
current metrics run, twelve weeks of snapshots, guardians and some outreach already logged.

Shared by bench/bench_huddle.py and the query-count test, so both measure the same page. Rows
go in with bulk_create (a few seconds even on SQLite); every choice comes from one seeded
random.Random, so the school is the same on every run.
"""

import datetime
import random
from decimal import Decimal

from districts.models import District, Membership, School
from students.models import CalendarDay, Enrollment, Guardian, Student
from tiers.models import CalculationPolicy, Flag, MetricsRun, StudentMetrics, WeeklySnapshot

YEAR_START = datetime.date(2025, 8, 25)
T2_RULES = ["t2_recent_absences", "t2_at_risk_rate", "t2_chronic", "t2_monday_friday", "t2_tardies"]


def build_huddle_school(
    *,
    district: District,
    school: School,
    author: Membership,
    week_start: datetime.date,
    students: int = 800,
    flagged: int = 150,
    seed: int = 5,
) -> list[Student]:
    """Fill `school` (inside the district's scope) and return its students."""
    rng = random.Random(seed)
    _calendar(district, school, week_start)
    pupils = Student.objects.bulk_create(
        [
            Student(district=district, sis_id=f"HS{school.pk}-{n:04d}", first_name=f"Student{n}", last_name=f"Family{n % 97}",
                    grade=str(6 + n % 3), home_language=rng.choice(["English", "Spanish", "Vietnamese"]))
            for n in range(students)
        ]
    )  # fmt: skip
    Enrollment.objects.bulk_create(
        [Enrollment(district=district, student=s, school=school, grade=s.grade, entry_date=YEAR_START) for s in pupils]
    )
    Guardian.objects.bulk_create(
        [
            Guardian(district=district, student=s, name=f"Guardian of {s.first_name}", relationship="Parent",
                     phone="919-555-0100", language=s.home_language, preferred_channel=rng.choice(["phone", "text", "email"]))
            for s in pupils
        ]
    )  # fmt: skip
    run = _run(district, week_start)
    as_flagged = set(rng.sample(range(students), flagged))
    metrics, flags, snapshots = [], [], []
    for index, student in enumerate(pupils):
        absent = rng.randint(5, 12) if index in as_flagged else rng.randint(0, 4)
        membership = 60
        metrics.append(_metric(district, run, school, student, absent, membership, rng))
        snapshots.extend(_snapshots(district, student, absent, membership, week_start))
        if index in as_flagged:
            flags.extend(_flags(district, student, week_start, rng))
    StudentMetrics.objects.bulk_create(metrics, batch_size=500)
    WeeklySnapshot.objects.bulk_create(snapshots, batch_size=2000)
    Flag.objects.bulk_create(flags, batch_size=500)
    _actions(district, [pupils[i] for i in sorted(as_flagged)][::3], author, week_start, rng)
    return pupils


def _calendar(district, school, week_start) -> None:
    days, day = [], YEAR_START
    while day <= week_start + datetime.timedelta(days=150):
        if day.weekday() < 5:
            days.append(CalendarDay(district=district, school=school, date=day, instructional=True, minutes=360))
        day += datetime.timedelta(days=1)
    CalendarDay.objects.bulk_create(days, batch_size=1000)


def _run(district, week_start) -> MetricsRun:
    policy = CalculationPolicy.objects.order_by("-version").first() or CalculationPolicy.objects.create(
        district=district, version=1
    )
    MetricsRun.objects.filter(is_current=True).update(is_current=False)
    return MetricsRun.objects.create(
        district=district, policy=policy, as_of=week_start - datetime.timedelta(days=1),
        status=MetricsRun.Status.SUCCEEDED, is_current=True,
    )  # fmt: skip


def _metric(district, run, school, student, absent, membership, rng) -> StudentMetrics:
    rate = Decimal(absent) / membership
    band = "satisfactory" if rate < Decimal("0.05") else "at_risk" if rate < Decimal("0.10") else "moderate"
    trend = round(rng.uniform(-0.05, 0.2), 4)
    return StudentMetrics(
        district=district, run=run, student=student, current_school=school, membership_days=membership,
        absent_days=absent, absent_excused=absent // 2, absent_unexcused=absent - absent // 2, absent_suspension=0,
        absent_partial=0, tardy_days=0, absence_rate=rate.quantize(Decimal("0.0001")), chronic=rate >= Decimal("0.10"),
        band=band, remaining_days=120, absences_left=max(0, 17 - absent), recent_rate=Decimal("0.10"),
        projected_rate=rate.quantize(Decimal("0.0001")), tier=2 if absent >= 5 else 0, rules=[],
        signals={"trend": trend, "previous_rate": 0.05},
    )  # fmt: skip


def _snapshots(district, student, absent, membership, week_start) -> list[WeeklySnapshot]:
    rows = []
    for weeks_ago in range(12, 0, -1):
        week = week_start - datetime.timedelta(weeks=weeks_ago)
        days = max(1, membership - 5 * weeks_ago)
        missed = min(days, max(0, absent - weeks_ago // 3))
        rows.append(
            WeeklySnapshot(
                district=district, student=student, week_start=week, as_of=week + datetime.timedelta(days=4),
                membership_days=days, absent_days=missed, absence_rate=(Decimal(missed) / days).quantize(Decimal("0.0001")),
                band="at_risk", tier=0, rules=[],
            )
        )  # fmt: skip
    return rows


def _flags(district, student, week_start, rng) -> list[Flag]:
    kind = rng.random()
    if kind < 0.15:
        rules, first_met = (
            [("t3_severe_rate", 3), ("t2_chronic", 2)],
            week_start - datetime.timedelta(days=rng.randint(10, 40)),
        )
    elif kind < 0.30:
        rules, first_met = [(rng.choice(T2_RULES), 2)], week_start - datetime.timedelta(days=3)
    elif kind < 0.35:
        rules, first_met = [("t2_prior_year_chronic", 2)], week_start - datetime.timedelta(days=2)
    else:
        rules, first_met = (
            [(rng.choice(T2_RULES), 2), ("t2_at_risk_rate", 2)],
            week_start - datetime.timedelta(days=rng.randint(8, 60)),
        )
    return [
        Flag(district=district, student=student, rule=rule, tier=tier, first_met=first_met, last_met=week_start,
             why=f"{rule} fired: synthetic school for the huddle benchmark", policy_version=1)
        for rule, tier in dict(rules).items()
    ]  # fmt: skip


def _actions(district, students, author, week_start, rng) -> None:
    from outreach.models import OutreachAction

    OutreachAction.objects.bulk_create(
        [
            OutreachAction(
                district=district, student=s, author=author, attempt_date=week_start - datetime.timedelta(days=rng.randint(1, 6)),
                method=rng.choice(["call", "text", "student_check_in"]), reached=rng.random() < 0.6,
                barrier=rng.choice(["", "transportation", "physical_health"]), support_offered=rng.choice(["", "bus pass"]),
                follow_up_date=week_start + datetime.timedelta(days=rng.randint(0, 9)),
            )
            for s in students
        ]
    )  # fmt: skip


# ----------------------------------------------------------------------------- a worked history

NEXT_STEPS = ["Call home to check on the plan", "Check in with the student on Monday", "Meet with the family at pickup"]
READY_TO_CLOSE = 8  # students whose rules stopped holding three weeks ago
SUPPORTS = {"transportation": "Bus pass requested", "physical_health": "Nurse plan for asthma days",
            "family_responsibilities": "Morning check-in with a mentor"}  # fmt: skip
NEW_THIS_WEEK = 12  # students first flagged since the last huddle; the other recent flags are older
TIER3_REFERRALS = 2  # a week; the other Tier 3 candidates stay in Tier 2, saying why
SLIPPED = 0.12  # next steps set for this week or already overdue


def work_the_weeks(
    *,
    district: District,
    school: School,
    team: list[Membership],
    week_start: datetime.date,
    weeks: int = 3,
    seed: int = 14,
):
    """Play the `weeks` before `week_start` as a working team would have (issue 10: the huddle
    measured and tested is week 14's, not a district's first), then generate this week's huddle
    and return it.

    Each past Monday: the huddle generated, every agenda row discussed, an owner and a next step
    agreed, the Tier 2 steps done through the services (a check-in and a family contact with a
    support the first week a student is listed, a follow-up later; a few follow-ups slip into
    this week), one or two Tier 3 candidates referred and the rest kept in Tier 2 with a note. Then a handful of
    students' rules stop holding (ready to close), and the flags that first fired last week (the
    school's newest) arrive only now, as new flags do.
    """
    from outreach import services
    from outreach.models import HuddleRow, OutreachAction, Section
    from tiers import lifecycle

    rng = random.Random(seed)
    # build_huddle_school's contacts are dated last week, ahead of the weeks played here: the
    # team's own contacts replace them.
    OutreachAction.objects.filter(student__enrollments__school=school).delete()
    recent = Flag.objects.filter(
        first_met__gte=week_start - datetime.timedelta(days=6), student__enrollments__school=school
    )
    candidates = sorted(set(recent.values_list("student_id", flat=True)))
    fresh = set(rng.sample(candidates, min(NEW_THIS_WEEK, len(candidates))))
    # Every other flag fired before the first huddle played, as the school's flags had by then.
    first_huddle = week_start - datetime.timedelta(weeks=weeks)
    Flag.objects.filter(first_met__gte=first_huddle - datetime.timedelta(days=2)).exclude(student_id__in=fresh).update(
        first_met=first_huddle - datetime.timedelta(days=3)
    )
    newest = list(Flag.objects.filter(student_id__in=fresh))
    Flag.objects.filter(pk__in=[flag.pk for flag in newest]).delete()
    for back in range(weeks, 0, -1):
        monday = week_start - datetime.timedelta(weeks=back)
        huddle = services.huddle_generate(district=district, school=school, week_start=monday)
        referred = 0
        rows = huddle.rows.select_related("student", "huddle__school").filter(outcome=HuddleRow.Outcome.OPEN)
        for row in rows.order_by("position", "pk"):
            if row.section == Section.ON_TRACK:
                continue
            chair = team[0]
            services.huddle_row_mark_discussed(row=row, by=chair)
            if row.section == Section.TIER3:
                if referred < TIER3_REFERRALS:
                    referred += 1
                    services.huddle_row_escalate(
                        row=row, by=chair, reason="Over 20% absent; needs the counselor.", on=monday
                    )
                    continue
                tier3 = Flag.objects.filter(pk__in=row.flag_links.values("flag_id"), tier=3)
                lifecycle.flags_resolve(flags=tier3, reason=lifecycle.Resolution.PLAN_IN_PLACE, on=monday, by=chair,
                                        note="Supports continue: mentor check-ins just started.")  # fmt: skip
            owner = row.owner or rng.choice(team)
            slipped = rng.random() < SLIPPED
            due = week_start + datetime.timedelta(days=rng.choice([-3, 1, 3] if slipped else [8, 10, 14, 17, 21]))
            _contacts(row, owner, monday, due, rng)
            services.huddle_row_plan(
                row=row, by=chair, owner=owner, next_step=rng.choice(NEXT_STEPS), next_step_due=due
            )
    # Rules that stopped holding three weeks ago: the team closes these, or keeps them open.
    open_tier2 = (
        Flag.objects.filter(status__in=Flag.OPEN_STATUSES, student__enrollments__school=school)
        .exclude(student__flags__tier=3)
        .values_list("student_id", flat=True)
        .distinct()
    )
    improving = rng.sample(sorted(open_tier2), min(READY_TO_CLOSE, len(open_tier2)))
    Flag.objects.filter(student_id__in=improving).update(
        currently_met=False, last_met=week_start - datetime.timedelta(days=21)
    )
    for flag in newest:
        flag.pk = None
    Flag.objects.bulk_create(newest)
    return services.huddle_generate(district=district, school=school, week_start=week_start)


def _contacts(row, owner, monday, due, rng) -> None:
    """The week's Tier 2 steps for a row: a check-in and a family contact offering a support on a
    student's first week on the agenda (one call in five goes unanswered), a follow-up after."""
    from outreach import services
    from outreach.models import OutreachAction

    def log(method, reached, **extra):
        services.outreach_action_create(
            student=row.student, author=owner, attempt_date=monday + datetime.timedelta(days=rng.randint(0, 3)),
            method=method, reached=reached, follow_up_date=due, huddle_row=row, **extra,
        )  # fmt: skip

    logged = OutreachAction.objects.filter(student=row.student)
    barrier = rng.choice(list(SUPPORTS))
    if not logged.exists():
        log("student_check_in", True)
        log(rng.choice(["call", "text"]), rng.random() < 0.8, barrier=barrier, support_offered=SUPPORTS[barrier])
    elif not logged.filter(reached=True).exclude(method="student_check_in").exists():  # last week's call unanswered
        log("call", True, barrier=barrier, support_offered=SUPPORTS[barrier])
    else:
        log(rng.choice(["call", "student_check_in", "home_visit"]), True)
