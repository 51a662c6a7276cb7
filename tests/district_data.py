"""Student rows for a conftest Tenant, shared by the API tests and the isolation matrix.

A district gets a student at the leads' school (with a guardian and an absence), one at its other
school whom the district's mentor is assigned, and one with no enrollment at all: a lead, a mentor
and a district-wide role each see a different set.
"""

import dataclasses

from django_scopes import scope

from districts.models import Role, RoleGrant
from students.models import MentorAssignment

from .factories import AttendanceRecordFactory, EnrollmentFactory, GuardianFactory, StudentFactory


@dataclasses.dataclass
class DistrictRecords:
    district: object
    student: object  # enrolled at tenant.school
    other_student: object  # enrolled at tenant.other_school, assigned to the tenant's mentor
    unenrolled: object
    guardian: object
    grant: object  # the counselor's grant: removing it would show in the database


def district_records(tenant, *, prefix: str) -> DistrictRecords:
    district = tenant.district
    with scope(district=district):
        student = StudentFactory(district=district, sis_id=f"{prefix}-1", grade="7", last_name="Rivera")
        other = StudentFactory(district=district, sis_id=f"{prefix}-2", grade="9", last_name="Okafor")
        unenrolled = StudentFactory(district=district, sis_id=f"{prefix}-3", grade="7", last_name="Lund")
        EnrollmentFactory(student=student, school=tenant.school, grade="7")
        EnrollmentFactory(student=other, school=tenant.other_school, grade="9")
        guardian = GuardianFactory(student=student, name="Maria Rivera")
        AttendanceRecordFactory(student=student, school=tenant.school)
        mentor = tenant.user(Role.MENTOR).memberships.get()
        MentorAssignment.objects.create(district=district, student=other, mentor=mentor)
        grant = RoleGrant.objects.get(membership__user=tenant.user(Role.COUNSELOR))
    return DistrictRecords(district, student, other, unenrolled, guardian, grant)


def mentor_assignment_of(records: DistrictRecords) -> MentorAssignment:
    """The assignment district_records makes (its other student, to the tenant's mentor)."""
    with scope(district=records.district):
        return MentorAssignment.objects.get(student=records.other_student)
