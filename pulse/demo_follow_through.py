"""The demo's follow-through, played by pulse's chapter (order 410) only when no earlier chapter
held huddles or logged contacts: the last six weeks' huddles held at each school (one week
missed here and there, most rows discussed) and first family contacts for this year's Tier 2
flags — most within the district's deadline, some late, a few still missing — so
the follow-through and effectiveness pages show what a working, imperfect team looks like.

Everything goes through the outreach services; one random.Random seeded with `today`.
"""

import datetime
import random

from districts.models import District, Membership, Role, School
from outreach.models import Barrier, HuddleRow, Method, OutreachAction
from outreach.services import (
    huddle_attendance_record,
    huddle_generate,
    huddle_row_mark_discussed,
    outreach_action_create,
    week_start_of,
)
from students.models import Student
from tiers.models import Flag

HELD_WEEKS = 6  # the review page's default period; generating older weeks would slow every replay
METHODS = [Method.CALL] * 5 + [Method.TEXT] * 2 + [Method.HOME_VISIT, Method.CONFERENCE, Method.EMAIL]
BARRIERS = [
    Barrier.PHYSICAL_HEALTH, Barrier.PHYSICAL_HEALTH, Barrier.TRANSPORTATION, Barrier.TRANSPORTATION,
    Barrier.MENTAL_HEALTH, Barrier.FAMILY_RESPONSIBILITIES, Barrier.MISCONCEPTION, Barrier.MISCONCEPTION,
    Barrier.HOUSING, Barrier.ACADEMIC, Barrier.SAFETY_BELONGING,
]  # fmt: skip
SUPPORTS = {
    Barrier.PHYSICAL_HEALTH: "Nurse check-in and an asthma action plan",
    Barrier.TRANSPORTATION: "Bus stop change requested",
    Barrier.MENTAL_HEALTH: "Morning check-in with the counselor",
    Barrier.FAMILY_RESPONSIBILITIES: "Before-school program for the younger sibling",
    Barrier.MISCONCEPTION: "Shared the days missed so far and why each day counts",
    Barrier.HOUSING: "McKinney-Vento liaison contacted",
    Barrier.ACADEMIC: "Tutoring twice a week",
    Barrier.SAFETY_BELONGING: "Lunch group with a mentor",
}


def _staff(school: School) -> list[Membership]:
    return list(
        Membership.objects.filter(
            is_active=True, grants__school=school, grants__role__in=[Role.ATTENDANCE_LEAD, Role.COUNSELOR]
        )
        .distinct()
        .order_by("pk")
    )


def demo_follow_through(*, district: District, today: datetime.date, calendar) -> dict[str, int]:
    if HuddleRow.objects.filter(discussed=True).exists():
        return {}  # an earlier chapter already played the huddles (rows go with a replay's students)
    rng = random.Random(f"demo_follow_through:{today.isoformat()}")
    elapsed = list(calendar.elapsed)
    held = contacts = 0
    district_staff = Membership.objects.filter(is_active=True, grants__role=Role.DISTRICT_STAFF).order_by("pk").first()
    for school in School.objects.order_by("sis_id"):
        staff = _staff(school)
        author = staff[0] if staff else district_staff  # a school without an account yet: the district's coach
        if author is None:
            continue
        contacts += _contacts(school, author, elapsed, today, rng)
        held += _huddles(district, school, staff, author, today, rng)
    return {"huddles held": held, "family contacts": contacts}


def _huddles(district, school, staff, author, today, rng) -> int:
    held, this_week = 0, week_start_of(today)
    for weeks_back in range(HELD_WEEKS, -1, -1):
        huddle = huddle_generate(
            district=district, school=school, week_start=this_week - datetime.timedelta(weeks=weeks_back)
        )
        if weeks_back and rng.random() < 0.12:
            continue  # a week the team did not meet (a field trip, testing)
        if staff:
            huddle_attendance_record(huddle=huddle, members=staff, by=author)
        for row in huddle.rows.all():
            if rng.random() < (0.9 if weeks_back else 0.5):
                huddle_row_mark_discussed(row=row, by=author)
        held += 1
    return held


def _contacts(school, author, elapsed, today, rng) -> int:
    """First family contacts for the school's students flagged in the last weeks, counted in
    school days from the flag; unanswered attempts first, now and then."""
    since = elapsed[0] if elapsed else today - datetime.timedelta(weeks=12)
    first_met = {}
    for student_id, met in Flag.objects.filter(
        tier=2, first_met__gte=since, student__enrollments__school=school
    ).values_list("student_id", "first_met"):
        first_met[student_id] = min(met, first_met.get(student_id, met))
    contacted = set(
        OutreachAction.objects.filter(student_id__in=list(first_met), reached=True)
        .exclude(method__in=[Method.LETTER, Method.STUDENT_CHECK_IN])
        .values_list("student_id", flat=True)
    )
    students = Student.objects.in_bulk(list(first_met))
    made = 0
    for student_id, met in sorted(first_met.items()):
        student = students[student_id]
        roll = rng.random()
        if student_id in contacted or roll < 0.1:
            continue  # still waiting for a first contact
        delay = rng.randint(1, 3) if roll < 0.78 else rng.randint(4, 9)
        later = [day for day in elapsed if day > met]
        if len(later) < delay:
            continue
        day, barrier = later[delay - 1], rng.choice(BARRIERS)
        if rng.random() < 0.3:
            outreach_action_create(
                student=student, author=author, attempt_date=later[max(0, delay - 2)], method=Method.CALL,
                reached=False, notes="No answer; left a voicemail.",
            )  # fmt: skip
        outreach_action_create(
            student=student, author=author, attempt_date=day, method=rng.choice(METHODS), reached=True,
            barrier=barrier, support_offered=SUPPORTS.get(barrier, ""),
            follow_up_date=day + datetime.timedelta(days=7),
        )  # fmt: skip
        made += 1
        contacted.add(student_id)
    return made
