"""The demo's Tier 3 chapter (students.demo_story, order 300): a partner directory and cases at
different stages at the demo schools, so the counselor's caseload looks like week 14 of a real
year on first run: a case opened this week with no plan yet, plans written with their supports
and a referral awaiting connection, cases connected and reviewed with measured progress, and
some closed. A handful of Tier 3 students are left waiting in the queue.

Everything goes through the cases services (timers, consent, audit), with dates in the past,
and every choice comes from one random.Random seeded with the demo's today.
"""

import dataclasses
import datetime
import random

from django.db.models import Min

from districts.models import District, Membership, Role, School
from districts.services import member_add
from students.models import Student
from tiers.models import Flag, StudentMetrics
from tiers.services import compute_metrics

from . import progress, services
from .models import Case, Partner

PARTNERS = [
    dict(name="Piedmont Community Health Center", services=["physical_health", "mental_health"],
         expected_response_days=10, contact_name="School Health Intake", phone="919-555-0142",
         email="intake@piedmont-chc.example.org", eligibility="Any student in the district; sliding-scale fees.",
         intake_process="The counselor calls the intake line with the family, or the family walks in.",
         connection_definition="The student attended a first appointment."),
    dict(name="Hope Street Family Counseling", services=["mental_health", "safety_belonging"],
         expected_response_days=14, contact_name="Ana Ruiz, LCSW", phone="919-555-0177",
         email="referrals@hopestreet.example.org", eligibility="Ages 5–18; Medicaid and most insurance.",
         intake_process="Referral form with signed consent, then a phone screening within a week.",
         connection_definition="The family completed the intake session."),
    dict(name="Piedmont Transit Family Pass", services=["transportation"], expected_response_days=5,
         contact_name="Family Pass desk", phone="919-555-0110", email="familypass@piedmonttransit.example.org",
         eligibility="Students living 1.5+ miles from school without bus service.",
         intake_process="The school submits the request; the pass is mailed home.",
         connection_definition="The family has the pass in hand."),
    dict(name="Triangle Housing Stability Network", services=["housing"], expected_response_days=7,
         contact_name="McKinney-Vento liaison line", phone="919-555-0188",
         email="help@trianglehousing.example.org", eligibility="Families at risk of losing housing or doubled up.",
         intake_process="Warm hand-off call with the family present.",
         connection_definition="A case worker met the family."),
    dict(name="Big Futures Mentoring", services=["academic", "safety_belonging", "misconception"],
         expected_response_days=21, contact_name="Program coordinator", phone="919-555-0133",
         email="match@bigfutures.example.org", eligibility="Grades 3–12.",
         intake_process="Family application, then a match meeting.",
         connection_definition="The first mentoring session took place."),
    dict(name="Eastside Family Resource Center", services=["family_responsibilities", "housing", "other"],
         expected_response_days=10, contact_name="Front desk", phone="919-555-0199",
         email="hello@eastside-frc.example.org", eligibility="Any district family.",
         intake_process="Drop-in hours weekdays 9–5, or the counselor books a time.",
         connection_definition="The family met a resource navigator."),
]  # fmt: skip

