"""One student's year on one page: absences, flags, huddle weeks, outreach and escalations,
newest first. A read, like the selectors; kept apart because it gathers from every app below.

Sensitive actions (health, family) keep their date, method and author visible — the team
must know a contact happened — but their notes, barrier and support show only to counselors
of the student's schools and to the author.
"""

import dataclasses
import datetime

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from districts.access import DistrictAccess
from districts.models import Role
from students.models import AttendanceRecord, Student
from tiers.loading import SchoolYear
from tiers.models import Flag, FlagEvent
from tiers.selectors import student_metrics_current
from tiers.why import pct, short_date

from . import permissions
from .deadlines import school_days, tier2_checklist, tier2_deadlines
from .display import BAND_BADGES, BAND_LABELS, sparkline_for
from .families.timeline import letter_lines, notice_events
from .models import Escalation, HuddleRow, OutreachAction

ABSENT_KINDS = {"absent_excused", "absent_unexcused", "suspension_out_of_school"}


@dataclasses.dataclass
class Event:
    date: datetime.date
    kind: str  # absence, partial, flag, flag_kept, flag_closed, huddle, action, escalation
    title: str
    detail: str = ""
    restricted: bool = False
    meta: str = ""


def student_timeline(*, access: DistrictAccess, student: Student, today: datetime.date) -> dict:
    year = SchoolYear.containing(access.district, today)
    school_ids = permissions.current_school_ids(student.enrollments.all(), today)
    mentees = permissions.mentee_ids(access)
    current = student_metrics_current().filter(student=student).select_related("current_school").first()
    current_school_id = current.current_school_id if current else None
    flags = list(Flag.objects.filter(student=student).order_by("-first_met"))
    actions = list(OutreachAction.objects.filter(student=student).select_related("author__user"))
    rows = list(
        HuddleRow.objects.filter(student=student)
        .select_related("huddle__school", "owner__user")
        .prefetch_related(Prefetch("escalations", queryset=Escalation.objects.select_related("tier3_flag")))
        .order_by("-huddle__week_start")
    )
    events = [
        *_attendance_events(student, year),
        *_flag_events(flags),
        *_huddle_events(rows),
        *_action_events(access, actions, school_ids),
        *notice_events(student),
    ]
    events.sort(key=lambda event: (event.date, _KIND_ORDER.get(event.kind, 9)), reverse=True)
    return {
        "student": student,
        "metrics": current,
        "band_label": BAND_LABELS.get(current.band, "") if current else "",
        "band_badge": BAND_BADGES.get(current.band, "") if current else "",
        "rate_pct": pct(current.absence_rate) if current else "",
        "sparkline": sparkline_for(student.pk, today - datetime.timedelta(days=today.weekday())),
        "open_flags": [flag for flag in flags if flag.is_open],
        "checklist": _checklist(access, student, flags, actions, current, today),
        "events": events,
        "can_log": permissions.works_on_student(
            access, school_id=current_school_id, student_id=student.pk, mentees=mentees
        ),
        "reads_all_notes": bool(access.school_ids(Role.COUNSELOR) & school_ids),
    }


_KIND_ORDER = {
    "escalation": 0,
    "flag_kept": 0,
    "flag_closed": 1,
    "action": 2,
    "huddle": 3,
    "flag": 4,
    "absence": 5,
    "partial": 6,
}


def _attendance_events(student: Student, year: SchoolYear):
    records = AttendanceRecord.objects.filter(student=student, date__range=(year.start, year.end)).select_related(
        "school"
    )
    for record in records.order_by("-date"):
        kind = "absence" if record.category in ABSENT_KINDS else "partial"
        detail = (
            _("Code %(code)s, %(minutes)s minutes") % {"code": record.code, "minutes": record.minutes_absent}
            if record.minutes_absent
            else _("Code %(code)s") % {"code": record.code}
        )
        yield Event(record.date, kind, record.get_category_display(), detail, meta=record.school.name)


