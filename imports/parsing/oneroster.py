"""OneRoster 1.1 and 1.2 CSV (manifest, orgs, users, demographics, academicSessions,
enrollments): schools, students, their parents and guardians, demographics and enrollments.
OneRoster carries no daily attendance or calendar; those come from another format.

Ids: the SIS's own number (`identifier`) when the export fills it, since attendance files
from the same SIS use it; the OneRoster `sourcedId` otherwise. Rows marked `tobedeleted` are
left out. A file the manifest marks `delta` only adds and updates; a `bulk` one is the whole truth
about the students it names (their enrollments, their guardians). 1.1 puts a user's role and orgs on users.csv; 1.2 moves them to roles.csv.
Enrollments are per class: a student's class enrollments at one school become one school
enrollment from the earliest begin date (or the school year's start) to the latest end date.
"""

import pandas as pd

from ..messages import said
from ..schema import ROW
from .csvread import read_csv_text
from .errors import ImportRejected
from .sources import SourceFile
from .tables import ParsedImport, SourceTable

STUDENT_ROLES = {"student"}
GUARDIAN_ROLES = {"parent", "guardian", "relative"}
RACE_COLUMNS = {
    "americanIndianOrAlaskaNative": "American Indian",
    "asian": "Asian",
    "blackOrAfricanAmerican": "Black",
    "nativeHawaiianOrOtherPacificIslander": "Pacific Islander",
    "white": "White",
}


def parse_oneroster(files: list[SourceFile], notes: list[str]) -> ParsedImport:
    sheets = {source.name.lower(): source for source in files if source.suffix == ".csv"}
    missing = [name for name in ("orgs.csv", "users.csv") if name not in sheets]
    if missing:
        raise ImportRejected.one(missing[0], None, "", said("oneroster_files_missing"))
    manifest = _manifest(sheets, notes)
    frames = {name: _active(read_csv_text(source), name, notes) for name, source in sheets.items() if name in _READ}
    users = _with_roles(frames["users.csv"], frames.get("roles.csv"), manifest.get("oneroster.version", "1.1"))
    tables = [_schools(frames["orgs.csv"])]
    ids = _student_ids(users)
    tables.append(_students(users, frames.get("demographics.csv"), ids))
    guardians = _guardians(users, ids)
    if guardians is not None:
        guardians.scope = None if _delta(manifest, "users") else guardians.scope
        tables.append(guardians)
    if "enrollments.csv" in frames:
        enrollments = _enrollments(
            frames["enrollments.csv"], frames["orgs.csv"], ids, frames.get("academicsessions.csv")
        )
        enrollments.scope = None if _delta(manifest, "enrollments") else enrollments.scope
        tables.append(enrollments)
    return ParsedImport([table for table in tables if len(table.text)], notes)


_READ = {"orgs.csv", "users.csv", "roles.csv", "demographics.csv", "enrollments.csv", "academicsessions.csv"}


def _manifest(sheets: dict, notes: list[str]) -> dict[str, str]:
    if "manifest.csv" not in sheets:
        notes.append(said("note_oneroster_no_manifest"))
        return {}
    manifest = read_csv_text(sheets["manifest.csv"])
    properties = dict(zip(manifest.iloc[:, 0], manifest.iloc[:, 1])) if manifest.shape[1] >= 3 else {}
    notes.append(said("note_oneroster_version", version=properties.get("oneroster.version", "1.1")))
    return properties


def _delta(manifest: dict[str, str], name: str) -> bool:
    return manifest.get(f"file.{name}", "").strip().lower() == "delta"


def _active(frame: pd.DataFrame, name: str, notes: list[str]) -> pd.DataFrame:
    if "status" not in frame.columns:
        return frame
    deleted = frame["status"].str.lower() == "tobedeleted"
    if deleted.any():
        notes.append(said("note_oneroster_tobedeleted", file=name, count=int(deleted.sum())))
    return frame[~deleted]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series("", index=frame.index, dtype=str)


def _with_roles(users: pd.DataFrame, roles: pd.DataFrame | None, version: str) -> pd.DataFrame:
    """users with one `role` column: 1.1 has it; 1.2 takes the primary role from roles.csv."""
    if "role" in users.columns or roles is None:
        return users.assign(role=_column(users, "role").str.lower())
    ranked = roles.assign(primary=_column(roles, "roleType").str.lower() != "primary").sort_values(["primary", ROW])
    first = ranked.drop_duplicates("userSourcedId").set_index("userSourcedId")["role"].str.lower()
    return users.assign(role=users["sourcedId"].map(first).fillna(""))


def _school_ids(orgs: pd.DataFrame) -> pd.Series:
    schools = orgs[_column(orgs, "type").str.lower() == "school"]
    return pd.Series(_preferred(schools).to_numpy(), index=schools["sourcedId"].to_numpy())


def _preferred(frame: pd.DataFrame) -> pd.Series:
    identifier = _column(frame, "identifier")
    return identifier.where(identifier != "", frame["sourcedId"])


def _schools(orgs: pd.DataFrame) -> SourceTable:
    schools = orgs[_column(orgs, "type").str.lower() == "school"]
    text = pd.DataFrame({"school_id": _preferred(schools), "name": schools["name"], ROW: schools[ROW]})
    return SourceTable("schools", "orgs.csv", text.reset_index(drop=True))