# What each partner's confirmed connection looked like (its "counts as connected when").
CONNECTED_OUTCOMES = {
    "Piedmont Community Health Center": "First appointment kept",
    "Hope Street Family Counseling": "Intake session completed",
    "Piedmont Transit Family Pass": "Pass picked up",
    "Triangle Housing Stability Network": "A case worker met the family",
    "Big Futures Mentoring": "First mentoring session held",
    "Eastside Family Resource Center": "Met a resource navigator",
}
REVIEW_NOTES = [
    "Mornings are going better since the plan started. Keep the check-ins.",
    "Still missing Mondays; the family will try the earlier alarm plan.",
    "Attendance steadier since the referral connected. Review again in two weeks.",
]
HIGH_SCHOOL_COUNSELOR = ("counselor.hs@demo.attendnc.org", "Dana", "Whitaker")
# Stages in the order candidates take them at each school (a smaller demo takes the first ones,
# still every stage); the counselor has worked the queue for weeks, so most referrals have a case
# and a handful stay in the queue.
STAGES = {
    "MS-200": ["closed", "reviewed", "written", "new", "reviewed", "written", "reviewed", "written", "new",
               "reviewed", "written", "reviewed", "closed", "written", "new", "reviewed", "written", "reviewed"],
    "HS-300": ["reviewed", "written", "new", "reviewed", "written", "reviewed", "written", "closed", "new",
               "reviewed", "written", "reviewed", "written", "new", "reviewed", "written", "reviewed", "closed"],
}  # fmt: skip
LEFT_IN_QUEUE = 2
BARRIER_SUPPORTS = {
    "transportation": ("transportation", "Bus route change and a transit family pass"),
    "physical_health": ("health_referral", "Asthma action plan with the school nurse"),
    "mental_health": ("check_in_check_out", "Morning check-in with the counselor, check-out with the homeroom teacher"),
    "academic": ("schedule_change", "Move to the supported math section; tutoring twice a week"),
    "safety_belonging": ("mentoring", "Weekly lunch with a mentor; join the robotics club"),
    "family_responsibilities": ("home_visit", "Home visit to plan mornings around the younger siblings' drop-off"),
    "housing": ("transportation", "McKinney-Vento transportation from the temporary address"),
}


@dataclasses.dataclass
class Days:
    """The demo year's school days before today, counted back from yesterday."""

    elapsed: list[datetime.date]

    def ago(self, school_days: int) -> datetime.date:
        return self.elapsed[max(0, len(self.elapsed) - school_days)]


def demo_cases(*, district: District, today: datetime.date, calendar) -> dict[str, int]:
    rng = random.Random(f"demo_cases:{today.isoformat()}")
    if not StudentMetrics.objects.filter(run__is_current=True).exists():
        # The tiers chapter normally computed this roster's figures; without them there is no queue.
        compute_metrics(district=district, as_of=today - datetime.timedelta(days=1), backfill=True)
    partners = [_partner(district, fields) for fields in PARTNERS]
    days = Days(calendar.elapsed)
    schools = {school.sis_id: school for school in School.objects.filter(sis_id__in=STAGES)}
    counselors = {sis_id: _counselor(district, school) for sis_id, school in schools.items()}
    opened = closed = 0
    for sis_id, stages in STAGES.items():
        candidates = _candidates(schools[sis_id], rng)
        take = max(0, min(len(stages), len(candidates) - LEFT_IN_QUEUE))
        for stage, (student, first_met) in _assign(stages[:take], candidates, district, days):
            case = _play(stage, student, first_met, counselors[sis_id], partners, days, rng)
            opened += 1
            closed += not case.is_open
    return {"partners": len(partners), "cases opened": opened, "cases closed": closed}


def _partner(district: District, fields: dict):
    """Replay-safe: seed_demo keeps the district (and so its directory) between runs."""
    existing = Partner.objects.filter(name=fields["name"]).first()
    if existing is None:
        return services.partner_create(district=district, **fields)
    return services.partner_update(partner=existing, **{k: v for k, v in fields.items() if k != "name"})