def _flag_events(flags: list[Flag]):
    kept = FlagEvent.objects.filter(flag__in=flags, kind=FlagEvent.Kind.KEPT_IN_TIER2).select_related(
        "by__user", "flag"
    )
    for event in kept:  # one query: the team's "keep in Tier 2 for now" answers, with who and why
        author = event.by.user.get_full_name() or event.by.user.email if event.by else ""
        yield Event(
            event.on, "flag_kept",
            _("Kept in Tier 2 for now: %(rule)s") % {"rule": event.flag.label},
            _("%(reason)s (review %(date)s)") % {
                "reason": event.note, "date": short_date(datetime.date.fromisoformat(event.detail["until"]))
            },
            meta=_("by %(author)s") % {"author": author} if author else "",
        )  # fmt: skip
    for flag in flags:
        title = _("Flagged, Tier %(tier)s: %(rule)s") % {"tier": flag.tier, "rule": flag.label}
        yield Event(flag.first_met, "flag", title, flag.why)
        if flag.resolved_on:
            yield Event(
                flag.resolved_on,
                "flag_closed",
                _("Flag %(status)s: %(rule)s") % {"status": flag.get_status_display().lower(), "rule": flag.label},
                flag.resolution,
            )


def _huddle_events(rows: list[HuddleRow]):
    for row in rows:
        owner = row.owner.user.get_full_name() or row.owner.user.email if row.owner else "no owner"
        parts = [row.get_section_display(), _("owner: %(owner)s") % {"owner": owner}]
        if row.next_step:
            parts.append(
                _("next step: %(step)s") % {"step": row.next_step}
                + (" " + _("by %(date)s") % {"date": short_date(row.next_step_due)} if row.next_step_due else "")
            )
        if row.outcome:
            parts.append(f"{row.get_outcome_display().lower()}: {row.outcome_reason}")
        title = _("On the %(school)s huddle") % {"school": row.huddle.school.name}
        title += " " + _("(discussed)") if row.discussed else ""
        yield Event(row.huddle.week_start, "huddle", title, "; ".join(parts))
        for escalation in row.escalations.all():
            yield Event(
                escalation.escalated_at.date(), "escalation", _("Referred to Tier 3"),
                f"{escalation.reason} — {escalation.history_text}", meta=escalation.tier3_flag.get_status_display(),
            )  # fmt: skip


def _action_events(access: DistrictAccess, actions: list[OutreachAction], school_ids: set[int]):
    letters = letter_lines([action.pk for action in actions if action.method == "letter"])
    for action in actions:
        restricted = action.sensitive and not permissions.reads_sensitive(
            access, author_id=action.author_id, school_ids=school_ids
        )
        result = _("reached") if action.reached else _("not reached")
        details = []
        if not restricted:
            if action.barrier:
                details.append(_("Barrier: %(barrier)s") % {"barrier": action.get_barrier_display()})
            if action.support_offered:
                details.append(_("Support: %(support)s") % {"support": action.support_offered})
            if action.notes:
                details.append(action.notes)
        if action.pk in letters:
            details.append(letters[action.pk])
        if action.follow_up_date:
            details.append(_("Follow up on %(date)s") % {"date": short_date(action.follow_up_date)})
        author = action.author.user.get_full_name() or action.author.user.email
        yield Event(
            action.attempt_date, "action", f"{action.get_method_display()}, {result}", " · ".join(details),
            restricted=restricted,
            meta=_("by %(author)s") % {"author": author} + (" · " + _("sensitive") if action.sensitive else ""),
        )  # fmt: skip


def _checklist(access, student, flags, actions, current, today):
    tier2 = [flag.first_met for flag in flags if flag.is_open and flag.tier == 2]
    if not tier2 or current is None or current.current_school is None:
        return []
    since = min(tier2)
    calendar = school_days(school=current.current_school, start=since, end=today + datetime.timedelta(days=120))
    # The same clock as the huddle's: deadlines run from the flag's first huddle.
    clock = (
        HuddleRow.objects.filter(student=student, tier2_clock__isnull=False)
        .order_by("-huddle__week_start")
        .values_list("tier2_clock", flat=True)
        .first()
    )
    return tier2_checklist(
        since=since, actions=actions, calendar=calendar, deadlines=tier2_deadlines(access.district), today=today,
        clock=clock,
    )  # fmt: skip
