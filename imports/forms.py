"""Forms of the import pages: the upload, mapping a code, and a column mapping."""

from django import forms
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from districts.models import School
from students.models import AttendanceCategory

from .models import ColumnMapping, ImportFormat, QuarantineReason
from .parsing.dates import AUTO, DMY, FORMAT_LABELS, ISO, MDY
from .parsing.typing import NONBLANK
from .schema import BOOL, DATE, ENTITIES

MAX_FILES = 20


def check_upload_size(files) -> None:
    """The upload limit (settings.IMPORT_MAX_UPLOAD_BYTES), for the form, the API and the service."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    size = sum(upload.size or 0 for upload in files)
    if size > limit:
        raise forms.ValidationError(
            _(
                "The upload is %(size)s MB; imports take at most %(limit)s MB. Split the export into several "
                "uploads (attendance by month, for instance) or run it with manage.py import_sis."
            )
            % {"size": number_format(size / 1024**2, 1), "limit": number_format(limit / 1024**2, 0)}
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (a folder's CSVs); a zip or one file is the usual upload."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, (list, tuple)) else [data]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Choose at most %(count)s files, or zip them.") % {"count": MAX_FILES})
        return [single(item, initial) for item in files if item] or [single(None, initial)]


class UploadForm(forms.Form):
    format = forms.ChoiceField(choices=ImportFormat.choices, initial=ImportFormat.CSV, label=_("Format"))
    mapping = forms.ModelChoiceField(
        queryset=ColumnMapping.objects.none(),
        required=False,
        label=_("Column mapping"),
        help_text=_("For an SIS CSV export: the saved mapping of its headers."),
    )
    files = MultipleFileField(
        label=_("Files"),
        help_text=_("A zip of the export, one CSV/JSON/XML file, or several files of one export."),
    )
    school_year = forms.ChoiceField(
        choices=[("", "")],
        required=False,
        label=_("School year"),
        help_text=_("Rows dated outside it are held. Choose an earlier year to load last year's files."),
    )

    def __init__(self, *args, mappings=None, years: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if mappings is not None:
            self.fields["mapping"].queryset = mappings
        if years:
            current, *earlier = years
            choices = [("", _("%(year)s (this year)") % {"year": current}), *((year, year) for year in earlier)]
            self.fields["school_year"].choices = choices

    def clean_files(self):
        files = self.cleaned_data["files"]
        check_upload_size(files)
        return files

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("format") == ImportFormat.SIS_CSV and not cleaned.get("mapping"):
            self.add_error("mapping", _("An SIS export needs a column mapping: choose one, or create it first."))
        return cleaned


class CodeMapForm(forms.Form):
    code = forms.CharField(max_length=32, widget=forms.HiddenInput)
    category = forms.ChoiceField(
        choices=[("", _("Choose a category…")), *AttendanceCategory.choices], label=_("Category")
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))


class HeldFilterForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", _("Any reason")), *QuarantineReason.choices], required=False, label=_("Reason")
    )
    school = forms.CharField(max_length=64, required=False, label=_("School SIS id"))


class HeldDiscardForm(forms.Form):
    """Discard the open held rows the held-rows filter shows, saying why."""

    reason = forms.ChoiceField(choices=[("", ""), *QuarantineReason.choices], required=False, widget=forms.HiddenInput)
    school = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    note = forms.CharField(
        max_length=300,
        label=_("Why can these rows be discarded?"),
        help_text=_("Kept with the rows and counted on the import health page, e.g. “test file sent by mistake”."),
    )


class SchoolMapForm(forms.Form):
    """Rows held for an unknown school id belong to one of the district's schools."""

    sis_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), label=_("It is this school"), empty_label=_("Choose a school…")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.order_by("name")


class SchoolCreateForm(forms.Form):
    """Rows held for an unknown school id name a school the district has not imported yet."""

    sis_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, label=_("Or add it as a new school named"))


class MappingCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("e.g. “PowerSchool nightly”. Imports choose it by this name.")
    )


class SampleForm(forms.Form):
    entity = forms.ChoiceField(
        choices=[(name, entity.label) for name, entity in ENTITIES.items()], label=_("This file holds")
    )
    sample = forms.FileField(label=_("Sample export file (CSV)"), help_text=_("Only its header row is read."))


DATE_CHOICES = [(AUTO, _("Detect")), (ISO, FORMAT_LABELS[ISO]), (MDY, FORMAT_LABELS[MDY]), (DMY, FORMAT_LABELS[DMY])]
BOOL_CHOICES = [("", _("Y/N, 1/0 or true/false")), (NONBLANK, _("Any value means yes"))]


class ColumnMappingForm(forms.Form):
    """One select per canonical field of each entity the admin gave headers for."""

    def __init__(self, *args, mapping: ColumnMapping, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = []
        for name, entity in ENTITIES.items():
            headers = mapping.headers.get(name) or []
            if not headers:
                continue
            choices = [("", _("— not in this export —")), *((header, header) for header in headers)]
            section = {"entity": entity, "fields": []}
            for field in entity.fields:
                key = f"{name}__{field.name}"
                self.fields[key] = forms.ChoiceField(
                    choices=choices, required=False,
                    label=_("%(field)s (required)") % {"field": field.title} if field.required else field.title,
                    initial=mapping.columns.get(name, {}).get(field.name, ""),
                )  # fmt: skip
                entry = {"column": self[key]}
                option = self._option(name, field, mapping)
                if option:
                    entry["option"] = self[option]
                section["fields"].append(entry)
            self.sections.append(section)

    def _option(self, entity: str, field, mapping: ColumnMapping) -> str:
        if field.kind not in (DATE, BOOL):
            return ""
        key = f"{entity}__{field.name}__format"
        self.fields[key] = forms.ChoiceField(
            choices=DATE_CHOICES if field.kind == DATE else BOOL_CHOICES,
            required=False,
            label=_("%(field)s: how to read it") % {"field": field.title},
            initial=mapping.formats.get(entity, {}).get(field.name, AUTO if field.kind == DATE else ""),
        )
        return key

    def clean(self):
        cleaned = super().clean()
        for section in self.sections:
            entity = section["entity"]
            chosen = {name: cleaned.get(f"{entity.name}__{name}") for name in entity.columns}
            if any(chosen.values()):
                for name in entity.required:
                    if not chosen.get(name):
                        self.add_error(f"{entity.name}__{name}", _("Imports need this field; choose its header."))
        return cleaned

    def mapping_values(self) -> tuple[dict, dict]:
        columns, formats = {}, {}
        for section in self.sections:
            entity = section["entity"]
            picked = {
                name: self.cleaned_data[f"{entity.name}__{name}"]
                for name in entity.columns
                if self.cleaned_data.get(f"{entity.name}__{name}")
            }
            if picked:
                columns[entity.name] = picked
            chosen = {
                name: self.cleaned_data[f"{entity.name}__{name}__format"]
                for name in entity.columns
                if self.cleaned_data.get(f"{entity.name}__{name}__format") not in (None, "", AUTO)
            }
            if chosen:
                formats[entity.name] = chosen
        return columns, formats
