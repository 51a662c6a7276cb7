"""Ed-Fi (Data Standard 4 and 5) resources → canonical rows, for JSON and XML alike.

JSON API resources name things in camelCase (`studentReference.studentUniqueId`,
`attendanceEventCategoryDescriptor`), XML interchange in PascalCase (`<StudentUniqueId>`,
`<AttendanceEventCategory>`); both nest references. A `Record` hides the difference: a name is
looked up anywhere in the resource, case-insensitively and with any "Descriptor" suffix
dropped, so each resource is read by one function for both encodings.

Descriptors arrive as URIs (`uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy`); their
code value is what follows the '#'. The attendance event categories and calendar events map
onto our categories here (tests check every official code value is covered).
"""

import dataclasses
from collections.abc import Callable, Iterable

import pandas as pd

from students.models import AttendanceCategory as Category

from ..messages import said
from ..schema import ROW, STUDENT_DAY
from .errors import ImportRejected
from .tables import ParsedImport, SourceTable

ATTENDANCE_EVENT_CATEGORIES = {
    "In Attendance": Category.PRESENT,
    "Present": Category.PRESENT,
    "Excused Absence": Category.ABSENT_EXCUSED,
    "Unexcused Absence": Category.ABSENT_UNEXCUSED,
    "Tardy": Category.TARDY,
    "Early departure": Category.EARLY_DISMISSAL,
    "Partial": Category.PARTIAL_DAY,
}
# An absence recognised for part of a day (EventDuration < 1) is a partial day for us: it counts
# under the half-day rule instead of as a whole absent day. Its code says so.
PART_DAY_SUFFIX = " (part day)"
PART_DAY_CODES = {f"{code}{PART_DAY_SUFFIX}": Category.PARTIAL_DAY for code in ("Excused Absence", "Unexcused Absence")}
# Ed-Fi resources are records, each with its own key, and a change feed sends only the ones that
# changed: a file adds and updates, and removes nothing, except that an attendance event is the
# whole truth about its student's day at that school (an Unexcused Absence corrected to Excused
# replaces it).
SCOPES = {"attendance": STUDENT_DAY}
DAY_MINUTES = 360  # Ed-Fi calendars carry no day length; EventDuration is read against our default day
INSTRUCTIONAL_EVENTS = {"Instructional day", "Make-up day", "Student late arrival/early dismissal"}
NON_INSTRUCTIONAL_EVENTS = {
    "Emergency day",
    "Holiday",
    "Other",
    "Strike",
    "Teacher only day",
    "Weather day",
    "Non-instructional day",
}
GRADE_LEVELS = {
    "Infant/toddler": "PK", "Preschool/Prekindergarten": "PK", "Early Education": "PK", "Kindergarten": "K",
    "First grade": "1", "Second grade": "2", "Third grade": "3", "Fourth grade": "4", "Fifth grade": "5",
    "Sixth grade": "6", "Seventh grade": "7", "Eighth grade": "8", "Ninth grade": "9", "Tenth grade": "10",
    "Eleventh grade": "11", "Twelfth grade": "12",
}  # fmt: skip
ENGLISH_LEARNER_LEP = {"Limited", "Limited Monitored 1", "Limited Monitored 2"}
DISABILITY_PROGRAMS = {"Special Education", "IDEA", "Preschool Special Education"}
HOMELESS_PROGRAMS = {"Homeless"}
ENGLISH_LEARNER_PROGRAMS = {"English as a Second Language (ESL)", "Bilingual"}
RACES = {
    "American Indian - Alaska Native": "American Indian", "Asian": "Asian", "Black - African American": "Black",
    "Native Hawaiian - Pacific Islander": "Pacific Islander", "White": "White",
}  # fmt: skip


def code_value(descriptor: str) -> str:
    return descriptor.rsplit("#", 1)[-1].strip() if descriptor else ""


def _key(name: str) -> str:
    key = name.replace("_", "").lower()
    return key[: -len("descriptor")] if key.endswith("descriptor") and key != "descriptor" else key


@dataclasses.dataclass
class Record:
    """One resource: `values(name)` are the text leaves under that name anywhere inside it,
    nearest first; `number` is its position in the file (1 for the first)."""

    resource: str
    file: str
    number: int
    leaves: list[tuple[str, str]]  # (normalised name, text), breadth-first

    def values(self, name: str) -> list[str]:
        key = _key(name)
        return [text for leaf, text in self.leaves if leaf == key and text != ""]

    def value(self, name: str) -> str:
        found = self.values(name)
        return found[0] if found else ""

    def code(self, name: str) -> str:
        return code_value(self.value(name))

    def codes(self, name: str) -> list[str]:
        return [code_value(text) for text in self.values(name)]


