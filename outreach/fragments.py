"""A huddle row's markup, built as a string instead of template nodes.

A row holds some sixty values (figures, reasons, checklist, guardian, last contact, five
controls). As template variables each one resolves, localizes and escapes on its own, and at
150 rows that was most of the page's time (the issue's budget is 150 ms). Here every value that
comes from data goes through `_e` (HTML escaping) exactly once, and the rest is fixed markup.
The template's `row` partial (outreach/huddle.html#row) places this string, so htmx responses
and the page share one rendering.
"""

from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

from students.models import Guardian

from .models import Barrier, HuddleRow, Method
from .sections import reason_label, reason_why

WHYS_SHOWN = 3  # beyond three rules, the rest are named without their "why" to keep rows short


def _e(value) -> str:
    return escape(str(value), quote=True)


# Choice labels looked up in plain dicts: get_FOO_display() rebuilds its mapping on every call,
# some 500 times a page.
_CHANNELS = dict(Guardian.Channel.choices)
_METHODS = dict(Method.choices)
_BARRIERS = dict(Barrier.choices)
_OUTCOMES = dict(HuddleRow.Outcome.choices)


def _label(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


def reasons_html(reasons: list[dict]) -> SafeString:
    if not reasons:
        return mark_safe("")
    shown, rest = reasons[:WHYS_SHOWN], reasons[WHYS_SHOWN:]
    items = "".join(
        f"<li><strong>{_e(reason_label(r))}</strong>{_TIER3 if r.get('tier') == 3 else ''}{_since(r)}"
        f'<br><span class="reasons__why">{_e(reason_why(r))}</span></li>'
        for r in shown
    )
    more = f'<li class="reasons__more">Also: {_e("; ".join(reason_label(r) for r in rest))}</li>' if rest else ""
    return mark_safe(f'<ul class="reasons">{items}{more}</ul>')


_TIER3 = ' <span class="badge badge--bad">Tier 3</span>'


def _since(reason: dict) -> str:
    """A flag's "why" is written when it is first met; the date says which figures it quotes."""
    if not reason.get("first_met"):
        return ""
    day = date.fromisoformat(reason["first_met"])
    return f' <span class="muted">since {day:%b} {day.day}</span>'


def checklist_html(steps) -> SafeString:
    if not steps:
        return mark_safe("")
    items = "".join(
        f'<li class="checklist__step checklist__step--{s.state}">{_e(s.label)}: {_e(s.state_label)}</li>' for s in steps
    )
    return mark_safe(f'<ol class="checklist" aria-label="Tier 2 checklist">{items}</ol>')


def guardian_html(guardians: list) -> SafeString:
    if not guardians:
        return mark_safe('<span class="guardian"><span class="badge badge--warn">No guardian contact</span></span>')
    g = guardians[0]
    relation = f" ({_e(g.relationship)})" if g.relationship else ""
    channel = (
        f"prefers {_e(_label(_CHANNELS, g.preferred_channel).lower())}"
        if g.preferred_channel
        else "no preferred channel"
    )
    phone = f'<br><span class="nowrap">{_e(g.phone)}</span>' if g.phone else ""
    language = _e(g.language) if g.language else "language not recorded"
    return mark_safe(
        f'<span class="guardian">{_e(g.name)}{relation}<br><span class="muted">{language} · {channel}</span>{phone}</span>'
    )


def contact_html(contact) -> SafeString:
    if contact is None:
        return mark_safe('<span class="muted">No contact logged yet</span>')
    action = contact.action
    parts = [
        f'<span class="figure">{action.attempt_date:%b %-d} · {_e(_label(_METHODS, action.method))} · '
        f"<strong>{contact.result}</strong></span>"
    ]
    if contact.restricted:
        parts.append('<span class="figure muted">Details restricted (sensitive)</span>')
    else:
        if action.barrier:
            parts.append(f'<span class="figure">Barrier: {_e(_label(_BARRIERS, action.barrier))}</span>')
        if action.support_offered:
            parts.append(f'<span class="figure">Support: {_e(action.support_offered)}</span>')
    if action.follow_up_date:
        parts.append(f'<span class="figure">Follow up {action.follow_up_date:%b %-d}</span>')
    author = action.author.user.get_full_name() or action.author.user.email
    parts.append(f'<span class="figure muted">by {_e(author)}</span>')
    return mark_safe("".join(parts))


def actions_html(view, csrf_token: str) -> SafeString:
    """The row's controls: each a real link or form (the no-JS path) that htmx upgrades to an
    in-place panel or swap, each naming the student for screen readers."""
    row, name, urls = view.row, _e(view.row.student.full_name), view.urls
    parts = []
    if view.can_run:
        label, pressed = ("Undo discussed", " button--secondary") if row.discussed else ("Mark discussed", "")
        parts.append(
            f'<form method="post" action="{urls["discussed"]}" hx-post="{urls["discussed"]}" hx-target="#row-{row.pk}" '
            f'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
            f'<input type="hidden" name="discussed" value="{0 if row.discussed else 1}">'
            f'<button type="submit" class="button button--small{pressed}" data-shortcut="d" aria-keyshortcuts="d">'
            f'{label}<span class="visually-hidden">: {name}</span></button></form>'
        )
        parts.append(_panel_link(row.pk, urls, "plan", "o", "Owner &amp; next step", f": {name}"))
    if view.can_work:
        parts.append(_panel_link(row.pk, urls, "action", "l", "Log action", f": {name}"))
    if view.can_run:
        parts.append(_panel_link(row.pk, urls, "escalate", "e", "Escalate", f" {name} to Tier 3"))
        parts.append(_panel_link(row.pk, urls, "resolve", "r", "Resolve", f": {name}"))
    return mark_safe("".join(parts))


def _panel_link(pk: int, urls: dict, panel: str, key: str, label: str, hidden: str) -> str:
    return (
        f'<a class="button button--small button--secondary" href="{urls["row"]}#{panel}" hx-get="{urls["row"]}?panel={panel}" '
        f'hx-target="#row-{pk}-panel" data-shortcut="{key}" aria-keyshortcuts="{key}">{label}'
        f'<span class="visually-hidden">{hidden}</span></a>'
    )


def figures_html(view) -> SafeString:
    row = view.row
    if row.absences_left is None:
        left = "—"
    elif row.absences_left == 0:
        left = "<strong>No absences left</strong> before the year is chronic"
    else:
        left = (
            f"<strong>{row.absences_left}</strong> absence{'' if row.absences_left == 1 else 's'} left before chronic"
        )
    trend = f'<span class="muted">{_e(view.trend_text)}</span>' if view.trend_text else ""
    return mark_safe(
        f'<span class="figure"><strong>{_e(view.days_missed)}</strong> missed of {row.membership_days} days</span>'
        f'<span class="figure"><span class="badge badge--{view.band_badge or "plain"}">{_e(view.band_label)}</span> '
        f'{view.rate_pct}</span><span class="figure">{left}</span><span class="trend">{view.sparkline}{trend}</span>'
    )


def row_html(view, *, focus: bool = False) -> SafeString:
    """One student's row: a <tbody> of the data row and the (empty) panel row the forms open in."""
    row, student = view.row, view.row.student
    classes = "huddle-row" + (" is-discussed" if row.discussed else "") + ("" if row.is_open else " is-closed")
    badges = ('<span class="badge badge--ok">Discussed</span>' if row.discussed else "") + (
        '<span class="badge">Carried over</span>' if row.carried_over_from_id else ""
    )
    return mark_safe(
        f'<tbody id="row-{row.pk}" class="{classes}" data-row{" data-focus-after-swap" if focus else ""}><tr>'
        f'<th scope="row" class="huddle-row__student"><a href="{view.urls["timeline"]}" class="huddle-row__name" data-row-focus>'
        f"{_e(student.last_name)}, {_e(student.first_name)}</a> "
        f'<span class="muted nowrap">Grade {_e(row.grade or "—")}</span> {badges}{guardian_html(view.guardians)}</th>'
        f'<td class="huddle-row__figures">{figures_html(view)}</td>'
        f'<td class="huddle-row__why">{reasons_html(row.reasons)}</td>'
        f'<td class="huddle-row__plan">{plan_html(view)}</td>'
        f'<td class="huddle-row__contact">{contact_html(view.last_contact)}</td>'
        f'<td class="huddle-row__actions">{actions_html(view, view.csrf_token)}</td></tr>'
        f'<tr class="huddle-row__panel-row"><td colspan="6" id="row-{row.pk}-panel" class="huddle-row__panel"></td></tr></tbody>'
    )


def plan_html(view) -> str:
    row = view.row
    if row.owner:
        owner = _e(row.owner.user.get_full_name() or row.owner.user.email)
    else:
        owner = '<span class="muted">no owner yet</span>'
    due = ""
    if row.next_step_due:
        text = f"due {row.next_step_due:%b} {row.next_step_due.day}"
        due = (
            f' · <span class="badge badge--bad">overdue, {text}</span>'
            if view.next_step_state == "overdue"
            else f" · {text}"
        )
    outcome = (
        f'<span class="figure"><span class="badge">{_e(_label(_OUTCOMES, row.outcome))}</span> {_e(row.outcome_reason)}</span>'
        if not row.is_open
        else ""
    )
    return (
        f'<span class="figure"><span class="label">Owner:</span> {owner}</span>'
        f'<span class="figure"><span class="label">Next step:</span> {_e(row.next_step or "—")}{due}</span>'
        f"{checklist_html(view.checklist)}{outcome}"
    )
