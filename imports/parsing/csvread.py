"""Read one CSV file into a frame of text, keeping each row's line number for the admin.

Values stay text here; `typing` reads them. When pandas cannot parse a file, the file is read
again with the csv module to name the exact row (pandas' messages do not always carry it).
"""

import csv
import hashlib
import io
import warnings

import pandas as pd

from ..messages import said
from ..schema import ROW
from .errors import ImportRejected, RowError
from .sources import SourceFile

READ_CHUNK_ROWS = 250_000


def read_csv_text(source: SourceFile, *, usecols: list[str] | None = None) -> pd.DataFrame:
    """Every column (or those in `usecols`, any case) as stripped text ('' for blank) plus ROW,
    the row's line in the file.

    Read in chunks of READ_CHUNK_ROWS rows: the parser makes a Python string of every value
    before pandas stores the chunk as Arrow-backed text, and a whole year of attendance made at
    once left some 150 MiB of the process's memory behind it. Each chunk is stripped and its
    blank rows dropped as it comes; ROW counts every row of the file, blank ones too."""
    header = _header(source)
    parts = []
    try:
        # All columns are read (usecols would silently drop a row's surplus values) and pandas'
        # "length does not match" warning is an error: a shifted row must never be imported.
        with source.open() as handle, warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                handle,
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                encoding="utf-8-sig",
                index_col=False,
                engine="c",
                chunksize=READ_CHUNK_ROWS,
            )
            start = 0
            with reader:
                for chunk in reader:
                    parts.append(_chunk_text(chunk, start, usecols))
                    start += len(chunk)
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError) as error:
        raise _diagnose(source, len(header), error) from error
    if not parts:  # pandas gives a header without rows one empty chunk; this is in case it gives none
        parts = [_chunk_text(pd.DataFrame({name: pd.Series(dtype=str) for name in header}), 0, usecols)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _chunk_text(frame: pd.DataFrame, start: int, usecols: list[str] | None) -> pd.DataFrame:
    frame.columns = [str(column).strip() for column in frame.columns]
    if usecols is not None:
        wanted = {column.lower() for column in usecols}
        frame = frame[[column for column in frame.columns if column.lower() in wanted]]
    frame[ROW] = pd.RangeIndex(start + 2, start + len(frame) + 2, dtype="int64")
    for column in frame.columns.drop(ROW):
        frame[column] = frame[column].str.strip()
    blank = (frame.drop(columns=ROW) == "").all(axis=1)
    return frame[~blank] if blank.any() else frame


def file_digest(source: SourceFile) -> str:
    """SHA-256 of the file's bytes (imports.unchanged compares it with the last import's)."""
    digest = hashlib.sha256()
    with source.open() as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def header_of(source: SourceFile) -> list[str]:
    return [column.strip() for column in _header(source)]


def _header(source: SourceFile) -> list[str]:
    with source.open() as handle:
        first_line = handle.readline(1024 * 1024)
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejected.one(source.name, 1, "", said("header_not_utf8")) from error
    header = next(csv.reader(io.StringIO(text)), None)
    if not header or not any(column.strip() for column in header):
        raise ImportRejected.one(source.name, 1, "", said("empty_file"))
    names = [column.strip() for column in header]
    seen = set()
    for name in names:
        if not name:
            continue
        if name.lower() in seen:
            raise ImportRejected.one(source.name, 1, name, said("column_twice"))
        seen.add(name.lower())
    return header


def _diagnose(source: SourceFile, width: int, error: Exception) -> ImportRejected:
    """Find the first row the csv module also cannot read, and say what is wrong with it."""
    with source.open() as handle:
        raw = handle.read()
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return ImportRejected.one(source.name, number, "", said("row_not_utf8"))
    text = raw.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for values in reader:
            if len(values) > width:
                column = f"column {width + 1}"
                message = said("too_many_values", count=len(values), width=width)
                return ImportRejected([RowError(source.name, reader.line_num, column, message)])
    except csv.Error as csv_error:
        return ImportRejected.one(source.name, reader.line_num, "", said("csv_invalid", detail=str(csv_error)))
    return ImportRejected.one(source.name, None, "", said("csv_invalid", detail=str(error)))
