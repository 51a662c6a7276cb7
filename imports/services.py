"""Writes for imports: keep the uploaded file, run it, replay held rows, save column mappings
and map attendance codes. The browser, the API, the Celery task and `manage.py import_sis` all
come through here, so every path behaves the same."""

import dataclasses
import datetime
import hashlib
import logging
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import AuditEvent, District, School
from districts.runs import enqueue_or_fail, stuck
from districts.services import audit_record
from districts.tenancy import district_cache_key, district_storage_path
from students.models import AttendanceCategory, AttendanceCode

from .messages import error_dict, message_text, note_dict, rejected_text, said
from .models import ColumnMapping, ImportFormat, ImportRun, QuarantinedRow, QuarantineReason, SchoolAlias
from .parsing import ImportRejected, parse_source
from .pipeline import EntityOutcome, Outcome, RemovalsNeedConfirmation, import_parsed, replay_held
from .undo import UndoRefused, undo_blockers, undo_run
from .years import school_year_window

logger = logging.getLogger(__name__)
PROGRESS_SECONDS = 24 * 60 * 60


# --- starting an import -------------------------------------------------------------------


def import_run_create(
    *,
    district: District,
    format: str,
    path: str | Path | None = None,
    uploads: list | None = None,
    mapping: ColumnMapping | None = None,
    user=None,
    source: str = ImportRun.Source.UPLOAD,
    allow_removals: bool = False,
    school_year: str = "",
) -> ImportRun:
    """Record the import and keep its file under the district's storage, with its SHA-256.

    `path` is a file, folder or zip on this machine (the command line); `uploads` are uploaded
    files (one file or zip kept as is, several zipped together). `allow_removals` lets the
    import remove more than the removal guard lets through unasked (pipeline.GUARD_ROWS);
    `school_year` ("2024-25") reads its rows against an earlier year than the current one."""
    if format not in ImportFormat.values:
        raise ValidationError({"format": _("Unknown format %(format)s.") % {"format": repr(format)}})
    if format == ImportFormat.SIS_CSV and mapping is None:
        raise ValidationError({"mapping": _("An SIS export needs a column mapping.")})
    if mapping is not None and mapping.district_id != district.pk:
        raise ValidationError({"mapping": _("That column mapping belongs to another district.")})
    if school_year:
        try:
            school_year_window(district, school_year)
        except ValueError:
            raise ValidationError(
                {"school_year": _("Give the school year as its first and last years, like 2024-25.")}
            ) from None
    run = ImportRun.objects.create(
        district=district,
        format=format,
        mapping=mapping,
        created_by=user if getattr(user, "pk", None) else None,
        source=source,
        allow_removals=allow_removals,
        school_year=school_year,
    )
    with _staged(path=path, uploads=uploads) as (staged, name):
        digest, size = _sha256(staged)
        with open(staged, "rb") as handle:
            stored = default_storage.save(
                district_storage_path(district, "imports", str(run.pk), name), File(handle, name=name)
            )
    run.original_name, run.stored_path, run.sha256, run.size_bytes = name, stored, digest, size
    run.save(update_fields=["original_name", "stored_path", "sha256", "size_bytes"])
    return run


def import_run_enqueue(*, run: ImportRun) -> None:
    """Hand the run to Celery once the transaction that created it has committed. A broker
    that refuses it fails the run at once, with the retry button on its page."""
    from .tasks import import_run_execute

    def failed(error: Exception) -> None:
        message = said("queue_failed", detail=str(error))
        ImportRun._base_manager.filter(pk=run.pk, status=ImportRun.Status.QUEUED).update(  # any scope: by pk
            status=ImportRun.Status.FAILED, finished_at=timezone.now(),
            errors=[error_dict(run.original_name, None, "", message)],
        )  # fmt: skip

    enqueue_or_fail(lambda: import_run_execute.delay(run.district_id, run.pk), on_failure=failed)


