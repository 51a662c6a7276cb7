"""Follow-through (implementation fidelity) per school: is the tiered response being carried out
as the district agreed? Read from what the teams recorded, through the selectors of the apps
that own it (outreach's huddles and contacts, cases' timers, tiers' flags); nothing here decides
who is flagged.

- Huddles held on schedule: school weeks (a week with an instructional day in the school's
  calendar) whose huddle was held — attendance taken or a student discussed. Weeks count up to
  last week; this week counts once its huddle is held.
- Flagged students discussed: huddle rows marked discussed, of all rows of those huddles.
- First family contact within the deadline: for each student whose first Tier 2 flag of the
  period was met on day T, the first family contact that reached someone (not a student
  check-in) on or after T, by the district's deadline in school days (outreach.deadlines).
  A trigger still inside its deadline without a contact is not counted yet.
- Tier 3 plans within the deadline, referrals connected, trigger → plan: cases.selectors.
"""

import dataclasses
import datetime
import statistics
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q

from cases.selectors import FollowThrough, case_follow_through
from districts.access import DistrictAccess
from districts.models import District, School
from outreach.deadlines import SchoolDays, tier2_deadlines
from outreach.models import Method
from outreach.selectors import huddle_list_with_counts, outreach_actions_for_students
from students.models import CalendarDay
from tiers.selectors import flag_list, student_metrics_current


def share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def median(values: list[int]) -> Decimal | None:
    return Decimal(str(statistics.median(values))) if values else None


def week_start_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@dataclasses.dataclass
class SchoolFollowThrough:
    school: School | None  # None: the district as a whole
    school_weeks: int = 0
    huddles_held: int = 0
    rows: int = 0
    rows_discussed: int = 0
    triggers_due: int = 0  # Tier 2 triggers past their contact deadline, or contacted
    contacts_on_time: int = 0
    days_to_contact: list[int] = dataclasses.field(default_factory=list)
    cases: FollowThrough | None = None

    @property
    def huddles_share(self) -> Decimal | None:
        return share(self.huddles_held, self.school_weeks)

    @property
    def discussed_share(self) -> Decimal | None:
        return share(self.rows_discussed, self.rows)

    @property
    def contact_share(self) -> Decimal | None:
        return share(self.contacts_on_time, self.triggers_due)

    @property
    def median_days_to_contact(self) -> Decimal | None:
        return median(self.days_to_contact)


@dataclasses.dataclass(frozen=True)
class FollowThroughReport:
    start: datetime.date
    today: datetime.date
    contact_deadline_days: int
    plan_deadline_days: int
    schools: list[SchoolFollowThrough]
    district: SchoolFollowThrough

    @property
    def rows(self) -> list[SchoolFollowThrough]:
        """Each school, then the district as a whole."""
        return [*self.schools, self.district]


def school_calendars(*, school_ids: list[int], start: datetime.date, end: datetime.date) -> dict[int, SchoolDays]:
    """Each school's instructional days, its own rows winning over the district default: one query."""
    rows = CalendarDay.objects.filter(
        Q(school_id__in=school_ids) | Q(school__isnull=True), date__range=(start, end)
    ).values_list("school_id", "date", "instructional")
    own: dict[int, dict] = defaultdict(dict)
    default: dict = {}
    for school_id, day, instructional in rows:
        (own[school_id] if school_id else default)[day] = instructional
    return {pk: SchoolDays(day for day, yes in {**default, **own.get(pk, {})}.items() if yes) for pk in school_ids}


def follow_through_report(
    *, access: DistrictAccess, district: District, today: datetime.date, start: datetime.date
) -> FollowThroughReport:
    schools = list(School.objects.order_by("name"))
    rows = {school.pk: SchoolFollowThrough(school) for school in schools}
    # Deadlines may run past today into the calendar: a little room after today.
    calendars = school_calendars(school_ids=list(rows), start=start, end=today + datetime.timedelta(days=60))
    _huddles(rows, access=access, calendars=calendars, start=start, today=today)
    deadline = tier2_deadlines(district).family_contact_days
    _contacts(rows, access=access, calendars=calendars, deadline=deadline, start=start, today=today)
    for pk, row in rows.items():
        row.cases = case_follow_through(district=district, today=today, start=start, school_ids=[pk])
    total = _district_total(rows.values())
    total.cases = case_follow_through(district=district, today=today, start=start)
    return FollowThroughReport(start, today, deadline, total.cases.plan_deadline_days, list(rows.values()), total)


def _huddles(rows, *, access, calendars, start, today) -> None:
    this_week = week_start_of(today)
    weeks = {pk: {week_start_of(day) for day in calendars[pk].days if start <= day < this_week} for pk in rows}
    for pk, row in rows.items():
        row.school_weeks = len(weeks[pk])
    huddles = (
        huddle_list_with_counts(access=access)
        .filter(week_start__gte=week_start_of(start), week_start__lte=this_week)
        .annotate(attendee_count=Count("attendance", distinct=True))
        .values_list("school_id", "week_start", "row_count", "discussed_count", "attendee_count")
    )
    for school_id, week, row_count, discussed, attendees in huddles:
        row = rows.get(school_id)
        if row is None:
            continue
        held = bool(attendees or discussed)
        if held and week == this_week:
            row.school_weeks += 1
        if held and (week == this_week or week in weeks[school_id]):
            row.huddles_held += 1
        row.rows += row_count
        row.rows_discussed += discussed


def _contacts(rows, *, access, calendars, deadline: int, start, today) -> None:
    triggers: dict[int, datetime.date] = {}
    tier2 = flag_list(access=access, tier=2).filter(first_met__gte=start)
    for student_id, first_met in tier2.values_list("student_id", "first_met"):
        if first_met <= today and (student_id not in triggers or first_met < triggers[student_id]):
            triggers[student_id] = first_met
    schools = dict(
        student_metrics_current().filter(student_id__in=list(triggers)).values_list("student_id", "current_school_id")
    )
    contacts: dict[int, list[datetime.date]] = defaultdict(list)
    for action in outreach_actions_for_students(student_ids=list(triggers), since=start):
        if action.reached and action.method != Method.STUDENT_CHECK_IN:
            contacts[action.student_id].append(action.attempt_date)
    for student_id, trigger in triggers.items():
        row = rows.get(schools.get(student_id))
        if row is None:
            continue
        due = calendars[row.school.pk].after(trigger, deadline)
        first = min((day for day in contacts[student_id] if day >= trigger), default=None)
        if first is None and today <= due:
            continue  # still inside its deadline
        row.triggers_due += 1
        if first is not None:
            row.days_to_contact.append((first - trigger).days)
            row.contacts_on_time += first <= due


def _district_total(rows) -> SchoolFollowThrough:
    total = SchoolFollowThrough(None)
    for row in rows:
        for name in ("school_weeks", "huddles_held", "rows", "rows_discussed", "triggers_due", "contacts_on_time"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.days_to_contact += row.days_to_contact
    return total
