"""Writes of the outreach app: generating huddles, the team's work on each row, the action log
and escalations to Tier 3. Callers run inside the district's scope and check permissions
(outreach.permissions); these functions check that every object they join shares the district.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from districts.models import District, Membership, School
from students.models import Student
from tiers import lifecycle
from tiers.models import Flag
from tiers.why import ESCALATED, tier2_history_render, why_of

from . import sections
from .deadlines import school_days, tier2_checklist, tier2_deadlines
from .models import (
    Escalation,
    EscalationFlag,
    Huddle,
    HuddleAttendance,
    HuddleRow,
    HuddleRowFlag,
    OutreachAction,
    Section,
)
from .selectors import huddle_inputs, owner_choices

ESCALATION_RULE = lifecycle.ESCALATION_RULE


def week_start_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


# ----------------------------------------------------------------------------- generation


def huddle_generate(*, district: District, school: School, week_start: datetime.date) -> Huddle:
    """Build (or bring up to date) the school's huddle for the week. Idempotent: a second run
    adds students who newly qualify and refreshes the figures of rows not yet discussed, but
    never drops a row or touches the team's work on one."""
    _same_district(district.pk, school=school)
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": "A huddle week starts on a Monday."})
    with transaction.atomic():
        School.objects.select_for_update().filter(pk=school.pk).first()  # one generator per school at a time
        inputs = huddle_inputs(school=school, week_start=week_start)
        huddle, created = Huddle.objects.get_or_create(
            district=district, school=school, week_start=week_start,
            defaults={"generated_at": timezone.now(), "as_of": inputs.as_of},
        )  # fmt: skip
        if not created:
            Huddle.objects.filter(pk=huddle.pk).update(generated_at=timezone.now(), as_of=inputs.as_of)
        clocks = _tier2_clocks(inputs, week_start)
        calendar = _calendar(school, inputs, week_start)
        as_of = inputs.as_of or week_start - datetime.timedelta(days=1)
        placements = sections.place_students(
            metrics=inputs.metrics,
            open_flags=inputs.open_flags,
            carried_rows=inputs.carried_rows,
            escalated=inputs.escalated,
            follow_up_due=_follow_up_due(district, week_start, inputs, clocks, calendar),
            listed_before=set(inputs.first_listed),
            ready=sections.ready_test(as_of=as_of, school_days_between=calendar.between),
            kept_in_tier2=lambda flag: lifecycle.kept_in_tier2(flag, on=week_start + datetime.timedelta(days=6)),
        )
        _rows_write(district, huddle, placements, inputs, clocks)
    huddle.refresh_from_db()
    return huddle


def huddles_generate(*, district: District, week_start: datetime.date) -> list[Huddle]:
    return [
        huddle_generate(district=district, school=school, week_start=week_start)
        for school in School.objects.filter(district=district)
    ]


def _calendar(school, inputs, week_start):
    since_dates = [d for d in inputs.tier2_since.values() if d]
    last_met = [f["last_met"] for flags in inputs.open_flags.values() for f in flags]
    start = min([*since_dates, *last_met], default=week_start)
    return school_days(school=school, start=start, end=week_start + datetime.timedelta(days=130))


def _tier2_clocks(inputs, week_start) -> dict[int, datetime.date]:
    """Per student, when the Tier 2 checklist's clock started: the first huddle that listed their
    earliest open Tier 2 flag (this week's, for a flag on no earlier one), never before the flag
    was met. A district's first huddle therefore starts every clock: it is not all red."""
    clocks = {}
    for student_id, flags in inputs.open_flags.items():
        starts = [
            max(flag["first_met"], inputs.first_listed.get(flag["id"], week_start))
            for flag in flags
            if flag["tier"] == 2
        ]
        if starts:
            clocks[student_id] = min(starts)
    return clocks


def _follow_up_due(district, week_start, inputs, clocks, calendar) -> dict[int, datetime.date]:
    """Per student, the earliest thing due by the end of the huddle's week: a carried next step,
    a follow-up date set on an action, or a Tier 2 checklist step."""
    week_end = week_start + datetime.timedelta(days=6)
    deadlines = tier2_deadlines(district)
    due: dict[int, datetime.date] = {}

    def note(student_id, day):
        if day and day <= week_end:
            due[student_id] = min(day, due.get(student_id, day))

    for student_id, row in inputs.carried_rows.items():
        note(student_id, row.next_step_due)
    for student_id, actions in inputs.actions.items():
        latest = max(actions, key=lambda a: (a["attempt_date"], a["id"]))
        if latest["follow_up_date"]:
            note(student_id, latest["follow_up_date"])
    for student_id, since in inputs.tier2_since.items():
        steps = tier2_checklist(
            since=since, actions=inputs.actions.get(student_id, []), calendar=calendar, deadlines=deadlines,
            today=week_start, clock=clocks.get(student_id),
        )  # fmt: skip
        note(student_id, min((step.due for step in steps if not step.done_on), default=None))
    return due


