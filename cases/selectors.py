"""Reads of the cases app. Every function runs inside the district's scope; visibility follows
cases.permissions, and a case outside the caller's view is a 404 like a missing one.

The follow-through figures at the end (plans written within the deadline, referrals that
connected, days from trigger to plan) are what the district pulse reads: they come from the
timers stored on each case, not from history reconstructed later.
"""

import dataclasses
import datetime
import statistics
from collections import defaultdict
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from districts.access import DistrictAccess
from districts.models import District, Role
from outreach.models import Escalation, OutreachAction
from students.models import Enrollment, Student
from tiers import lifecycle
from tiers.models import Flag, StudentMetrics

from . import permissions, progress
from .defaults import case_settings
from .models import Case, Partner, Referral


def case_list_visible(*, access: DistrictAccess) -> QuerySet[Case]:
    """Every case the caller sees at least exists: district-wide roles all of them, counselors
    and attendance leads their schools' cases and those of the students enrolled there now (a
    student who moved: the new school's team sees the case and its lead until the lead hands it
    over), a lead their own."""
    cases = Case.objects.all()
    if access.sees_all_schools:
        return cases
    schools = access.school_ids(Role.COUNSELOR, Role.ATTENDANCE_LEAD)
    today = timezone.localdate()  # the middleware makes this the district's date
    enrolled_now = Enrollment.objects.filter(school_id__in=schools, entry_date__lte=today).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=today)
    )
    return cases.filter(
        Q(lead=access.membership) | Q(school_id__in=schools) | Q(student_id__in=enrolled_now.values("student_id"))
    )


def case_get_visible(*, access: DistrictAccess, case_id: int) -> Case:
    case = (
        case_list_visible(access=access)
        .select_related("student", "school", "lead__user", "opened_by__user")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    return case


def open_case_of(*, student_id: int) -> Case | None:
    return Case.objects.filter(student_id=student_id, status=Case.Status.OPEN).select_related("lead__user").first()


# ----------------------------------------------------------------------------- the queue


@dataclasses.dataclass
class QueueEntry:
    student: object
    flags: list[Flag]
    escalations: list[Escalation]
    metrics: StudentMetrics | None
    tier2_contacts: int
    tier2_reached: int

    @property
    def waiting_since(self) -> datetime.date:
        return min(flag.first_met for flag in self.flags)


def _queue_scope(access: DistrictAccess):
    """The current figures of students at the counselor's schools (every school for district roles)."""
    at_school = StudentMetrics.objects.filter(run__is_current=True)
    if not access.sees_all_schools:
        at_school = at_school.filter(current_school_id__in=permissions.counselor_school_ids(access))
    return at_school


def _tier3_without_case(at_school) -> QuerySet[Flag]:
    """Tier 3 flags of the scope's students who have no open case."""
    with_case = Case.objects.filter(student_id=OuterRef("student_id"), status=Case.Status.OPEN)
    return Flag.objects.filter(tier=3, student_id__in=at_school.values("student_id")).exclude(Exists(with_case))


def _waiting_flags(at_school, today: datetime.date) -> QuerySet[Flag]:
    """Open Tier 3 flags of students without an open case, less the triggers the attendance
    team kept in Tier 2 for now (tiers.lifecycle.kept_in_tier2): those wait for their review."""
    return (
        _tier3_without_case(at_school)
        .filter(status__in=Flag.OPEN_STATUSES)
        .exclude(lifecycle.kept_in_tier2_q(on=today))
    )


def case_queue(*, access: DistrictAccess, today: datetime.date | None = None) -> list[QueueEntry]:
    """Tier 3 flags waiting for a case at the counselor's schools (the student's current school
    in the latest figures), oldest first, with the Tier 2 history attached. Five queries."""
    at_school = _queue_scope(access)
    flags = list(
        _waiting_flags(at_school, today or timezone.localdate()).select_related("student").order_by("first_met", "id")
    )
    by_student: dict[int, list[Flag]] = defaultdict(list)
    for flag in flags:
        by_student[flag.student_id].append(flag)
    ids = list(by_student)
    metrics = {m.student_id: m for m in at_school.filter(student_id__in=ids).select_related("current_school")}
    escalations = defaultdict(list)
    for escalation in Escalation.objects.filter(tier3_flag__in=flags).select_related("escalated_by__user", "row"):
        escalations[escalation.student_id].append(escalation)
    contacts = defaultdict(lambda: [0, 0])
    for student_id, reached in OutreachAction.objects.filter(student_id__in=ids).values_list("student_id", "reached"):
        contacts[student_id][0] += 1
        contacts[student_id][1] += int(reached)
    return [
        QueueEntry(
            student=student_flags[0].student,
            flags=student_flags,
            escalations=escalations[student_id],
            metrics=metrics.get(student_id),
            tier2_contacts=contacts[student_id][0],
            tier2_reached=contacts[student_id][1],
        )  # fmt: skip
        for student_id, student_flags in by_student.items()
    ]


def case_queue_count(*, access: DistrictAccess, today: datetime.date | None = None) -> int:
    """How many students wait in the queue (one query), for the navigation."""
    waiting = _waiting_flags(_queue_scope(access), today or timezone.localdate())
    return waiting.values("student_id").distinct().count()


@dataclasses.dataclass
class KeptStudent:
    """One student whose Tier 3 triggers the team kept in Tier 2: a student with two rules that
    fired is one line, with both rules, the earliest review and every reason given."""

    student: Student
    flags: list[Flag]

    @property
    def labels(self) -> list[str]:
        return [flag.label for flag in self.flags]

    @property
    def review(self) -> datetime.date:
        return min(flag.kept_in_tier2_until for flag in self.flags)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(flag.kept_in_tier2_reason for flag in self.flags if flag.kept_in_tier2_reason))


