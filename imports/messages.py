"""What an import tells the admin, stored as a code and its figures, rendered in the reader's language.

A rejected file's errors (ImportRun.errors) and a held row's explanation (QuarantinedRow) are read
days later, by whoever opens the import page, in English or Spanish: so they are kept as a code
and the values it quotes (the file's own text, a row's ISO date, a count), never as a sentence.
Where the problem is (file, row, column) is stored beside them and shown in every language.

Rows and errors stored before codes existed carry an English sentence only: they are shown as
written (`error_text`, `QuarantinedRow.message_text`).
"""

import datetime
import re

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext, pgettext_lazy

from .models import QuarantineReason as Reason


class ImportMessage(str):
    """A message passed where text is expected (an exception's text, a log line, the command
    line): reads as its English sentence, and carries the code and figures that are stored."""

    code: str
    params: dict


def said(code: str, **params) -> ImportMessage:
    """The message `code` quoting `params` (JSON values: text, numbers, ISO dates). A control
    character in the file's text is kept visible as an escape (\\x00): PostgreSQL's JSON cannot
    hold a NUL, and the admin must see where it is."""
    params = {name: _visible(value) if isinstance(value, str) else value for name, value in params.items()}
    with translation.override("en"):
        message = ImportMessage(render(code, params))
    message.code, message.params = code, params
    return message


def render(code: str, params: dict) -> str:
    """The message in the active language; a code this version does not know shows its figures."""
    text = _TEXTS.get(code)
    if text is None:
        return str(params.get("text", "")) or code
    return text(params)


def error_text(error: dict) -> str:
    """A stored error (ImportRun.errors) in the active language; one stored as prose, as written."""
    if error.get("code"):
        return render(error["code"], error.get("params") or {})
    return str(error.get("message", ""))


def error_dict(file: str, row: int | None, column: str, message) -> dict:
    """An error as ImportRun.errors keeps it: where, then the code and figures (prose that has
    no code is kept as written)."""
    where = {"file": file, "row": row, "column": column}
    if isinstance(message, ImportMessage):
        return where | {"code": message.code, "params": message.params}
    return where | {"code": "", "params": {}, "message": str(message)}


def error_line(error: dict) -> str:
    """A stored error as one line in the active language: where it is, then what is wrong."""
    where = [error.get("file") or ""]
    if error.get("row"):
        where.append(_("row %(row)s") % {"row": error["row"]})
    if error.get("column"):
        where.append(_("column “%(column)s”") % {"column": error["column"]})
    return _("%(where)s: %(message)s") % {
        "where": ", ".join(part for part in where if part),
        "message": error_text(error),
    }


def rejected_text(rejected) -> str:
    """An ImportRejected's errors in the active language, one after the other."""
    return "; ".join(error_line(error.as_dict()) for error in rejected.errors)


def note_dict(note) -> dict | str:
    """A note on what an import read or skipped, as ImportRun.notes keeps it (a code and its
    figures; prose without a code as written)."""
    if isinstance(note, ImportMessage):
        return {"code": note.code, "params": note.params}
    return str(note)


def note_text(note) -> str:
    """A stored note in the active language (one stored as prose before codes, as written)."""
    if isinstance(note, dict):
        return render(note.get("code", ""), note.get("params") or {})
    return str(note)


_ENTITY_WORDS = {
    "schools": pgettext_lazy("kind of imported data", "Schools"),
    "students": pgettext_lazy("kind of imported data", "Students"),
    "enrollments": pgettext_lazy("kind of imported data", "Enrollments"),
    "calendar": pgettext_lazy("kind of imported data", "Calendar"),
    "guardians": pgettext_lazy("kind of imported data", "Guardians"),
    "prior_year": pgettext_lazy("kind of imported data", "Prior years"),
    "attendance": pgettext_lazy("kind of imported data", "Attendance"),
    "codes": pgettext_lazy("kind of imported data", "Attendance codes"),
}


def entity_words(name: str) -> str:
    """What an import's entity holds, in the active language (one we no longer know: its name)."""
    return str(_ENTITY_WORDS.get(name, name.replace("_", " ").capitalize()))


_STAGES = {
    "starting": pgettext_lazy("import progress", "Starting"),
    "reading": pgettext_lazy("import progress", "Reading files"),
    "retrying": pgettext_lazy("import progress", "Waiting to retry after a database error"),
}


