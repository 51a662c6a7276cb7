"""The files an import reads, whether they arrived as one file, a folder or a zip.

Only base names matter (exports nest folders differently); anything that is not a data file is
skipped and noted. A zip is checked for its uncompressed size first, so an upload cannot ask
the worker to inflate more than it can hold.
"""

import dataclasses
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

from ..messages import said
from .errors import ImportRejected

# A member this small may compress as well as it likes (an empty CSV with a header compresses 50×).
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
DATA_SUFFIXES = {".csv", ".txt", ".json", ".xml", ".jsonl", ".ndjson"}


@dataclasses.dataclass(frozen=True)
class SourceFile:
    name: str  # base name, as shown to the admin
    path: str  # where it sits in the folder or zip
    _open: object = dataclasses.field(repr=False, compare=False)

    def open(self) -> IO[bytes]:
        return self._open()

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()

    def read_bytes(self) -> bytes:
        with self.open() as handle:
            return handle.read()


def source_files(path: str | Path) -> tuple[list[SourceFile], list[str]]:
    """The data files at `path` (a file, folder or zip) and notes on what was skipped."""
    path = Path(path)
    if path.is_dir():
        return _folder_files(path)
    if zipfile.is_zipfile(path):
        return _zip_files(path)
    if not path.exists():
        raise ImportRejected.one(path.name, None, "", said("file_not_found"))
    return [SourceFile(path.name, path.name, lambda: open(path, "rb"))], []


def _folder_files(folder: Path) -> tuple[list[SourceFile], list[str]]:
    files, notes = [], []
    for item in sorted(folder.rglob("*")):
        if not item.is_file() or _hidden(item.relative_to(folder).as_posix()):
            continue
        relative = item.relative_to(folder).as_posix()
        if item.suffix.lower() in DATA_SUFFIXES:
            files.append(SourceFile(item.name, relative, lambda item=item: open(item, "rb")))
        else:
            notes.append(said("note_not_data", path=relative))
    return files, notes


def _zip_files(path: Path) -> tuple[list[SourceFile], list[str]]:
    archive = zipfile.ZipFile(path)
    members = [info for info in archive.infolist() if not info.is_dir() and not _hidden(info.filename)]
    _check_sizes(path, members)
    files, notes = [], []
    for info in sorted(members, key=lambda info: info.filename):
        name = PurePosixPath(info.filename).name
        if PurePosixPath(name).suffix.lower() in DATA_SUFFIXES:
            files.append(SourceFile(name, info.filename, lambda info=info: archive.open(info)))
        else:
            notes.append(said("note_not_data", path=info.filename))
    return files, notes


def _check_sizes(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """A zip bomb is refused before anything is inflated: by the total its members declare and by
    how far each is compressed. The declared sizes can be trusted: zipfile stops reading a member
    at its declared size and fails on a mismatch."""
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    total = sum(info.file_size for info in members)
    if total > limit:
        message = said("zip_too_large", total_mb=total // 1024**2, limit_mb=limit // 1024**2)
        raise ImportRejected.one(path.name, None, "", message)
    ratio = settings.IMPORT_MAX_COMPRESSION_RATIO
    for info in members:
        if info.file_size >= RATIO_CHECKED_FROM_BYTES and info.file_size > ratio * max(info.compress_size, 1):
            ratio_found = info.file_size // max(info.compress_size, 1)
            message = said("zip_bomb", member=info.filename, ratio=ratio_found, limit=ratio)
            raise ImportRejected.one(path.name, None, "", message)


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(relative).parts)
