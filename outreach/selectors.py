"""Reads of the outreach app. Every function runs inside the district's scope; visibility
follows outreach.permissions, and a row outside the caller's view is a 404 like a missing one."""

import dataclasses
import datetime
import math
from decimal import Decimal

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.http import Http404

from districts.access import DistrictAccess
from districts.models import Membership, Role, RoleGrant, School
from students.models import Guardian, MentorAssignment
from tiers.models import Flag, WeeklySnapshot
from tiers.selectors import current_run, student_metrics_current

from . import permissions
from .models import Escalation, Huddle, HuddleAttendance, HuddleRow, HuddleRowFlag, OutreachAction


@dataclasses.dataclass
class HuddleInputs:
    """What generating one school's huddle reads, gathered in a handful of queries."""

    as_of: datetime.date | None
    metrics: dict[int, dict]
    open_flags: dict[int, list[dict]]
    carried_rows: dict[int, HuddleRow]
    escalated: set[int]
    actions: dict[int, list[dict]]
    tier2_since: dict[int, datetime.date]
    trend_points: dict[int, list]
    first_listed: dict[int, datetime.date] = dataclasses.field(default_factory=dict)  # flag id -> first huddle week


TREND_WEEKS = 12


def huddle_inputs(*, school: School, week_start: datetime.date) -> HuddleInputs:
    run = current_run()
    at_school = student_metrics_current().filter(current_school=school)
    metrics = {row["student_id"]: _metric(row) for row in at_school.values(*_METRIC_FIELDS)}
    # A list, not a subquery: on tables not yet analyzed PostgreSQL planned the IN (subquery)
    # on the snapshots as a nested loop taking seconds; a school's ids are a few thousand at most.
    students = list(metrics)
    open_flags: dict[int, list[dict]] = {}
    for flag in Flag.objects.filter(status__in=Flag.OPEN_STATUSES, student_id__in=students).values(
        "id",
        "student_id",
        "rule",
        "tier",
        "status",
        "first_met",
        "last_met",
        "currently_met",
        "kept_open_on",
        "kept_in_tier2_until",
        "follows_id",
        "why_code",
        "why_params",
    ):
        open_flags.setdefault(flag["student_id"], []).append(flag)
    tier2_since = {
        sid: min(f["first_met"] for f in flags if f["tier"] == 2)
        for sid, flags in open_flags.items()
        if any(f["tier"] == 2 for f in flags)
    }
    actions: dict[int, list[dict]] = {}
    earliest = min(tier2_since.values(), default=week_start) - datetime.timedelta(days=60)
    for action in OutreachAction.objects.filter(student_id__in=students, attempt_date__gte=earliest).values(
        "id", "student_id", "attempt_date", "method", "reached", "support_offered", "follow_up_date"
    ):
        actions.setdefault(action["student_id"], []).append(action)
    flag_ids = [flag["id"] for flags in open_flags.values() for flag in flags]
    first_listed = dict(
        HuddleRowFlag.objects.filter(
            flag_id__in=flag_ids, row__huddle__school=school, row__huddle__week_start__lt=week_start
        )
        .values("flag_id")
        .annotate(first=Min("row__huddle__week_start"))
        .values_list("flag_id", "first")
    )
    previous = Huddle.objects.filter(school=school, week_start__lt=week_start).order_by("-week_start").first()
    carried = HuddleRow.objects.filter(huddle=previous, outcome=HuddleRow.Outcome.OPEN) if previous else []
    return HuddleInputs(
        as_of=run.as_of if run else None,
        metrics=metrics,
        open_flags=open_flags,
        carried_rows={row.student_id: row for row in carried},
        escalated=students_in_tier3(),
        actions=actions,
        tier2_since=tier2_since,
        trend_points=_trend_points(students, week_start),
        first_listed=first_listed,
    )


