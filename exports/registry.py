"""Renderers of export files, registered by name by the app that owns the data.

The exports app sits just above districts, so students, outreach, cases and pulse can all use
it while it imports none of them: each registers its renderers in AppConfig.ready() (as
students/panels.py does for the student page's panels) and starts jobs by name.
"""

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Sequence

from districts.access import DistrictAccess
from districts.models import District


@dataclasses.dataclass(frozen=True)
class ExportPart:
    """One piece of the export also offered on its own (each student's letter of a batch): the
    job's page lists it under `label`, and its download is audit-logged with its `students`."""

    filename: str
    content: bytes
    label: str
    students: Sequence[int] = ()


@dataclasses.dataclass(frozen=True)
class ExportFile:
    """What a renderer hands back. `students`: ids of every student the file names; the
    download is audit-logged with them (SPEC §9), one entry per download, not per student."""

    content: bytes
    filename: str  # what the browser saves it as: letters, digits, dots and dashes
    content_type: str
    students: Iterable[int] = ()
    parts: Sequence[ExportPart] = ()


@dataclasses.dataclass
class ExportRequest:
    """What a renderer is given: the job's parameters and the requester's access as it is now
    (a person who lost the role since clicking gets nothing), inside the district's scope and
    time zone."""

    job: object  # exports.models.ExportJob
    district: District
    access: DistrictAccess
    params: dict
    today: datetime.date
    report: Callable[[int, str], None]

    def progress(self, percent: int, step: str = "") -> None:
        """Shown on the job's page while it renders (a long PDF: say which part is being laid out)."""
        self.report(max(0, min(99, int(percent))), step)


Renderer = Callable[[ExportRequest], ExportFile]

_renderers: dict[str, Renderer] = {}


def register_export_renderer(name: str, render: Renderer) -> None:
    """Register (or replace: ready() can run more than once) the renderer called `name`,
    conventionally "<app>.<what>", e.g. "outreach.huddle_pdf"."""
    _renderers[name] = render


def unregister_export_renderer(name: str) -> None:
    _renderers.pop(name, None)


def export_renderer(name: str) -> Renderer:
    try:
        return _renderers[name]
    except KeyError:
        raise LookupError(f"No export renderer is registered as {name!r}.") from None


def is_registered(name: str) -> bool:
    return name in _renderers
