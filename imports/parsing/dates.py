"""Reading a column of dates whose format the export did not declare.

A column is read as a whole: ISO (YYYY-MM-DD), M/D/YYYY or D/M/YYYY (slashes, dashes or dots).
A day above 12 in the first or second position settles the order; a column where every value
could be either (all days ≤ 12) is ambiguous, and guessing would silently swap months and
days, so the admin is asked to choose in the column mapping.
"""

import re

import numpy as np
import pandas as pd

from ..messages import said
from .errors import ImportRejected

ISO, MDY, DMY, AUTO = "ymd", "mdy", "dmy", "auto"
FORMAT_LABELS = {AUTO: "Detect", ISO: "YYYY-MM-DD", MDY: "M/D/YYYY", DMY: "D/M/YYYY"}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: .*)?$")


def parse_date_column(values: pd.Series, rows: pd.Series, *, file: str, column: str, fmt: str = AUTO) -> pd.Series:
    """datetime64 values (NaT where blank). Each distinct text is parsed once: a year of daily
    attendance has a few hundred distinct dates among millions of rows."""
    # Factorized as it is (Arrow-backed text): copying millions of values out as Python strings
    # first took some 250 MiB at 3M attendance rows.
    codes, uniques = pd.factorize(values, sort=False)
    texts = pd.Series(np.asarray(uniques, dtype=object), dtype=object)

    def row_of(text: str) -> int:
        position = int(np.flatnonzero(texts.to_numpy() == text)[0])
        return int(rows.iloc[int(np.argmax(codes == position))])

    present = texts != ""
    if fmt == AUTO:
        fmt = detect_date_format(texts[present], file=file, column=column, row_of=row_of)
    parsed = _parse(texts, fmt)
    bad = present & parsed.isna()
    if bad.any():
        text = texts[bad].iloc[0]
        expected = FORMAT_LABELS.get(fmt, fmt)
        raise ImportRejected.one(file, row_of(text), column, said("not_date_in_form", value=text, form=expected))
    lookup = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(lookup[codes], index=values.index)


def detect_date_format(texts: pd.Series, *, file: str, column: str, row_of=lambda text: None) -> str:
    """ISO, MDY or DMY for a column of distinct non-blank texts; rejects an ambiguous column."""
    texts = texts.astype(object)
    if texts.empty or texts.str.match(_ISO).all():
        return ISO
    parts = texts.str.extract(_NUMERIC)
    if parts[0].isna().any():
        bad = texts[parts[0].isna().to_numpy()].iloc[0]
        message = said("not_date_known_form", value=bad)
        raise ImportRejected.one(file, row_of(bad), column, message)
    first, second = parts[0].astype(int), parts[1].astype(int)
    if (first > 12).any() and (second > 12).any():
        message = said("dates_mixed_order")
        raise ImportRejected.one(file, None, column, message)
    if (first > 12).any():
        return DMY
    if (second > 12).any():
        return MDY
    example = texts.iloc[0]
    message = said("dates_ambiguous", value=example)
    raise ImportRejected.one(file, row_of(example), column, message)


def _parse(texts: pd.Series, fmt: str) -> pd.Series:
    texts = texts.astype(object)
    if fmt == ISO:
        parts = texts.str.extract(_ISO)
        year, month, day = parts[0], parts[1], parts[2]
    else:
        parts = texts.str.extract(_NUMERIC)
        year = parts[2]
        month, day = (parts[0], parts[1]) if fmt == MDY else (parts[1], parts[0])
    frame = pd.DataFrame({"year": year, "month": month, "day": day}).apply(pd.to_numeric, errors="coerce")
    return pd.to_datetime(frame, errors="coerce")
