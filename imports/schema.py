"""The canonical import shape (SPEC §4): one entity per file, its fields and how each is read.

Every format (canonical CSV, mapped SIS exports, OneRoster, Ed-Fi) is turned into frames with
these column names holding text as the source wrote it; `imports.parsing.typing` then reads the
text into dates, flags and numbers the same way for all of them.
"""

import dataclasses

ID, TEXT, DATE, BOOL, INT, GRADE, CHANNEL = "id", "text", "date", "bool", "int", "grade", "channel"


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: str = TEXT
    required: bool = False  # the column must exist and no value may be blank
    max_length: int = 0
    label: str = ""
    blank: str = ""  # what a blank value means, as text ("Y": a calendar day is instructional unless it says not)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclasses.dataclass(frozen=True)
class Entity:
    name: str
    file_name: str
    fields: tuple[Field, ...]
    label: str

    @property
    def required(self) -> list[str]:
        return [field.name for field in self.fields if field.required]

    @property
    def columns(self) -> list[str]:
        return [field.name for field in self.fields]

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)


ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in [
        Entity(
            "schools",
            "schools.csv",
            (
                Field("school_id", ID, True, 64, "School SIS id"),
                Field("name", TEXT, True, 200),
                Field("grade_low", GRADE),
                Field("grade_high", GRADE),
            ),
            "Schools",
        ),
        Entity(
            "students",
            "students.csv",
            (
                Field("student_id", ID, True, 64, "Student SIS id"),
                Field("first_name", TEXT, False, 100),
                Field("last_name", TEXT, False, 100),
                Field("birth_date", DATE),
                Field("grade", GRADE),
                Field("home_language", TEXT, False, 64),
                Field("econ_disadvantaged", BOOL, label="Economically disadvantaged"),
                Field("disability", BOOL, label="Student with disabilities"),
                Field("english_learner", BOOL),
                Field("race_ethnicity", TEXT, False, 64, "Race/ethnicity"),
                Field("homeless", BOOL, label="McKinney-Vento / homeless"),
                Field("foster", BOOL, label="In foster care"),
            ),
            "Students",
        ),
        Entity(
            "enrollments",
            "enrollments.csv",
            (
                Field("student_id", ID, True, 64, "Student SIS id"),
                Field("school_id", ID, True, 64, "School SIS id"),
                Field("grade", GRADE),
                Field("entry_date", DATE, True),
                Field("exit_date", DATE),
                Field("exit_reason", TEXT, False, 100),
            ),
            "Enrollments",
        ),
        Entity(
            "calendar",
            "calendar.csv",
            (
                # A blank school id is the district's default calendar.
                Field("school_id", ID, False, 64, "School SIS id"),
                Field("date", DATE, True),
                Field("instructional", BOOL, blank="Y"),
                Field("minutes", INT),
                Field("event", TEXT, False, 64),
            ),
            "Calendar",
        ),
        Entity(
            "attendance",
            "attendance.csv",
            (
                Field("student_id", ID, True, 64, "Student SIS id"),
                Field("school_id", ID, True, 64, "School SIS id"),
                Field("date", DATE, True),
                Field("code", ID, True, 32, "Attendance code"),
                Field("minutes_absent", INT),
            ),
            "Attendance",
        ),
        Entity(
            "guardians",
            "guardians.csv",
            (
                Field("student_id", ID, True, 64, "Student SIS id"),
                Field("name", TEXT, True, 200),
                Field("relationship", TEXT, False, 64),
                Field("phone", TEXT, False, 32),
                Field("email", TEXT, False, 254),
                Field("language", TEXT, False, 64),
                Field("preferred_channel", CHANNEL),
            ),
            "Guardians",
        ),
        Entity(
            "prior_year",
            "prior_year.csv",
            (
                Field("student_id", ID, True, 64, "Student SIS id"),
                Field("school_year", ID, True, 9),
                Field("days_enrolled", INT, True),
                Field("days_absent", INT, True),
            ),
            "Prior-year summaries",
        ),
    ]
}

# Entities whose file is the whole truth for the schools, dates or students it covers: a
# column the file leaves out means blank, not "keep what is stored".
COMPLETE_ENTITIES = frozenset({"enrollments", "calendar", "attendance", "guardians"})

# What a file is the whole truth about (docs/imports.md, "The file's scope"): stored rows inside
# the scope that the file no longer has are removed; nothing outside it ever is. Only rows the
# import places define the scope, so a held row never widens it. Each scope is a set of keys
# over the placed rows' database columns:
SCHOOL_DAY = "school_day"  # a school's records on a date: a day's attendance export is the whole day
STUDENT_DAY = "student_day"  # one student's records at a school on a date (event feeds: Ed-Fi)
STUDENT = "student"  # everything of a student: a student named in the file comes with all their rows
SCOPE_COLUMNS = {
    SCHOOL_DAY: ("school_id", "date"),
    STUDENT_DAY: ("student_id", "school_id", "date"),
    STUDENT: ("student_id",),
}
# The scope of each entity's file unless its format says otherwise. Schools, students, prior-year
# summaries and calendar days are only ever added or updated: a delta file of any of them is safe.
DEFAULT_SCOPES = {"attendance": SCHOOL_DAY, "enrollments": STUDENT, "guardians": STUDENT}
DEFAULT = "default"

# The order entities are loaded in: each may refer to the ones before it.
LOAD_ORDER = ["schools", "students", "enrollments", "calendar", "guardians", "prior_year", "attendance"]

# Columns the pipeline adds to every frame: where the row came from.
FILE, ROW = "_file", "_row"
