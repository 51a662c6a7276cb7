"""Import endpoints under /d/<district>/api/: upload an export (any format) and follow its run.

For an SIS's own scheduler: POST the files, get 202 with the run, poll the run until it is
finished. The run does exactly what a browser upload does (imports.services)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from districts.api import DistrictAPIMixin
from districts.models import Role

from . import selectors, services
from .messages import error_text, note_text
from .models import ImportFormat, ImportRun, QuarantinedRow, reason_words


class ImportErrorSerializer(serializers.Serializer):
    """Where a rejected file went wrong and what is wrong, in the reader's language; `code` and
    `params` are the same for every reader (blank code: an error stored before codes existed)."""

    file = serializers.CharField()
    row = serializers.IntegerField(allow_null=True, help_text="The file's line: 1 is the header.")
    column = serializers.CharField()
    code = serializers.CharField()
    params = serializers.DictField()
    message = serializers.CharField(help_text="In the reader's language (Accept-Language or their choice).")


class ImportRunSerializer(serializers.ModelSerializer):
    # Plain text, not an enum: another endpoint's "status" choices would claim the schema's name.
    status = serializers.CharField(
        read_only=True,
        help_text="queued, running, succeeded, rejected, failed, or confirm: stopped before writing anything "
        "because it would remove more than 50 rows that are also more than 5% of what it covers at a school "
        "(see removals); POST the export again with allow_removals=true to go ahead",
    )
    progress = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = [
            "id", "kind", "format", "status", "source", "original_name", "sha256", "size_bytes",
            "rows_read", "rows_written", "rows_quarantined", "duplicates", "added", "changed", "removed",
            "entity_counts", "errors", "notes", "created_at", "started_at", "finished_at", "progress",
            "removals", "allow_removals", "school_year", "undoes", "undone_by",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, run) -> dict:
        return selectors.import_progress(run=run)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_notes(self, run) -> list[str]:
        """What the import read or skipped, in the reader's language."""
        return [note_text(note) for note in run.notes]

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, run) -> list[dict]:
        return [
            {
                "file": error.get("file", ""),
                "row": error.get("row"),
                "column": error.get("column", ""),
                "code": error.get("code", ""),
                "params": error.get("params") or {},
                "message": error_text(error),
            }
            for error in run.errors
        ]


class ImportUploadSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ImportFormat.choices)
    mapping = serializers.CharField(
        required=False, allow_blank=True, help_text="Name of a saved column mapping (SIS CSV)."
    )
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False, max_length=20)

    def validate_files(self, files):
        from .forms import check_upload_size

        try:
            check_upload_size(files)
        except DjangoValidationError as error:
            raise ValidationError(error.messages) from error
        return files

    allow_removals = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Go ahead even when the import removes more than 50 rows that are also more than 5% of the rows "
        "it covers at a school. Without it such an import stops before writing anything (status confirm).",
    )

    school_year = serializers.RegexField(
        r"^\d{4}-\d{2}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="Read the rows against this earlier school year (e.g. 2024-25); blank: the current one.",
    )


class ImportRunListAPI(DistrictAPIMixin, generics.ListAPIView):
    """The district's imports, newest first; POST an export to start one (202, then poll it)."""

    required_roles = (Role.DISTRICT_ADMIN,)
    serializer_class = ImportRunSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportRun.objects.none()
        return selectors.import_run_list()

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportRunSerializer})
    def post(self, request, district):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        mapping = self._mapping(upload.validated_data)
        try:
            with transaction.atomic():
                run = services.import_run_create(
                    district=request.district,
                    format=upload.validated_data["format"],
                    uploads=upload.validated_data["files"],
                    mapping=mapping,
                    user=request.user,
                    source=ImportRun.Source.API,
                    allow_removals=upload.validated_data["allow_removals"],
                    school_year=upload.validated_data["school_year"],
                )
                services.import_run_enqueue(run=run)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
        run.refresh_from_db()
        return Response(ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _mapping(data):
        name = data.get("mapping") or ""
        if data["format"] != ImportFormat.SIS_CSV:
            return None
        mapping = (
            selectors.column_mapping_list().filter(format=ImportFormat.SIS_CSV, name=name).first() if name else None
        )
        if mapping is None:
            raise ValidationError({"mapping": [_("An SIS export needs the name of a saved column mapping.")]})
        return mapping


class ImportRunDetailAPI(DistrictAPIMixin, generics.RetrieveAPIView):
    """One import: its status, live progress while it runs, and its outcome."""

    required_roles = (Role.DISTRICT_ADMIN,)
    serializer_class = ImportRunSerializer

    def get_object(self):
        return selectors.import_run_get(run_id=self.kwargs["import_run_id"])


class HeldRowSerializer(serializers.ModelSerializer):
    """A held row with its reason as a code (for filters) and in words (for people)."""

    reason_words = serializers.SerializerMethodField(help_text="The reason in the reader's language.")
    message = serializers.SerializerMethodField(help_text="Why it is held, in the reader's language.")
    resolution_words = serializers.SerializerMethodField()

    class Meta:
        model = QuarantinedRow
        fields = [
            "id", "run", "entity", "file_name", "row_number", "field", "reason", "reason_words", "message",
            "message_params", "code",
            "school_sis_id", "raw", "resolved", "resolution", "resolution_words", "resolved_at", "discard_reason",
        ]  # fmt: skip
        read_only_fields = fields

    def get_reason_words(self, row) -> str:
        return reason_words(row.reason)

    def get_message(self, row) -> str:
        return row.message_text

    def get_resolution_words(self, row) -> str:
        return str(row.get_resolution_display()) if row.resolution else ""


class HeldRowListAPI(DistrictAPIMixin, generics.ListAPIView):
    """Rows imports could not place yet (?reason=, ?school= a school id in the files;
    ?all=1 includes rows already placed, superseded or discarded)."""

    required_roles = (Role.DISTRICT_ADMIN,)
    serializer_class = HeldRowSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("reason", str, description="A reason code, e.g. unknown_school"),
            OpenApiParameter("school", str, description="A school id as the files name it"),
            OpenApiParameter("all", bool, description="Include resolved rows"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return QuarantinedRow.objects.none()
        params = self.request.query_params
        return selectors.held_row_list(
            reason=params.get("reason", ""),
            school_sis_id=params.get("school", ""),
            open_only=params.get("all") not in {"1", "true"},
        )