def _assign(stages: list[str], candidates: list[tuple], district: District, days: Days) -> list[tuple]:
    """Cases opened this week answer the newest flags; the others the longest-waiting ones, and
    among those the reviewed stages go to the students whose attendance has improved most over
    the last seven weeks, so the progress shown is a real one."""
    fresh = stages.count("new")
    newest = candidates[len(candidates) - fresh :] if fresh else []
    older = candidates[: len(stages) - fresh]
    preview = progress_preview([student.pk for student, _ in older], district, days.ago(35))
    ranked = sorted(older, key=lambda c: -(preview[c[0].pk].change or -1))
    improving = iter(ranked[: sum(stage in ("reviewed", "closed") for stage in stages)])
    rest = iter(c for c in older if c in ranked[len(older) - stages.count("written") :])
    fresh_picks = iter(newest)
    picks = {"new": fresh_picks, "written": rest, "reviewed": improving, "closed": improving}
    # Closed cases choose first among the improvers: a team closes the cases that went well
    # sooner than the ones still in review, so the closed ones are mostly goals met and improved.
    order = sorted(range(len(stages)), key=lambda index: stages[index] != "closed")
    chosen = {index: next(picks[stages[index]]) for index in order}
    return [(stage, chosen[index]) for index, stage in enumerate(stages)]


def _counselor(district: District, school: School) -> Membership:
    found = Membership.objects.filter(grants__role=Role.COUNSELOR, grants__school=school, is_active=True).first()
    if found is not None:
        return found
    email, first, last = HIGH_SCHOOL_COUNSELOR
    return member_add(
        district=district, email=email, role=Role.COUNSELOR, school=school, first_name=first, last_name=last
    ).membership


def _candidates(school: School, rng: random.Random) -> list[tuple]:
    """Students at the school with open Tier 3 flags, the longest waiting first (ties shuffled)."""
    at_school = StudentMetrics.objects.filter(run__is_current=True, current_school=school).values("student_id")
    waiting = (
        Flag.objects.filter(tier=3, status__in=Flag.OPEN_STATUSES, student_id__in=at_school)
        .values("student_id")
        .annotate(first_met=Min("first_met"))
    )
    rows = sorted((row["first_met"], rng.random(), row["student_id"]) for row in waiting)
    students = Student.objects.in_bulk([student_id for *_, student_id in rows])
    return [(students[student_id], first_met) for first_met, _, student_id in rows]


def _opened_on(stage, first_met, days: Days, rng: random.Random) -> datetime.date:
    """A working team opens a case within days of the trigger; this week's cases are this week's."""
    if stage == "new":
        return max(days.ago(rng.randint(1, 3)), first_met)
    opened = first_met + datetime.timedelta(days=rng.randint(2, 8))
    if stage == "written":
        opened = max(opened, days.ago(8))
    return min(opened, days.ago(1))


def _play(stage, student, first_met, counselor, partners, days: Days, rng: random.Random) -> Case:
    opened_on = _opened_on(stage, first_met, days, rng)
    case = services.case_open(student=student, by=counselor, opened_on=opened_on)
    if stage == "new":
        return case
    barriers = rng.sample(list(BARRIER_SUPPORTS), k=rng.choice([1, 2]))
    start = _after(days, opened_on, rng.randint(1, 4))
    services.case_plan_update(
        case=case, by=counselor, barriers=barriers, plan_started_on=start,
        goal_rate=rng.choice(["0.85", "0.88", "0.90", "0.92"]),
        goal_by=start + datetime.timedelta(weeks=rng.choice([8, 10, 12])),
    )  # fmt: skip
    for offset, barrier in enumerate(barriers):
        kind, what = BARRIER_SUPPORTS[barrier]
        services.intervention_create(
            case=case, by=counselor, kind=kind, description=what, start_date=_after(days, start, offset * 3),
            owner=counselor if kind in ("check_in_check_out", "home_visit") else None,
            owner_name="" if kind in ("check_in_check_out", "home_visit") else "Student services office",
            frequency=rng.choice(["Daily", "Twice a week", "Weekly", ""]),
        )  # fmt: skip
    services.meeting_create(
        case=case, by=counselor, held_on=start, family_attended=True,
        attendees=f"Guardian, {student.first_name}, counselor, attendance lead",
        notes="Agreed on the goal and the first supports; the family asked for a call if mornings go badly.",
    )  # fmt: skip
    _refer(case, counselor, partners, barriers, days, stage, start, rng)
    if stage in ("reviewed", "closed"):
        notes = rng.sample(REVIEW_NOTES, len(REVIEW_NOTES))  # a review says something new each time
        for number, after in enumerate(range(10, 30 if stage == "closed" else len(days.elapsed), 10)):
            review_date = _after(days, start, after)
            if review_date < days.ago(1):
                services.review_create(
                    case=case, by=counselor, review_date=review_date, notes=notes[number % len(notes)]
                )  # fmt: skip
    if stage == "closed":
        closed_on = _after(days, start, 24)
        outcome, note = _closing(case, start, closed_on)
        services.case_close(case=case, by=counselor, outcome=outcome, closed_on=closed_on, note=note)
    return case