def stage_text(stage: str) -> str:
    """What a running import is doing, in the viewer's language: the worker stores a code
    (`loading:attendance`) because the page polling it may be read in another language. A stage
    stored as English before codes existed is shown as written."""
    action, _sep, entity = stage.partition(":")
    if action == "loading" and entity:
        return _("Loading: %(data)s") % {"data": entity_words(entity)}
    if action == "replaying" and entity:
        return _("Replaying: %(data)s") % {"data": entity_words(entity)}
    if action == "undoing" and entity:
        return _("Undoing: %(data)s") % {"data": entity_words(entity)}
    return str(_STAGES.get(stage, stage))


def message_text(message) -> str:
    """A message `said` now (an undo's refusal on the page) in the active language."""
    if isinstance(message, ImportMessage):
        return render(message.code, message.params)
    return str(message)


# The rows an undo names: the tables an import writes, and the rows elsewhere that may refer to them.
_ROWS = {
    "students.attendancerecord": lambda n: npgettext(
        "rows an undo names", "%(count)s attendance record", "%(count)s attendance records", n
    ),
    "students.prioryearsummary": lambda n: npgettext(
        "rows an undo names", "%(count)s prior-year summary", "%(count)s prior-year summaries", n
    ),
    "students.guardian": lambda n: npgettext("rows an undo names", "%(count)s guardian", "%(count)s guardians", n),
    "students.calendarday": lambda n: npgettext(
        "rows an undo names", "%(count)s calendar day", "%(count)s calendar days", n
    ),
    "students.enrollment": lambda n: npgettext(
        "rows an undo names", "%(count)s enrollment", "%(count)s enrollments", n
    ),
    "students.student": lambda n: npgettext("rows an undo names", "%(count)s student", "%(count)s students", n),
    "districts.school": lambda n: npgettext("rows an undo names", "%(count)s school", "%(count)s schools", n),
    "students.attendancecode": lambda n: npgettext(
        "rows an undo names", "%(count)s attendance code", "%(count)s attendance codes", n
    ),
    "students.mentorassignment": lambda n: npgettext(
        "rows an undo names", "%(count)s mentor assignment", "%(count)s mentor assignments", n
    ),
    "tiers.flag": lambda n: npgettext("rows an undo names", "%(count)s flag", "%(count)s flags", n),
    "tiers.studentmetrics": lambda n: npgettext(
        "rows an undo names", "%(count)s row of nightly figures", "%(count)s rows of nightly figures", n
    ),
    "outreach.huddle": lambda n: npgettext("rows an undo names", "%(count)s huddle", "%(count)s huddles", n),
    "outreach.huddlerow": lambda n: npgettext("rows an undo names", "%(count)s huddle row", "%(count)s huddle rows", n),
    "outreach.outreachaction": lambda n: npgettext(
        "rows an undo names", "%(count)s family contact", "%(count)s family contacts", n
    ),
    "outreach.escalation": lambda n: npgettext(
        "rows an undo names", "%(count)s Tier 3 referral", "%(count)s Tier 3 referrals", n
    ),
    "cases.case": lambda n: npgettext("rows an undo names", "%(count)s case", "%(count)s cases", n),
    "pulse.supportrequest": lambda n: npgettext(
        "rows an undo names", "%(count)s support request", "%(count)s support requests", n
    ),
}
_ROWS_NAMED = {
    "students.attendancerecord": pgettext_lazy("rows an undo names", "attendance records"),
    "students.prioryearsummary": pgettext_lazy("rows an undo names", "prior-year summaries"),
    "students.guardian": pgettext_lazy("rows an undo names", "guardians"),
    "students.calendarday": pgettext_lazy("rows an undo names", "calendar days"),
    "students.enrollment": pgettext_lazy("rows an undo names", "enrollments"),
    "students.student": pgettext_lazy("rows an undo names", "students"),
    "districts.school": pgettext_lazy("rows an undo names", "schools"),
    "students.attendancecode": pgettext_lazy("rows an undo names", "attendance codes"),
}


def rows_counted(label: str, count: int) -> str:
    """The rows counted ("3 attendance records"): `count` rows of the model `label` in the
    active language (a model not listed here: its own English name)."""
    if label in _ROWS:
        return _ROWS[label](count) % {"count": count}
    return f"{count} {_model_words(label)}"