def _rows_write(district, huddle, placements, inputs, clocks) -> None:
    existing = {row.student_id: row for row in HuddleRow.objects.filter(huddle=huddle)}
    links = set(HuddleRowFlag.objects.filter(row__huddle=huddle).values_list("row_id", "flag_id"))
    new_rows, changed = [], []
    for position, placement in enumerate(placements):
        figures = _figures(inputs.metrics[placement.student_id], placement)
        figures["tier2_clock"] = clocks.get(placement.student_id)
        figures["trend_points"] = inputs.trend_points.get(placement.student_id, [])
        row = existing.get(placement.student_id)
        if row is None:
            row = HuddleRow(district=district, huddle=huddle, student_id=placement.student_id, **figures)
            row.position = position
            _carry(row, placement.carried)
            new_rows.append(row)
        elif not row.discussed and row.is_open:
            for name, value in figures.items():
                setattr(row, name, value)
            row.position = position
            changed.append(row)
    HuddleRow.objects.bulk_create(new_rows)
    HuddleRow.objects.bulk_update(changed, [*_FIGURE_FIELDS, "position"])
    rows = {row.student_id: row for row in [*new_rows, *changed]}
    HuddleRowFlag.objects.bulk_create(
        [
            HuddleRowFlag(district=district, row=rows[p.student_id], flag_id=flag["id"])
            for p in placements
            if p.student_id in rows
            for flag in p.flags
            if (rows[p.student_id].pk, flag["id"]) not in links
        ]
    )


_FIGURE_FIELDS = [
    "section", "grade", "membership_days", "absent_days", "absence_rate", "band", "absences_left", "trend",
    "reasons", "tier2_since", "tier2_clock", "trend_points",
]  # fmt: skip


def _figures(metric: dict, placement: sections.Placement) -> dict:
    tier2 = [flag["first_met"] for flag in placement.flags if flag["tier"] == 2]
    return {
        "section": placement.section,
        "grade": metric["grade"],
        "membership_days": metric["membership_days"],
        "absent_days": metric["absent_days"],
        "absence_rate": metric["absence_rate"],
        "band": metric["band"],
        "absences_left": metric["absences_left"],
        "trend": metric["trend"],
        "reasons": sections.reasons(placement),
        "tier2_since": min(tier2, default=None),
    }


def _carry(row: HuddleRow, previous: HuddleRow | None) -> None:
    """An unresolved row brings its owner and open next step into the new week."""
    if previous is None:
        return
    row.carried_over_from = previous
    row.owner_id = previous.owner_id
    row.next_step, row.next_step_due = previous.next_step, previous.next_step_due


# ----------------------------------------------------------------------------- the team's work on a row


def huddle_row_mark_discussed(*, row: HuddleRow, by: Membership, discussed: bool = True) -> HuddleRow:
    _same_district(row.district_id, by=by)
    row.discussed = discussed
    row.discussed_at = timezone.now() if discussed else None
    row.save(update_fields=["discussed", "discussed_at"])
    return row


def huddle_row_plan(
    *, row: HuddleRow, by: Membership, owner: Membership | None, next_step: str, next_step_due: datetime.date | None
) -> HuddleRow:
    """Assign the owner and set the next step. Owners are the school's staff or a mentor."""
    _same_district(row.district_id, by=by, owner=owner)
    if owner is not None and not owner_choices(school=row.huddle.school).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": "The owner must be a staff member of this school or a mentor."})
    if next_step_due and not next_step.strip():
        raise ValidationError({"next_step": "Say what the next step is before giving it a due date."})
    row.owner, row.next_step, row.next_step_due = owner, next_step.strip(), next_step_due
    row.full_clean(exclude=["student", "huddle", "district", "carried_over_from", "outcome_by"])
    row.save(update_fields=["owner", "next_step", "next_step_due"])
    return row


