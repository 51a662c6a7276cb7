"""What the huddle page and the student timeline show, assembled from a fixed number of queries
(the selectors) into plain objects the templates only print.

The huddle page of a school with 150 rows must stay within 20 queries and well under 150 ms,
so nothing here touches the database per row: everything per student is fetched once for all
rows and looked up in dictionaries.
"""

import dataclasses
import datetime
import functools
from collections import defaultdict
from typing import NamedTuple

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from districts.access import DistrictAccess
from tiers.models import BAND_CHOICES, WeeklySnapshot
from tiers.why import pct, short_date

from . import fragments, permissions, selectors
from .deadlines import Step, school_days, tier2_checklist, tier2_deadlines
from .models import AGENDA_SECTIONS, Huddle, HuddleAttendance, HuddleRow, OutreachAction, Section
from .sections import SECTION_HELP, reason_label, reason_why
from .sparkline import sparkline_svg

BAND_LABELS = dict(BAND_CHOICES)
BAND_BADGES = {"satisfactory": "ok", "at_risk": "warn", "moderate": "bad", "severe": "bad", "acute": "bad"}
SPARK_WEEKS = 12


@dataclasses.dataclass
class Contact:
    action: OutreachAction
    restricted: bool  # sensitive, and the reader is neither a counselor here nor the author

    @property
    def result(self) -> str:
        return _("reached") if self.action.reached else _("not reached")


@dataclasses.dataclass
class RowView:
    row: HuddleRow
    guardians: list
    sparkline: str
    last_contact: Contact | None
    checklist: list[Step]
    can_work: bool
    can_run: bool
    today: datetime.date
    urls: dict
    csrf_token: str = ""

    @property
    def student(self):
        return self.row.student

    @property
    def band_label(self) -> str:
        return BAND_LABELS.get(self.row.band, self.row.band or "—")

    @property
    def band_badge(self) -> str:
        return BAND_BADGES.get(self.row.band, "")

    @property
    def rate_pct(self) -> str:
        return pct(self.row.absence_rate)

    @property
    def days_missed(self) -> str:
        return formats.number_format(self.row.absent_days.normalize())

    @property
    def trend_text(self) -> str:
        if self.row.trend is None:
            return ""
        points = float(self.row.trend) * 100
        if abs(points) < 0.05:
            return _("last 20 school days: steady")
        values = {"points": formats.number_format(round(abs(points), 1), decimal_pos=1)}
        if points > 0:
            return _("last 20 school days: up %(points)s pts on the 20 before") % values
        return _("last 20 school days: down %(points)s pts on the 20 before") % values

    @property
    def next_step_state(self) -> str:
        due = self.row.next_step_due
        if not due or not self.row.is_open:
            return ""
        return "overdue" if due < self.today else ("due" if due == self.today else "")

    @property
    def last_held(self) -> datetime.date | None:
        """The last day a rule on the row held (ready to close: the "then" of "then and now")."""
        days = [r.get("last_met") for r in self.row.reasons if r.get("last_met")]
        return datetime.date.fromisoformat(max(days)) if days else None

    @property
    def then_now(self) -> str:
        return _("Rule last held %(date)s; now %(rate)s absent (%(band)s)") % {
            "date": short_date(self.last_held),
            "rate": self.rate_pct,
            "band": self.band_label,
        }

    @property
    def overdue_steps(self) -> int:
        return sum(1 for step in self.checklist if step.is_overdue)

    @property
    def trend_short(self) -> str:
        if self.row.trend is None:
            return ""
        points = formats.number_format(round(float(self.row.trend) * 100, 1), decimal_pos=1)
        return _("trend %(sign)s%(points)s pts") % {"sign": "+" if self.row.trend >= 0 else "", "points": points}

    @property
    def reasons_line(self) -> str:
        """The PDF's compact "why": the first reason in full, the others by name."""
        reasons = self.row.reasons
        if not reasons:
            return ""
        first = f"{reason_label(reasons[0])}: {reason_why(reasons[0])}"
        return "; ".join([first, *(reason_label(reason) for reason in reasons[1:])])

    @property
    def guardian_line(self) -> str:
        if not self.guardians:
            return _("No guardian contact")
        g = self.guardians[0]
        channel = g.get_preferred_channel_display().lower() if g.preferred_channel else _("no channel")
        return " · ".join(part for part in [g.name, g.language or _("language?"), channel, g.phone] if part)

    @property
    def contact_line(self) -> str:
        contact = self.last_contact
        if contact is None:
            return _("None yet")
        action = contact.action
        barrier = f" · {action.get_barrier_display()}" if action.barrier and not contact.restricted else ""
        return f"{short_date(action.attempt_date)} · {action.get_method_display()} · {contact.result}{barrier}"

    @property
    def owner_name(self) -> str:
        return fragments.person(self.row.owner) if self.row.owner else ""

    @property
    def due_short(self) -> str:
        return short_date(self.row.next_step_due) if self.row.next_step_due else ""

    # What the row's template partials print (outreach/huddle.html#row): plain text, escaped there.
    @property
    def grade_label(self) -> str:
        return _("Grade %(grade)s") % {"grade": self.row.grade or "—"}

    @functools.cached_property
    def _reasons(self):
        return fragments.reasons(self.row.reasons)

    @property
    def reasons_shown(self) -> list:
        return self._reasons[0]

    @property
    def reasons_also(self) -> str:
        return self._reasons[1]

    @property
    def guardian_card(self):
        return fragments.guardian(self.guardians)

    @property
    def contact_card(self):
        return fragments.contact(self.last_contact)

    @property
    def left_text(self) -> str:
        return fragments.absences_left(self.row)

    @property
    def missed_text(self) -> str:
        return fragments.missed(self)

    @property
    def due_text(self) -> str:
        return fragments.due(self)

    @property
    def outcome_label(self) -> str:
        return fragments.outcome(self.row)

    @property
    def ready_to_close(self) -> bool:
        return fragments.ready_to_close(self.row)

    @property
    def tier3_candidate(self) -> bool:
        """A Tier 3 escalation candidate: escalate, close, or keep in Tier 2 for now."""
        return self.row.section == Section.TIER3