def _student_ids(users: pd.DataFrame) -> pd.Series:
    students = users[users["role"].isin(STUDENT_ROLES)]
    return pd.Series(_preferred(students).to_numpy(), index=students["sourcedId"].to_numpy())


def _students(users: pd.DataFrame, demographics: pd.DataFrame | None, ids: pd.Series) -> SourceTable:
    students = users[users["role"].isin(STUDENT_ROLES)]
    grades = _column(students, "grades").str.split(",").str[0].fillna("").str.strip()
    text = pd.DataFrame(
        {
            "student_id": students["sourcedId"].map(ids),
            "first_name": _column(students, "givenName"),
            "last_name": _column(students, "familyName"),
            "grade": grades,
        }
    )
    if demographics is not None:
        text = text.join(
            _demographics(demographics).reindex(students["sourcedId"].to_numpy()).set_axis(text.index)
        ).fillna("")
    text[ROW] = students[ROW]
    return SourceTable("students", "users.csv", text.reset_index(drop=True))


def _demographics(demographics: pd.DataFrame) -> pd.DataFrame:
    yes = {
        column: _column(demographics, column).str.lower() == "true"
        for column in [*RACE_COLUMNS, "hispanicOrLatinoEthnicity", "demographicRaceTwoOrMoreRaces"]
    }
    races = pd.DataFrame({label: yes[column] for column, label in RACE_COLUMNS.items()})
    single = races.idxmax(axis=1).where(races.sum(axis=1) == 1, "")
    several = (races.sum(axis=1) > 1) | yes["demographicRaceTwoOrMoreRaces"]
    race = single.where(~several, "Two or more").where(~yes["hispanicOrLatinoEthnicity"], "Hispanic")
    return pd.DataFrame(
        {
            "birth_date": _column(demographics, "birthDate").str.slice(0, 10).to_numpy(),
            "race_ethnicity": race.to_numpy(),
        },
        index=demographics["sourcedId"].to_numpy(),
    )


def _guardians(users: pd.DataFrame, ids: pd.Series) -> SourceTable | None:
    """A parent's agentSourcedIds name their students, and a student's name their parents:
    either side of the link is enough."""
    parents = users[users["role"].isin(GUARDIAN_ROLES)].set_index("sourcedId", drop=False)
    if parents.empty:
        return None
    links: dict[tuple[str, str], int] = {}
    for parent_id, agents, row in zip(parents["sourcedId"], _column(parents, "agentSourcedIds"), parents[ROW]):
        for student_id in _split(agents):
            links.setdefault((parent_id, student_id), row)
    students = users[users["role"].isin(STUDENT_ROLES)]
    for student_id, agents in zip(students["sourcedId"], _column(students, "agentSourcedIds")):
        for parent_id in _split(agents):
            if parent_id in parents.index:
                links.setdefault((parent_id, student_id), parents.at[parent_id, ROW])
    rows = []
    for (parent_id, student_id), row in sorted(links.items(), key=lambda link: link[1]):
        if student_id not in ids.index:
            continue
        parent = parents.loc[parent_id]
        rows.append({
            "student_id": ids[student_id],
            "name": f"{parent.get('givenName', '')} {parent.get('familyName', '')}".strip(),
            "relationship": parent["role"],
            "phone": parent.get("phone", "") or parent.get("sms", ""),
            "email": parent.get("email", ""),
            ROW: int(row),
        })  # fmt: skip
    return SourceTable("guardians", "users.csv", pd.DataFrame(rows)) if rows else None


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def _enrollments(enrollments, orgs, ids: pd.Series, sessions: pd.DataFrame | None) -> SourceTable:
    students = enrollments[_column(enrollments, "role").str.lower().isin(STUDENT_ROLES)]
    schools = _school_ids(orgs)
    year_start = _year_start(sessions)
    frame = pd.DataFrame(
        {
            "student_id": students["userSourcedId"].map(ids),
            "school_id": students["schoolSourcedId"].map(schools),
            "entry_date": _column(students, "beginDate").str.slice(0, 10).replace("", year_start),
            "exit_date": _column(students, "endDate").str.slice(0, 10),
            ROW: students[ROW],
        }
    )
    # An enrollment naming an unknown user or school keeps its sourcedId, to be held as unknown.
    frame["student_id"] = frame["student_id"].fillna(students["userSourcedId"])
    frame["school_id"] = frame["school_id"].fillna(students["schoolSourcedId"])
    stays = frame.groupby(["student_id", "school_id"], sort=False).agg(
        entry_date=("entry_date", "min"),
        exit_date=("exit_date", lambda ends: "" if (ends == "").any() else ends.max()),
        **{ROW: (ROW, "min")},
    )
    return SourceTable("enrollments", "enrollments.csv", stays.reset_index())


def _year_start(sessions: pd.DataFrame | None) -> str:
    if sessions is None or "startDate" not in sessions.columns:
        return ""
    years = sessions[_column(sessions, "type").str.lower() == "schoolyear"]
    starts = (years if len(years) else sessions)["startDate"].str.slice(0, 10)
    return starts[starts != ""].min() if (starts != "").any() else ""