@transaction.atomic
def outreach_action_create(
    *,
    student: Student,
    author: Membership,
    attempt_date: datetime.date,
    method: str,
    reached: bool,
    barrier: str = "",
    support_offered: str = "",
    follow_up_date: datetime.date | None = None,
    notes: str = "",
    sensitive: bool = False,
    flag: Flag | None = None,
    huddle_row: HuddleRow | None = None,
) -> OutreachAction:
    district_id = author.district_id
    _same_district(district_id, student=student, flag=flag, huddle_row=huddle_row)
    if flag is not None and flag.student_id != student.pk:
        raise ValidationError({"flag": "That flag belongs to another student."})
    if huddle_row is not None and huddle_row.student_id != student.pk:
        raise ValidationError({"huddle_row": "That huddle row is another student's."})
    if flag is None and huddle_row is not None:
        # A contact logged on a huddle row answers the row's oldest open flag.
        covered = Flag.objects.filter(pk__in=huddle_row.flag_links.values("flag_id"), status__in=Flag.OPEN_STATUSES)
        flag = covered.order_by("first_met", "id").first()
    if follow_up_date and follow_up_date < attempt_date:
        raise ValidationError({"follow_up_date": "The follow-up date cannot be before the attempt."})
    action = OutreachAction(
        district_id=district_id, student=student, author=author, attempt_date=attempt_date, method=method, reached=reached,
        barrier=barrier, support_offered=support_offered.strip(), follow_up_date=follow_up_date, notes=notes.strip(),
        sensitive=sensitive, flag=flag, huddle_row=huddle_row,
    )  # fmt: skip
    action.full_clean()
    action.save()
    lifecycle.flags_start_work(student=student, on=attempt_date, by=author)  # the first contact starts the work
    return action


@transaction.atomic
def huddle_row_escalate(*, row: HuddleRow, by: Membership, reason: str, on: datetime.date | None = None) -> Escalation:
    """Refer the student to Tier 3: a new Tier 3 flag in the counselors' queue carrying the
    Tier 2 history, the row's Tier 2 flags marked escalated, the row closed."""
    _same_district(row.district_id, by=by)
    if not row.is_open:
        raise ValidationError("This row is already closed.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the student needs Tier 3 support."})
    today = on or timezone.localdate()  # `on`: the demo plays past weeks
    history = tier2_history_params(row)
    why = why_of(
        ESCALATED,
        {"school": row.huddle.school.name, "date": today.isoformat(), "reason": reason.strip(), "history": history},
    )
    tier3, tier2 = lifecycle.flags_escalate(
        student=row.student, flags=Flag.objects.filter(pk__in=row.flag_links.values("flag_id")), reason=reason,
        why=why, on=today, by=by,
    )  # fmt: skip
    escalation = Escalation.objects.create(
        district_id=row.district_id, student_id=row.student_id, row=row, tier3_flag=tier3, reason=reason.strip(),
        history=tier2_history_render_en(history), history_params=history, escalated_by=by,
        escalated_at=_moment(on),
    )  # fmt: skip
    EscalationFlag.objects.bulk_create(
        [EscalationFlag(district_id=row.district_id, escalation=escalation, flag=f) for f in tier2]
    )
    _close(row, HuddleRow.Outcome.ESCALATED, reason, by)
    return escalation


def _moment(on: datetime.date | None) -> datetime.datetime:
    """Now, or, for a step recorded as of a past date (the demo plays past weeks), that day's
    morning in the district's time zone: the referral reads "on Sep 21", not the day of entry."""
    now = timezone.now()
    if on is None or on == timezone.localdate():
        return now
    return timezone.make_aware(datetime.datetime.combine(on, datetime.time(9, 0)))


RESOLUTION_REASONS = lifecycle.Resolution.choices


@transaction.atomic
def huddle_row_resolve(
    *,
    row: HuddleRow,
    by: Membership,
    reason: str,
    note: str = "",
    confirmed: bool = False,
    on: datetime.date | None = None,
) -> HuddleRow:
    """Resolve the row and every open flag it covers. A reason the figures contradict raises
    lifecycle.ResolutionContradicted until the person confirms it; the confirmation is recorded."""
    _same_district(row.district_id, by=by)
    if reason not in lifecycle.Resolution.values:
        raise ValidationError({"reason": "Choose why the row is resolved."})
    if not row.is_open:
        raise ValidationError("This row is already closed.")
    resolved = lifecycle.flags_resolve(
        flags=Flag.objects.filter(pk__in=row.flag_links.values("flag_id")), reason=reason, note=note,
        on=on or timezone.localdate(), by=by, confirmed=confirmed,
    )  # fmt: skip
    return _close(row, HuddleRow.Outcome.RESOLVED, resolved.text, by)


@transaction.atomic
def huddle_row_keep_open(*, row: HuddleRow, by: Membership, reason: str, on: datetime.date | None = None) -> HuddleRow:
    """The team keeps a ready-to-close row open, saying why (recorded on each flag by
    tiers.lifecycle); the row moves to on track, and is not offered for closing again until its
    rules have gone another ten school days without holding."""
    _same_district(row.district_id, by=by)
    if not row.is_open:
        raise ValidationError("This row is already closed.")
    lifecycle.flags_keep_open(
        flags=Flag.objects.filter(pk__in=row.flag_links.values("flag_id")), reason=reason,
        on=on or timezone.localdate(), by=by,
    )  # fmt: skip
    row.section = Section.ON_TRACK if row.owner_id else Section.NO_OWNER
    row.next_step = row.next_step or reason.strip()[:300]
    row.discussed, row.discussed_at = True, row.discussed_at or timezone.now()
    row.save(update_fields=["section", "next_step", "discussed", "discussed_at"])
    return row


