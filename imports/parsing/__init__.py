"""Every import format, read into the same canonical tables (see imports.schema)."""

from ..messages import said
from ..models import ImportFormat
from .canonical import parse_canonical
from .errors import ImportRejected, RowError
from .sis import parse_sis
from .sources import source_files
from .tables import ParsedImport, SourceTable

__all__ = ["ImportRejected", "ParsedImport", "RowError", "SourceTable", "parse_source"]


def parse_source(path, *, format: str, columns: dict | None = None, formats: dict | None = None) -> ParsedImport:
    """Read the file, folder or zip at `path`. Raises ImportRejected when it cannot be read."""
    files, notes = source_files(path)
    if not files:
        raise ImportRejected.one("(upload)", None, "", said("no_data_files"))
    if format == ImportFormat.CSV:
        return parse_canonical(files, notes)
    if format == ImportFormat.SIS_CSV:
        return parse_sis(files, notes, columns=columns or {}, formats=formats or {})
    if format == ImportFormat.ONEROSTER:
        from .oneroster import parse_oneroster

        return parse_oneroster(files, notes)
    if format == ImportFormat.EDFI_JSON:
        from .edfi_json import parse_edfi_json

        return parse_edfi_json(files, notes)
    if format == ImportFormat.EDFI_XML:
        from .edfi_xml import parse_edfi_xml

        return parse_edfi_xml(files, notes)
    raise ValueError(f"Unknown import format {format!r}")
