"""Nightly automation: import an SIS export from the command line, through the same code path
as a browser upload. Prints a summary; exits non-zero when a file is rejected."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from districts.models import District
from districts.tenancy import district_scope
from imports import services
from imports.messages import error_text, note_text
from imports.models import ColumnMapping, ImportFormat, ImportRun

FORMATS = {
    "csv": ImportFormat.CSV,
    "sis-csv": ImportFormat.SIS_CSV,
    "oneroster": ImportFormat.ONEROSTER,
    "edfi-json": ImportFormat.EDFI_JSON,
    "edfi-xml": ImportFormat.EDFI_XML,
}


class Command(BaseCommand):
    help = "Import a canonical CSV, SIS CSV, OneRoster or Ed-Fi export (a file, folder or zip) into a district."
    # Django's system checks (URLs, templates, models, security settings) are for deploys and
    # `manage.py check`, not each nightly or hand-run import: they took about 1 s of its start,
    # and the worker's imports from the browser never ran them either.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="the district's slug")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument("--mapping", help="name of a saved column mapping (reads CSV as an SIS export)")
        parser.add_argument(
            "--allow-removals",
            action="store_true",
            help="go ahead when the import would remove more than 50 rows that are also more than 5%% of what it covers",
        )
        parser.add_argument(
            "--school-year",
            default="",
            help="read the rows against this earlier school year (e.g. 2024-25) instead of the current one",
        )
        parser.add_argument("path", help="a file, a folder or a zip")

    def handle(self, *args, district, format, mapping, path, allow_removals, school_year, **options):
        district_row = District.objects.filter(slug=district).first()
        if district_row is None:
            raise CommandError(f"No district with slug {district!r}.")
        import_format = FORMATS[format]
        if mapping and import_format == ImportFormat.CSV:
            import_format = ImportFormat.SIS_CSV
        with district_scope(district_row):
            saved = self._mapping(mapping, import_format)
            try:
                run = services.import_run_create(
                    district=district_row,
                    format=import_format,
                    path=path,
                    mapping=saved,
                    source=ImportRun.Source.COMMAND,
                    allow_removals=allow_removals,
                    school_year=school_year,
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            run = services.import_run_process(run=run)
            self._summary(run)
        if run.status == ImportRun.Status.CONFIRM:
            raise CommandError(
                f"Import #{run.pk} stopped before writing anything: it would remove the rows above. "
                "If that is what you mean, run it again with --allow-removals."
            )
        if run.status != ImportRun.Status.SUCCEEDED:
            raise CommandError(f"Import #{run.pk} {run.get_status_display().lower()}: nothing was written.")

    def _mapping(self, name, import_format):
        if import_format != ImportFormat.SIS_CSV:
            return None
        if not name:
            raise CommandError("An SIS export needs --mapping NAME (save one on the Imports page).")
        mapping = ColumnMapping.objects.filter(format=ImportFormat.SIS_CSV, name=name).first()
        if mapping is None:
            raise CommandError(f"No column mapping named {name!r} in this district.")
        return mapping

    def _summary(self, run: ImportRun) -> None:
        write = self.stdout.write
        write(f"Import #{run.pk}: {run.get_status_display()} — {run.original_name} (sha256 {run.sha256[:12]}…)")
        for note in run.notes:
            write(f"  note: {note_text(note)}")
        for error in run.errors:
            where = ", ".join(
                part
                for part in (
                    error["file"],
                    f"row {error['row']}" if error.get("row") else "",
                    f"column {error['column']!r}" if error.get("column") else "",
                )
                if part
            )
            self.stderr.write(f"  rejected: {where}: {error_text(error)}")
        stopped = run.status == ImportRun.Status.CONFIRM
        for entry in run.removals:
            of = f" of {entry['covered']} it covers" if entry["covered"] is not None else ""
            line = f"  {'would remove' if stopped else 'removed'} {entry['removed']} {entry['entity']}{of}"
            line += f" at {entry['school'] or 'no school'}" + (" (over the guard)" if entry["over"] else "")
            (self.stderr if stopped and entry["over"] else self.stdout).write(line)
        for entity, counts in run.entity_counts.items():
            write(
                f"  {entity}: read {counts['read']}, added {counts['added']}, changed {counts['changed']}, "
                f"removed {counts['removed']}, held {counts['quarantined']}, duplicates {counts['duplicates']}"
                + (f", present days not stored {counts['dropped']}" if counts.get("dropped") else "")
            )
        if run.status == ImportRun.Status.SUCCEEDED:
            seconds = run.seconds or 0
            rate = run.rows_read / seconds if seconds else 0
            write(
                f"Read {run.rows_read} rows; added {run.added}, changed {run.changed}, removed {run.removed}, "
                f"held {run.rows_quarantined}, duplicates {run.duplicates} in {seconds:.1f}s ({rate:,.0f} rows/s)."
            )
