"""The canonical CSV format (SPEC §4): files named after what they hold, our own headers."""

import functools

from ..messages import said
from ..schema import ENTITIES, ROW
from .csvread import file_digest, read_csv_text
from .dates import ISO
from .errors import ImportRejected
from .sources import SourceFile
from .tables import ParsedImport, SourceTable

FILE_ENTITIES = {entity.file_name: entity.name for entity in ENTITIES.values()}


def parse_canonical(files: list[SourceFile], notes: list[str]) -> ParsedImport:
    tables = []
    for source in files:
        entity = FILE_ENTITIES.get(source.name.lower())
        if entity is None:
            notes.append(said("note_not_canonical", path=source.path, expected=", ".join(FILE_ENTITIES)))
            continue
        tables.append(
            SourceTable(
                entity,
                source.name,
                None,
                date_default=ISO,
                reader=functools.partial(_read, source, entity),
                source_digest=file_digest(source),
            )
        )
    if not tables:
        expected = ", ".join(FILE_ENTITIES)
        raise ImportRejected.one(
            files[0].name if files else "(upload)",
            None,
            "",
            said("no_canonical_files", expected=expected),
        )
    return ParsedImport(tables, notes)


def _read(source: SourceFile, entity: str):
    text = read_csv_text(source, usecols=ENTITIES[entity].columns)
    text.columns = [column if column == ROW else column.lower() for column in text.columns]
    return text