def rows_named(label: str) -> str:
    """The rows of the model `label` ("students"), in the active language."""
    return str(_ROWS_NAMED[label]) if label in _ROWS_NAMED else _model_words(label)


def _model_words(label: str) -> str:
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return label


def held_text(reason: str, params: dict) -> str:
    """Why a row is held, in the active language, from its reason code and figures."""
    return render(f"held.{reason}", params)


# ----------------------------------------------------------------------------- rendering


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _q(value) -> str:
    """The file's own text in quotes (its control characters already escaped by `said`)."""
    text = _visible(str(value))
    return f'"{text}"' if "'" in text else f"'{text}'"


def _day(iso: str | None) -> str:
    return formats.date_format(datetime.date.fromisoformat(iso), "DATE_FORMAT") if iso else ""


def _number(value) -> str:
    return formats.number_format(value, force_grouping=True)


def _outside_year(p: dict) -> str:
    year = {"year": p["year"], "start": _day(p["start"]), "end": _day(p["end"])}
    if p.get("day"):
        return _("%(day)s is outside the school year %(year)s (%(start)s to %(end)s).") % (
            year | {"day": _day(p["day"])}
        )
    if p.get("entry") and p.get("exit"):
        return _("The stay from %(entry)s to %(exit)s is outside the school year %(year)s (%(start)s to %(end)s).") % (
            year | {"entry": _day(p["entry"]), "exit": _day(p["exit"])}
        )
    if p.get("entry"):
        return _("The stay from %(entry)s is outside the school year %(year)s (%(start)s to %(end)s).") % (
            year | {"entry": _day(p["entry"])}
        )
    return _("The stay is outside the school year %(year)s (%(start)s to %(end)s).") % year


def _unknown_student(p: dict) -> str:
    if p.get("names", True):
        return _("No student with SIS id %(student)s.") % {"student": _q(p["student"])}
    return _("No student with SIS id %(student)s. This file has no names to add them with.") % {
        "student": _q(p["student"])
    }


def _xml_forbidden(p: dict) -> str:
    what = p.get("what")
    if what == "entities":
        return _("not read: the file declares entities, which an Ed-Fi export never needs")
    if what == "external":
        return _("not read: the file declares an external reference, which an Ed-Fi export never needs")
    return _("not read: the file declares a DTD, which an Ed-Fi export never needs")


