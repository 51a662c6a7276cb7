"""The Tier 2 sequence as a checklist with school-day deadlines.

SPEC §5: after a flag, a student check-in, a family contact, one concrete support and a
scheduled follow-up. Deadlines count *school* days (a flag on the Friday before Thanksgiving
week is not overdue on Wednesday), from the school's own calendar with the district default
filling the dates the school does not list. Each district sets its numbers in
`District.settings["tier2_deadlines"]`; the defaults are the issue's 3 and 10.
"""

import bisect
import dataclasses
import datetime
from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from districts.models import District, School
from students.models import CalendarDay
from tiers.why import short_date

from .models import Method

DEADLINE_DEFAULTS = {"student_check_in_days": 3, "family_contact_days": 3, "follow_up_days": 10}


@dataclasses.dataclass(frozen=True)
class Deadlines:
    student_check_in_days: int = 3
    family_contact_days: int = 3
    follow_up_days: int = 10


def tier2_deadlines(district: District) -> Deadlines:
    stored = (district.settings or {}).get("tier2_deadlines", {})
    values = {name: int(stored.get(name, default)) for name, default in DEADLINE_DEFAULTS.items()}
    return Deadlines(**values)


class SchoolDays:
    """A school's instructional dates. Past the end of what the calendar lists, weekdays stand
    in, so a deadline is never missing just because next term's calendar is not imported yet."""

    def __init__(self, days: Iterable[datetime.date]):
        self.days = sorted(set(days))

    def between(self, start: datetime.date, end: datetime.date) -> int:
        """School days after `start`, up to and including `end` (weekdays past the calendar's end)."""
        if end <= start:
            return 0
        count = bisect.bisect_right(self.days, end) - bisect.bisect_right(self.days, start)
        last = self.days[-1] if self.days else start
        day = max(last, start)
        while day < end:
            day += datetime.timedelta(days=1)
            if day.weekday() < 5:
                count += 1
        return count

    def after(self, start: datetime.date, count: int) -> datetime.date:
        """The `count`-th school day after `start` (start itself not counted)."""
        index = bisect.bisect_right(self.days, start)
        if index + count - 1 < len(self.days):
            return self.days[index + count - 1]
        day = self.days[-1] if self.days and self.days[-1] > start else start
        remaining = count - max(0, len(self.days) - index)
        while remaining > 0:
            day += datetime.timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        return day


def school_days(*, school: School, start: datetime.date, end: datetime.date) -> SchoolDays:
    """One query: the school's rows win over the district default for the same date."""
    rows = CalendarDay.objects.filter(Q(school=school) | Q(school__isnull=True), date__range=(start, end)).values_list(
        "school_id", "date", "instructional"
    )
    own, default = {}, {}
    for school_id, day, instructional in rows:
        (own if school_id else default)[day] = instructional
    merged = {**default, **own}
    return SchoolDays(day for day, instructional in merged.items() if instructional)


@dataclasses.dataclass(frozen=True)
class Step:
    key: str
    label: str
    due: datetime.date
    done_on: datetime.date | None
    today: datetime.date

    @property
    def state(self) -> str:
        if self.done_on:
            return "late" if self.done_on > self.due else "done"
        if self.today > self.due:
            return "overdue"
        return "due" if self.today == self.due else "open"

    @property
    def state_label(self) -> str:
        state = self.state
        if state in ("done", "late"):
            text = _("done, %(date)s") if state == "done" else _("late, %(date)s")
            return text % {"date": _day(self.done_on)}
        if state == "overdue":
            return _("overdue (due %(date)s)") % {"date": _day(self.due)}
        return _("due today") if state == "due" else _("by %(date)s") % {"date": _day(self.due)}

    @property
    def is_overdue(self) -> bool:
        return self.state == "overdue"


def tier2_checklist(
    *,
    since: datetime.date,
    actions: Iterable,
    calendar: SchoolDays,
    deadlines: Deadlines,
    today: datetime.date,
    clock: datetime.date | None = None,
) -> list[Step]:
    """The four steps for a Tier 2 flag first met on `since`. A contact counts once it reached
    someone: an unanswered call is logged, but the family has not been contacted yet.
    `actions` are the student's actions in any order (objects or dicts with the same names).

    Deadlines count from `clock` (default `since`): the flag's first huddle, so a flag met in
    September in a district whose team first met in November starts its clock in November."""
    start = max(since, clock) if clock else since
    ordered = sorted((_plain(action) for action in actions), key=lambda a: (a["attempt_date"], a["id"] or 0))
    ordered = [a for a in ordered if a["attempt_date"] >= since]
    reached = [a for a in ordered if a["reached"]]
    check_in = _first(a for a in reached if a["method"] == Method.STUDENT_CHECK_IN)
    family = _first(a for a in reached if a["method"] != Method.STUDENT_CHECK_IN)
    support = _first(a for a in ordered if a["support_offered"])
    follow_up = _first(a for a in reached if support and a["attempt_date"] > support)
    contact_due = calendar.after(start, deadlines.family_contact_days)
    return [
        Step("check_in", _("Check-in"), calendar.after(start, deadlines.student_check_in_days), check_in, today),
        Step("family_contact", _("Family contact"), contact_due, family, today),
        Step("support", _("Support"), contact_due, support, today),
        Step("follow_up", _("Follow-up"), calendar.after(start, deadlines.follow_up_days), follow_up, today),
    ]


def _day(day: datetime.date) -> str:
    return short_date(day)


def _first(actions) -> datetime.date | None:
    return next((action["attempt_date"] for action in actions), None)


def _plain(action) -> dict:
    if isinstance(action, dict):
        return action
    return {
        "id": action.pk,
        "attempt_date": action.attempt_date,
        "method": action.method,
        "reached": action.reached,
        "support_offered": action.support_offered,
    }
