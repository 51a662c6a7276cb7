"""A partner, a case with a referral, in a district's data (tests/district_data.py), made on first
use: the isolation matrix fills the cases routes' URL kwargs from these."""

import dataclasses
import datetime

from django_scopes import scope

from cases import services
from districts.models import Membership, Role


@dataclasses.dataclass
class CaseRecords:
    partner: object
    case: object
    referral: object


def case_records(records) -> CaseRecords:
    """Cached on the DistrictRecords object, so one request's kwargs name the same rows."""
    cached = getattr(records, "_cases", None)
    if cached is None:
        cached = _create(records)
        records._cases = cached
    return cached


def _create(records) -> CaseRecords:
    district, student = records.district, records.student
    with scope(district=district):
        school = student.enrollments.get().school
        counselor = Membership.objects.get(grants__role=Role.COUNSELOR, grants__school=school)
        partner = services.partner_create(
            district=district, name="Family Health Clinic", services=["physical_health"], expected_response_days=10
        )
        case = services.case_open(student=student, by=counselor, opened_on=datetime.date(2025, 11, 3))
        referral = services.referral_create(
            case=case, by=counselor, partner=partner, service="physical_health", referred_on=datetime.date(2025, 11, 4)
        )
    return CaseRecords(partner, case, referral)