def import_run_retry(*, run: ImportRun) -> ImportRun:
    """A failed run (not a rejected file: that needs a new file) runs again from its stored file."""
    if run.status != ImportRun.Status.FAILED:
        return run
    run.status, run.stage, run.errors, run.started_at, run.finished_at = ImportRun.Status.QUEUED, "", [], None, None
    run.save(update_fields=["status", "stage", "errors", "started_at", "finished_at"])
    import_run_enqueue(run=run)
    return run


IMPORT_TIME_LIMIT = 60 * 60  # hard limit of imports.tasks.import_run_execute, seconds


def import_runs_fail_stuck() -> int:
    """Runs no worker took, or whose worker died with them: failed (beat, every few minutes)."""
    runs = list(stuck(ImportRun.objects.all(), running_limit=datetime.timedelta(seconds=IMPORT_TIME_LIMIT)))
    for run in runs:
        _finish(
            run, ImportRun.Status.FAILED, errors=[error_dict(run.original_name, None, "", said("stopped_unfinished"))]
        )
    return len(runs)


def import_run_process(*, run: ImportRun) -> ImportRun:
    """Run an import or a replay now (the Celery task and the command line call this)."""
    if run.is_finished:
        return run  # a redelivered task finds its work done
    run.status, run.started_at, run.stage = ImportRun.Status.RUNNING, timezone.now(), "starting"
    run.save(update_fields=["status", "started_at", "stage"])
    progress = _progress_recorder(run)
    try:
        if run.kind == ImportRun.Kind.REPLAY:
            outcome = replay_held(run=run, rows=list(_held_rows_open()), progress=progress)
        elif run.kind == ImportRun.Kind.UNDO:
            outcome = _undo_outcome(undo_run(undo=run, progress=progress))
        else:
            with _stored_file(run) as path:
                parsed = parse_source(path, format=run.format, **_mapping_args(run))
                run.notes = [note_dict(note) for note in parsed.notes]
                outcome = import_parsed(
                    run=run,
                    parsed=parsed,
                    install_default_codes=run.format in {ImportFormat.CSV, ImportFormat.SIS_CSV},
                    progress=progress,
                )
    except ImportRejected as rejected:
        _finish(run, ImportRun.Status.REJECTED, errors=[error.as_dict() for error in rejected.errors])
    except RemovalsNeedConfirmation as stopped:
        run.removals = stopped.removals
        _finish(run, ImportRun.Status.CONFIRM)
    except UndoRefused as refused:
        errors = [error_dict("", None, "", reason) for reason in refused.reasons]
        _finish(run, ImportRun.Status.REJECTED, errors=errors)
    except Exception:
        logger.exception("Import %s of district %s failed", run.pk, run.district_id)
        _finish(
            run,
            ImportRun.Status.FAILED,
            errors=[error_dict(run.original_name, None, "", said("unexpected_error"))],
        )
        raise
    else:
        _finish(run, ImportRun.Status.SUCCEEDED, outcome=outcome)
    return run


def import_run_confirm(*, run: ImportRun, user=None) -> ImportRun:
    """Run an import the removal guard stopped again, this time allowing its removals. The
    caller enqueues it (or processes it, on the command line)."""
    if run.status != ImportRun.Status.CONFIRM:
        raise ValidationError(_("This import is not waiting for a confirmation."))
    run.allow_removals, run.status = True, ImportRun.Status.QUEUED
    run.errors, run.started_at, run.finished_at = [], None, None
    run.save(update_fields=["allow_removals", "status", "errors", "started_at", "finished_at"])
    audit_record(
        district=run.district,
        user=user,
        action=AuditEvent.Action.CHANGE,
        object_type="import_run",
        object_id=run.pk,
        object_label=f"Removals of import #{run.pk} confirmed",
        detail={"removals": run.removals},
    )
    return run


