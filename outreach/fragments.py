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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from students.models import Guardian
from tiers.why import short_date

from .models import Barrier, HuddleRow, Method, Section
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


def person(membership) -> str:
    return membership.user.get_full_name() or membership.user.email


def _label(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


def reasons_html(reasons: list[dict]) -> SafeString:
    if not reasons:
        return mark_safe("")
    shown, rest = reasons[:WHYS_SHOWN], reasons[WHYS_SHOWN:]
    items = "".join(
        f"<li><strong>{_e(reason_label(r))}</strong>{_tier3() if r.get('tier') == 3 else ''}{_since(r)}{_again(r)}"
        f'<br><span class="reasons__why">{_e(reason_why(r))}</span></li>'
        for r in shown
    )
    also = _("Also: %(rules)s") % {"rules": "; ".join(reason_label(r) for r in rest)}
    more = f'<li class="reasons__more">{_e(also)}</li>' if rest else ""
    return mark_safe(f'<ul class="reasons">{items}{more}</ul>')


def _tier3() -> str:
    label = _("Tier 3")  # gettext outside f-strings throughout: xgettext does not look inside them
    return f' <span class="badge badge--bad">{_e(label)}</span>'


def _again(reason: dict) -> str:
    """Resolved means resolved: a flag back after a resolution is a new one, and says so."""
    if not reason.get("follows"):
        return ""
    text = _("flagged again after it was resolved")
    return f' <span class="badge badge--warn">{_e(text)}</span>'


def _since(reason: dict) -> str:
    """A flag's "why" is written when it is first met; the date says which figures it quotes."""
    if not reason.get("first_met"):
        return ""
    day = date.fromisoformat(reason["first_met"])
    since = _("since %(date)s") % {"date": short_date(day)}
    return f' <span class="muted">{_e(since)}</span>'


def checklist_html(steps) -> SafeString:
    if not steps:
        return mark_safe("")
    items = "".join(
        f'<li class="checklist__step checklist__step--{s.state}">{_e(s.label)}: {_e(s.state_label)}</li>' for s in steps
    )
    label = _("Tier 2 checklist")
    return mark_safe(f'<ol class="checklist" aria-label="{_e(label)}">{items}</ol>')


def guardian_html(guardians: list) -> SafeString:
    if not guardians:
        label = _("No guardian contact")
        return mark_safe(f'<span class="guardian"><span class="badge badge--warn">{_e(label)}</span></span>')
    g = guardians[0]
    relation = f" ({_e(g.relationship)})" if g.relationship else ""
    channel = (
        _e(_("prefers %(channel)s") % {"channel": _label(_CHANNELS, g.preferred_channel).lower()})
        if g.preferred_channel
        else _e(_("no preferred channel"))
    )
    phone = f'<br><span class="nowrap">{_e(g.phone)}</span>' if g.phone else ""
    language = _e(g.language) if g.language else _e(_("language not recorded"))
    return mark_safe(
        f'<span class="guardian">{_e(g.name)}{relation}<br><span class="muted">{language} · {channel}</span>{phone}</span>'
    )


def contact_html(contact) -> SafeString:
    if contact is None:
        label = _("No contact logged yet")
        return mark_safe(f'<span class="muted">{_e(label)}</span>')
    action = contact.action
    parts = [
        f'<span class="figure">{_e(short_date(action.attempt_date))} · {_e(_label(_METHODS, action.method))} · '
        f"<strong>{contact.result}</strong></span>"
    ]
    if contact.restricted:
        label = _("Details restricted (sensitive)")
        parts.append(f'<span class="figure muted">{_e(label)}</span>')
    else:
        if action.barrier:
            barrier = _("Barrier: %(barrier)s") % {"barrier": _label(_BARRIERS, action.barrier)}
            parts.append(f'<span class="figure">{_e(barrier)}</span>')
        if action.support_offered:
            support = _("Support: %(support)s") % {"support": action.support_offered}
            parts.append(f'<span class="figure">{_e(support)}</span>')
    if action.follow_up_date:
        follow_up = _("Follow up %(date)s") % {"date": short_date(action.follow_up_date)}
        parts.append(f'<span class="figure">{_e(follow_up)}</span>')
    author = action.author.user.get_full_name() or action.author.user.email
    by = _("by %(author)s") % {"author": author}
    parts.append(f'<span class="figure muted">{_e(by)}</span>')
    return mark_safe("".join(parts))


def actions_html(view, csrf_token: str) -> SafeString:
    """The row's controls: each a real link or form (the no-JS path) that htmx upgrades to an
    in-place panel or swap, each naming the student for screen readers."""
    row, name, urls = view.row, _e(view.row.student.full_name), view.urls
    parts = []
    if view.can_run:
        label, pressed = (_("Undo discussed"), " button--secondary") if row.discussed else (_("Mark discussed"), "")
        parts.append(
            f'<form method="post" action="{urls["discussed"]}" hx-post="{urls["discussed"]}" hx-target="#row-{row.pk}" '
            f'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
            f'<input type="hidden" name="discussed" value="{0 if row.discussed else 1}">'
            f'<button type="submit" class="button button--small{pressed}" data-shortcut="d" aria-keyshortcuts="d">'
            f'{_e(label)}<span class="visually-hidden">: {name}</span></button></form>'
        )
        parts.append(_panel_link(row.pk, urls, "plan", "o", _e(_("Owner & next step")), f": {name}"))
    if view.can_work:
        parts.append(_panel_link(row.pk, urls, "action", "l", _e(_("Log action")), f": {name}"))
    if view.can_run and row.section == Section.READY_TO_CLOSE:
        # One action for the common case; "keep open" asks why (tiers.lifecycle.flags_keep_open).
        close = _("Close: improved")
        parts.append(
            f'<form method="post" action="{urls["row"]}resolve/" hx-post="{urls["row"]}resolve/" '
            f'hx-target="#row-{row.pk}" hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{_e(csrf_token)}"><input type="hidden" name="reason" value="improved">'
            f'<button type="submit" class="button button--small" data-shortcut="c" aria-keyshortcuts="c">'
            f'{_e(close)}<span class="visually-hidden">: {name}</span></button></form>'
        )
        parts.append(_panel_link(row.pk, urls, "keep_open", "", _e(_("Keep open")), f": {name}"))
    if view.can_run:
        parts.append(
            _panel_link(
                row.pk,
                urls,
                "escalate",
                "e",
                _e(_("Escalate")),
                " " + _e(_("%(name)s to Tier 3") % {"name": view.row.student.full_name}),
            )
        )
        parts.append(_panel_link(row.pk, urls, "resolve", "r", _e(_("Resolve")), f": {name}"))
    return mark_safe("".join(parts))


def _panel_link(pk: int, urls: dict, panel: str, key: str, label: str, hidden: str) -> str:
    shortcut = f' data-shortcut="{key}" aria-keyshortcuts="{key}"' if key else ""
    return (
        f'<a class="button button--small button--secondary" href="{urls["row"]}#{panel}" hx-get="{urls["row"]}?panel={panel}" '
        f'hx-target="#row-{pk}-panel"{shortcut}>{label}'
        f'<span class="visually-hidden">{hidden}</span></a>'
    )


def figures_html(view) -> SafeString:
    row = view.row
    if row.absences_left is None:
        left = "—"
    elif row.absences_left == 0:
        left = _e(_("No absences left before the year is chronic"))
    else:
        left = _e(
            ngettext(
                "%(count)s absence left before chronic", "%(count)s absences left before chronic", row.absences_left
            )
            % {"count": row.absences_left}
        )
    trend = f'<span class="muted">{_e(view.trend_text)}</span>' if view.trend_text else ""
    then_now = ""
    if row.section == Section.READY_TO_CLOSE and view.last_held:
        then_now = f'<span class="figure"><strong>{_e(view.then_now)}</strong></span>'
    missed = _("%(missed)s missed of %(days)s days") % {"missed": view.days_missed, "days": row.membership_days}
    return mark_safe(
        then_now + f'<span class="figure">{_e(missed)}</span>'
        f'<span class="figure"><span class="badge badge--{view.band_badge or "plain"}">{_e(view.band_label)}</span> '
        f'{view.rate_pct}</span><span class="figure">{left}</span><span class="trend">{view.sparkline}{trend}</span>'
    )


def row_html(view, *, focus: bool = False) -> SafeString:
    """One student's row: a <tbody> of the data row and the (empty) panel row the forms open in."""
    row, student = view.row, view.row.student
    classes = "huddle-row" + (" is-discussed" if row.discussed else "") + ("" if row.is_open else " is-closed")
    discussed, grade = _("Discussed"), _("Grade %(grade)s") % {"grade": row.grade or "—"}
    badges = f'<span class="badge badge--ok">{_e(discussed)}</span>' if row.discussed else ""
    return mark_safe(
        f'<tbody id="row-{row.pk}" class="{classes}" data-row data-section="{row.section}"{" data-focus-after-swap" if focus else ""}><tr>'
        f'<th scope="row" class="huddle-row__student"><a href="{view.urls["timeline"]}" class="huddle-row__name" data-row-focus>'
        f"{_e(student.last_name)}, {_e(student.first_name)}</a> "
        f'<span class="muted nowrap">{_e(grade)}</span> {badges}{guardian_html(view.guardians)}</th>'
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
        owner = _e(person(row.owner))
    else:
        nobody = _("no owner yet")
        owner = f'<span class="muted">{_e(nobody)}</span>'
    due = ""
    if row.next_step_due:
        when = short_date(row.next_step_due)
        overdue, due_on = _("overdue, due %(date)s") % {"date": when}, _("due %(date)s") % {"date": when}
        due = (
            f' · <span class="badge badge--bad">{_e(overdue)}</span>'
            if view.next_step_state == "overdue"
            else f" · {_e(due_on)}"
        )
    outcome = (
        f'<span class="figure"><span class="badge">{_e(_label(_OUTCOMES, row.outcome))}</span> {_e(row.outcome_reason)}</span>'
        if not row.is_open
        else ""
    )
    owner_label, step_label = _("Owner:"), _("Next step:")
    return (
        f'<span class="figure"><span class="label">{_e(owner_label)}</span> {owner}</span>'
        f'<span class="figure"><span class="label">{_e(step_label)}</span> {_e(row.next_step or "—")}{due}</span>'
        f"{checklist_html(view.checklist)}{outcome}"
    )