def resource_name(text: str) -> str:
    """'studentSchoolAttendanceEvents.json', 'StudentSchoolAttendanceEvent' → 'studentschoolattendanceevent'."""
    name = "".join(ch for ch in text.rsplit("/", 1)[-1].split(".")[0].lower() if ch.isalpha())
    for prefix in ("edfi", "interchange"):
        name = name.removeprefix(prefix)
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


# --- resources ----------------------------------------------------------------------------


def _school(record: Record) -> dict:
    return {"school_id": record.value("schoolId"), "name": record.value("nameOfInstitution")}


def _student(record: Record) -> dict:
    return {
        "student_id": record.value("studentUniqueId"),
        "first_name": record.value("firstName"),
        "last_name": record.value("lastSurname"),
        "birth_date": record.value("birthDate"),
    }


def _enrollment(record: Record) -> dict:
    grade = record.code("entryGradeLevel")
    return {
        "student_id": record.value("studentUniqueId"),
        "school_id": record.value("schoolId"),
        "grade": GRADE_LEVELS.get(grade, grade),
        "entry_date": record.value("entryDate"),
        "exit_date": record.value("exitWithdrawDate"),
        "exit_reason": record.code("exitWithdrawType")[:100],
    }


def _calendar_day(record: Record) -> dict:
    events = record.codes("calendarEvent")
    return {
        "school_id": record.value("schoolId"),
        "date": record.value("date"),
        "instructional": "Y" if INSTRUCTIONAL_EVENTS.intersection(events) else "N",
        "event": ", ".join(events)[:64],
    }


def _attendance_event(record: Record) -> dict:
    category = record.code("attendanceEventCategory")
    duration = _number(record, "eventDuration")
    code, minutes = category, ""
    if ATTENDANCE_EVENT_CATEGORIES.get(category) in {Category.TARDY, Category.EARLY_DISMISSAL, Category.PARTIAL_DAY}:
        minutes = str(round(duration * DAY_MINUTES)) if duration is not None else ""
    elif duration is not None and 0 < duration < 1 and f"{category}{PART_DAY_SUFFIX}" in PART_DAY_CODES:
        code, minutes = f"{category}{PART_DAY_SUFFIX}", str(round(duration * DAY_MINUTES))
    return {
        "student_id": record.value("studentUniqueId"),
        "school_id": record.value("schoolId"),
        "date": record.value("eventDate"),
        "code": code,
        "minutes_absent": minutes,
    }


def _number(record: Record, name: str) -> float | None:
    text = record.value(name)
    try:
        return float(text) if text else None
    except ValueError:
        raise ImportRejected.one(record.file, record.number, name, said("not_a_number", value=text)) from None


def _characteristics(record: Record) -> dict:
    """StudentEducationOrganizationAssociation: where DS 4/5 keep race, language and the
    characteristics our subgroups come from."""
    characteristics = set(record.codes("studentCharacteristic"))
    races = [RACES.get(race, race) for race in record.codes("race")]
    hispanic = record.value("hispanicLatinoEthnicity").lower() == "true"
    race = "Hispanic" if hispanic else ("Two or more" if len(races) > 1 else (races[0] if races else ""))
    return {
        "student_id": record.value("studentUniqueId"),
        "race_ethnicity": race[:64],
        "home_language": _home_language(record)[:64],
        "econ_disadvantaged": "Y" if "Economic Disadvantaged" in characteristics else "N",
        "homeless": "Y" if characteristics & {"Homeless", "Unaccompanied Youth", "Displaced"} else "N",
        "foster": "Y" if "Foster Care" in characteristics else "N",
        "english_learner": "Y" if record.code("limitedEnglishProficiency") in ENGLISH_LEARNER_LEP else "N",
    }


LANGUAGES = {"eng": "English", "spa": "Spanish", "vie": "Vietnamese", "ara": "Arabic", "zho": "Chinese", "chi": "Chinese",
             "fra": "French", "fre": "French", "hat": "Haitian Creole", "kor": "Korean", "rus": "Russian", "por": "Portuguese"}  # fmt: skip


