"""Which students a school's huddle lists, and in which section: the placement rules, apart
from the queries and writes (services.huddle_generate) so they read, and test, on their own.

Only students with an open flag are listed (issue 10: a list that warns about two thirds of a
school warns about nobody). A student appears once, in the first section that claims them:

This week's agenda
1. Tier 3 escalation candidates — an open Tier 3 flag no one has acted on yet (status new),
   not ready to close, and no escalation already in the counselors' queue. A Tier 3 trigger
   whose rule has lapsed 10 school days is ready to close like any flag (the student is then
   placed by their other flags, or in ready to close when every flag has lapsed). One the team
   kept in Tier 2 for now is placed by the row's next step (its review date) until the review,
   and comes back here then if its rule still holds.
2. Chronic last year, missing again — the prior-year rule, on no earlier huddle.
3. Newly flagged since the last huddle — any other flag on no earlier huddle of the school.
   A flag the team resolved that fired again with new absences is a new flag (tiers.lifecycle),
   so it comes back here, saying so; a resolved flag never comes back as a carry-over.
4. Follow-ups and next steps due this week or overdue — a next step, a follow-up date or a
   step of the Tier 2 checklist due by the end of the week.
5. No owner yet — everyone else without an assigned adult.

After the agenda
6. Ready to close — every open flag's rule has not held for READY_TO_CLOSE_DAYS school days
   (tiers.lifecycle.ready_to_close), before anything is due: the team closes or keeps it.
7. On track — an owner, and the next step not due yet.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tiers import lifecycle
from tiers.policy import RULE_LABELS
from tiers.why import pct, why_render

from .models import AGENDA_SECTIONS, Section

PRIOR_YEAR_RULE = "t2_prior_year_chronic"
# Notes of rows stored before the agenda (students listed without a flag).
RISING_NOTE = "rising"
APPROACHING_NOTE = "approaching"

# One line under each section's heading, in the words a huddle uses.
SECTION_HELP = {
    Section.TIER3: gettext_lazy(
        "A Tier 3 rule fired and no one has referred the student yet. Escalate, or note why Tier 2 continues."
    ),
    Section.PRIOR_CHRONIC: gettext_lazy(
        "Chronically absent last year and missing school again: reach out before the pattern repeats."
    ),
    Section.NEW: gettext_lazy("Flagged since the last huddle. Agree an owner and the first contact."),
    Section.FOLLOW_UP: gettext_lazy(
        "A next step, a follow-up date or a Tier 2 deadline falls this week or has passed."
    ),
    Section.NO_OWNER: gettext_lazy("Open flags and nobody assigned: choose the adult who follows up."),
    Section.READY_TO_CLOSE: gettext_lazy(
        "The rule that flagged them has not held for 10 school days. Close as improved, or keep open with a reason."
    ),
    Section.ON_TRACK: gettext_lazy("An owner is assigned and the next step is not due yet."),
    Section.RISING: gettext_lazy("Absent far more in the last 20 school days than in the 20 before."),
    Section.APPROACHING: gettext_lazy("5–9% absent, fewest absences left before chronic first."),
    Section.CARRIED: gettext_lazy("Still open from last week; the next step is not due yet."),
}


@dataclasses.dataclass
class Placement:
    student_id: int
    section: str
    flags: list[dict]  # the open flags the row covers
    sort_key: tuple
    note: dict | None = None  # why a student without a flag is listed (rows stored before the agenda)
    carried: object = None  # the previous row carried into this one

    @property
    def agenda(self) -> bool:
        return self.section in AGENDA_SECTIONS


def place_students(
    *,
    metrics: dict[int, dict],
    open_flags: dict[int, list[dict]],
    carried_rows: dict[int, object],
    escalated: set[int],
    follow_up_due: dict[int, datetime.date],
    listed_before: set[int] = frozenset(),
    owners: dict[int, int | None] | None = None,
    ready: Callable[[dict], bool] = lambda flag: False,
    kept_in_tier2: Callable[[dict], bool] = lambda flag: False,
) -> list[Placement]:
    """`metrics` holds the students whose current school is the huddle's, keyed by student id;
    `follow_up_due` the earliest due date of each student with something due this week;
    `listed_before` the ids of flags already on an earlier huddle of the school; `owners` each
    student's owner carried in (default: the carried row's); `ready(flag)` whether a flag is
    ready to close (tiers.lifecycle.ready_to_close with the school's calendar); `kept_in_tier2(flag)`
    whether the team's "keep in Tier 2 for now" still holds a Tier 3 trigger off the agenda
    (tiers.lifecycle.kept_in_tier2 at the end of the huddle's week)."""
    if owners is None:
        owners = {sid: row.owner_id for sid, row in carried_rows.items()}
    placed: list[Placement] = []
    for sid, metric in metrics.items():
        flags = open_flags.get(sid, [])
        if not flags or sid in escalated:
            continue
        rate = -metric["absence_rate"]
        fresh = [f for f in flags if f["id"] not in listed_before]
        if any(f["tier"] == 3 and f["status"] == "new" and not ready(f) and not kept_in_tier2(f) for f in flags):
            section, key = Section.TIER3, (rate,)
        elif any(f["rule"] == PRIOR_YEAR_RULE for f in fresh):
            section, key = Section.PRIOR_CHRONIC, (rate,)
        elif fresh:
            section, key = Section.NEW, (rate,)
        elif all(ready(f) for f in flags):
            section, key = Section.READY_TO_CLOSE, (rate,)
        elif sid in follow_up_due:
            section, key = Section.FOLLOW_UP, (follow_up_due[sid], rate)
        elif not owners.get(sid):
            section, key = Section.NO_OWNER, (rate,)
        else:
            section, key = Section.ON_TRACK, (rate,)
        placed.append(Placement(sid, section, flags, key, None, carried_rows.get(sid)))
    order = {section: index for index, section in enumerate(Section.values)}
    return sorted(placed, key=lambda p: (order[p.section], p.sort_key, p.student_id))


def ready_test(*, as_of: datetime.date, school_days_between: Callable[[datetime.date, datetime.date], int]):
    """`ready(flag)` for place_students: lifecycle's rule (a Tier 3 flag of an open case is never
    ready: its case closes it)."""

    def ready(flag: dict) -> bool:
        return lifecycle.ready_to_close(flag, as_of=as_of, school_days_between=school_days_between)

    return ready


def reasons(placement: Placement) -> list[dict]:
    """What the row shows under "why": each covered flag's rule and its why, stored as codes and
    figures (tiers.why) so the row reads in each reader's language."""
    listed = [
        {
            "rule": flag["rule"],
            "tier": flag["tier"],
            "why_code": flag["why_code"],
            "why_params": flag["why_params"],
            "first_met": flag["first_met"].isoformat(),
            "last_met": flag["last_met"].isoformat() if flag.get("last_met") else "",
            "follows": bool(flag.get("follows_id")),
        }
        for flag in sorted(placement.flags, key=lambda f: (-f["tier"], f["first_met"], f["rule"]))
    ]
    if placement.note:
        note = dict(placement.note)
        code = note.pop("code")
        listed.insert(
            0,
            {
                "rule": "",
                "section": placement.section,
                "tier": 0,
                "why_code": code,
                "why_params": note,
                "first_met": "",
            },
        )
    return listed


def reason_label(reason: dict) -> str:
    """The rule's name (or the section's, for a student listed without a flag), in the reader's language."""
    if reason.get("rule"):
        return str(RULE_LABELS.get(reason["rule"], reason["rule"]))
    if reason.get("section"):
        return str(Section(reason["section"]).label)
    return str(reason.get("label", ""))  # rows stored before reasons were codes


def reason_why(reason: dict) -> str:
    if "why_code" not in reason:
        return reason.get("why", "")  # rows stored before reasons were codes
    code, params = reason["why_code"], reason["why_params"]
    if code == RISING_NOTE:
        return _("Absent %(recent)s of the last 20 school days, up from %(before)s in the 20 before") % {
            "recent": pct(params["recent"]),
            "before": pct(params["before"]),
        }
    if code == APPROACHING_NOTE:
        return ngettext(
            "%(rate)s absent; %(left)s more absence makes the year chronic",
            "%(rate)s absent; %(left)s more absences make the year chronic",
            params["left"] or 0,
        ) % {"rate": pct(params["rate"]), "left": params["left"]}
    return why_render(code, params)