_TEXTS = {
    # --- a file that cannot be read (ImportRun.errors) ---
    "no_data_files": lambda p: _("no CSV, JSON or XML files found"),
    "file_not_found": lambda p: _("file not found"),
    "zip_too_large": lambda p: (
        _("the zip unpacks to %(total)s MB, more than the %(limit)s MB an import reads; split it into smaller uploads")
        % {"total": _number(p["total_mb"]), "limit": _number(p["limit_mb"])}
    ),
    "zip_bomb": lambda p: (
        _(
            "%(member)s is compressed %(ratio)s to 1, more than the %(limit)s to 1 an export reaches; "
            "this looks like a zip bomb, not an export"
        )
        % {"member": p["member"], "ratio": _number(p["ratio"]), "limit": _number(p["limit"])}
    ),
    "header_not_utf8": lambda p: _("the header is not UTF-8 text; save the file as UTF-8 CSV"),
    "empty_file": lambda p: _("the file is empty or has no header row"),
    "column_twice": lambda p: _("this column appears twice in the header"),
    "row_not_utf8": lambda p: _("this row is not UTF-8 text; save the file as UTF-8 CSV"),
    "too_many_values": lambda p: (
        _("%(count)s values in a row under a header of %(width)s columns") % {"count": p["count"], "width": p["width"]}
    ),
    "csv_invalid": lambda p: _("not valid CSV: %(detail)s") % {"detail": p["detail"]},
    "no_canonical_files": lambda p: (
        _("no canonical CSV files found; expected any of %(expected)s") % {"expected": p["expected"]}
    ),
    "mapping_empty": lambda p: _("the column mapping maps no columns yet; map the export's headers first"),
    "mapping_no_match": lambda p: _("no file matches the column mapping"),
    "mapping_column_missing": lambda p: (
        _(
            "the column mapping reads the field %(field)s from a column %(header)s, which this file does not have; "
            "choose the right file or fix the mapping"
        )
        % {"field": _q(p["field"]), "header": _q(p["header"])}
    ),
    "oneroster_files_missing": lambda p: _("a OneRoster export needs orgs.csv and users.csv (with manifest.csv)"),
    "not_utf8_byte": lambda p: _("not UTF-8 text (byte %(byte)s)") % {"byte": p["byte"]},
    "edfi_not_array": lambda p: _("expected an array of Ed-Fi resources"),
    "edfi_no_resources": lambda p: _(
        "no Ed-Fi resources we read (Student, School, StudentSchoolAssociation, CalendarDate, "
        "StudentSchoolAttendanceEvent) were found"
    ),
    "json_invalid": lambda p: _("not valid JSON: %(detail)s") % {"detail": p["detail"]},
    "xml_forbidden": _xml_forbidden,
    "xml_invalid": lambda p: _("not valid XML: %(detail)s") % {"detail": p["detail"]},
    "not_a_number": lambda p: _("%(value)s is not a number") % {"value": _q(p["value"])},
    "column_missing": lambda p: _("this file needs a %(column)s column") % {"column": _q(p["column"])},
    "control_character": lambda p: (
        _("%(value)s holds a control character (U+%(code)s); remove it in the SIS and export again")
        % {"value": _q(p["value"]), "code": p["codepoint"]}
    ),
    "required_blank": lambda p: _("this value is required and is blank"),
    "student_without_name": lambda p: (
        _("student %(value)s has neither a first nor a last name") % {"value": _q(p["value"])}
    ),
    "exit_before_entry": lambda p: _("%(value)s is before the entry date") % {"value": _q(p["value"])},
    "absent_over_enrolled": lambda p: _("%(value)s is more than the days enrolled") % {"value": _q(p["value"])},
    "too_long": lambda p: _("longer than %(max)s characters") % {"max": p["max"]},
    "not_yes_no": lambda p: _("%(value)s is not yes or no (use Y/N, 1/0 or true/false)") % {"value": _q(p["value"])},
    "not_whole_number": lambda p: _("%(value)s is not a whole number of 0 or more") % {"value": _q(p["value"])},
    "too_large": lambda p: _("%(value)s is too large") % {"value": _q(p["value"])},
    "not_grade": lambda p: _("%(value)s is not a grade") % {"value": _q(p["value"])},
    "not_channel": lambda p: (
        _("%(value)s is not a contact channel (phone, text, email or letter)") % {"value": _q(p["value"])}
    ),
    "not_date_in_form": lambda p: (
        _("%(value)s is not a date in the form %(form)s") % {"value": _q(p["value"]), "form": p["form"]}
    ),
    "not_date_known_form": lambda p: (
        _("%(value)s is not a date in a format we read (YYYY-MM-DD, M/D/YYYY or D/M/YYYY)") % {"value": _q(p["value"])}
    ),
    "dates_mixed_order": lambda p: _(
        "some dates put the day first and others the month first; choose one format in the column mapping"
    ),
    "dates_ambiguous": lambda p: (
        _(
            "every date in this column (e.g. %(value)s) could be month/day or day/month; "
            "choose M/D/YYYY or D/M/YYYY for this column in the column mapping"
        )
        % {"value": _q(p["value"])}
    ),
    # --- notes on what was read or skipped (ImportRun.notes) ---
    "note_not_data": lambda p: _("Skipped %(path)s: not a CSV, JSON or XML file.") % {"path": p["path"]},
    "note_not_canonical": lambda p: (
        _("Skipped %(path)s: not one of the canonical files (%(expected)s).")
        % {"path": p["path"], "expected": p["expected"]}
    ),
    "note_sis_not_csv": lambda p: _("Skipped %(path)s: an SIS export is read as CSV.") % {"path": p["path"]},
    "note_sis_no_entity": lambda p: (
        _("Skipped %(path)s: its headers match no entity of the column mapping.") % {"path": p["path"]}
    ),
    "note_edfi_json_suffix": lambda p: _("Skipped %(path)s: Ed-Fi JSON files end in .json.") % {"path": p["path"]},
    "note_edfi_xml_suffix": lambda p: _("Skipped %(path)s: Ed-Fi XML files end in .xml.") % {"path": p["path"]},
    "note_edfi_skipped": lambda p: (
        ngettext(
            "Skipped %(count)s %(resource)s resource: not used for attendance.",
            "Skipped %(count)s %(resource)s resources: not used for attendance.",
            p["count"],
        )
        % {"count": p["count"], "resource": p["resource"]}
    ),
    "note_oneroster_no_manifest": lambda p: _("No manifest.csv: read as OneRoster 1.1."),
    "note_oneroster_version": lambda p: _("OneRoster %(version)s export.") % {"version": p["version"]},
    "note_oneroster_tobedeleted": lambda p: (
        ngettext(
            "%(file)s: left out %(count)s row marked tobedeleted.",
            "%(file)s: left out %(count)s rows marked tobedeleted.",
            p["count"],
        )
        % {"file": p["file"], "count": p["count"]}
    ),
    # --- an import that did not run to the end ---
    "queue_failed": lambda p: (
        _("The import could not be queued (%(detail)s). Nothing was read; retry it once the broker is back.")
        % {"detail": p["detail"]}
    ),
    "stopped_unfinished": lambda p: _(
        "The import stopped without finishing (its worker stopped, or none took it in time). "
        "Nothing was written; retry it."
    ),
    "unexpected_error": lambda p: _(
        "The import stopped on an unexpected error; nothing was written. The team has been notified."
    ),
    # --- why an import cannot be undone (imports.undo: refused on the page, or by the worker) ---
    "undo.not_undoable": lambda p: _("Only an import or a replay that finished can be undone."),
    "undo.already_undone": lambda p: _("This import was already undone (#%(undo)s).") % {"undo": p["undo"]},
    "undo.not_journaled": lambda p: _(
        "This import ran before AttendNC kept what each import changes, so it cannot be undone."
    ),
    "undo.busy": lambda p: _("Another import is running; undo once it has finished."),
    "undo.later_import": lambda p: (
        _("Import #%(run)s, after this one, changed or removed %(rows)s this import wrote: undo #%(run)s first.")
        % {"run": p["run"], "rows": rows_counted(p["table"], p["count"])}
    ),
    "undo.removed_taken": lambda p: (
        ngettext(
            "%(rows)s this import removed has been added again since; undo the later import first.",
            "%(rows)s this import removed have been added again since; undo the later import first.",
            p["count"],
        )
        % {"rows": rows_counted(p["table"], p["count"])}
    ),
    "undo.referred": lambda p: (
        ngettext(
            "%(rows)s now refers to %(what)s this import added, and would be lost.",
            "%(rows)s now refer to %(what)s this import added, and would be lost.",
            p["count"],
        )
        % {"rows": rows_counted(p["model"], p["count"]), "what": rows_named(p["table"])}
    ),
    # --- why a row is held (QuarantinedRow: the code is its reason) ---
    f"held.{Reason.OUTSIDE_SCHOOL_YEAR}": _outside_year,
    f"held.{Reason.FUTURE_DATE}": lambda p: (
        _("%(day)s is after today (%(today)s).") % {"day": _day(p["day"]), "today": _day(p["today"])}
    ),
    f"held.{Reason.UNKNOWN_SCHOOL}": lambda p: _("No school with SIS id %(school)s.") % {"school": _q(p["school"])},
    f"held.{Reason.UNKNOWN_STUDENT}": _unknown_student,
    f"held.{Reason.UNKNOWN_CODE}": lambda p: (
        _("Code %(code)s is not in the district's code map.") % {"code": _q(p["code"])}
    ),
    f"held.{Reason.OUTSIDE_ENROLLMENT}": lambda p: (
        _("No enrollment of this student at this school covers %(day)s.") % {"day": _day(p["day"])}
    ),
    f"held.{Reason.NO_CALENDAR_DAY}": lambda p: (
        _("%(day)s is not in this school's calendar.") % {"day": _day(p["day"])}
    ),
    f"held.{Reason.NON_INSTRUCTIONAL_DAY}": lambda p: (
        _("%(day)s is not an instructional day at this school.") % {"day": _day(p["day"])}
    ),
    f"held.{Reason.PARTIAL_WITHOUT_MINUTES}": lambda p: _("A partial day needs the minutes absent."),
    f"held.{Reason.CONFLICTING_DUPLICATE}": lambda p: _(
        "An earlier row has the same key with different values; the earlier row was kept."
    ),
    f"held.{Reason.DUPLICATE}": lambda p: _("Same as an earlier row; imported once."),
}