def _trend_points(students, week_start: datetime.date) -> dict[int, list]:
    """Each student's cumulative rate at the end of the last weeks, for the row's sparkline."""
    points: dict[int, list] = {}
    snapshots = WeeklySnapshot.objects.filter(
        student_id__in=students,
        week_start__gte=week_start - datetime.timedelta(weeks=TREND_WEEKS),
        week_start__lte=week_start,
    )
    for student_id, week, rate in snapshots.order_by("week_start").values_list(
        "student_id", "week_start", "absence_rate"
    ):
        points.setdefault(student_id, []).append([week.isoformat(), str(rate)])
    return points


_METRIC_FIELDS = [
    "student_id", "student__grade", "membership_days", "absent_days", "absence_rate", "band", "absences_left",
    "recent_rate", "signals",
]  # fmt: skip


def _metric(row: dict) -> dict:
    signals = row["signals"] or {}
    return {
        "grade": row["student__grade"],
        "membership_days": row["membership_days"],
        "absent_days": row["absent_days"],
        "absence_rate": row["absence_rate"],
        "band": row["band"],
        "absences_left": row["absences_left"],
        "recent_rate": row["recent_rate"],
        "previous_rate": _decimal(signals.get("previous_rate")),
        "trend": _decimal(signals.get("trend")),
    }


def _decimal(value) -> Decimal | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return Decimal(str(round(float(value), 4)))


def students_in_tier3() -> set[int]:
    """Students the huddle no longer lists: referred to Tier 3 and still there, or with a Tier 3
    flag someone already took up."""
    referred = Escalation.objects.filter(tier3_flag__status__in=Flag.OPEN_STATUSES).values_list("student_id", flat=True)
    taken_up = Flag.objects.filter(tier=3, status=Flag.Status.IN_PROGRESS).values_list("student_id", flat=True)
    return set(referred) | set(taken_up)