@transaction.atomic
def huddle_row_keep_in_tier2(
    *,
    row: HuddleRow,
    by: Membership,
    reason: str,
    review_on: datetime.date | None = None,
    school_days: int | None = None,
    on: datetime.date | None = None,
) -> HuddleRow:
    """The team's answer "keep in Tier 2 for now" to a Tier 3 escalation candidate: the Tier 3
    trigger stays open but off the agenda and the counselors' queue until the review date (given,
    or `school_days` school days from today on the school's calendar), recorded on the flag by
    tiers.lifecycle; the row stays open with the review as its next step, so it comes back due."""
    _same_district(row.district_id, by=by)
    if not row.is_open:
        raise ValidationError("This row is already closed.")
    today = on or timezone.localdate()
    if review_on is None and school_days:
        review_on = _school_days_after(row.huddle.school, today, school_days)
    lifecycle.flags_keep_in_tier2(
        flags=Flag.objects.filter(pk__in=row.flag_links.values("flag_id")), reason=reason, until=review_on,
        on=today, by=by,
    )  # fmt: skip
    row.section = Section.ON_TRACK if row.owner_id else Section.NO_OWNER
    row.next_step, row.next_step_due = reason.strip()[:300], review_on
    row.discussed, row.discussed_at = True, row.discussed_at or timezone.now()
    row.save(update_fields=["section", "next_step", "next_step_due", "discussed", "discussed_at"])
    return row


def _school_days_after(school: School, start: datetime.date, count: int) -> datetime.date:
    calendar = school_days(school=school, start=start, end=start + datetime.timedelta(days=2 * count + 30))
    return calendar.after(start, count)


def _close(row: HuddleRow, outcome: str, reason: str, by: Membership) -> HuddleRow:
    row.outcome, row.outcome_reason, row.outcome_at, row.outcome_by = outcome, reason.strip()[:300], timezone.now(), by
    row.discussed, row.discussed_at = True, row.discussed_at or timezone.now()
    row.save(update_fields=["outcome", "outcome_reason", "outcome_at", "outcome_by", "discussed", "discussed_at"])
    return row


def tier2_history_params(row: HuddleRow) -> dict:
    """The Tier 2 account for the Tier 3 flag, as figures (tiers.why.tier2_history_render words
    it in each reader's language): weeks on the huddle and what was tried."""
    weeks = HuddleRow.objects.filter(student_id=row.student_id).count()
    actions = list(OutreachAction.objects.filter(student_id=row.student_id).order_by("attempt_date"))
    return {
        "weeks": weeks,
        "contacts": len(actions),
        "reached": sum(1 for a in actions if a.reached),
        "first": actions[0].attempt_date.isoformat() if actions else None,
        "supports": [a.support_offered for a in actions if a.support_offered and not a.sensitive][:5],
    }


def tier2_history_render_en(history: dict) -> str:
    """The English wording kept in Escalation.history for readers of the raw row (the admin)."""
    with translation.override("en"):
        return tier2_history_render(history)


# ----------------------------------------------------------------------------- attendance


@transaction.atomic
def huddle_attendance_record(*, huddle: Huddle, members: list[Membership], by: Membership) -> list[HuddleAttendance]:
    """Who is at the huddle; adding someone twice keeps their first arrival time."""
    _same_district(huddle.district_id, by=by, **{f"member_{m.pk}": m for m in members})
    allowed = set(owner_choices(school=huddle.school).values_list("pk", flat=True)) | {by.pk}
    if any(member.pk not in allowed for member in members):
        raise ValidationError({"members": "Only the school's staff and mentors attend its huddle."})
    present = set(HuddleAttendance.objects.filter(huddle=huddle).values_list("member_id", flat=True))
    now = timezone.now()
    HuddleAttendance.objects.bulk_create(
        [
            HuddleAttendance(
                district_id=huddle.district_id, huddle=huddle, member=member, recorded_at=now, recorded_by=by
            )
            for member in members
            if member.pk not in present
        ]
    )
    return list(HuddleAttendance.objects.filter(huddle=huddle))


def _same_district(district_id: int, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and getattr(obj, "district_id", district_id) != district_id:
            raise ValidationError({name.split("_")[0]: "That belongs to another district."})
