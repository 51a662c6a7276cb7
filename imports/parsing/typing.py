"""Read a text frame of one entity into typed columns, the same way for every format.

A value that cannot be read (a date that is not a date, "maybe" for a yes/no field, a negative
count) rejects the file: the row is not one we could place later by fixing a code or adding a
student, it is a broken export, and importing the rest would hide the problem.
"""

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from students.text import BIDI_CONTROLS

from ..messages import said
from ..schema import BOOL, CHANNEL, DATE, ENTITIES, FILE, GRADE, ID, INT, ROW, TEXT
from .dates import AUTO, ISO, parse_date_column
from .errors import ImportRejected

TRUE = {"y", "yes", "1", "true", "t"}
FALSE = {"n", "no", "0", "false", "f", ""}
NONBLANK = "nonblank"  # a mapping option: any value means yes (e.g. an "ELL status" column)
GRADE_ALIASES = {
    "KG": "K", "KN": "K", "0": "K", "00": "K", "KINDERGARTEN": "K",
    "PK": "PK", "P": "PK", "-1": "PK", "PRE-K": "PK", "PREK": "PK", "PREKINDERGARTEN": "PK",
}  # fmt: skip
CHANNELS = {
    "phone": "phone", "call": "phone", "voice": "phone", "telephone": "phone",
    "text": "text", "sms": "text", "text message": "text",
    "email": "email", "e-mail": "email", "letter": "letter", "mail": "letter", "": "",
}  # fmt: skip
MAX_SMALL_INT = 32767
# C0 and C1 control characters (a NUL byte, a line break inside a value …) and DEL. In ids they
# also include the bidirectional controls, which names have stripped instead (students.text).
CONTROLS = r"\x00-\x1f\x7f-\x9f"  # escapes that Python's re and Arrow's RE2 both read
CONTROL = f"[{CONTROLS}]"
ID_CONTROL = f"[{CONTROLS}{BIDI_CONTROLS}]"
BIDI = f"[{BIDI_CONTROLS}]"


def typed_frame(
    entity_name: str,
    text: pd.DataFrame,
    *,
    file: str,
    formats: dict | None = None,
    date_default: str = ISO,
    headers: dict | None = None,
) -> pd.DataFrame:
    """Typed columns for the fields present in `text`, plus FILE and ROW. `formats` holds the
    admin's choices per field (date order, "nonblank" flags); unlisted dates use date_default;
    `headers` names the file's own column for a field, for the errors."""
    entity, formats = ENTITIES[entity_name], formats or {}
    missing = [name for name in entity.required if name not in text.columns]
    if missing:
        raise ImportRejected.one(file, 1, missing[0], said("column_missing", column=missing[0]))
    rows = text[ROW]
    typed = {}
    for field in entity.fields:
        if field.name not in text.columns:
            continue
        values = _plain_text(
            text[field.name], rows, file=file, field=field, column=(headers or {}).get(field.name, field.name)
        )
        if field.blank:
            values = values.where(values != "", field.blank)
        if field.required:
            _no_blanks(values, rows, file=file, column=field.name)
        reader = _READERS[field.kind]
        typed[field.name] = reader(
            values,
            rows,
            file=file,
            field=field,
            fmt=formats.get(field.name, date_default if field.kind == DATE else ""),
        )
    frame = pd.DataFrame(typed, index=text.index)
    _check_together(entity_name, frame, text, file=file)
    # One category, codes all 0 (not a list of millions of references to the name, read back).
    frame[FILE] = (
        pd.Categorical.from_codes(np.zeros(len(frame), dtype="int8"), categories=pd.Index([file]))
        if len(frame)
        else pd.Categorical([])
    )
    frame[ROW] = rows.to_numpy()
    return frame


def _plain_text(values: pd.Series, rows, *, file: str, field, column: str) -> pd.Series:
    """A control character (a NUL byte, a line break inside a value) rejects the file, naming the
    row and column; bidirectional controls are stripped from names and other text, and reject an
    id (an id that displays as another must not pass silently)."""
    if values.empty:
        return values
    # pandas reads CSV text into Arrow-backed strings: handed over as they are, not copied out
    # into Python objects (a year of attendance is millions of values per column).
    arrow = hasattr(values.array, "__arrow_array__")
    array = pa.array(values.array) if arrow else pa.array(values.to_numpy(dtype=object), type=pa.string())
    if _printable_ascii(array):
        return values  # no control character and no bidirectional one: nothing to reject or strip
    bad = pc.match_substring_regex(array, ID_CONTROL if field.kind == ID else CONTROL).to_numpy(zero_copy_only=False)
    if bad.any():
        position = int(np.argmax(bad))
        value = values.iloc[position]
        character = next(ch for ch in value if re.match(ID_CONTROL if field.kind == ID else CONTROL, ch))
        message = said("control_character", value=value, codepoint=f"{ord(character):04X}")
        raise ImportRejected.one(file, int(rows.iloc[position]), column, message)
    if field.kind == ID or not pc.any(pc.match_substring_regex(array, BIDI)).as_py():
        return values
    return values.str.replace(BIDI, "", regex=True)


