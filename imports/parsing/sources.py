"""The files an import reads, whether they arrived as one file, a folder or a zip.

Only base names matter (exports nest folders differently); anything that is not a data file is
skipped and noted. A zip is checked for its uncompressed size first, so an upload cannot ask
the worker to inflate more than it can hold.
"""

import dataclasses
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import ImportRejected

MAX_UNCOMPRESSED_BYTES = 8 * 1024**3
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
        raise ImportRejected.one(path.name, None, "", "file not found")
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
            notes.append(f"Skipped {relative}: not a CSV, JSON or XML file.")
    return files, notes


def _zip_files(path: Path) -> tuple[list[SourceFile], list[str]]:
    archive = zipfile.ZipFile(path)
    members = [info for info in archive.infolist() if not info.is_dir() and not _hidden(info.filename)]
    if sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
        raise ImportRejected.one(
            path.name, None, "", "the zip unpacks to more than 8 GB; split it into smaller uploads"
        )
    files, notes = [], []
    for info in sorted(members, key=lambda info: info.filename):
        name = PurePosixPath(info.filename).name
        if PurePosixPath(name).suffix.lower() in DATA_SUFFIXES:
            files.append(SourceFile(name, info.filename, lambda info=info: archive.open(info)))
        else:
            notes.append(f"Skipped {info.filename}: not a CSV, JSON or XML file.")
    return files, notes


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(relative).parts)
