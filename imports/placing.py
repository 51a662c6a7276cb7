"""Placing typed rows: find each row's student, school, code, enrollment and calendar day, or
say why it cannot be placed.

Nothing here writes. A row that cannot be placed is *held* (quarantined) with the first reason
that applies, in the order an admin would fix them: the date (in the future, or outside the
school year the import is read against), the school, the student, the code, the enrollment, the
calendar, the minutes. Work is column-wise over the whole frame, because a
district's year of attendance is millions of rows.
"""

import dataclasses

import numpy as np
import pandas as pd

from districts.models import District, School
from districts.tenancy import district_frame
from students.models import AttendanceCategory, AttendanceCode, CalendarDay

from .models import QuarantineReason as Reason
from .models import SchoolAlias
from .schema import ENTITIES, FILE, ROW, SCOPE_COLUMNS
from .years import Window, district_today, school_year_window

KEYS = {
    "schools": ["school_id"],
    "students": ["student_id"],
    "enrollments": ["student_id", "school_id", "entry_date"],
    "calendar": ["school_id", "date"],
    "guardians": ["student_id", "name"],
    "prior_year": ["student_id", "school_year"],
    "attendance": ["student_id", "school_id", "date", "code"],
}
DEFAULT_CALENDAR = 0  # the school key of the district's default calendar in lookups
_DAY = np.timedelta64(1, "D")
# What rows are placed against, read as a district's whole table through COPY: the ORM's
# queries took ~2 s of a 200,000-student first import. No order: every use is a lookup.
STUDENT_IDS_SQL = "SELECT sis_id, id FROM students_student WHERE district_id = %(district_id)s"
ENROLLMENTS_SQL = """
    SELECT student_id, school_id, entry_date, exit_date FROM students_enrollment
    WHERE district_id = %(district_id)s"""


@dataclasses.dataclass
class Scope:
    """What the file is the whole truth about: stored rows whose `columns` match one of `keys`
    (distinct database values, e.g. school id and date) and that the file no longer has are
    removed. Built from placed rows only: a held row never widens it."""

    columns: tuple[str, ...]
    keys: pd.DataFrame

    def __len__(self) -> int:
        return len(self.keys)


@dataclasses.dataclass
class Placement:
    rows: pd.DataFrame  # database columns, ready to load
    held: pd.DataFrame  # typed-frame index → reason, field, params (imports.messages.held_text)
    duplicates: np.ndarray  # typed-frame index of exact duplicates, collapsed into their twin
    dropped: int = 0  # present days: nothing is stored for them
    scope: Scope | None = None


class DistrictIndex:
    """The district's current schools, students, codes, enrollments and calendar, read once and
    re-read after an import step changes them; the school year rows are read against and the
    district's today."""

    def __init__(self, district: District, *, school_year: str = "", today=None):
        self.district = district
        self.school_year = school_year
        self.today = today or district_today(district)
        self._cache: dict = {}

    @property
    def window(self) -> Window:
        return school_year_window(self.district, self.school_year)

    def forget(self, *names: str) -> None:
        for name in names:
            self._cache.pop(name, None)

    def _get(self, name, build):
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def schools(self) -> pd.Series:
        def build():
            # A school's own id wins over an alias of the same text (an alias is never made for one).
            own = list(School.objects.values_list("sis_id", "pk"))
            known = {sis_id for sis_id, _ in own}
            aliases = [pair for pair in SchoolAlias.objects.values_list("sis_id", "school_id") if pair[0] not in known]
            return _lookup(own + aliases)

        return self._get("schools", build)

    def students(self) -> pd.Series:
        def build():
            frame = district_frame(self.district, STUDENT_IDS_SQL, columns=["sis_id", "pk"], text=("sis_id",))
            return pd.Series(
                frame["pk"].to_numpy(dtype="int64"),
                index=pd.Index(frame["sis_id"].to_numpy(dtype=object), dtype=object),
                dtype="int64",
            )

        return self._get("students", build)

    def codes(self) -> pd.Series:
        return self._get("codes", lambda: _lookup(AttendanceCode.objects.values_list("code", "category"), dtype=object))

    def enrollments(self) -> pd.DataFrame:
        def build():
            frame = district_frame(self.district, ENROLLMENTS_SQL, columns=["student", "school", "entry", "exit"])
            for column in ("student", "school"):
                frame[column] = frame[column].astype("int64")
            for column in ("entry", "exit"):  # days, as the ORM's dates gave them (text would give µs)
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
            return frame

        return self._get("enrollments", build)

    def calendar(self) -> pd.DataFrame:
        def build():
            rows = CalendarDay.objects.values_list("school_id", "date", "instructional")
            frame = pd.DataFrame(list(rows), columns=["school", "date", "instructional"])
            frame["school"] = frame["school"].fillna(DEFAULT_CALENDAR).astype("int64")
            frame["date"] = pd.to_datetime(frame["date"])
            return frame

        return self._get("calendar", build)

    @property
    def exit_inclusive(self) -> bool:
        return bool((self.district.settings or {}).get("exit_date_inclusive", False))