class PageSection(NamedTuple):
    value: str
    label: str
    help: str
    views: list[RowView]

    @property
    def agenda(self) -> bool:
        return self.value in AGENDA_SECTIONS


@dataclasses.dataclass(frozen=True)
class HuddleFilters:
    """The huddle's filters and search, read from (and kept in) the URL's query string."""

    section: str = ""
    owner: str = ""  # a membership id, "none", or "" for anyone
    discussed: str = ""  # "yes", "no" or ""
    grade: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query) -> "HuddleFilters":
        section = query.get("section", "")
        discussed = query.get("discussed", "")
        owner = query.get("owner", "")
        return cls(
            section=section if section in Section.values else "",
            owner=owner if owner == "none" or owner.isdigit() else "",
            discussed=discussed if discussed in ("yes", "no") else "",
            grade=query.get("grade", "")[:4].strip(),
            q=" ".join(query.get("q", "").split())[:80],
        )

    @property
    def active(self) -> bool:
        return any(dataclasses.astuple(self))

    def keeps(self, row: HuddleRow) -> bool:
        if self.section and row.section != self.section:
            return False
        if self.owner == "none" and row.owner_id:
            return False
        if self.owner.isdigit() and row.owner_id != int(self.owner):
            return False
        if self.discussed and row.discussed != (self.discussed == "yes"):
            return False
        if self.grade and row.grade != self.grade:
            return False
        if self.q:
            student = row.student
            haystack = f"{student.first_name} {student.last_name} {student.sis_id}".casefold()
            return all(word in haystack for word in self.q.casefold().split())
        return True


