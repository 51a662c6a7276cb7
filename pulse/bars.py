"""Horizontal bar charts as server-rendered SVG (nothing for the CSP to allow), used by the
follow-through, equity and effectiveness pages. Each chart sits beside a table with the same
figures, for screen readers and print; the SVG itself is aria-hidden.

Coordinates are floats handed to the template, which writes them with |unlocalize: a Spanish
reader's locale would otherwise write 152,0 and break the drawing."""

import dataclasses
from decimal import Decimal

LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, VALUE_WIDTH = 220, 360, 26, 90


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    y: float
    width: float
    text: str  # the value as the table shows it
    emphasis: bool = False  # drawn with a pattern as well as a colour: not by colour alone
    marker: float | None = None  # x of a reference line (the district figure), if any


@dataclasses.dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH
    reference_x: float | None = None
    reference_label: str = ""

    @property
    def text_x(self) -> float:
        return self.label_width + self.bar_width + 6


def bar_chart(
    title: str,
    items: list[tuple[str, Decimal | float | None, str]],
    *,
    scale: float = 1.0,
    emphasis=lambda value: False,
    reference: float | None = None,
    reference_label: str = "",
) -> BarChart | None:
    """`items`: (label, value, text); a bar's length is value / scale of the bar area. None
    values are left without a bar (their text still shows). None when there is nothing to draw."""
    if not any(value is not None for _label, value, _text in items):
        return None
    bars = []
    for index, (label, value, text) in enumerate(items):
        fraction = 0.0 if value is None else max(0.0, min(1.0, float(value) / scale))
        bars.append(
            Bar(
                label=label[:34],
                y=index * ROW_HEIGHT + 4,
                width=round(fraction * BAR_WIDTH, 1),
                text=text,
                emphasis=value is not None and emphasis(value),
            )
        )
    reference_x = None if reference is None else round(LABEL_WIDTH + min(1.0, reference / scale) * BAR_WIDTH, 1)
    return BarChart(
        title=title,
        bars=bars,
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=len(bars) * ROW_HEIGHT + 8,
        reference_x=reference_x,
        reference_label=reference_label,
    )