def _lookup(pairs, dtype="int64") -> pd.Series:
    pairs = list(pairs)
    keys = [key for key, _ in pairs]
    return pd.Series([value for _, value in pairs], index=pd.Index(keys, dtype=object), dtype=dtype)


def map_ids(values: pd.Series, lookup: pd.Series) -> np.ndarray:
    """Database ids for text ids (-1 where unknown); each distinct id is looked up once."""
    return map_values(values, lookup, missing=-1).astype("int64", copy=False)


def map_values(values: pd.Series, lookup: pd.Series, *, missing=np.nan) -> np.ndarray:
    """`lookup`'s value for each text value (`missing` where it has none), each distinct value
    looked up once. The column is factorized as it is (Arrow-backed text): turning millions of
    values into Python strings first took some 200 MiB at 3M attendance rows. An object result
    holds the lookup's own values, shared, not one string per row."""
    codes, uniques = pd.factorize(values)
    if not len(codes):
        return np.array([], dtype=lookup.dtype)
    found = lookup.reindex(pd.Index(np.asarray(uniques, dtype=object), dtype=object))
    found = found.fillna(missing) if lookup.dtype != object else found.where(found.notna(), missing)
    mapped = found.to_numpy(dtype=lookup.dtype)[codes]
    if (codes < 0).any():  # a missing value (none in typed text, which reads blanks as "")
        mapped[codes < 0] = missing
    return mapped


class _Holds:
    """Collects held rows; a row keeps the first reason found for it. Each row holds a small
    number, the position of its (reason, field) among those met (0: not held): comparing
    millions of Python strings at every step took most of a second at 3M attendance rows."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.code = np.zeros(len(frame), dtype="int16")
        self.pairs: list[tuple[str, str]] = [("", "")]
        self.fields: dict[int, str] = {}  # row position → its own field (a conflicting duplicate's)

    def add(self, mask, reason: str, field: str) -> None:
        new = np.asarray(mask, dtype=bool) & (self.code == 0)
        if new.any():
            self.code[new] = self._code(reason, field)

    def _code(self, reason: str, field: str) -> int:
        if (reason, field) not in self.pairs:
            self.pairs.append((reason, field))
        return self.pairs.index((reason, field))

    def set_fields(self, mask: np.ndarray, fields: list[str]) -> None:
        self.fields.update(zip(np.flatnonzero(mask).tolist(), fields))

    def clear(self, mask: np.ndarray) -> None:
        self.code[mask] = 0

    @property
    def mask(self) -> np.ndarray:
        return self.code != 0

    def frame_of(self, params_of) -> pd.DataFrame:
        positions = np.flatnonzero(self.mask)
        held = self.frame.iloc[positions]
        pairs = [self.pairs[code] for code in self.code[positions].tolist()]
        reasons = np.array([reason for reason, _ in pairs], dtype=object)
        fields = np.array(
            [self.fields.get(position, field) for position, (_, field) in zip(positions.tolist(), pairs)], dtype=object
        )
        params = [params_of(reason, row) for reason, row in zip(reasons, held.itertuples(index=False))]
        return pd.DataFrame({"reason": reasons, "field": fields, "params": params}, index=held.index)


def split_duplicates(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(exact duplicates, conflicting duplicates) as boolean masks. The first row of a key
    wins; a later row equal in every field is collapsed, one that differs is held.

    A row equal in every field to an earlier one has that row's key too, so only rows whose key
    is not unique are compared field by field. The keys are compared as one integer per row
    (the columns' factorized codes combined) by a stable sort: pandas' duplicated() over every
    column of a year of attendance hashed it twice over, some 200 MiB at the import's peak."""
    values = [column for column in frame.columns if column not in (FILE, ROW)]
    later, grouped = _duplicated(_row_ids(frame, keys))
    exact = np.zeros(len(frame), dtype=bool)
    if later.any():
        exact[grouped] = frame[grouped].duplicated(subset=values, keep="first").to_numpy()
    return exact, later & ~exact


