"""What a huddle row says, as plain text for the row's template partials (outreach/huddle.html,
`row` and the partials beside it), which escape every value.

The row used to be assembled here as HTML strings marked safe, for speed at 150 rows; with the
agenda short and the on-track list one line a student, the template's autoescaping is worth
more than the milliseconds (issue 10). Labels are looked up in plain dicts: get_FOO_display()
rebuilds its mapping on every call, some 500 times a page.
"""

import dataclasses
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from students.models import Guardian
from tiers.why import short_date

from .models import Barrier, HuddleRow, Method, Section
from .sections import reason_label, reason_why

WHYS_SHOWN = 3  # beyond three rules, the rest are named without their "why" to keep rows short

_CHANNELS = dict(Guardian.Channel.choices)
_METHODS = dict(Method.choices)
_BARRIERS = dict(Barrier.choices)
_OUTCOMES = dict(HuddleRow.Outcome.choices)


def person(membership) -> str:
    return membership.user.get_full_name() or membership.user.email


def _label(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


@dataclasses.dataclass(frozen=True)
class Reason:
    label: str
    why: str
    tier3: bool
    since: str  # "since Oct 14": the figures the why quotes
    again: bool  # flagged again after a resolution: a new flag, and it says so


def reasons(rows_reasons: list[dict]) -> tuple[list[Reason], str]:
    """The reasons shown in full, and the rest named on one "Also:" line."""
    shown, rest = rows_reasons[:WHYS_SHOWN], rows_reasons[WHYS_SHOWN:]
    listed = [
        Reason(
            label=reason_label(r),
            why=reason_why(r),
            tier3=r.get("tier") == 3,
            since=_("since %(date)s") % {"date": short_date(date.fromisoformat(r["first_met"]))}
            if r.get("first_met")
            else "",
            again=bool(r.get("follows")),
        )
        for r in shown
    ]
    also = _("Also: %(rules)s") % {"rules": "; ".join(reason_label(r) for r in rest)} if rest else ""
    return listed, also


@dataclasses.dataclass(frozen=True)
class GuardianLine:
    name: str
    relationship: str
    language: str
    channel: str
    phone: str


def guardian(guardians: list) -> GuardianLine | None:
    if not guardians:
        return None
    g = guardians[0]
    channel = (
        _("prefers %(channel)s") % {"channel": _label(_CHANNELS, g.preferred_channel).lower()}
        if g.preferred_channel
        else _("no preferred channel")
    )
    return GuardianLine(g.name, g.relationship, g.language or _("language not recorded"), channel, g.phone)


@dataclasses.dataclass(frozen=True)
class ContactLine:
    when: str
    method: str
    result: str
    restricted: bool
    barrier: str
    support: str
    follow_up: str
    by: str


def contact(contact) -> ContactLine | None:
    if contact is None:
        return None
    action = contact.action
    barrier = support = ""
    if not contact.restricted:
        if action.barrier:
            barrier = _("Barrier: %(barrier)s") % {"barrier": _label(_BARRIERS, action.barrier)}
        if action.support_offered:
            support = _("Support: %(support)s") % {"support": action.support_offered}
    follow_up = _("Follow up %(date)s") % {"date": short_date(action.follow_up_date)} if action.follow_up_date else ""
    author = action.author.user.get_full_name() or action.author.user.email
    return ContactLine(
        when=short_date(action.attempt_date),
        method=_label(_METHODS, action.method),
        result=contact.result,
        restricted=contact.restricted,
        barrier=barrier,
        support=support,
        follow_up=follow_up,
        by=_("by %(author)s") % {"author": author},
    )


def absences_left(row) -> str:
    if row.absences_left is None:
        return "—"
    if row.absences_left == 0:
        return _("No absences left before the year is chronic")
    return ngettext(
        "%(count)s absence left before chronic", "%(count)s absences left before chronic", row.absences_left
    ) % {"count": row.absences_left}


def missed(view) -> str:
    return _("%(missed)s missed of %(days)s days") % {"missed": view.days_missed, "days": view.row.membership_days}


def due(view) -> str:
    """ "due Oct 14", or "overdue, due Oct 14" when the next step has passed."""
    if not view.row.next_step_due:
        return ""
    when = short_date(view.row.next_step_due)
    if view.next_step_state == "overdue":
        return _("overdue, due %(date)s") % {"date": when}
    return _("due %(date)s") % {"date": when}


def outcome(row) -> str:
    return "" if row.is_open else _label(_OUTCOMES, row.outcome)


def ready_to_close(row) -> bool:
    return row.section == Section.READY_TO_CLOSE
