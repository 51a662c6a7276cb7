"""Read one CSV file into a frame of text, keeping each row's line number for the admin.

Values stay text here; `typing` reads them. When pandas cannot parse a file, the file is read
again with the csv module to name the exact row (pandas' messages do not always carry it).
"""

import csv
import hashlib
import io
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..messages import said
from ..schema import ROW
from .errors import ImportRejected, RowError
from .sources import SourceFile

READ_CHUNK_ROWS = 250_000
ARROW_BLOCK_BYTES = 16 * 1024 * 1024


def read_csv_text(source: SourceFile, *, usecols: list[str] | None = None) -> pd.DataFrame:
    """Every column (or those in `usecols`, any case) as stripped text ('' for blank) plus ROW,
    the row's line in the file.

    Read in chunks of READ_CHUNK_ROWS rows: the parser makes a Python string of every value
    before pandas stores the chunk as Arrow-backed text, and a whole year of attendance made at
    once left some 150 MiB of the process's memory behind it. Each chunk is stripped and its
    blank rows dropped as it comes; ROW counts every row of the file, blank ones too."""
    header = _header(source)
    fast = _read_arrow(source, header, usecols)
    if fast is not None:
        return fast
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


def _read_arrow(source: SourceFile, header: list[str], usecols: list[str] | None) -> pd.DataFrame | None:
    """The same frame as pandas' reading below, by Arrow's CSV reader: every value straight into
    Arrow text, with no Python string per value (pandas' parser made one for each and then
    copied it into Arrow). Only for files where both read the same by construction: no quote
    character anywhere (the two parsers differ at quoting's edges: text after a closing quote, a
    quote inside a value), no blank header name (pandas names it "Unnamed: n"). Anything Arrow
    does not read cleanly (a row with too few or too many values, text that is not UTF-8) is
    None, and pandas reads the file as before, with its own errors and their row numbers."""
    names = [column.strip() for column in header]
    if not all(names):
        return None
    with source.open() as handle:
        data = handle.read()
    if b'"' in data:
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(block_size=ARROW_BLOCK_BYTES),
            # A blank line is a row of blanks, as pandas reads it with skip_blank_lines=False.
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    del data
    if (
        not table.num_rows  # pandas' empty frame, as it makes it
        or [name.strip() for name in table.column_names] != names
        or any(field.type != pa.string() for field in table.schema)
    ):
        return None
    wanted = None if usecols is None else {column.lower() for column in usecols}
    columns = {}
    for position, name in enumerate(names):
        if wanted is None or name.lower() in wanted:
            columns[name] = pc.utf8_trim_whitespace(table.column(position))  # as pandas' .str.strip()
    if not columns:
        return None
    rows = np.arange(2, table.num_rows + 2, dtype="int64")  # ROW: the file's line, header first
    del table
    blank = None  # rows blank in every column read are dropped (their numbers stay counted)
    for values in columns.values():
        empty = pc.equal(pc.binary_length(values), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    if pc.any(blank).as_py():
        keep = pc.invert(blank)
        columns = {name: values.filter(keep) for name, values in columns.items()}
        rows = rows[~blank.to_numpy(zero_copy_only=False)]
    frame = pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})
    frame[ROW] = rows
    return frame


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
