"""Panels that apps above students add to the student page, without students importing them.

Apps depend one way (districts ← students ← tiers ← outreach ← cases), yet a student's page must
show the attendance figures tiers computes and, later, outreach's contacts. So the page renders
whatever panels are registered here, in order; each app registers its own in AppConfig.ready().
"""

import dataclasses
from collections.abc import Callable

# context_function(request=..., student=...) -> the panel template's context, or None to hide it.
PanelContext = Callable[..., dict | None]


@dataclasses.dataclass(frozen=True)
class StudentPanel:
    name: str
    template: str
    context_function: PanelContext
    order: int


@dataclasses.dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict


_panels: dict[str, StudentPanel] = {}


def register_student_panel(name: str, template: str, context_function: PanelContext, order: int = 100) -> None:
    """Register (or replace: ready() can run more than once) the panel called `name`."""
    _panels[name] = StudentPanel(name, template, context_function, order)


def unregister_student_panel(name: str) -> None:
    _panels.pop(name, None)


def student_panels(*, request, student) -> list[RenderedPanel]:
    """The registered panels in order, each with its context; a panel may decline (None)."""
    rendered = []
    for panel in sorted(_panels.values(), key=lambda panel: (panel.order, panel.name)):
        context = panel.context_function(request=request, student=student)
        if context is not None:
            rendered.append(RenderedPanel(panel.name, panel.template, context))
    return rendered
