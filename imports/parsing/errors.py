"""Errors that reject a whole import: nothing is written and the admin is told where to look."""

import dataclasses

from ..messages import error_dict


@dataclasses.dataclass(frozen=True)
class RowError:
    file: str
    row: int | None  # the file's line: 1 is the header, 2 the first data row
    column: str
    message: str  # an ImportMessage (imports.messages.said): read in English, stored as a code

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        return f"{where}, column {self.column!r}: {self.message}" if self.column else f"{where}: {self.message}"

    def as_dict(self) -> dict:
        """As ImportRun.errors keeps it: where, and the message as a code and its figures."""
        return error_dict(self.file, self.row, self.column, self.message)


class ImportRejected(Exception):
    """A file could not be read at all. Raised before anything is written, so the district's
    data stays exactly as it was (SPEC §9: all-or-nothing per file)."""

    MAX_ERRORS = 50

    def __init__(self, errors: list[RowError]):
        self.errors = errors[: self.MAX_ERRORS]
        super().__init__("; ".join(map(str, self.errors[:3])) + (" …" if len(errors) > 3 else ""))

    @classmethod
    def one(cls, file: str, row: int | None, column: str, message: str) -> "ImportRejected":
        return cls([RowError(file, row, column, message)])