_ROW_ID_LIMIT = 2**62


def _row_ids(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row, equal for rows equal in `columns` (missing values equal each other,
    as duplicated() takes them)."""
    ids = np.zeros(len(frame), dtype="int64")
    size = 1
    for column in columns:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        if size * (len(uniques) + 1) >= _ROW_ID_LIMIT:  # renumber what is combined so far, densely
            ids, seen = pd.factorize(ids)
            size = len(seen)
        ids *= len(uniques) + 1
        ids += codes
        size *= len(uniques) + 1
    return ids


def _duplicated(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every row after the first of its id, every row of an id that has several)."""
    later = np.zeros(len(ids), dtype=bool)
    grouped = np.zeros(len(ids), dtype=bool)
    if len(ids) < 2:
        return later, grouped
    order = np.argsort(ids, kind="stable")  # equal ids stay in the rows' order
    same = ids[order[1:]] == ids[order[:-1]]
    later[order[1:][same]] = True
    grouped[order[1:][same]] = True
    grouped[order[:-1][same]] = True
    return later, grouped


def _differing_fields(frame: pd.DataFrame, keys: list[str], conflicting: np.ndarray) -> list[str]:
    """For each conflicting row, the first field in which it differs from the row that was kept."""
    kept = frame.drop_duplicates(subset=keys, keep="first").set_index(keys)
    later = frame[conflicting]
    firsts = kept.loc[pd.MultiIndex.from_frame(later[keys])] if len(keys) > 1 else kept.loc[later[keys[0]]]
    fields = []
    for (_, row), (_, first) in zip(later.iterrows(), firsts.iterrows()):
        differing = [
            column for column in first.index if column not in (FILE, ROW) and not _same(row[column], first[column])
        ]
        fields.append(differing[0] if differing else "")
    return fields


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) if (pd.isna(a) or pd.isna(b)) else a == b


def place(entity: str, frame: pd.DataFrame, index: DistrictIndex, *, scope: str | None = None) -> Placement:
    """Place a typed frame. `scope` names what the file is the whole truth about
    (imports.schema.SCOPE_COLUMNS); None places without removing anything (a replay)."""
    exact, conflicting = split_duplicates(frame, KEYS[entity])
    holds = _Holds(frame)
    holds.add(conflicting, Reason.CONFLICTING_DUPLICATE, "")
    if conflicting.any():
        holds.set_fields(conflicting, _differing_fields(frame, KEYS[entity], conflicting))
    rows = _PLACERS[entity](frame, index, holds)
    holds.clear(exact)  # a collapsed duplicate is reported once, as a duplicate
    placed = ~holds.mask & ~exact
    stored = rows.pop("_keep").to_numpy()
    # Present days are placed though not stored: a day sent as all present still covers it.
    keys = _scope(rows, placed, scope) if scope else None
    return Placement(
        rows=_kept(rows, placed & stored),
        held=holds.frame_of(lambda reason, row: _message_params(reason, row, index)),
        duplicates=frame.index[exact].to_numpy(),
        dropped=int((placed & ~stored).sum()),
        scope=keys,
    )


