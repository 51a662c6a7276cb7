"""Ed-Fi XML interchange files (`Interchange-StudentAttendance.xml` …): the root holds one
element per resource (`<StudentSchoolAttendanceEvent>` …). Read element by element, so a year of
attendance events is never one tree in memory. Parsed with defusedxml: an uploaded file's DTD,
entities and external references are refused (billion laughs, external entity reads)."""

import xml.etree.ElementTree as ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..messages import said
from .edfi import Record, _key, assemble, resource_name
from .errors import ImportRejected
from .sources import SourceFile


def parse_edfi_xml(files: list[SourceFile], notes: list[str]):
    records = []
    for source in files:
        if source.suffix != ".xml":
            notes.append(said("note_edfi_xml_suffix", path=source.path))
            continue
        records.extend(_records(source))
    return assemble(records, notes)


def _records(source: SourceFile):
    depth, counts, root_name = 0, {}, None
    try:
        with source.open() as handle:
            for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    depth += 1
                    root_name = root_name or _local(element.tag)
                    continue
                depth -= 1
                # An interchange holds resources one level down; a lone resource is the root itself.
                if depth == (1 if root_name.lower().startswith("interchange") else 0):
                    name = resource_name(_local(element.tag))
                    counts[name] = counts.get(name, 0) + 1
                    yield Record(name, source.name, counts[name], _leaves(element))
                    element.clear()
    except DefusedXmlException as error:
        what = {"DTDForbidden": "dtd", "EntitiesForbidden": "entities", "ExternalReferenceForbidden": "external"}
        message = said("xml_forbidden", what=what.get(type(error).__name__, "dtd"))
        raise ImportRejected.one(source.name, None, "", message) from error
    except ElementTree.ParseError as error:
        line, column = error.position
        raise ImportRejected.one(
            source.name, line, f"column {column}", said("xml_invalid", detail=str(getattr(error, "msg", error)))
        ) from error


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _leaves(element) -> list[tuple[str, str]]:
    """(name, text) of every leaf, nearest first. A descriptor written the Data Standard 2 way
    (<Category><CodeValue>Tardy</CodeValue></Category>) reads as the CodeValue under its parent's name."""
    leaves, queue = [], [element]
    while queue:
        node = queue.pop(0)
        children = list(node)
        names = {_local(child.tag) for child in children}
        if children and names <= {"CodeValue", "Namespace"}:
            code = next((child.text or "" for child in children if _local(child.tag) == "CodeValue"), "")
            leaves.append((_key(_local(node.tag)), code.strip()))
        elif children:
            queue.extend(children)
        elif node is not element:
            leaves.append((_key(_local(node.tag)), (node.text or "").strip()))
    return leaves
