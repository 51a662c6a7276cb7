"""Any SIS CSV export (PowerSchool, Infinite Campus, …) read through the district's saved
column mapping.

Export file names vary by vendor and by admin, so a file is matched to an entity by its
headers: the entity whose mapped headers the file carries (all of its required ones, and the
most of the rest) takes it. Dates are detected per column and per file unless the mapping fixes
their order; attendance may be absences only or one row per student per day, present included.
"""

import hashlib
import json

import pandas as pd

from ..messages import said
from ..schema import ENTITIES, ROW
from .csvread import file_digest, header_of, read_csv_text
from .dates import AUTO
from .errors import ImportRejected
from .sources import SourceFile
from .tables import ParsedImport, SourceTable


def parse_sis(files: list[SourceFile], notes: list[str], *, columns: dict, formats: dict) -> ParsedImport:
    if not columns:
        raise ImportRejected.one("(mapping)", None, "", said("mapping_empty"))
    tables = []
    for source in files:
        if source.suffix not in {".csv", ".txt"}:
            notes.append(said("note_sis_not_csv", path=source.path))
            continue
        header = header_of(source)
        entity = match_entity(header, columns)
        if entity is None:
            notes.append(said("note_sis_no_entity", path=source.path))
            continue
        tables.append(_table(source, entity, columns[entity], formats.get(entity, {})))
    if not tables:
        raise ImportRejected.one(files[0].name if files else "(upload)", None, "", said("mapping_no_match"))
    return ParsedImport(tables, notes)


def match_entity(header: list[str], columns: dict) -> str | None:
    """The entity whose mapped headers this file carries best; None when none fits."""
    present = {name.lower() for name in header}
    best, best_score = None, 0
    for entity, fields in columns.items():
        if entity not in ENTITIES or not fields:
            continue
        required = [fields.get(name) for name in ENTITIES[entity].required]
        if any(not name or name.lower() not in present for name in required):
            continue
        score = sum(1 for name in fields.values() if name and name.lower() in present)
        if score > best_score:
            best, best_score = entity, score
    return best


def _table(source: SourceFile, entity: str, fields: dict, formats: dict) -> SourceTable:
    """The file's table, read when first needed (the mapping's fields are part of its hash)."""
    fields = {field: header for field, header in fields.items() if header and field in ENTITIES[entity].columns}
    table = SourceTable(entity, source.name, None, formats=formats, date_default=AUTO)
    table.reader = lambda: _read(source, entity, fields, table)
    reading = json.dumps(sorted(fields.items())).encode()
    table.source_digest = hashlib.sha256(file_digest(source).encode() + reading).hexdigest()
    return table


def _read(source: SourceFile, entity: str, fields: dict, table: SourceTable) -> pd.DataFrame:
    text = read_csv_text(source, usecols=list(fields.values()))
    by_lower = {column.lower(): column for column in text.columns}
    for field, header in fields.items():
        # A file that lacks a mapped column is not the file the mapping describes (a demographics
        # export read as students): reading it would blank that field in every row.
        if header.lower() not in by_lower:
            message = said("mapping_column_missing", field=field, header=header)
            raise ImportRejected.one(source.name, 1, header, message)
    canonical = {ROW: text[ROW]}
    headers = {}
    for field, header in fields.items():
        column = by_lower.get(header.lower())
        if column is not None:
            canonical[field] = text[column]
            headers[field] = column
    table.headers = headers
    return pd.DataFrame(canonical)