def _kept(rows: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """rows[mask] under a fresh index. Column by column, each let go of from `rows` once taken
    (emptying it): a whole copy beside the whole was 150 MiB more at 3M attendance rows; when
    every row is kept (a file of absences only, nothing held), nothing is copied."""
    if mask.all():
        return rows.reset_index(drop=True)
    kept = pd.DataFrame(index=pd.RangeIndex(int(mask.sum())))
    for column in list(rows.columns):
        kept[column] = rows.pop(column)[mask].reset_index(drop=True)
    return kept


def _scope(rows: pd.DataFrame, placed: np.ndarray, kind: str) -> Scope:
    columns = SCOPE_COLUMNS[kind]
    # Block by block (first occurrences kept, in order, as one drop_duplicates over all rows
    # would): the scope's few distinct keys, without hashing millions of rows at once.
    parts = [rows.iloc[block][placed[block]][list(columns)].drop_duplicates() for block in _blocks(len(rows))]
    keys = pd.concat(parts) if parts else rows.loc[placed, list(columns)]
    return Scope(columns, keys.drop_duplicates().reset_index(drop=True))


def _columns(frame: pd.DataFrame, entity: str, exclude: set[str]) -> pd.DataFrame:
    """The entity's own columns present in the file (not the ids, which the caller resolves)."""
    present = [name for name in ENTITIES[entity].columns if name in frame.columns and name not in exclude]
    rows = frame[present]  # copied on write (pandas' copy-on-write): columns only read are not copied
    rows["_keep"] = True
    return rows


def _place_schools(frame, index, holds):
    rows = _columns(frame, "schools", {"school_id"})
    rows.insert(0, "sis_id", frame["school_id"].to_numpy())
    return rows


def _place_students(frame, index, holds):
    if not {"first_name", "last_name"} & set(frame.columns):
        # Demographics or programs without names update the students we have and never create
        # a nameless one: an unknown student waits for a file that names them.
        holds.add(map_ids(frame["student_id"], index.students()) < 0, Reason.UNKNOWN_STUDENT, "student_id")
    rows = _columns(frame, "students", {"student_id"})
    rows.insert(0, "sis_id", frame["student_id"].to_numpy())
    return rows


def _with_people(frame, index, holds, entity, *, school=True, student=True):
    rows = _columns(frame, entity, {"student_id", "school_id"})
    if school:
        school_ids = map_ids(frame["school_id"], index.schools())
        if "school_id" in ENTITIES[entity].required:
            holds.add(school_ids < 0, Reason.UNKNOWN_SCHOOL, "school_id")
        rows.insert(0, "school_id", school_ids)
    if student:
        student_ids = map_ids(frame["student_id"], index.students())
        holds.add(student_ids < 0, Reason.UNKNOWN_STUDENT, "student_id")
        rows.insert(0, "student_id", student_ids)
    return rows


def _hold_dates(frame, index, holds, column: str, *, future: bool) -> None:
    """Rows dated after the district's today (`future`), or outside the school year."""
    window = index.window
    dates = frame[column].to_numpy(dtype="datetime64[ns]")
    if future:
        holds.add(dates > np.datetime64(index.today), Reason.FUTURE_DATE, column)
    outside = (dates < np.datetime64(window.start)) | (dates > np.datetime64(window.end))
    holds.add(outside, Reason.OUTSIDE_SCHOOL_YEAR, column)


def _place_enrollments(frame, index, holds):
    window = index.window
    entry = frame["entry_date"].to_numpy(dtype="datetime64[ns]")
    holds.add(entry > np.datetime64(window.end), Reason.OUTSIDE_SCHOOL_YEAR, "entry_date")
    if "exit_date" in frame:
        # The exit date is the first day not enrolled: a stay leaving on the year's first day had none of it.
        exit_date = frame["exit_date"].to_numpy(dtype="datetime64[ns]")
        holds.add(
            ~np.isnat(exit_date) & (exit_date <= np.datetime64(window.start)), Reason.OUTSIDE_SCHOOL_YEAR, "exit_date"
        )
    return _with_people(frame, index, holds, "enrollments")


def _place_calendar(frame, index, holds):
    _hold_dates(frame, index, holds, "date", future=False)  # calendars are published ahead
    rows = _with_people(frame, index, holds, "calendar", student=False)
    default = (frame["school_id"] == "").to_numpy()
    school_ids = rows["school_id"].to_numpy()
    holds.add((school_ids < 0) & ~default, Reason.UNKNOWN_SCHOOL, "school_id")
    rows["school_id"] = np.where(default, DEFAULT_CALENDAR, school_ids)
    return rows


def _place_guardians(frame, index, holds):
    return _with_people(frame, index, holds, "guardians", school=False)


def _place_prior_year(frame, index, holds):
    return _with_people(frame, index, holds, "prior_year", school=False)


def _place_attendance(frame, index, holds):
    _hold_dates(frame, index, holds, "date", future=True)
    rows = _with_people(frame, index, holds, "attendance")
    categories = map_values(frame["code"], index.codes())
    holds.add(pd.isna(categories), Reason.UNKNOWN_CODE, "code")
    # Kept as objects (references to the code map's few category strings): a plain assignment
    # would store 3M rows of text as new Arrow strings (+95 MiB at the import's peak).
    rows["category"] = pd.Series(categories, index=rows.index, dtype=object)
    student_ids, school_ids = rows["student_id"].to_numpy(), rows["school_id"].to_numpy()
    dates = frame["date"].to_numpy(dtype="datetime64[ns]")
    known = (student_ids >= 0) & (school_ids >= 0)
    holds.add(known & ~_in_enrollment(student_ids, school_ids, dates, index), Reason.OUTSIDE_ENROLLMENT, "date")
    on_calendar, instructional = _calendar_days(school_ids, dates, index)
    holds.add(known & ~on_calendar, Reason.NO_CALENDAR_DAY, "date")
    holds.add(known & on_calendar & ~instructional, Reason.NON_INSTRUCTIONAL_DAY, "date")
    minutes = rows["minutes_absent"] if "minutes_absent" in rows else pd.Series(pd.NA, index=rows.index, dtype="Int64")
    partial = categories == AttendanceCategory.PARTIAL_DAY
    holds.add(partial & minutes.isna().to_numpy(), Reason.PARTIAL_WITHOUT_MINUTES, "minutes_absent")
    rows["minutes_absent"] = minutes
    rows["_keep"] = categories != AttendanceCategory.PRESENT
    return rows


def _in_enrollment(student_ids, school_ids, dates, index: DistrictIndex) -> np.ndarray:
    """Whether each row's day falls inside one of the student's stays at the row's school.

    The stays are taken one at a time per (student, school) pair — every pair's first stay,
    then every second one … — each round a lookup of unique keys in a hash index. A merge of
    every row with the stays of its pair held a six-column frame the size of the year's
    attendance (some 200 MiB at 3M rows) at the import's peak."""
    enrollments = index.enrollments()
    result = np.zeros(len(dates), dtype=bool)
    if not len(dates) or not len(enrollments):
        return result
    students = enrollments["student"].to_numpy(dtype="int64")
    schools = enrollments["school"].to_numpy(dtype="int64")
    width = max(int(schools.max()), int(school_ids.max())) + 1
    if max(int(students.max()), int(student_ids.max()), 0) >= 2**62 // width:
        return _in_enrollment_merged(student_ids, school_ids, dates, index)  # ids too large to pair in an int64
    keys = students * width + schools
    known = (student_ids >= 0) & (school_ids >= 0)
    row_keys = np.where(known, student_ids * width + school_ids, -1)
    entries = enrollments["entry"].to_numpy(dtype="datetime64[ns]")
    ends = enrollments["exit"].to_numpy(dtype="datetime64[ns]")
    if index.exit_inclusive:
        ends = ends + _DAY
    days = np.asarray(dates, dtype="datetime64[ns]")
    stay = pd.Series(keys).groupby(keys).cumcount().to_numpy()  # 0 for a pair's first stay, 1 …
    for rank in range(int(stay.max()) + 1):
        chosen = stay == rank
        lookup, rank_entries, rank_ends = pd.Index(keys[chosen]), entries[chosen], ends[chosen]
        for block in _blocks(len(dates)):  # temporaries of one block of rows at a time
            found = lookup.get_indexer(row_keys[block])
            hit = np.flatnonzero(found >= 0)
            position = found[hit]
            day, entry, end = days[block][hit], rank_entries[position], rank_ends[position]
            result[block.start + hit] |= (entry <= day) & (np.isnat(end) | (day < end))
    return result


def _blocks(rows: int, size: int = 500_000) -> list[slice]:
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]


