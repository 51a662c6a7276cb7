"""What an import did, how a district's SIS export maps onto our fields, and the rows it held.

An import never loses a row: what it cannot place is kept as a QuarantinedRow (file, row, field,
reason and the row itself) until the district fixes the cause and replays it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from districts.models import District


class ImportFormat(models.TextChoices):
    CSV = "csv", _("Canonical CSV")
    SIS_CSV = "sis_csv", _("SIS CSV export (column mapping)")
    ONEROSTER = "oneroster", _("OneRoster 1.1 / 1.2 CSV")
    EDFI_JSON = "edfi-json", _("Ed-Fi JSON (API resources)")
    EDFI_XML = "edfi-xml", _("Ed-Fi XML (interchange)")


class ColumnMapping(models.Model):
    """How one district's SIS export names our canonical fields, saved once and reused by name.

    `columns` is {entity: {canonical field: export header}}; `formats` is {entity: {field:
    "ymd"|"mdy"|"dmy"|"nonblank"…}} for the columns whose reading the admin had to choose;
    `headers` remembers the export's headers per entity so the page can offer them again.
    """

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=16, choices=ImportFormat.choices, default=ImportFormat.SIS_CSV)
    name = models.CharField(max_length=100)
    columns = models.JSONField(default=dict, blank=True)
    formats = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["district", "format", "name"], name="columnmapping_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    """One import (or replay of held rows): its file, progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Imported")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")
        # Stopped before writing: it would remove more than the guard lets through unasked.
        CONFIRM = "confirm", _("Waiting for confirmation")

    class Kind(models.TextChoices):
        IMPORT = "import", pgettext_lazy("what a run did", "Import")
        REPLAY = "replay", _("Replay of held rows")
        UNDO = "undo", _("Undo of an import")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Browser upload")
        COMMAND = "command", _("Command line")
        API = "api", _("API")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.IMPORT)
    format = models.CharField(max_length=16, choices=ImportFormat.choices, default=ImportFormat.CSV, blank=True)
    mapping = models.ForeignKey(ColumnMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    original_name = models.CharField(max_length=255, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # What a running import is doing, as a code read in the viewer's language (messages.stage_text).
    stage = models.CharField(max_length=100, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    # {entity: {"read": n, "added": n, "changed": n, "removed": n, "quarantined": n, "duplicates": n}}
    entity_counts = models.JSONField(default=dict, blank=True)
    # [{"file": …, "row": n, "column": …, "code": …, "params": {…}}] when the file was rejected or
    # the run failed: imports.messages renders the code in the reader's language. Errors stored
    # before codes existed have a "message" in English instead, shown as written.
    errors = models.JSONField(default=list, blank=True)
    # What it read or skipped: [{"code": …, "params": {…}}] (imports.messages), or English prose
    # stored before codes existed.
    notes = models.JSONField(default=list, blank=True)
    # The removal guard: [{"entity", "school_id", "school", "removed", "covered", "over"}] per
    # entity and school, what the import would remove (status CONFIRM) or removed once allowed.
    removals = models.JSONField(default=list, blank=True)
    allow_removals = models.BooleanField(default=False)
    # The school year its rows are read against ("2024-25"); blank: the district's current one.
    school_year = models.CharField(max_length=7, blank=True)
    # True once its added, changed and removed rows are kept (ImportChange): it can be undone.
    journaled = models.BooleanField(default=False)
    # What the import read and left behind, hashed (imports.unchanged): {"entities": {entity:
    # hash of its files and reading}, "tables": {table: hash of the district's stored rows}}, so
    # that the same files imported again are found unchanged without being compared row by row.
    fingerprints = models.JSONField(default=dict, blank=True)
    undoes = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    undone_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["district", "status"], name="importrun_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.REJECTED, self.Status.FAILED, self.Status.CONFIRM}

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class QuarantineReason(models.TextChoices):
    """Why a row is held. The code is for machines (API, CSV, filters); the label is what people
    read, in their language, on every page, CSV and API answer that names a reason."""

    UNKNOWN_CODE = "unknown_code", _("Unknown attendance code")
    UNKNOWN_STUDENT = "unknown_student", _("Unknown student")
    UNKNOWN_SCHOOL = "unknown_school", _("Unknown school")
    OUTSIDE_ENROLLMENT = "outside_enrollment", _("Outside any enrollment")
    NON_INSTRUCTIONAL_DAY = "non_instructional_day", _("Not an instructional day")
    NO_CALENDAR_DAY = "no_calendar_day", _("Date missing from the calendar")
    PARTIAL_WITHOUT_MINUTES = "partial_without_minutes", _("Partial day without minutes")
    CONFLICTING_DUPLICATE = "conflicting_duplicate", _("Same event twice with different minutes")
    FUTURE_DATE = "future_date", _("Dated in the future")
    OUTSIDE_SCHOOL_YEAR = "outside_school_year", _("Outside the school year")
    DUPLICATE = "duplicate", _("Exact duplicate (collapsed)")


def reason_words(code: str) -> str:
    """A held row's reason in words (a code we no longer know is shown as it is)."""
    try:
        return str(QuarantineReason(code).label)
    except ValueError:
        return code


class QuarantinedRow(models.Model):
    """A row an import could not place, kept whole with where it came from and why.

    `values` holds the row in canonical fields so a replay needs no re-upload; `raw` is the row
    as the file had it, for the admin to recognise. Exact duplicates are recorded already
    resolved: they are reported, but there is nothing to fix.
    """

    class Resolution(models.TextChoices):
        REPLAYED = "replayed", _("Placed by a replay")
        SUPERSEDED = "superseded", _("Superseded by a later import")
        COLLAPSED = "collapsed", _("Duplicate collapsed into its twin")
        DISCARDED = "discarded", _("Discarded by an admin")
        UNDONE = "undone", _("Its import was undone")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="quarantined_rows")
    entity = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255)
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=32, choices=QuarantineReason.choices)
    # Why it is held, as the figures its reason quotes (imports.messages renders them in the
    # reader's language). Null on rows held before codes existed: those keep their English
    # sentence in `message`, shown as written.
    message_params = models.JSONField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    # Denormalised so the code map and health pages can group without reading JSON.
    code = models.CharField(max_length=32, blank=True)
    school_sis_id = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=40, db_index=True)
    values = models.JSONField(default=dict)
    raw = models.JSONField(default=dict)
    resolved = models.BooleanField(default=False)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The run that resolved it (a replay placing it, a later import superseding it, an undo), so
    # an undo of that run can open it again.
    resolved_by_run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    discarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    discard_reason = models.CharField(max_length=300, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["run", "file_name", "row_number"]
        indexes = [
            models.Index(fields=["district", "resolved", "reason"], name="quarantine_open_idx"),
            models.Index(fields=["district", "code"], condition=Q(resolved=False), name="quarantine_open_code_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} row {self.row_number}: {self.get_reason_display()}"

    @property
    def message_text(self) -> str:
        """Why it is held, in the active language (a row stored as prose: as written)."""
        if self.message_params is None:
            return self.message
        from .messages import held_text

        return held_text(self.reason, self.message_params)


class SchoolAlias(models.Model):
    """Another id the district's files use for one of its schools (an SIS's old building code, a
    typo'd export): rows naming it are placed at the school. Made when an admin maps the school
    of held rows, so the next file with that id is placed too."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    sis_id = models.CharField("SIS id in the files", max_length=64)
    school = models.ForeignKey("districts.School", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["sis_id"]
        constraints = [models.UniqueConstraint(fields=["district", "sis_id"], name="schoolalias_unique_sis_id")]

    def __str__(self) -> str:
        return f"{self.sis_id} → {self.school_id}"


class ImportChange(models.Model):
    """What an import did to one table, kept so that it can be undone row for row: the ids of
    the rows it added (many per entry), and each row it changed or removed as it was before."""

    class Action(models.TextChoices):
        ADDED = "added", _("Added")
        CHANGED = "changed", _("Changed")
        REMOVED = "removed", _("Removed")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=64)  # the table's model, as "students.attendancerecord"
    action = models.CharField(max_length=8, choices=Action.choices)
    row_id = models.BigIntegerField(null=True, blank=True)  # changed, removed
    row_ids = models.JSONField(null=True, blank=True)  # added
    # Added, when the run made the district's partition of the table (students.partitions): every
    # row of the district there with first_id <= id <= last_id, row_count of them. Listing the ids
    # of a 200,000-student district's first attendance took 2.6 s and 27 MB of JSON.
    first_id = models.BigIntegerField(null=True, blank=True)
    last_id = models.BigIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(null=True, blank=True)  # changed, removed: every column as it was

    objects = ScopedManager(district="district")

    class Meta:
        indexes = [models.Index(fields=["run", "model", "action"], name="importchange_run_idx")]

    def __str__(self) -> str:
        return f"{self.model} {self.action} in run {self.run_id}"