def case_queue_kept_in_tier2(*, access: DistrictAccess, today: datetime.date | None = None) -> list[KeptStudent]:
    """The students whose Tier 3 triggers the attendance teams kept in Tier 2 for now, earliest
    review first: not in the queue, but a counselor should know they are coming (or why not)."""
    flags = (
        _tier3_without_case(_queue_scope(access))
        .filter(status=Flag.Status.NEW, kept_in_tier2_until__gt=today or timezone.localdate())
        .select_related("student")
        .order_by("kept_in_tier2_until", "id")
    )
    by_student: dict[int, list[Flag]] = defaultdict(list)
    for flag in flags:
        by_student[flag.student_id].append(flag)
    return [KeptStudent(student=student_flags[0].student, flags=student_flags) for student_flags in by_student.values()]


# ----------------------------------------------------------------------------- the caseload


@dataclasses.dataclass
class CaseloadRow:
    case: Case
    metrics: StudentMetrics | None
    progress: progress.Progress | None
    overdue_referrals: int
    review_overdue: bool
    plan_late: bool

    @property
    def moved_to(self):
        """The school the nightly run now places the student at, when it is not the case's: the
        lead hands the case to a counselor there."""
        metrics = self.metrics
        if metrics is None or metrics.current_school_id in (None, self.case.school_id):
            return None
        return metrics.current_school

    @property
    def overdue_items(self) -> list[str]:
        items = []
        if self.review_overdue:
            items.append(_("review"))
        if self.plan_late:
            items.append(_("written plan"))
        if n := self.overdue_referrals:
            items.append(
                ngettext("%(n)s referral past its response time", "%(n)s referrals past their response time", n)
                % {"n": n}
            )
        return items


def caseload(
    *, access: DistrictAccess, today: datetime.date, lead_ids: list[int] | None = None, school_ids=None
) -> list[CaseloadRow]:
    """Open cases with what a counselor checks every morning: next review, what is overdue,
    the current rate and the change since the plan started. A fixed number of queries."""
    cases = case_list_visible(access=access).filter(status=Case.Status.OPEN)
    if lead_ids is not None:
        cases = cases.filter(lead_id__in=lead_ids)
    if school_ids is not None:
        cases = cases.filter(school_id__in=school_ids)
    cases = list(cases.select_related("student", "school", "lead__user").order_by("next_review_on", "opened_on", "id"))
    if not cases:
        return []
    student_ids = [case.student_id for case in cases]
    metrics = {
        m.student_id: m
        for m in StudentMetrics.objects.filter(run__is_current=True, student_id__in=student_ids).select_related(
            "run__policy", "current_school"
        )
    }
    run = next(iter(metrics.values())).run if metrics else None
    window = progress.data_window(district=access.district, run=run)
    days = progress.attendance_days(window=window, student_ids=student_ids)
    overdue = defaultdict(int)
    for referral in Referral.objects.filter(case__in=cases, connected_on__isnull=True, declined=False).select_related(
        "partner"
    ):
        if referral.is_overdue(today):
            overdue[referral.case_id] += 1
    deadline = case_settings(access.district).plan_deadline_days
    return [
        CaseloadRow(
            case=case,
            metrics=metrics.get(case.student_id),
            progress=progress.progress_of(
                days[case.student_id], plan_started_on=case.plan_started_on, through=window.as_of
            )
            if case.plan_started_on
            else None,
            overdue_referrals=overdue[case.pk],
            review_overdue=bool(case.next_review_on and case.next_review_on < today),
            plan_late=plan_is_late(case, today=today, deadline_days=deadline),
        )  # fmt: skip
        for case in cases
    ]