def _in_enrollment_merged(student_ids, school_ids, dates, index: DistrictIndex) -> np.ndarray:
    enrollments = index.enrollments()
    events = pd.DataFrame(
        {"student": student_ids, "school": school_ids, "date": dates, "position": np.arange(len(dates))}
    )
    joined = events.merge(enrollments, on=["student", "school"], how="inner")
    ends = joined["exit"].to_numpy(dtype="datetime64[ns]")
    if index.exit_inclusive:
        ends = ends + _DAY
    day = joined["date"].to_numpy(dtype="datetime64[ns]")
    inside = (joined["entry"].to_numpy(dtype="datetime64[ns]") <= day) & (np.isnat(ends) | (day < ends))
    result = np.zeros(len(dates), dtype=bool)
    result[joined["position"].to_numpy()[inside]] = True
    return result


def _calendar_days(school_ids, dates, index: DistrictIndex) -> tuple[np.ndarray, np.ndarray]:
    """(on the calendar, instructional) per row: the school's own day, else the district default."""
    calendar = index.calendar()
    day_numbers = dates.astype("datetime64[D]").astype("int64")
    keys = pd.Index(
        calendar["school"].to_numpy() * 100_000 + calendar["date"].to_numpy(dtype="datetime64[D]").astype("int64")
    )
    flags = calendar["instructional"].to_numpy(dtype=bool)
    found = np.zeros(len(dates), dtype=bool)
    instructional = np.zeros(len(dates), dtype=bool)
    for block in _blocks(len(dates)):  # temporaries of one block of rows at a time
        own = keys.get_indexer(school_ids[block] * 100_000 + day_numbers[block])
        fallback = keys.get_indexer(DEFAULT_CALENDAR * 100_000 + day_numbers[block])
        chosen = np.where(own >= 0, own, fallback)
        found[block] = chosen >= 0
        instructional[block][found[block]] = flags[chosen[found[block]]]
    return found, instructional


