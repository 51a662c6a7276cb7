"""Who may do what with support requests.

- School attendance leads and counselors file requests for their own schools, see their
  schools' requests and comment on them.
- District staff and district admins see every request, take ownership, set the due date,
  resolve or reopen, and comment.
- Mentors do not reach support requests.

Lookups 404 before these checks, so another school's (or district's) request never reaches them.
"""

from districts.access import DistrictAccess
from districts.models import Role

SUPPORT_ROLES = (Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)
FILING_ROLES = (Role.ATTENDANCE_LEAD, Role.COUNSELOR)
DISTRICT_ROLES = (Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN)


def filing_school_ids(access: DistrictAccess) -> frozenset[int]:
    return access.school_ids(*FILING_ROLES)


def files_requests(access: DistrictAccess) -> bool:
    return bool(filing_school_ids(access))


def answers_requests(access: DistrictAccess) -> bool:
    """Assigns, sets due dates, resolves: the district's side of the conversation."""
    return access.has_role(*DISTRICT_ROLES)