def import_run_undo_create(*, run: ImportRun, user=None, request=None) -> ImportRun:
    """Ask for an import to be undone: refused at once, with the reasons, when something came
    after it (imports.undo); otherwise an undo run is queued. Audit-logged."""
    blockers = undo_blockers(run)
    if blockers:
        raise ValidationError([message_text(blocker) for blocker in blockers])  # in the asker's language
    undo = ImportRun.objects.create(
        district=run.district,
        kind=ImportRun.Kind.UNDO,
        format="",
        undoes=run,
        original_name=run.original_name,
        created_by=user if getattr(user, "pk", None) else None,
        source=ImportRun.Source.UPLOAD if request is not None else ImportRun.Source.COMMAND,
    )
    audit_record(
        district=run.district,
        user=user,
        action=AuditEvent.Action.CHANGE,
        object_type="import_run",
        object_id=run.pk,
        object_label=f"Undo of import #{run.pk} (run #{undo.pk})",
        request=request,
        detail={"undo_run": undo.pk, "entity_counts": run.entity_counts},
    )
    return undo


def quarantine_replay_create(*, district: District, user=None, source: str = ImportRun.Source.UPLOAD) -> ImportRun:
    return ImportRun.objects.create(
        district=district,
        kind=ImportRun.Kind.REPLAY,
        format="",
        created_by=user if getattr(user, "pk", None) else None,
        source=source,
    )


# --- held rows: an unknown school, rows nobody needs -------------------------------------


def _unknown_school_check(sis_id: str) -> str:
    sis_id = (sis_id or "").strip()
    if not sis_id:
        raise ValidationError({"sis_id": _("Say which school id in the files you mean.")})
    if not QuarantinedRow.objects.filter(
        resolved=False, reason=QuarantineReason.UNKNOWN_SCHOOL, school_sis_id=sis_id
    ).exists():
        raise ValidationError({"sis_id": _("No held row names the school id %(sis_id)s.") % {"sis_id": sis_id}})
    if School.objects.filter(sis_id=sis_id).exists() or SchoolAlias.objects.filter(sis_id=sis_id).exists():
        raise ValidationError(
            {"sis_id": _("The school id %(sis_id)s is already known: replay the held rows.") % {"sis_id": sis_id}}
        )
    return sis_id


def unknown_school_map(*, district: District, sis_id: str, school: School, user=None, request=None) -> SchoolAlias:
    """Rows naming `sis_id` belong to `school`: kept as an alias, so this file's held rows (after
    a replay) and the next file's rows are placed there. Audit-logged."""
    sis_id = _unknown_school_check(sis_id)
    if school.district_id != district.pk:
        raise ValidationError({"school": _("Choose one of the district's schools.")})
    alias = SchoolAlias.objects.create(
        district=district, sis_id=sis_id, school=school, created_by=user if getattr(user, "pk", None) else None
    )
    audit_record(
        district=district,
        user=user,
        action=AuditEvent.Action.CHANGE,
        object_type="school_alias",
        object_id=alias.pk,
        object_label=f"School id {sis_id} in import files means {school.name}",
        request=request,
        detail={"sis_id": sis_id, "school": school.pk},
    )
    return alias


def unknown_school_create(*, district: District, sis_id: str, name: str, user=None, request=None) -> School:
    """Add the school the held rows name, with the name the admin gives it (the rows carry only
    its id). A later schools file with that id updates it. Audit-logged."""
    sis_id = _unknown_school_check(sis_id)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the new school its name.")})
    school = School(district=district, sis_id=sis_id, name=name)
    school.full_clean()
    school.save()
    audit_record(
        district=district,
        user=user,
        action=AuditEvent.Action.CHANGE,
        object_type="school",
        object_id=school.pk,
        object_label=f"School {name} ({sis_id}) added from held rows",
        request=request,
        detail={"sis_id": sis_id},
    )
    return school