def _message_params(reason: str, row, index: DistrictIndex) -> dict:
    """The figures a held row's explanation quotes (imports.messages renders it in the reader's
    language): the file's ids and codes as text, days as ISO dates."""
    values = row._asdict()
    if reason == Reason.OUTSIDE_SCHOOL_YEAR:
        window = index.window
        year = {"year": window.label, "start": window.start.isoformat(), "end": window.end.isoformat()}
        day = _iso(values.get("date"))
        return year | (
            {"day": day} if day else {"entry": _iso(values.get("entry_date")), "exit": _iso(values.get("exit_date"))}
        )
    if reason == Reason.FUTURE_DATE:
        return {"day": _iso(values.get("date")), "today": index.today.isoformat()}
    if reason == Reason.UNKNOWN_SCHOOL:
        return {"school": str(values.get("school_id"))}
    if reason == Reason.UNKNOWN_STUDENT:
        names = "first_name" in values or "last_name" in values or "school_id" in values
        return {"student": str(values.get("student_id")), "names": names}
    if reason == Reason.UNKNOWN_CODE:
        return {"code": str(values.get("code"))}
    if reason in {Reason.OUTSIDE_ENROLLMENT, Reason.NO_CALENDAR_DAY, Reason.NON_INSTRUCTIONAL_DAY}:
        return {"day": _iso(values.get("date"))}
    return {}


def _iso(value) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else ""


_PLACERS = {
    "schools": _place_schools,
    "students": _place_students,
    "enrollments": _place_enrollments,
    "calendar": _place_calendar,
    "guardians": _place_guardians,
    "prior_year": _place_prior_year,
    "attendance": _place_attendance,
}
