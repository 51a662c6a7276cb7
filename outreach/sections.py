"""Which students a school's huddle lists, and in which section: the placement rules, apart
from the queries and writes (services.huddle_generate) so they read, and test, on their own.

A student appears once, in the first section that claims them, in this order:

1. Tier 3 escalation candidates — an open Tier 3 flag no one has acted on yet (status new)
   and no escalation already in the counselors' queue.
2. Chronic last year, missing again — the prior-year rule first met this week.
3. Newly flagged this week — any other Tier 2 rule first met this week.
4. Open Tier 2, follow-ups due or overdue — a next step or follow-up date due by the end of
   the week, or a step of the Tier 2 checklist past its deadline.
5. Rising fastest — the recent rate furthest above the 20 school days before (top few only).
6. Approaching chronic (5–9%) — the at-risk band, fewest absences left first (top few only).
7. Carried over — last huddle's unresolved rows that nothing above claimed.

"This week" is the seven days before the huddle's Monday plus the week itself, so a flag met
on the Saturday or Sunday run still counts as new on Monday.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tiers.policy import RULE_LABELS
from tiers.why import pct, why_render

from .models import Section

PRIOR_YEAR_RULE = "t2_prior_year_chronic"
# The two watch-list sections are for the few students worth a minute, not every at-risk one.
RISING_LIMIT = 10
RISING_MIN_TREND = Decimal("0.05")  # five percentage points above the 20 days before
APPROACHING_LIMIT = 10
# The why of a student listed without a flag (a row's reasons, beside the flags' rule ids).
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
    Section.NEW: gettext_lazy("Flagged since last week's huddle. Agree an owner and the first contact."),
    Section.FOLLOW_UP: gettext_lazy(
        "A next step, a follow-up date or a Tier 2 deadline falls this week or has passed."
    ),
    Section.RISING: format_lazy(
        gettext_lazy("Absent far more in the last 20 school days than in the 20 before: the {limit} steepest rises."),
        limit=RISING_LIMIT,
    ),
    Section.APPROACHING: format_lazy(
        gettext_lazy("5–9% absent, fewest absences left before chronic first (top {limit})."), limit=APPROACHING_LIMIT
    ),
    Section.CARRIED: gettext_lazy("Still open from last week; the next step is not due yet."),
}


@dataclasses.dataclass
class Placement:
    student_id: int
    section: str
    flags: list[dict]  # the open flags the row covers
    sort_key: tuple
    note: dict | None = None  # why a student without a flag is listed: {"code": …, figures}
    carried: object = None  # the previous row carried into this one


def place_students(
    *,
    week_start: datetime.date,
    metrics: dict[int, dict],
    open_flags: dict[int, list[dict]],
    carried_rows: dict[int, object],
    escalated: set[int],
    follow_up_due: dict[int, datetime.date],
) -> list[Placement]:
    """`metrics` holds the students whose current school is the huddle's, keyed by student id;
    `follow_up_due` the earliest due date of each student with something due this week."""
    new_since = week_start - datetime.timedelta(days=7)
    new_until = week_start + datetime.timedelta(days=6)
    placed: dict[int, Placement] = {}

    def place(student_id, section, sort_key, note=None):
        if student_id not in placed:
            flags = open_flags.get(student_id, [])
            placed[student_id] = Placement(student_id, section, flags, sort_key, note, carried_rows.get(student_id))

    candidates = [sid for sid in metrics if sid not in escalated]
    for sid in candidates:
        flags = open_flags.get(sid, [])
        rate = -metrics[sid]["absence_rate"]
        if any(f["tier"] == 3 and f["status"] == "new" for f in flags):
            place(sid, Section.TIER3, (rate,))
            continue
        fresh = [f for f in flags if f["tier"] == 2 and new_since <= f["first_met"] <= new_until]
        if any(f["rule"] == PRIOR_YEAR_RULE for f in fresh):
            place(sid, Section.PRIOR_CHRONIC, (rate,))
        elif fresh:
            place(sid, Section.NEW, (rate,))
        elif sid in follow_up_due and (any(f["tier"] == 2 for f in flags) or sid in carried_rows):
            place(sid, Section.FOLLOW_UP, (follow_up_due[sid], rate))

    for sid, note in _rising(metrics, candidates, placed):
        place(sid, Section.RISING, (-metrics[sid]["trend"],), note)
    for sid, note in _approaching(metrics, candidates, placed):
        place(sid, Section.APPROACHING, (metrics[sid]["absences_left"], rate_of(metrics[sid])), note)
    for sid, row in carried_rows.items():
        if sid in metrics and sid not in escalated:
            place(sid, Section.CARRIED, (row.next_step_due or datetime.date.max,))

    order = {section: index for index, section in enumerate(Section.values)}
    return sorted(placed.values(), key=lambda p: (order[p.section], p.sort_key, p.student_id))


def rate_of(metric: dict) -> Decimal:
    return -metric["absence_rate"]


def _rising(metrics, candidates, placed):
    rising = [
        sid for sid in candidates
        if sid not in placed and metrics[sid]["trend"] is not None and metrics[sid]["trend"] >= RISING_MIN_TREND
    ]  # fmt: skip
    rising.sort(key=lambda sid: (-metrics[sid]["trend"], sid))
    for sid in rising[:RISING_LIMIT]:
        m = metrics[sid]
        yield (
            sid,
            {"code": RISING_NOTE, "recent": float(m["recent_rate"] or 0), "before": float(m["previous_rate"] or 0)},
        )


def _approaching(metrics, candidates, placed):
    near = [sid for sid in candidates if sid not in placed and metrics[sid]["band"] == "at_risk"]
    near.sort(key=lambda sid: (metrics[sid]["absences_left"], -metrics[sid]["absence_rate"], sid))
    for sid in near[:APPROACHING_LIMIT]:
        m = metrics[sid]
        yield sid, {"code": APPROACHING_NOTE, "rate": float(m["absence_rate"] or 0), "left": m["absences_left"]}


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