def _closing(case: Case, start: datetime.date, closed_on: datetime.date) -> tuple[str, str]:
    """The outcome the figures at closing support: a closed case never says "improved" for a
    student who attended less after the plan than before it."""
    window = progress.data_window(district=case.district)
    days = progress.attendance_days(window=window, student_ids=[case.student_id]).get(case.student_id, {})
    measured = progress.progress_of(days, plan_started_on=start, through=closed_on)
    since, change = measured.rate_since, measured.change
    if since is not None and case.goal_rate is not None and since >= case.goal_rate:
        return "goal_met", "Goal reached and held for a month; back to Tier 2 check-ins with the attendance team."
    if change is not None and change > 0:
        return (
            "improved",
            "Attending more days than before the plan; back to Tier 2 check-ins with the attendance team.",
        )
    return "served_elsewhere", "The family chose the district's evening program, which takes over the attendance plan."


def _refer(case, counselor, partners, barriers, days: Days, stage, start, rng: random.Random) -> None:
    serving = [p for p in partners if set(p.services) & set(barriers)]
    if not serving:
        services.referral_create(case=case, by=counselor, service=barriers[0], referred_on=start, no_partner=True)
        return
    partner = rng.choice(serving)
    service = next(code for code in barriers if code in partner.services)
    referred_on = _after(days, start, 1) if stage != "written" else days.ago(rng.randint(2, 4))
    guardian = case.student.guardians.order_by("name").first()
    referral = services.referral_create(
        case=case, by=counselor, partner=partner, service=service, referred_on=referred_on, shares_records=True,
        consent_given_by=f"{guardian.name} ({guardian.relationship or 'guardian'})" if guardian else "Guardian",
        consent_given_on=referred_on, consent_scope="Attendance this school year and the guardian's contact details",
        consent_expires_on=referred_on + datetime.timedelta(days=180),
    )  # fmt: skip
    if stage in ("reviewed", "closed"):
        connected = min(referred_on + datetime.timedelta(days=rng.randint(3, partner.expected_response_days)),
                        days.ago(1))  # fmt: skip
        services.referral_update(
            referral=referral, by=counselor, connected_on=connected,
            outcome=CONNECTED_OUTCOMES.get(partner.name, "Family connected to the service"),
        )  # fmt: skip
        if stage == "reviewed" and rng.random() < 0.5:
            # A second referral, weeks old and never confirmed: the caseload shows it overdue.
            other = next(p for p in partners if p is not partner)
            services.referral_create(
                case=case, by=counselor, partner=other, service=other.services[0],
                referred_on=_after(days, start, 3),
            )  # fmt: skip


def _after(days: Days, start: datetime.date, school_days: int) -> datetime.date:
    later = [day for day in days.elapsed if day >= start]
    if not later:
        return start
    return later[min(school_days, len(later) - 1)]


def progress_preview(student_ids: list[int], district: District, start: datetime.date):
    """Each candidate's progress if a plan had started on `start` (used to pick telling cases)."""
    window = progress.data_window(district=district)
    all_days = progress.attendance_days(window=window, student_ids=student_ids)
    return {
        sid: progress.progress_of(days, plan_started_on=start, through=window.as_of) for sid, days in all_days.items()
    }
