"""Who may see and do what with Tier 3 cases (issue 11, "Who sees what").

- Counselors see the cases of their schools' students and work on them; the case lead has
  full access to their case wherever the student goes.
- Attendance leads of the student's school see that a case exists, its lead and its next
  review — not the plan, its notes or its figures.
- District staff and district admins read every case; they change nothing, except that a
  district admin may override the support-first guard (with a reason) and keeps the partner
  directory.
- Mentors see nothing of it.
- Sensitive notes show only to counselors of the student's school and to their author, as in
  outreach.

Object lookups 404 before these checks, so a wrong-district id never reaches them.
"""

from collections.abc import Iterable

from districts.access import DistrictAccess
from districts.models import Role
from outreach import permissions as outreach_permissions

# Roles that reach the cases pages and API at all; mentors do not.
CASE_ROLES = (Role.COUNSELOR, Role.ATTENDANCE_LEAD, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)
# Roles that see the partner directory (counselors refer to it; admins keep it).
PARTNER_ROLES = (Role.COUNSELOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)


def counselor_school_ids(access: DistrictAccess) -> frozenset[int]:
    return access.school_ids(Role.COUNSELOR)


def is_lead(access: DistrictAccess, case) -> bool:
    return case.lead_id == access.membership.pk


def works_on_case(access: DistrictAccess, case) -> bool:
    """Changes the plan, logs interventions, referrals, meetings and reviews; closes the case."""
    return is_lead(access, case) or (case.school_id is not None and case.school_id in counselor_school_ids(access))


def reads_case(access: DistrictAccess, case) -> bool:
    """The whole case: plan, supports, figures, non-sensitive notes."""
    return works_on_case(access, case) or access.sees_all_schools


def opens_cases(access: DistrictAccess, school_id: int | None) -> bool:
    return school_id is not None and school_id in counselor_school_ids(access)


def overrides_guard(access: DistrictAccess) -> bool:
    return access.is_admin


def keeps_partners(access: DistrictAccess) -> bool:
    return access.is_admin


def reads_sensitive(access: DistrictAccess, *, author_id: int, school_ids: Iterable[int]) -> bool:
    return outreach_permissions.reads_sensitive(access, author_id=author_id, school_ids=school_ids)
