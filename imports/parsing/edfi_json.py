"""Ed-Fi API JSON: one file per resource (`students.json`, `studentSchoolAttendanceEvents.json`
…), each an array of resources as the API returns them, an object holding such an array under
the resource's name, or JSON Lines."""

import json

from ..messages import said
from .edfi import Record, _key, assemble, resource_name
from .errors import ImportRejected
from .sources import SourceFile


def parse_edfi_json(files: list[SourceFile], notes: list[str]):
    records = []
    for source in files:
        if source.suffix not in {".json", ".jsonl", ".ndjson"}:
            notes.append(said("note_edfi_json_suffix", path=source.path))
            continue
        for resource, items in _resources(source):
            records.extend(
                Record(resource, source.name, number, _leaves(item))
                for number, item in enumerate(items, start=1)
                if isinstance(item, dict)
            )
    return assemble(records, notes)


def _resources(source: SourceFile):
    raw = source.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejected.one(source.name, None, "", said("not_utf8_byte", byte=error.start)) from error
    default = resource_name(source.name)
    if source.suffix in {".jsonl", ".ndjson"}:
        return [
            (
                default,
                [_load(source, line, number) for number, line in enumerate(text.splitlines(), start=1) if line.strip()],
            )
        ]
    document = _load(source, text, None)
    if isinstance(document, list):
        return [(default, document)]
    if isinstance(document, dict) and document and all(isinstance(value, list) for value in document.values()):
        return [(resource_name(key), value) for key, value in document.items()]
    if isinstance(document, dict):
        return [(default, [document])]
    raise ImportRejected.one(source.name, None, "", said("edfi_not_array"))


def _load(source: SourceFile, text: str, line: int | None):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        row = line or error.lineno
        raise ImportRejected.one(
            source.name, row, f"column {error.colno}", said("json_invalid", detail=error.msg)
        ) from error


def _leaves(item: dict) -> list[tuple[str, str]]:
    """(name, text) for every scalar in the resource, nearest the top first."""
    leaves, queue = [], [(None, item)]
    while queue:
        name, value = queue.pop(0)
        if isinstance(value, dict):
            queue.extend(value.items())
        elif isinstance(value, list):
            queue.extend((name, element) for element in value)
        elif value is not None and name is not None:
            text = "true" if value is True else "false" if value is False else str(value)
            leaves.append((_key(name), text.strip()))
    return leaves