def _printable_ascii(array: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every value is printable ASCII (bytes 0x20–0x7e), read off the text's bytes at
    once: the controls above (C0, DEL, C1, bidirectional) are all outside it, so such a column
    needs no pattern matched value by value (RE2 over millions of values took seconds)."""
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if not len(chunk):
            continue
        if chunk.null_count or not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return False
        offsets_buffer, data_buffer = chunk.buffers()[1:3]
        width = "int64" if pa.types.is_large_string(chunk.type) else "int32"
        offsets = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        if data_buffer is None or offsets[-1] == offsets[0]:
            continue
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        if data.min() < 0x20 or data.max() > 0x7E:
            return False
    return True


def _check_together(entity: str, frame: pd.DataFrame, text: pd.DataFrame, *, file: str) -> None:
    """Values that are each readable but impossible together (the database would refuse them
    half-way through the load, so they reject the file here, before anything is written)."""
    rows = text[ROW]
    if entity == "students" and {"first_name", "last_name"} & set(frame.columns):
        # A file that carries names must give every student one: a blank would erase a stored name.
        blank = pd.Series(True, index=frame.index)
        for column in ("first_name", "last_name"):
            if column in frame.columns:
                blank &= frame[column] == ""
        column = "first_name" if "first_name" in frame.columns else "last_name"
        _fail_at(
            blank.to_numpy(), text["student_id"], rows, file=file, column=column,
            code="student_without_name",
        )  # fmt: skip
    if entity == "enrollments" and "exit_date" in frame:
        early = (frame["exit_date"] < frame["entry_date"]).to_numpy()
        _fail_at(early, text["exit_date"], rows, file=file, column="exit_date", code="exit_before_entry")
    if entity == "prior_year":
        more = (frame["days_absent"] > frame["days_enrolled"]).fillna(False).to_numpy(dtype=bool)
        _fail_at(
            more,
            text["days_absent"],
            rows,
            file=file,
            column="days_absent",
            code="absent_over_enrolled",
        )


def _no_blanks(values, rows, *, file, column):
    blank = (values == "").to_numpy()
    if blank.any():
        row = int(rows.to_numpy()[np.argmax(blank)])
        raise ImportRejected.one(file, row, column, said("required_blank"))


def _fail_at(mask, values, rows, *, file, column, code, **params):
    """Rejects the file at the first row `mask` marks, quoting its value (message `code`)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        position = int(np.argmax(mask))
        value = str(values.iloc[position])
        raise ImportRejected.one(file, int(rows.iloc[position]), column, said(code, value=value, **params))


def _distinct(reader):
    """`reader` run on each distinct value once, its result spread back over the rows: the
    columns it reads (flags, counts, grades, channels) hold a few distinct values among up to
    millions of rows. The distinct values are in the order they first appear and each carries
    the row it first appears on, so a rejection names the same first bad row and value as a
    reading of every row would."""

    def read(values, rows, *, file, field, fmt):
        if len(values) < 2:
            return reader(values, rows, file=file, field=field, fmt=fmt)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        codes = np.asarray(codes, dtype="int64")
        firsts = np.flatnonzero(np.r_[True, codes[1:] > np.maximum.accumulate(codes)[:-1]])
        distinct = pd.Series(uniques, dtype=values.dtype, name=values.name)
        result = reader(distinct, pd.Series(rows.to_numpy()[firsts]), file=file, field=field, fmt=fmt)
        if isinstance(result, pd.Series):
            return pd.Series(result.array.take(codes), index=values.index, name=result.name)
        return np.asarray(result)[codes]

    return read


def _read_text(values, rows, *, file, field, fmt):
    if field.max_length:
        too_long = (values.str.len() > field.max_length).to_numpy()
        _fail_at(too_long, values, rows, file=file, column=field.name, code="too_long", max=field.max_length)
    return values


def _read_date(values, rows, *, file, field, fmt):
    return parse_date_column(values, rows, file=file, column=field.name, fmt=fmt or AUTO)


def _read_bool(values, rows, *, file, field, fmt):
    lowered = values.str.lower()
    if fmt == NONBLANK:
        return (lowered != "").to_numpy()
    known = lowered.isin(TRUE | FALSE).to_numpy()
    _fail_at(~known, values, rows, file=file, column=field.name, code="not_yes_no")
    return lowered.isin(TRUE).to_numpy()


def _read_int(values, rows, *, file, field, fmt):
    numbers = pd.to_numeric(values.replace("", None), errors="coerce")
    blank = (values == "").to_numpy()
    bad = (numbers.isna().to_numpy() & ~blank) | (numbers.notna() & ((numbers % 1 != 0) | (numbers < 0))).to_numpy()
    _fail_at(bad, values, rows, file=file, column=field.name, code="not_whole_number")
    _fail_at(
        (numbers > MAX_SMALL_INT).to_numpy(),
        values,
        rows,
        file=file,
        column=field.name,
        code="too_large",
    )
    return numbers.astype("Int64")


def _read_grade(values, rows, *, file, field, fmt):
    upper = values.str.upper().str.replace(r"^GRADE\s*", "", regex=True)
    numeric = upper.str.fullmatch(r"\d{1,2}")
    grades = upper.where(~numeric, upper.str.lstrip("0").replace("", "0"))
    grades = grades.map(lambda grade: GRADE_ALIASES.get(grade, grade))
    _fail_at(
        (grades.str.len() > 4).to_numpy(),
        values,
        rows,
        file=file,
        column=field.name,
        code="not_grade",
    )
    return grades


def _read_channel(values, rows, *, file, field, fmt):
    lowered = values.str.lower()
    known = lowered.isin(CHANNELS).to_numpy()
    _fail_at(~known, values, rows, file=file, column=field.name, code="not_channel")
    return lowered.map(CHANNELS)


_READERS = {
    ID: _read_text,
    TEXT: _read_text,
    DATE: _read_date,  # factorizes on its own
    BOOL: _distinct(_read_bool),
    INT: _distinct(_read_int),
    GRADE: _distinct(_read_grade),
    CHANNEL: _distinct(_read_channel),
}
