"""Who may see and do what in the Tier 2 workspace (issue #5, "Who sees what").

- The school's team — its attendance leads and counselors — see the school's huddles and run
  them: discussed, owners, next steps, actions, escalations, resolutions, attendance, exports.
- Mentors see only the rows of students assigned to them, and log actions and next steps for
  those students.
- District staff and district admins see every school's huddles, read-only (admins to help a
  school or check on it; the school's team runs them).
- Sensitive notes (health, family) show only to counselors of the student's current school
  (the one they are enrolled at today: a counselor at a school the student left no longer reads
  them) and to their author.

Object lookups 404 before any of these checks, so a wrong-district id never reaches them.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from districts.access import DistrictAccess
from districts.models import Role
from students.models import Enrollment, MentorAssignment

HUDDLE_ROLES = (Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)
# Those who talk with families record a family's same-day notice opt-out (district staff only read).
NOTICE_ROLES = (Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR, Role.DISTRICT_ADMIN)
TEAM_ROLES = (Role.ATTENDANCE_LEAD, Role.COUNSELOR)


def team_school_ids(access: DistrictAccess) -> frozenset[int]:
    return access.school_ids(*TEAM_ROLES)


def sees_school(access: DistrictAccess, school_id: int) -> bool:
    """The whole huddle of the school, not just a mentor's rows."""
    return access.sees_all_schools or school_id in team_school_ids(access)


def runs_huddle(access: DistrictAccess, school_id: int) -> bool:
    return school_id in team_school_ids(access)


def mentee_ids(access: DistrictAccess) -> frozenset[int]:
    if not access.has_role(Role.MENTOR):
        return frozenset()
    return frozenset(MentorAssignment.objects.filter(mentor=access.membership).values_list("student_id", flat=True))


def works_on_student(access: DistrictAccess, *, school_id: int | None, student_id: int, mentees: Iterable[int]) -> bool:
    """May log actions and set next steps for the student: their school's team or their mentor."""
    return (school_id is not None and runs_huddle(access, school_id)) or student_id in mentees


def current_school_ids(enrollments: Iterable[Enrollment], today: datetime.date) -> set[int]:
    """The schools the student is enrolled at today, from enrollments already in hand."""
    return {e.school_id for e in enrollments if e.entry_date <= today and (e.exit_date is None or e.exit_date > today)}


def current_school_ids_by_student(student_ids: Iterable[int], today: datetime.date) -> dict[int, set[int]]:
    """The same for many students in one query (a huddle's rows)."""
    open_today = Enrollment.objects.filter(student_id__in=list(student_ids), entry_date__lte=today).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=today)
    )
    schools = defaultdict(set)
    for student_id, school_id in open_today.values_list("student_id", "school_id"):
        schools[student_id].add(school_id)
    return schools


def reads_sensitive(access: DistrictAccess, *, author_id: int, school_ids: Iterable[int]) -> bool:
    """`school_ids`: the student's current schools (current_school_ids), not every school the
    student was ever enrolled at."""
    if author_id == access.membership.pk:
        return True
    return bool(access.school_ids(Role.COUNSELOR) & set(school_ids))