def plan_is_late(case: Case, *, today: datetime.date, deadline_days: int) -> bool:
    if case.is_written or case.triggered_on is None:
        return False
    return (today - case.triggered_on).days > deadline_days


# ----------------------------------------------------------------------------- partners


def partner_list(*, include_inactive: bool = False) -> QuerySet[Partner]:
    partners = Partner.objects.all()
    return partners if include_inactive else partners.filter(is_active=True)


def partner_get(*, partner_id: int) -> Partner:
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise Http404("No such partner.")
    return partner


# ----------------------------------------------------------------------------- follow-through (the pulse reads these)


@dataclasses.dataclass(frozen=True)
class FollowThrough:
    """Tier 3 follow-through for a period: cases opened in it and referrals made in it."""

    cases_opened: int
    cases_with_trigger: int
    plans_written: int
    plans_written_within_deadline: int
    plan_deadline_days: int
    median_days_to_lead: Decimal | None
    median_days_to_plan: Decimal | None
    referrals_made: int  # to a partner (not declined, not "no partner")
    referrals_connected: int
    referrals_overdue: int

    @property
    def plans_within_deadline_share(self) -> Decimal | None:
        return _share(self.plans_written_within_deadline, self.cases_with_trigger)

    @property
    def connection_share(self) -> Decimal | None:
        return _share(self.referrals_connected, self.referrals_made)


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def _median(values: list[int]) -> Decimal | None:
    return Decimal(str(statistics.median(values))) if values else None


def case_follow_through(
    *,
    district: District,
    today: datetime.date,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    school_ids=None,
) -> FollowThrough:
    """Follow-through of the cases opened between `start` and `end` (inclusive; either open-ended)
    at the given schools (default all): trigger → lead and trigger → plan from the stored timers,
    plans written within the district's deadline, referrals connected and overdue."""
    cases = Case.objects.all()
    referrals = Referral.objects.filter(declined=False, no_partner=False)
    if start:
        cases, referrals = cases.filter(opened_on__gte=start), referrals.filter(referred_on__gte=start)
    if end:
        cases, referrals = cases.filter(opened_on__lte=end), referrals.filter(referred_on__lte=end)
    if school_ids is not None:
        cases, referrals = cases.filter(school_id__in=school_ids), referrals.filter(case__school_id__in=school_ids)
    deadline = case_settings(district).plan_deadline_days
    timers = list(cases.values_list("triggered_on", "plan_written_on", "days_to_lead", "days_to_plan"))
    to_lead = [lead for trigger, written, lead, plan in timers if trigger is not None and lead is not None]
    to_plan = [plan for trigger, written, lead, plan in timers if trigger is not None and plan is not None]
    pending = list(referrals.filter(connected_on__isnull=True).select_related("partner"))
    return FollowThrough(
        cases_opened=len(timers),
        cases_with_trigger=sum(1 for trigger, *rest in timers if trigger is not None),
        plans_written=sum(1 for trigger, written, *rest in timers if written is not None),
        plans_written_within_deadline=sum(1 for days in to_plan if days <= deadline),
        plan_deadline_days=deadline,
        median_days_to_lead=_median(to_lead),
        median_days_to_plan=_median(to_plan),
        referrals_made=referrals.count(),
        referrals_connected=referrals.filter(connected_on__isnull=False).count(),
        referrals_overdue=sum(1 for referral in pending if referral.is_overdue(today)),
    )


def trigger_to_plan_days(*, start: datetime.date | None = None, end: datetime.date | None = None) -> list[int]:
    """Each written plan's days from trigger to plan, for cases opened in the period."""
    cases = Case.objects.filter(days_to_plan__isnull=False)
    if start:
        cases = cases.filter(opened_on__gte=start)
    if end:
        cases = cases.filter(opened_on__lte=end)
    return list(cases.order_by("days_to_plan").values_list("days_to_plan", flat=True))