def _home_language(record: Record) -> str:
    """ISO 639-2 codes (the Ed-Fi LanguageDescriptor's code values) as the names staff use."""
    languages = record.codes("language")
    return LANGUAGES.get(languages[0], languages[0]) if languages else ""


def _program(record: Record) -> dict:
    """A program association only ever says yes: leaving a program is its end date, and a
    student absent from the file is not thereby out of every program."""
    program = record.code("programType")
    if record.value("endDate"):
        return {}
    flags = {
        "disability": program in DISABILITY_PROGRAMS or record.resource == "studentspecialeducationprogramassociation",
        "homeless": program in HOMELESS_PROGRAMS or record.resource == "studenthomelessprogramassociation",
        "english_learner": program in ENGLISH_LEARNER_PROGRAMS,
    }
    return {"student_id": record.value("studentUniqueId"), **{name: "Y" for name, on in flags.items() if on}}


READERS: dict[str, tuple[str, Callable[[Record], dict]]] = {
    "school": ("schools", _school),
    "student": ("students", _student),
    "studentschoolassociation": ("enrollments", _enrollment),
    "calendardate": ("calendar", _calendar_day),
    "studentschoolattendanceevent": ("attendance", _attendance_event),
    "studenteducationorganizationassociation": ("students", _characteristics),
    "studentprogramassociation": ("students", _program),
    "studentspecialeducationprogramassociation": ("students", _program),
    "studenthomelessprogramassociation": ("students", _program),
}
FLAG_RESOURCES = {"studenteducationorganizationassociation", "studentprogramassociation",
                  "studentspecialeducationprogramassociation", "studenthomelessprogramassociation"}  # fmt: skip


def assemble(records: Iterable[Record], notes: list[str]) -> ParsedImport:
    """Canonical tables from Ed-Fi records, one table per entity and file. A student's
    characteristics and programs merge into one row of flags (a program's yes wins), kept
    apart from the Student resource's names so each updates only its own columns."""
    rows: dict[tuple, list[dict]] = {}
    flags: dict[str, dict] = {}
    skipped: dict[str, int] = {}
    for record in records:
        reader = READERS.get(record.resource)
        if reader is None:
            skipped[record.resource] = skipped.get(record.resource, 0) + 1
            continue
        entity, read = reader
        values = read(record)
        if not values:
            continue
        values[ROW] = record.number
        if record.resource in FLAG_RESOURCES:
            _merge_flags(flags, values, record.file)
        else:
            rows.setdefault((entity, record.file, ()), []).append(values)
    for values in flags.values():
        file = values.pop("_file")
        # Grouped by the columns they carry: a student seen only in a program file must not
        # blank the race another file gave, nor be told "no" for characteristics nobody sent.
        rows.setdefault(("students", file, tuple(sorted(values))), []).append(values)
    notes.extend(said("note_edfi_skipped", count=count, resource=name) for name, count in sorted(skipped.items()))
    tables = [_table(entity, file, group) for (entity, file, *_), group in rows.items()]
    if not tables:
        raise ImportRejected.one(
            "(upload)",
            None,
            "",
            said("edfi_no_resources"),
        )
    return ParsedImport(tables, notes, standard_codes={**ATTENDANCE_EVENT_CATEGORIES, **PART_DAY_CODES})


def _merge_flags(flags: dict, values: dict, file: str) -> None:
    current = flags.setdefault(values["student_id"], {"_file": file, ROW: values[ROW]})
    for name, value in values.items():
        if name in ("student_id", ROW):
            current.setdefault(name, value)
        elif value == "Y" or name not in current:
            current[name] = value


def _table(entity: str, file: str, rows: list[dict]) -> SourceTable:
    frame = pd.DataFrame(rows).fillna("")
    for flag in ("econ_disadvantaged", "homeless", "foster", "english_learner", "disability"):
        if flag in frame.columns:
            frame[flag] = frame[flag].replace("", "N")
    text = frame.drop(columns=ROW).astype(str)
    text[ROW] = frame[ROW].astype("int64")
    if entity == "calendar":
        text = _one_day_per_school(text)
    return SourceTable(entity, file, text.reset_index(drop=True), scope=SCOPES.get(entity))


def _one_day_per_school(text: pd.DataFrame) -> pd.DataFrame:
    """A school may keep several calendars (tracks); the day is instructional if any says so."""
    text = text.sort_values(["school_id", "date", "instructional"], ascending=[True, True, False], kind="stable")
    return text.drop_duplicates(["school_id", "date"], keep="first").sort_values(ROW)
