"""The loop-heavy parts of a huddle row, rendered with format_html instead of template tags.

A row's reasons, checklist, guardian and last contact are small loops with a dozen values each;
as template nodes they were over half the page's time at 150 rows (each variable node resolves,
localizes and escapes on its own). format_html escapes every value just the same, at a fraction
of the cost. The row's structure stays in the template (outreach/huddle.html#row).
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WHYS_SHOWN = 3  # beyond three rules, the rest are named without their "why" to keep rows short


def reasons_html(reasons: list[dict]) -> SafeString:
    if not reasons:
        return mark_safe("")
    shown, rest = reasons[:WHYS_SHOWN], reasons[WHYS_SHOWN:]
    items = format_html_join(
        "",
        '<li><strong>{}</strong>{}<br><span class="reasons__why">{}</span></li>',
        ((r["label"], _tier3_badge(r), r["why"]) for r in shown),
    )
    more = format_html('<li class="reasons__more">Also: {}</li>', "; ".join(r["label"] for r in rest)) if rest else ""
    return format_html('<ul class="reasons">{}{}</ul>', items, more)


def _tier3_badge(reason: dict) -> SafeString:
    return mark_safe(' <span class="badge badge--bad">Tier 3</span>') if reason.get("tier") == 3 else mark_safe("")


def checklist_html(steps) -> SafeString:
    if not steps:
        return mark_safe("")
    items = format_html_join(
        "", '<li class="checklist__step checklist__step--{}">{}: {}</li>', ((s.state, s.label, s.state_label) for s in steps)
    )
    return format_html('<ol class="checklist" aria-label="Tier 2 checklist">{}</ol>', items)


def guardian_html(guardians: list) -> SafeString:
    if not guardians:
        return mark_safe('<span class="guardian"><span class="badge badge--warn">No guardian contact</span></span>')
    guardian = guardians[0]
    relation = f" ({guardian.relationship})" if guardian.relationship else ""
    channel = (
        f"prefers {guardian.get_preferred_channel_display().lower()}" if guardian.preferred_channel else "no preferred channel"
    )
    phone = format_html('<br><span class="nowrap">{}</span>', guardian.phone) if guardian.phone else ""
    return format_html(
        '<span class="guardian">{}{}<br><span class="muted">{} · {}</span>{}</span>',
        guardian.name, relation, guardian.language or "language not recorded", channel, phone,
    )  # fmt: skip


def contact_html(contact) -> SafeString:
    if contact is None:
        return mark_safe('<span class="muted">No contact logged yet</span>')
    action = contact.action
    parts = [format_html('<span class="figure">{} · {} · <strong>{}</strong></span>', f"{action.attempt_date:%b %-d}", action.get_method_display(), contact.result)]
    if contact.restricted:
        parts.append(mark_safe('<span class="figure muted">Details restricted (sensitive)</span>'))
    else:
        if action.barrier:
            parts.append(format_html('<span class="figure">Barrier: {}</span>', action.get_barrier_display()))
        if action.support_offered:
            parts.append(format_html('<span class="figure">Support: {}</span>', action.support_offered))
    if action.follow_up_date:
        parts.append(format_html('<span class="figure">Follow up {}</span>', f"{action.follow_up_date:%b %-d}"))
    author = action.author.user.get_full_name() or action.author.user.email
    parts.append(format_html('<span class="figure muted">by {}</span>', author))
    return mark_safe("".join(parts))
