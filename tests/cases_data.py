"""Tier 3 test data on top of tests/tiers_data.py's hand-countable school year: the tenant's
counselor (and a second one), an attendance lead, an admin, district staff, a mentor, and a
partner in the directory. `computed` runs the real nightly engine, so the queue has the Tier 3
flags the rules raise (`monday` is chronic two years running: t3_repeat_chronic)."""

import dataclasses
import datetime

from django_scopes import scope

from cases import services
from districts.models import Membership, Role
from districts.services import member_add
from tiers.models import MetricsRun
from tiers.services import compute_metrics, policy_current

from .tiers_data import OCT_31, TiersYear, tiers_year


@dataclasses.dataclass
class CaseWorld:
    year: TiersYear
    counselor: Membership
    second_counselor: Membership
    other_school_counselor: Membership
    attendance_lead: Membership
    admin: Membership
    staff: Membership
    mentor: Membership
    partner: object

    @property
    def district(self):
        return self.year.district


def _member(tenant, role) -> Membership:
    return Membership.objects.get(user=tenant.user(role))


def case_world(tenant, *, prefix: str = "T", compute: bool = False, as_of: datetime.date = OCT_31) -> CaseWorld:
    year = tiers_year(tenant, prefix=prefix)
    district = tenant.district
    with scope(district=district):
        second = member_add(
            district=district, email=f"second-counselor@{district.slug}.example.org", role=Role.COUNSELOR,
            school=tenant.school, first_name="Sam", last_name="Second",
        ).membership  # fmt: skip
        elsewhere = member_add(
            district=district, email=f"high-counselor@{district.slug}.example.org", role=Role.COUNSELOR,
            school=tenant.other_school, first_name="Hana", last_name="High",
        ).membership  # fmt: skip
        partner = services.partner_create(
            district=district, name=f"{prefix} Family Health Clinic", services=["physical_health", "mental_health"],
            expected_response_days=10, phone="919-555-0142", intake_process="Call the front desk.",
            connection_definition="The family attended a first appointment.",
        )  # fmt: skip
        if compute:
            compute_metrics(district=district, as_of=as_of, backfill=False)
        else:
            current_run(district, as_of)
        return CaseWorld(
            year=year, counselor=_member(tenant, Role.COUNSELOR), second_counselor=second,
            other_school_counselor=elsewhere, attendance_lead=_member(tenant, Role.ATTENDANCE_LEAD),
            admin=_member(tenant, Role.DISTRICT_ADMIN), staff=_member(tenant, Role.DISTRICT_STAFF),
            mentor=_member(tenant, Role.MENTOR), partner=partner,
        )  # fmt: skip


def current_run(district, as_of: datetime.date) -> MetricsRun:
    """A finished run marked current without computing anything: the latest computed as-of date
    the review figures stop at. Call inside the district's scope."""
    MetricsRun.objects.filter(is_current=True).update(is_current=False)
    return MetricsRun.objects.create(
        district=district, policy=policy_current(district=district), as_of=as_of,
        status=MetricsRun.Status.SUCCEEDED, is_current=True,
    )  # fmt: skip
