"""Trend sparklines as small inline SVG, drawn on the server.

No chart library and no script: the page's CSP allows neither inline code nor inline styles,
and an SVG with presentation attributes prints in the PDF exactly as on screen. Every sparkline
carries a text alternative, so the trend is never carried by the drawing alone.
"""

import datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 96, 28, 2
# The scale runs from 0 to at least 20%, so the dashed chronic line (10%) sits mid-height and
# a low, flat rate looks low and flat; a student above 20% gets a taller scale of their own.
SCALE_FLOOR = 0.20
# Presentation attributes, not style attributes: the CSP allows them, and WeasyPrint's SVG
# renderer reads them where it ignores the page's CSS classes.
LINE = 'fill="none" stroke="#1d4f91" stroke-width="1.75" stroke-linejoin="round"'
THRESHOLD = 'stroke="#a3261b" stroke-width="1" stroke-dasharray="3 3"'
DOT = 'fill="#1d4f91"'


def sparkline_svg(points: list[tuple[datetime.date | str, object]], *, threshold: float = 0.10) -> SafeString:
    """`points` are (week_start, cumulative absence rate) oldest first; dates may be ISO strings."""
    if len(points) < 2:
        return mark_safe('<span class="muted">not enough weeks</span>')
    rates = [float(rate) for _, rate in points]
    top = max(SCALE_FLOOR, max(rates) * 1.1)
    step = (WIDTH - 2 * PAD) / (len(rates) - 1)
    coords = " ".join(f"{PAD + i * step:.1f},{_y(rate, top):.1f}" for i, rate in enumerate(rates))
    last_x, last_y = PAD + (len(rates) - 1) * step, _y(rates[-1], top)
    label = (
        f"Absence rate over the last {len(points)} weeks: {rates[0] * 100:.1f}% in the week of {_day(points[0][0])}, "
        f"{rates[-1] * 100:.1f}% in the week of {_day(points[-1][0])}"
    )
    line_y = _y(threshold, top)
    return mark_safe(
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" focusable="false">'
        f'<line class="spark__threshold" {THRESHOLD} x1="0" x2="{WIDTH}" y1="{line_y:.1f}" y2="{line_y:.1f}"/>'
        f'<polyline class="spark__line" {LINE} points="{coords}"/>'
        f'<circle class="spark__dot" {DOT} cx="{last_x:.1f}" cy="{last_y:.1f}" r="2"/></svg>'
    )


def _y(rate: float, top: float) -> float:
    return HEIGHT - PAD - rate / top * (HEIGHT - 2 * PAD)


def _day(value) -> str:
    day = datetime.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%b} {day.day}"