def owner_choices(*, school: School) -> QuerySet[Membership]:
    """The people a row can be assigned to: the school's leads and counselors, and mentors."""
    grants = RoleGrant.objects.filter(membership=OuterRef("pk")).filter(
        Q(school=school, role__in=permissions.TEAM_ROLES) | Q(role=Role.MENTOR)
    )
    return (
        Membership.objects.filter(is_active=True)
        .filter(Exists(grants))
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


# ----------------------------------------------------------------------------- visibility


def huddle_list_visible(*, access: DistrictAccess) -> QuerySet[Huddle]:
    huddles = Huddle.objects.select_related("school")
    if access.sees_all_schools:
        return huddles
    visible = Q(school_id__in=permissions.team_school_ids(access))
    if access.has_role(Role.MENTOR):
        mentees = MentorAssignment.objects.filter(mentor=access.membership).values("student_id")
        visible |= Q(pk__in=HuddleRow.objects.filter(student_id__in=mentees).values("huddle_id"))
    return huddles.filter(visible)


def huddle_list_with_counts(*, access: DistrictAccess) -> QuerySet[Huddle]:
    """Visible huddles with their row and discussed counts (of every row: the meeting's progress)."""
    return (
        huddle_list_visible(access=access)
        .annotate(
            row_count=Count("rows", distinct=True),
            discussed_count=Count("rows", filter=Q(rows__discussed=True), distinct=True),
        )
        .order_by("-week_start", "school__name")
    )


def huddle_get_visible(*, access: DistrictAccess, huddle_id: int) -> Huddle:
    huddle = huddle_list_visible(access=access).filter(pk=huddle_id).first()
    if huddle is None:
        raise Http404("No such huddle.")
    return huddle


def huddle_row_list_visible(*, access: DistrictAccess, huddle: Huddle) -> QuerySet[HuddleRow]:
    rows = HuddleRow.objects.filter(huddle=huddle)
    if permissions.sees_school(access, huddle.school_id):
        return rows
    return rows.filter(student_id__in=permissions.mentee_ids(access))


def huddle_row_get_visible(*, access: DistrictAccess, row_id: int) -> HuddleRow:
    row = HuddleRow.objects.select_related("huddle__school", "student", "owner__user").filter(pk=row_id).first()
    if row is None:
        raise Http404("No such huddle row.")
    if permissions.sees_school(access, row.huddle.school_id):
        return row
    if row.student_id in permissions.mentee_ids(access):
        return row
    raise Http404("No such huddle row.")


def huddle_for_week(*, school: School, week_start: datetime.date) -> Huddle | None:
    return Huddle.objects.select_related("school").filter(school=school, week_start=week_start).first()


def huddle_is_latest(*, huddle: Huddle) -> bool:
    """Only the school's newest huddle takes changes; earlier ones are the record of their week."""
    return not Huddle.objects.filter(school_id=huddle.school_id, week_start__gt=huddle.week_start).exists()


def huddle_weeks(*, huddle: Huddle) -> tuple[Huddle | None, Huddle | None]:
    """The school's huddles just before and after this one, for the week navigation."""
    weeks = list(Huddle.objects.filter(school_id=huddle.school_id).order_by("week_start").values("pk", "week_start"))
    index = next(i for i, week in enumerate(weeks) if week["pk"] == huddle.pk)
    before = weeks[index - 1] if index > 0 else None
    after = weeks[index + 1] if index + 1 < len(weeks) else None
    return before, after


def huddle_rows_for_page(*, access: DistrictAccess, huddle: Huddle, row_id: int | None = None) -> list[HuddleRow]:
    """One query for the rows, their students and owners (guardians: guardians_by_student)."""
    rows = huddle_row_list_visible(access=access, huddle=huddle)
    if row_id is not None:
        rows = rows.filter(pk=row_id)
    return list(rows.select_related("student", "owner__user").order_by("position", "id"))


def guardians_by_student(*, student_ids) -> dict[int, list[Guardian]]:
    """One query, grouped here: prefetch_related clones a queryset per student, which at 150
    rows cost more than the query itself."""
    grouped: dict[int, list[Guardian]] = {}
    for guardian in Guardian.objects.filter(student_id__in=student_ids).order_by("student_id", "name"):
        grouped.setdefault(guardian.student_id, []).append(guardian)
    return grouped


def huddle_attendance(*, huddle: Huddle) -> list[HuddleAttendance]:
    return list(HuddleAttendance.objects.filter(huddle=huddle).select_related("member__user"))


def outreach_actions_for_students(*, student_ids, since: datetime.date | None = None) -> list[OutreachAction]:
    actions = OutreachAction.objects.filter(student_id__in=student_ids).select_related("author__user")
    if since:
        actions = actions.filter(attempt_date__gte=since)
    return list(actions.order_by("-attempt_date", "-id"))


def outreach_action_list_visible(*, access: DistrictAccess) -> QuerySet[OutreachAction]:
    """Actions on the students the caller may work with or oversee."""
    from students.selectors import student_list_visible

    actions = OutreachAction.objects.select_related("author__user", "student")
    if access.sees_all_schools:
        return actions
    return actions.filter(student__in=student_list_visible(access=access))


def huddle_school_summaries(*, access: DistrictAccess, week_start: datetime.date) -> list[dict]:
    """This week per visible school: the huddle (if generated), its rows and how many were discussed."""
    if access.sees_all_schools:
        schools = School.objects.all()
    else:
        schools = School.objects.filter(pk__in=permissions.team_school_ids(access))
    huddles = {
        h.school_id: h
        for h in Huddle.objects.filter(week_start=week_start, school__in=schools).annotate(
            row_count=Count("rows", distinct=True),
            discussed_count=Count("rows", filter=Q(rows__discussed=True), distinct=True),
            attendee_count=Count("attendance", distinct=True),
        )
    }
    return [{"school": school, "huddle": huddles.get(school.pk)} for school in schools]


def escalated_student_ids() -> set[int]:
    """Every student a huddle team escalated to Tier 3 (any time, any outcome): what the
    district's equity review counts as an escalation alongside the cases opened."""
    return set(Escalation.objects.values_list("student_id", flat=True))