@dataclasses.dataclass
class HuddlePage:
    huddle: Huddle
    sections: list[PageSection]
    rows: list[RowView]
    attendance: list[HuddleAttendance]
    before: dict | None
    after: dict | None
    can_run: bool
    read_only: bool
    is_past: bool = False
    filters: HuddleFilters = HuddleFilters()
    shown: int = 0  # rows the filters keep
    can_export: bool = False  # the whole huddle as PDF or CSV: its school's team and district roles
    on_track_deferred: bool = False  # the on-track lines load when the list is opened (huddle_page)

    @property
    def shown_views(self) -> list[RowView]:
        """The rows this response prints (the audit's "students shown")."""
        return [
            view for section in self.sections for view in section.views
            if not (self.on_track_deferred and section.value == Section.ON_TRACK)
        ]  # fmt: skip

    @property
    def agenda_rows(self) -> list[RowView]:
        return [view for view in self.rows if view.row.on_agenda]

    @property
    def agenda_sections(self) -> list[PageSection]:
        return [section for section in self.sections if section.agenda]

    @property
    def ready_section(self) -> PageSection | None:
        return next((s for s in self.sections if s.value == Section.READY_TO_CLOSE), None)

    @property
    def on_track_section(self) -> PageSection | None:
        return next((s for s in self.sections if s.value == Section.ON_TRACK), None)

    @property
    def other_sections(self) -> list[PageSection]:
        """Sections of huddles generated before the agenda (rising, approaching, carried)."""
        main = {Section.READY_TO_CLOSE, Section.ON_TRACK}
        return [s for s in self.sections if not s.agenda and s.value not in main]

    @property
    def section_counts(self) -> list[tuple[str, str, int]]:
        """Every section's count before filtering: the agenda's size at a glance."""
        counts = defaultdict(int)
        for view in self.rows:
            counts[view.row.section] += 1
        return [(value, label, counts[value]) for value, label in Section.choices if counts[value]]

    @property
    def owner_options(self) -> list[tuple[str, str]]:
        owners = {view.row.owner_id: view.row.owner for view in self.rows if view.row.owner_id}
        named = sorted(((str(pk), fragments.person(m)) for pk, m in owners.items()), key=lambda o: o[1].casefold())
        return named

    @property
    def grade_options(self) -> list[str]:
        grades = {view.row.grade for view in self.rows if view.row.grade}
        return sorted(grades, key=lambda g: (not g.isdigit(), int(g) if g.isdigit() else 0, g))

    @property
    def ready_count(self) -> int:
        return sum(1 for view in self.rows if view.row.section == Section.READY_TO_CLOSE)

    @property
    def on_track_count(self) -> int:
        return sum(1 for view in self.rows if view.row.section == Section.ON_TRACK)

    @property
    def total(self) -> int:
        """The agenda's rows: the meeting's size (on track and ready to close are not on it)."""
        return len(self.agenda_rows)

    @property
    def everyone(self) -> int:
        return len(self.rows)

    @property
    def discussed(self) -> int:
        return sum(1 for view in self.agenda_rows if view.row.discussed)

    @property
    def discussed_pct(self) -> int:
        return round(100 * self.discussed / self.total) if self.total else 0


def huddle_page(
    *,
    access: DistrictAccess,
    huddle: Huddle,
    today: datetime.date,
    csrf_token: str = "",
    filters: HuddleFilters = HuddleFilters(),
    on_track_as_lines: bool = False,
    lines_only: bool = False,
) -> HuddlePage:
    """`lines_only`: every row as a line (the opened on-track list needs nothing more).
    `on_track_as_lines`: the page prints an on-track row as one line (its full row opens on
    demand), so those rows, and the rows the filters leave out, skip the contacts, guardians,
    sparkline and checklist; the exports print every row in full. Without filters the page also
    leaves the on-track lines out until the list is opened (`on_track_deferred`: the longest
    list, collapsed, and a third of the page's time at 800 students)."""
    rows = selectors.huddle_rows_for_page(access=access, huddle=huddle)
    before, after = selectors.huddle_weeks(huddle=huddle)
    # A past week is a record: the work goes on in the newest huddle, where its open rows carried.
    latest = after is None
    mentees = permissions.mentee_ids(access) if latest else frozenset()
    can_run = latest and permissions.runs_huddle(access, huddle.school_id)
    views = row_views(
        access=access, huddle=huddle, rows=rows, today=today, mentees=mentees, can_run=can_run, csrf_token=csrf_token,
        lines=frozenset(
            row.pk for row in rows if lines_only or row.section == Section.ON_TRACK or not filters.keeps(row)
        ) if on_track_as_lines or lines_only else frozenset(),
    )  # fmt: skip
    by_section = defaultdict(list)
    kept = [view for view in views if filters.keeps(view.row)]
    for view in kept:
        by_section[view.row.section].append(view)
    return HuddlePage(
        huddle=huddle,
        sections=[
            PageSection(value, label, SECTION_HELP[value], by_section[value])
            for value, label in Section.choices
            if by_section[value]
        ],
        rows=views,
        attendance=selectors.huddle_attendance(huddle=huddle),
        before=before,
        after=after,
        can_run=can_run,
        read_only=not can_run and not mentees,
        is_past=not latest,
        filters=filters,
        shown=len(kept),
        can_export=permissions.sees_school(access, huddle.school_id),
        on_track_deferred=on_track_as_lines and not filters.active,
    )


