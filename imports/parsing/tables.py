"""What every parser produces: tables of canonical columns, still text, with their origin."""

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..schema import COMPLETE_ENTITIES, DEFAULT, DEFAULT_SCOPES, ENTITIES, FILE, ROW
from .dates import ISO
from .typing import typed_frame


@dataclasses.dataclass
class SourceTable:
    entity: str
    file: str
    # Canonical columns as text, plus ROW; None until `reader` reads them (a CSV file is read
    # only when its entity needs loading: imports.unchanged may find it unchanged by its hash).
    text: pd.DataFrame | None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # canonical → the file's own header
    formats: dict[str, str] = dataclasses.field(default_factory=dict)
    date_default: str = ISO
    # What the file is the whole truth about (imports.schema.SCOPE_COLUMNS); None: it only adds
    # and updates. Formats whose files are deltas by nature (Ed-Fi events) choose their own.
    scope: str | None = DEFAULT
    reader: Callable[[], pd.DataFrame] | None = dataclasses.field(default=None, repr=False)
    # A hash of the file's bytes and of how they are read, for a table read lazily.
    source_digest: str = ""
    rows: int = 0  # rows of text, once read

    def __post_init__(self):
        if self.scope == DEFAULT:
            self.scope = DEFAULT_SCOPES.get(self.entity)
        if self.text is not None:
            self.rows = len(self.text)

    def loaded(self) -> pd.DataFrame:
        if self.text is None:
            self.text = self.reader()
            self.rows = len(self.text)
        return self.text

    def release(self) -> None:
        """Let the text go once typed, when the file can be read again for a held row's raw values."""
        if self.reader is not None:
            self.text = None

    def raw_row(self, position: int) -> dict:
        """The row as the file had it, under the file's own headers, for the admin to recognise."""
        text = self.loaded()
        values = text.iloc[position]
        return {self.headers.get(column, column): str(values[column]) for column in text.columns if column != ROW}


@dataclasses.dataclass
class ParsedImport:
    tables: list[SourceTable]
    notes: list[str] = dataclasses.field(default_factory=list)
    # Codes the format itself defines (Ed-Fi descriptors), installed in the district's code map.
    standard_codes: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        """Rows of the files read so far."""
        return sum(table.rows for table in self.tables)

    def typed(self, *, skip=(), only=None) -> dict[str, list[tuple[pd.DataFrame, str | None]]]:
        """(typed frame, scope) per entity: files of one entity with the same columns and scope
        are one frame; files carrying different columns of it (names in one, demographics in
        another) stay apart and load one after the other, so neither blanks what the other
        brought. Raises ImportRejected before anything is written when any file cannot be read.
        Entities in `skip` (or not in `only`) are left untyped: text that hashes the same as text
        already imported once reads the same way again (imports.unchanged)."""
        shapes: dict[tuple[str, tuple, str | None], list[pd.DataFrame]] = {}
        wanted = [table for table in self.tables if table.entity not in skip and (only is None or table.entity in only)]
        for table in wanted:  # every file is read before any is typed, as when reading was eager
            table.loaded()
        for table in wanted:
            text = table.text
            if table.entity in COMPLETE_ENTITIES:
                fields = ENTITIES[table.entity].fields
                missing = {field.name: "" for field in fields if field.name not in text.columns and not field.required}
                text = text.assign(**missing) if missing else text
            frame = typed_frame(
                table.entity,
                text,
                file=table.file,
                formats=table.formats,
                date_default=table.date_default,
                headers=table.headers,
            )
            del text
            table.release()
            columns = tuple(sorted(column for column in frame.columns if column not in (FILE, ROW)))
            shapes.setdefault((table.entity, columns, table.scope), []).append(frame)
        typed: dict[str, list[tuple[pd.DataFrame, str | None]]] = {}
        for (entity, _, scope), parts in shapes.items():
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
            frame[FILE] = frame[FILE].astype("category")
            typed.setdefault(entity, []).append((frame, scope))
        return typed

    def raw_lookup(self, entity: str) -> "RawLookup":
        """(file, row) → where to find an entity's raw row; built only when rows are held."""
        return RawLookup([(table, table.loaded()[ROW].to_numpy()) for table in self.tables if table.entity == entity])


class RawLookup:
    """Where a held row's raw values are: a binary search in each file's row numbers, which a
    CSV file's reading keeps in order (a dict of every row was some 300 MiB for a year of
    attendance with one row held); other formats' numbers get a dict. A later file of the same
    name wins, as it did."""

    def __init__(self, tables: list[tuple["SourceTable", np.ndarray]]):
        self.tables = []
        for table, rows in tables:
            ordered = len(rows) < 2 or bool((rows[1:] > rows[:-1]).all())
            self.tables.append((table, rows if ordered else dict(zip(rows.tolist(), range(len(rows))))))

    def get(self, key: tuple[str, int]) -> tuple["SourceTable", int] | None:
        file, row = key
        for table, rows in reversed(self.tables):
            if table.file != file:
                continue
            if isinstance(rows, dict):
                if row in rows:
                    return table, rows[row]
                continue
            position = int(np.searchsorted(rows, row))
            if position < len(rows) and rows[position] == row:
                return table, position
        return None


def empty_text_frame(entity: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=str) for column in [*ENTITIES[entity].columns, ROW]})