def held_rows_discard(*, district: District, rows, note: str, user=None, request=None) -> int:
    """Set aside open held rows nobody needs placed (a closed building's leftovers, a test file):
    they stay stored, marked discarded with who did it and why, and are counted on the import
    health page; nothing disappears silently. Returns how many were discarded. Audit-logged."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why these rows can be discarded.")})
    rows = rows.filter(resolved=False)
    by_reason = dict(rows.order_by().values_list("reason").annotate(n=Count("id")))
    count = rows.update(
        resolved=True,
        resolution=QuarantinedRow.Resolution.DISCARDED,
        resolved_at=timezone.now(),
        discarded_by=user if getattr(user, "pk", None) else None,
        discard_reason=note[:300],
    )
    if count:
        audit_record(
            district=district,
            user=user,
            action=AuditEvent.Action.CHANGE,
            object_type="held_rows",
            object_label=f"{count} held rows discarded: {note}",
            request=request,
            detail={"discarded": count, "by_reason": by_reason, "note": note[:300]},
        )
    return count


def _held_rows_open():
    # A conflicting duplicate needs a person to say which row is right: a corrected file does.
    return (
        QuarantinedRow.objects.filter(resolved=False)
        .select_related("run")
        .exclude(reason=QuarantineReason.CONFLICTING_DUPLICATE)
        .order_by("run_id", "id")
    )


def _mapping_args(run: ImportRun) -> dict:
    if run.format != ImportFormat.SIS_CSV or run.mapping is None:
        return {}
    return {"columns": run.mapping.columns, "formats": run.mapping.formats}


def _undo_outcome(counts) -> Outcome:
    """An undo's figures in an import's terms: the rows it deleted (the import's additions) are
    removed, the rows it brought back are added, the rows it restored are changed."""
    outcome = Outcome()
    for entity, done in counts.items():
        outcome.entities[entity] = EntityOutcome(added=done.returned, changed=done.restored, removed=done.deleted)
    return outcome


def _finish(run: ImportRun, status: str, *, errors: list | None = None, outcome: Outcome | None = None) -> None:
    run.status, run.finished_at, run.stage = status, timezone.now(), ""
    run.errors = errors or []
    if outcome is not None:
        run.journaled = run.kind != ImportRun.Kind.UNDO
        run.removals = outcome.removals
        run.entity_counts = {name: dataclasses.asdict(result) for name, result in outcome.entities.items()}
        run.added, run.changed, run.removed = (outcome.total(name) for name in ("added", "changed", "removed"))
        run.rows_quarantined, run.duplicates = outcome.total("quarantined"), outcome.total("duplicates")
        run.rows_written = run.added + run.changed
        run.rows_read = outcome.total("read")
    run.save()
    cache.delete(progress_key(run))


# --- progress -----------------------------------------------------------------------------


def progress_key(run: ImportRun) -> str:
    return district_cache_key(run.district_id, "import-progress", run.pk)


def _progress_recorder(run: ImportRun):
    """Progress goes to the cache: the import's own transaction hides its writes from the
    progress page until it commits, the cache does not."""
    state = {"stage": "", "rows_read": 0, "rows_written": 0, "rows_quarantined": 0, "step": 0, "steps": 0}

    def record(**changes) -> None:
        state.update(changes)
        cache.set(progress_key(run), dict(state), PROGRESS_SECONDS)

    return record


# --- files --------------------------------------------------------------------------------


@contextmanager
def _staged(*, path=None, uploads=None):
    """A single local file to store, and the name to keep it under."""
    with tempfile.TemporaryDirectory(prefix="attendnc-import-") as folder:
        if path is not None:
            path = Path(path)
            if path.is_dir():
                target = Path(folder) / f"{path.name or 'import'}.zip"
                _zip_folder(path, target)
                yield target, target.name
            else:
                if not path.exists():
                    raise ValidationError({"path": f"{path} does not exist."})
                yield path, path.name
            return
        if not uploads:
            raise ValidationError({"file": _("Choose a file or a zip to upload.")})
        from .forms import check_upload_size

        check_upload_size(uploads)
        if len(uploads) == 1:
            target = Path(folder) / "upload"
            with open(target, "wb") as out:
                for chunk in uploads[0].chunks():
                    out.write(chunk)
            yield target, _safe_name(uploads[0].name)
            return
        target = Path(folder) / "upload.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for upload in uploads:
                with archive.open(_safe_name(upload.name), "w") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
        yield target, "upload.zip"


def _zip_folder(folder: Path, target: Path) -> None:
    # Stored, not deflated: the copy is for the record, and a district's year of CSVs is large.
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for item in sorted(folder.rglob("*")):
            if item.is_file():
                archive.write(item, item.relative_to(folder).as_posix())


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in Path(name or "upload").name)
    return cleaned.strip("._") or "upload"


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def _stored_file(run: ImportRun):
    """A local path to the stored file (a temporary copy when storage is not on this disk)."""
    try:
        yield default_storage.path(run.stored_path)
        return
    except NotImplementedError:
        pass
    with tempfile.TemporaryDirectory(prefix="attendnc-import-") as folder:
        local = Path(folder) / Path(run.stored_path).name
        with default_storage.open(run.stored_path, "rb") as source, open(local, "wb") as out:
            shutil.copyfileobj(source, out)
        yield local


# --- mappings and codes -------------------------------------------------------------------


def column_mapping_save(
    *, district: District, name: str, columns: dict, formats: dict, headers: dict, mapping: ColumnMapping | None = None
) -> ColumnMapping:
    mapping = mapping or ColumnMapping(district=district, format=ImportFormat.SIS_CSV)
    if mapping.district_id != district.pk:
        raise ValidationError(_("That column mapping belongs to another district."))
    mapping.name, mapping.columns, mapping.formats = name.strip(), columns, formats
    mapping.headers = {**mapping.headers, **headers}
    mapping.full_clean()
    mapping.save()
    return mapping


def attendance_code_map(*, district: District, code: str, category: str, description: str = "") -> AttendanceCode:
    """Give an unknown code its meaning. A mapped code is never re-mapped here: its stored
    attendance was counted under the old meaning."""
    code = code.strip()
    if category not in AttendanceCategory.values:
        raise ValidationError({"category": _("Choose one of the attendance categories.")})
    if AttendanceCode.objects.filter(code=code).exists():
        raise ValidationError({"code": _("Code %(code)s is already mapped.") % {"code": repr(code)}})
    mapped = AttendanceCode(district=district, code=code, category=category, description=description.strip())
    mapped.full_clean()
    mapped.save()
    return mapped


def column_mapping_add_sample(*, mapping: ColumnMapping, entity: str, upload) -> list[str]:
    """Remember the headers of a sample export for one entity, and pre-select the headers that
    already carry a canonical field's name, so the admin only maps the rest."""
    from .parsing.csvread import header_of
    from .parsing.sources import SourceFile
    from .schema import ENTITIES

    if entity not in ENTITIES:
        raise ValidationError({"entity": _("Choose what the file holds.")})
    with tempfile.TemporaryDirectory(prefix="attendnc-sample-") as folder:
        local = Path(folder) / "sample.csv"
        with open(local, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            headers = [
                name
                for name in header_of(SourceFile(_safe_name(upload.name), "sample.csv", lambda: open(local, "rb")))
                if name
            ]
        except ImportRejected as rejected:
            raise ValidationError({"sample": rejected_text(rejected)}) from rejected
    known = mapping.columns.get(entity, {})
    for field in ENTITIES[entity].fields:
        if field.name in known:
            continue
        match = next((h for h in headers if h.lower() in {field.name, field.title.lower()}), None)
        if match:
            known[field.name] = match
    mapping.columns = {**mapping.columns, entity: known} if known else mapping.columns
    mapping.headers = {**mapping.headers, entity: headers}
    mapping.save(update_fields=["columns", "headers", "updated_at"])
    return headers
