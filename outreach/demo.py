"""The demo's huddle chapter (students.demo_story, order 200): the past weeks played as a working
team would have, so this Monday's huddle looks like week 14 of a real year (issue 10).

Week by week from the team's first huddle: the nightly calculation as of the Friday before, the
Monday huddle generated, and the team's work on it through the services (owners and next steps,
check-ins and family contacts with barriers and supports, follow-ups, flags closed when their
rule stopped holding). Tier 3 candidates are answered as a team would: the most severe (20%+
absent now) and those still chronic after Tier 2 supports are referred to the counselors, one or
two a week; for one more a week the team answers "keep in Tier 2 for now" with a reason and a
review two or three weeks out (the trigger leaves the agenda and the queue until then, and comes
back if its rule still holds); the rest the team closes saying why Tier 2 continues ("family
engaged, plan working"), so the counselors' queue holds referrals, not every student a Tier 3
rule ever fired for. A few follow-ups slip, as they do, so this week shows
some overdue. This week's huddle is generated and left for Monday's meeting.

Deterministic for the same `today` (one random.Random seeded with it); the roster is rebuilt by
seed_demo before every replay, so nothing here needs clearing.
"""

import datetime
import random

from django.core.exceptions import ValidationError
from django.db import connection

from districts.models import District, Membership, Role, School
from districts.services import member_add
from tiers import lifecycle
from tiers.lifecycle import ESCALATION_RULE, Resolution
from tiers.models import Flag, MetricsRun
from tiers.services import compute_metrics

from . import services
from .models import Huddle, HuddleRow, Section
from .selectors import owner_choices

FIRST_HUDDLE_WEEK = 3  # the team's first huddle: the school year's third week
WEEKS_PLAYED = 11  # at most: week 14 is this one
SLIPPED = 0.18  # share of follow-ups that slip a week
NEXT_STEPS = [
    "Call home to check on the plan",
    "Check in with the student on Monday",
    "Meet with the family at pickup",
    "Confirm the bus pass arrived",
    "Review attendance with the student's advisor",
    "Send the attendance letter and follow up by phone",
]
SUPPORTS = {
    "transportation": "Bus pass requested",
    "physical_health": "Nurse plan for asthma days",
    "mental_health": "Counselor check-ins twice a week",
    "family_responsibilities": "Morning check-in with a mentor",
    "academic": "Tutoring after school",
    "misconception": "Explained how absences add up",
    "safety_belonging": "Lunch group with the counselor",
    "housing": "Referred to the McKinney-Vento liaison",
}
ESCALATION_REASONS = [
    "Still missing two days a week after a month of supports; the family asked for more help.",
    "Over 20% absent and the barrier (health) needs the counselor and a partner.",
    "No contact with the family in three weeks despite calls, a letter and a home visit.",
]
TIER2_CONTINUES = [
    "Supports continue: the family answers and the bus pass starts next week.",
    "Supports continue: most absences were one illness; the nurse plan is in place.",
    "Supports continue: mentor check-ins just started; review in three weeks.",
]
SEVERE_BANDS = ("severe", "acute")  # 20%+ absent now
REFERRALS_PER_WEEK = 2  # a school's team refers one or two students a week, not every candidate
KEPT_IN_TIER2_PER_WEEK = 1  # and keeps one in Tier 2 for now, with a review date
KEEP_OPEN_REASONS = ["Family asked for another check-in before closing", "Attendance steadier, but only for two weeks"]
TEAM_EMAIL = "lead.{}@demo.attendnc.org"