def row_views(
    *,
    access: DistrictAccess,
    huddle: Huddle,
    rows: list[HuddleRow],
    today: datetime.date,
    mentees,
    can_run: bool,
    csrf_token: str = "",
    lines: frozenset[int] = frozenset(),
) -> list[RowView]:
    """The display of many rows at once: one query each for actions, guardians and the calendar.
    Rows in `lines` (ids) are printed as one line: only their own fields, none of the lookups."""
    full_rows = [row for row in rows if row.pk not in lines]
    ids = [row.student_id for row in full_rows]
    since_dates = [row.tier2_since for row in full_rows if row.tier2_since]
    earliest = min(since_dates, default=huddle.week_start) - datetime.timedelta(days=120)
    actions = defaultdict(list)
    for action in selectors.outreach_actions_for_students(student_ids=ids, since=earliest):
        actions[action.student_id].append(action)
    horizon = today + datetime.timedelta(days=120)
    calendar = school_days(school=huddle.school, start=min(since_dates, default=today), end=horizon)
    deadlines = tier2_deadlines(access.district)
    links = _Links(access.district.slug)
    guardians = selectors.guardians_by_student(student_ids=ids)
    current_schools = permissions.current_school_ids_by_student(ids, today)

    def checklist(row, mine):
        if not (row.tier2_since and row.is_open):
            return []
        return tier2_checklist(
            since=row.tier2_since, actions=mine, calendar=calendar, deadlines=deadlines, today=today,
            clock=row.tier2_clock,
        )  # fmt: skip

    def works(row):
        return row.is_open and permissions.works_on_student(
            access, school_id=huddle.school_id, student_id=row.student_id, mentees=mentees
        )

    views = []
    for row in rows:
        if row.pk in lines:
            views.append(
                RowView(
                    row=row, guardians=[], sparkline="", last_contact=None, checklist=[], can_work=works(row),
                    can_run=can_run and row.is_open, today=today, urls=links.for_row(row), csrf_token=csrf_token,
                )
            )  # fmt: skip
            continue
        mine = actions.get(row.student_id, [])
        views.append(
            RowView(
                row=row,
                guardians=guardians.get(row.student_id, []),
                sparkline=sparkline_svg(row.trend_points),
                last_contact=_contact(access, mine[0], current_schools[row.student_id]) if mine else None,
                checklist=checklist(row, mine),
                can_work=works(row),
                can_run=can_run and row.is_open,
                today=today,
                urls=links.for_row(row),
                csrf_token=csrf_token,
            )
        )
    return views


class _Links:
    """A row's URLs from one reverse() per page: 150 rows × 4 links would be 600 reversals."""

    MARK = 987654321

    def __init__(self, slug: str):
        self.row = reverse("outreach:huddle_row", kwargs={"district": slug, "row_id": self.MARK})
        self.timeline = reverse("outreach:student_timeline", kwargs={"district": slug, "student_id": self.MARK})

    def for_row(self, row: HuddleRow) -> dict:
        base = self.row.replace(str(self.MARK), str(row.pk))
        return {
            "row": base,
            "discussed": f"{base}discussed/",
            "timeline": self.timeline.replace(str(self.MARK), str(row.student_id)),
        }


def _contact(access: DistrictAccess, action: OutreachAction, school_ids: set[int]) -> Contact:
    restricted = action.sensitive and not permissions.reads_sensitive(
        access, author_id=action.author_id, school_ids=school_ids
    )
    return Contact(action, restricted)


def _sparklines(student_ids: list[int], week_start: datetime.date) -> dict[int, str]:
    """Live sparklines (the timeline's); a huddle row draws the points it was generated with."""
    since = week_start - datetime.timedelta(weeks=SPARK_WEEKS)
    points = defaultdict(list)
    for student_id, week, rate in (
        WeeklySnapshot.objects.filter(student_id__in=student_ids, week_start__gte=since, week_start__lte=week_start)
        .order_by("week_start")
        .values_list("student_id", "week_start", "absence_rate")
    ):
        points[student_id].append((week, rate))
    return {student_id: sparkline_svg(series) for student_id, series in points.items()}


def sparkline_for(student_id: int, week_start: datetime.date) -> str:
    return _sparklines([student_id], week_start).get(student_id) or sparkline_svg([])
