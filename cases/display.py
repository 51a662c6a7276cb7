"""What the case page (and its PDF) shows, gathered in one place with a fixed number of queries:
the plan, its supports, the measured progress and its chart, the support-first checklist, the
Tier 2 history the case grew from, and which notes the reader may see."""

import dataclasses
import datetime

from django.db.models import Prefetch

from districts.access import DistrictAccess
from outreach import permissions as outreach_permissions
from outreach.models import Escalation, OutreachAction
from tiers.models import Flag, StudentMetrics

from . import guard, permissions
from .chart import ProgressChart, progress_chart
from .defaults import case_settings
from .models import Case, Intervention, Referral
from .progress import Progress, attendance_days, data_window, progress_of
from .selectors import plan_is_late


@dataclasses.dataclass
class Note:
    """A meeting's or review's notes as this reader sees them."""

    record: object
    restricted: bool


@dataclasses.dataclass
class CasePage:
    case: Case
    full: bool  # False: an attendance lead's view (the case exists, its lead, its next review)
    can_work: bool
    can_override: bool
    today: datetime.date
    metrics: StudentMetrics | None = None
    interventions: list[Intervention] = dataclasses.field(default_factory=list)
    referrals: list[Referral] = dataclasses.field(default_factory=list)
    meetings: list[Note] = dataclasses.field(default_factory=list)
    reviews: list[Note] = dataclasses.field(default_factory=list)
    checks: list[guard.GuardCheck] = dataclasses.field(default_factory=list)
    flags: list[Flag] = dataclasses.field(default_factory=list)
    escalations: list[Escalation] = dataclasses.field(default_factory=list)
    contacts: list[tuple[OutreachAction, bool]] = dataclasses.field(default_factory=list)
    progress: Progress | None = None
    chart: ProgressChart | None = None
    as_of: datetime.date | None = None
    plan_late: bool = False

    @property
    def review_overdue(self) -> bool:
        return bool(self.case.next_review_on and self.case.next_review_on < self.today)

    @property
    def overrides(self) -> list[Intervention]:
        return [i for i in self.interventions if i.override_reason]

    @property
    def overdue_referral_ids(self) -> set[int]:
        return {r.pk for r in self.referrals if r.is_overdue(self.today)}

    @property
    def guard_met(self) -> bool:
        return all(check.met for check in self.checks)

    @property
    def supports(self) -> list[Intervention]:
        return [i for i in self.interventions if i.kind != "legal_referral"]


def case_page(*, access: DistrictAccess, case: Case, today: datetime.date) -> CasePage:
    full = permissions.reads_case(access, case)
    page = CasePage(
        case=case, full=full, can_work=case.is_open and permissions.works_on_case(access, case),
        can_override=case.is_open and permissions.overrides_guard(access), today=today,
    )  # fmt: skip
    if not full:
        return page
    # Sensitive notes follow the student's current school, as in outreach.
    school_ids = outreach_permissions.current_school_ids(case.student.enrollments.all(), today)
    page.metrics = (
        StudentMetrics.objects.filter(run__is_current=True, student_id=case.student_id)
        .select_related("run__policy", "current_school")
        .first()
    )
    page.interventions = list(
        case.interventions.select_related("owner__user", "override_by__user").order_by("start_date", "id")
    )
    page.referrals = list(case.referrals.select_related("partner").order_by("referred_on", "id"))
    page.meetings = [
        Note(m, _restricted(access, m, school_ids)) for m in case.meetings.select_related("created_by__user")
    ]
    page.reviews = [
        Note(r, _restricted(access, r, school_ids)) for r in case.reviews.select_related("created_by__user")
    ]
    page.checks = guard.support_first_checks(case=case, on=today) if case.is_open else []
    page.flags = list(case.flags.order_by("first_met", "id"))
    page.escalations = list(
        Escalation.objects.filter(student_id=case.student_id)
        .select_related("escalated_by__user", "row__huddle__school")
        .prefetch_related(Prefetch("tier2_flags", queryset=Flag.objects.order_by("first_met")))
    )
    actions = OutreachAction.objects.filter(student_id=case.student_id).select_related("author__user")
    page.contacts = [(a, a.sensitive and _restricted(access, a, school_ids, author="author_id")) for a in actions[:8]]
    _measure(page, access.district)
    page.plan_late = plan_is_late(case, today=today, deadline_days=case_settings(access.district).plan_deadline_days)
    return page


def _restricted(access, record, school_ids, author: str = "created_by_id") -> bool:
    if not getattr(record, "sensitive", False):
        return False
    return not permissions.reads_sensitive(access, author_id=getattr(record, author), school_ids=school_ids)


def _measure(page: CasePage, district) -> None:
    case = page.case
    run = page.metrics.run if page.metrics else None
    window = data_window(district=district, run=run)
    page.as_of = window.as_of
    if window.as_of is None:
        return
    days = attendance_days(window=window, student_ids=[case.student_id])[case.student_id]
    start = case.plan_started_on
    if start:
        page.progress = progress_of(days, plan_started_on=start, through=window.as_of)
    page.chart = progress_chart(
        days=days, goal_rate=case.goal_rate, plan_started_on=start, interventions=page.interventions
    )