def play_huddles(*, district: District, today: datetime.date, calendar) -> dict[str, int]:
    rng = random.Random(f"demo_huddles:{today.isoformat()}")
    Huddle.objects.filter(district=district).delete()  # the students' rows went with the old roster
    # The last replay's runs describe students who no longer exist; a newer one left current
    # would keep this replay's older weekly runs from ever becoming current.
    MetricsRun.objects.filter(district=district, is_current=True).update(is_current=False)
    elapsed = calendar.elapsed
    if not elapsed:
        return {}
    mondays = sorted({services.week_start_of(day) for day in elapsed})
    this_week = services.week_start_of(today)
    played = [week for week in mondays[FIRST_HUDDLE_WEEK - 1 :] if week < this_week][-WEEKS_PLAYED:]
    schools = list(School.objects.order_by("sis_id"))
    teams = {school.pk: _team(district, school) for school in schools}
    counts = {
        "huddles held": 0, "contacts logged": 0, "flags resolved": 0, "escalated to Tier 3": 0, "kept in Tier 2": 0,
        "Tier 3 triggers closed": 0,
    }  # fmt: skip
    first = True
    for week in played:
        before = [day for day in elapsed if day < week]
        if not before:
            continue
        compute_metrics(district=district, as_of=before[-1], backfill=first)
        first = False
        _analyze()
        days = [day for day in elapsed if week <= day < week + datetime.timedelta(days=5)]
        for school in schools:
            huddle = services.huddle_generate(district=district, school=school, week_start=week)
            _meet(huddle, teams[school.pk], days or [week], rng, counts)
            counts["huddles held"] += 1
    compute_metrics(district=district, as_of=today - datetime.timedelta(days=1), backfill=first)
    for school in schools:
        services.huddle_generate(district=district, school=school, week_start=this_week)
    return counts


def _analyze() -> None:
    """Fresh statistics after a night's bulk writes: on tables PostgreSQL has not analyzed yet it
    plans the per-row flag lookups as sequential scans (seconds per row instead of milliseconds)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tiers_flag, tiers_flagevent, outreach_huddlerow, outreach_huddlerowflag")
            cursor.execute("ANALYZE outreach_outreachaction, students_student, students_enrollment")


def _team(district: District, school: School) -> list[Membership]:
    """The school's attendance team (an attendance lead for a school the demo accounts leave
    without one); mentors own rows too, but the demo keeps them for their mentees."""
    team = [m for m in owner_choices(school=school) if m.grants.filter(school=school).exists()]
    if team:
        return team
    added = member_add(
        district=district, email=TEAM_EMAIL.format(school.sis_id.lower()), role=Role.ATTENDANCE_LEAD, school=school,
        first_name="Attendance", last_name=f"Lead ({school.name})",
    )  # fmt: skip
    return [added.membership]


def _meet(huddle, team: list[Membership], days: list[datetime.date], rng: random.Random, counts: dict) -> None:
    """Monday's meeting and the week's work on its rows."""
    chair = team[0]
    services.huddle_attendance_record(huddle=huddle, members=team, by=chair)
    monday, later = days[0], days[1:] or days
    referred = kept = 0
    rows = huddle.rows.select_related("student", "huddle__school").filter(outcome=HuddleRow.Outcome.OPEN)
    for row in rows.order_by("position", "pk"):  # Tier 3 candidates the most absent first
        if row.section == Section.ON_TRACK:
            continue
        services.huddle_row_mark_discussed(row=row, by=chair)
        if row.section == Section.READY_TO_CLOSE:
            _close_or_keep(row, chair, monday, rng, counts)
        elif row.section == Section.TIER3:
            if referred < REFERRALS_PER_WEEK and _needs_tier3(row):
                referred += 1
                services.huddle_row_escalate(row=row, by=chair, reason=rng.choice(ESCALATION_REASONS), on=monday)
                counts["escalated to Tier 3"] += 1
            else:
                _tier2_continues(row, chair, team, monday, later, rng, counts, keep=kept < KEPT_IN_TIER2_PER_WEEK)
                kept += 1
        elif row.section == Section.FOLLOW_UP:
            if row.band in ("satisfactory", "at_risk") and row.carried_over_from_id and rng.random() < 0.35:
                # Below the chronic line with the plan working: the team closes it.
                services.huddle_row_resolve(row=row, by=chair, reason=Resolution.PLAN_IN_PLACE, on=monday)
                counts["flags resolved"] += 1
            elif rng.random() >= SLIPPED:
                _follow_up(row, team, later, rng, counts)
        else:  # new, prior-year chronic, no owner, Tier 2 continuing: an owner, then the first steps
            owner = row.owner or rng.choice(team)
            _first_contacts(row, chair, owner, later, rng, counts)


def _needs_tier3(row) -> bool:
    """Whom a team refers: a student 20%+ absent now, or still chronic after Tier 2 supports."""
    if row.band in SEVERE_BANDS:
        return True
    return row.flag_links.filter(flag__rule=ESCALATION_RULE, flag__currently_met=True).exists()


def _tier2_continues(row, chair, team, monday, later, rng, counts, *, keep: bool) -> None:
    """The team answers the Tier 3 trigger without a referral and the Tier 2 work goes on: with
    `keep`, "keep in Tier 2 for now" until a review two or three weeks out; otherwise the trigger
    closed with the reason Tier 2 continues."""
    _first_contacts(row, chair, row.owner or rng.choice(team), later, rng, counts)
    if keep:
        services.huddle_row_keep_in_tier2(
            row=row, by=chair, reason=rng.choice(TIER2_CONTINUES), school_days=rng.choice([10, 15]), on=monday
        )
        counts["kept in Tier 2"] += 1
        return
    tier3 = Flag.objects.filter(pk__in=row.flag_links.values("flag_id"), tier=3)
    lifecycle.flags_resolve(
        flags=tier3, reason=Resolution.PLAN_IN_PLACE, note=rng.choice(TIER2_CONTINUES), on=monday, by=chair
    )
    counts["Tier 3 triggers closed"] += 1


def _first_contacts(row, chair, owner, days, rng, counts) -> None:
    """A check-in and a family contact in the week; the follow-up two to three weeks out."""
    check_in = rng.choice(days[:2])
    _log(row, owner, check_in, "student_check_in", True, counts)
    call = rng.choice(days)
    follow = call + datetime.timedelta(days=rng.choice([14, 17, 21]))
    if rng.random() < 0.25:  # no answer: try again next week
        _log(row, owner, call, "call", False, counts)
        follow = call + datetime.timedelta(days=7)
    else:
        barrier = rng.choice(list(SUPPORTS))
        _log(row, owner, call, rng.choice(["call", "call", "text", "conference"]), True, counts, barrier, follow)
    services.huddle_row_plan(row=row, by=chair, owner=owner, next_step=rng.choice(NEXT_STEPS), next_step_due=follow)


def _follow_up(row, team, days, rng, counts) -> None:
    owner = row.owner or rng.choice(team)
    day = rng.choice(days)
    follow = day + datetime.timedelta(days=rng.choice([21, 28, 35]))
    _log(row, owner, day, rng.choice(["call", "student_check_in", "home_visit"]), True, counts, None, follow)
    services.huddle_row_plan(
        row=row, by=owner, owner=owner, next_step=rng.choice(NEXT_STEPS), next_step_due=follow
    )  # fmt: skip


def _log(row, author, day, method, reached, counts, barrier=None, follow=None) -> None:
    services.outreach_action_create(
        student=row.student, author=author, attempt_date=day, method=method, reached=reached,
        barrier=barrier or "", support_offered=SUPPORTS.get(barrier, "") if barrier else "", follow_up_date=follow,
        notes="Left a voicemail." if not reached else "", huddle_row=row,
    )  # fmt: skip
    counts["contacts logged"] += 1


def _close_or_keep(row, chair, day, rng, counts) -> None:
    """Ready to close: the team closes it as improved, unless the figures disagree or the family
    asked for more time."""
    if rng.random() < 0.15:
        services.huddle_row_keep_open(row=row, by=chair, reason=rng.choice(KEEP_OPEN_REASONS), on=day)
        return
    try:
        services.huddle_row_resolve(row=row, by=chair, reason=Resolution.IMPROVED, on=day)
    except ValidationError:  # still chronic for the year: the team keeps it open, saying why
        services.huddle_row_keep_open(row=row, by=chair, reason=KEEP_OPEN_REASONS[1], on=day)
        return
    counts["flags resolved"] += 1
