"""Finding "nothing changed" by hashing, so that the same files imported again are not placed
and compared row by row.

A district's nightly export often carries files that did not change since the last import (the
roster, the calendar, and when it is run twice, everything). An entity of an import is left
alone (its rows are neither typed, placed nor written) when all of this holds:

- its files' text hashes the same as in the last successful import that brought the entity,
  read the same way (file names, headers, date formats, scope) against the same district
  settings (school year, exit-date rule, time zone), on the same day as that import or later;
- that import held none of the entity's rows and collapsed no duplicates, so an import of the
  same rows would record nothing either;
- the district's stored rows of the entity and of everything its rows are placed against
  (schools, students, enrollments, calendar, codes, school aliases) hash exactly as they did
  when that import finished: no undo, replay, later import or hand edit changed them.

Together these make the import a no-op for that entity: the upsert would write nothing and the
file's scope would remove nothing. The stored hash of a table is the count and the sum of a
hash of every row of the district (PostgreSQL's hash_record_extended over the row's values:
0.9 s for 3M attendance rows, where hashing the row's text took 1.5 s), taken inside the
import's transaction; any write to any row changes it. States stored under another hash differ,
so the next import takes the full path once. Other databases (the embedded SQLite demo) always
take the full path.
"""

import hashlib
import json

import pandas as pd
from django.db import connection

from districts.models import District
from districts.tenancy import district_sql
from students.models import AttendanceCode

from .loading import TABLES
from .models import ImportRun, SchoolAlias
from .parsing import ParsedImport
from .schema import LOAD_ORDER

# The tables holding each entity's stored rows (the loader's own).
ENTITY_TABLES = {entity: TABLES[entity].db_table for entity in LOAD_ORDER}
# Tables every placement may read besides the entities loaded before it.
LOOKUP_TABLES = (AttendanceCode._meta.db_table, SchoolAlias._meta.db_table)
ALL_TABLES = (*ENTITY_TABLES.values(), *LOOKUP_TABLES)
# Part of every hash: raise it when the way files are read or rows placed changes, so that
# files imported under the old rules are read again under the new ones.
READING = 1


def enabled() -> bool:
    return connection.vendor == "postgresql"


def inputs_of(entity: str) -> list[str]:
    """The tables an entity's outcome depends on: its own and those of the entities before it."""
    before = LOAD_ORDER[: LOAD_ORDER.index(entity) + 1]
    return [*(ENTITY_TABLES[name] for name in before), *LOOKUP_TABLES]


def file_digests(parsed: ParsedImport, *, district: District, window, school_year: str) -> dict[str, str]:
    """entity → a hash of its files' text and of everything that decides how it is read and placed."""
    settings = {
        "school_year": school_year,
        "window": [window.start.isoformat(), window.end.isoformat()],
        "exit_inclusive": bool((district.settings or {}).get("exit_date_inclusive", False)),
        "timezone": str(district.timezone),
    }
    digests: dict[str, hashlib._Hash] = {}
    for table in parsed.tables:
        digest = digests.get(table.entity)
        if digest is None:
            digest = digests[table.entity] = hashlib.sha256()
            digest.update(json.dumps(settings, sort_keys=True).encode())
        how = [READING, table.file, table.scope, table.formats, table.date_default]
        if table.source_digest:  # a CSV file not read yet: its bytes and how they will be read
            how.append(table.source_digest)
        else:
            how += [table.headers, list(table.text.columns), _text_digest(table.text).hex()]
        digest.update(json.dumps(how, sort_keys=True, default=str).encode())
    return {entity: digest.hexdigest() for entity, digest in digests.items()}


def _text_digest(text: pd.DataFrame) -> bytes:
    """The rows in order (line numbers included): a 64-bit hash per row, hashed together."""
    if text.empty:
        return b"empty"
    rows = pd.util.hash_pandas_object(text, index=False).to_numpy()
    return hashlib.sha256(rows.tobytes()).digest()


def table_states(district: District, tables=ALL_TABLES) -> dict[str, str]:
    """table → "count:sum of row hashes" of the district's stored rows, as they are now."""
    states = {}
    with connection.cursor() as cursor:
        for table in tables:
            sql = f"SELECT count(*), coalesce(sum(hash_record_extended(t, 0)), 0) FROM {table} t WHERE t.district_id = %(district_id)s"
            cursor.execute(*district_sql(district, sql))
            count, total = cursor.fetchone()
            states[table] = f"{count}:{total}"
    return states


def previous_imports(district: District, digests: dict[str, str]) -> dict[str, ImportRun]:
    """entity → the last successful import that brought it, when its files hashed the same."""
    found: dict[str, ImportRun] = {}
    # Only runs that fingerprinted one of these entities: the others change nothing below, and
    # a district's older history (before fingerprints, other entities) need not be walked.
    runs = ImportRun.objects.filter(
        district=district, kind=ImportRun.Kind.IMPORT, status=ImportRun.Status.SUCCEEDED,
        fingerprints__entities__has_any_keys=list(digests),
    ).order_by("-finished_at", "-id")  # fmt: skip
    wanted = set(digests)
    for run in runs.only("id", "fingerprints", "entity_counts").iterator(chunk_size=50):
        entities = (run.fingerprints or {}).get("entities", {})
        for entity in wanted & set(entities):
            if entities[entity] == digests[entity]:
                found[entity] = run
        wanted -= set(entities)  # the last import of an entity is the one to compare with
        if not wanted:
            break
    return found


def unchanged(entity: str, previous: ImportRun | None, states: dict[str, str | None], *, today) -> bool:
    """Whether importing the entity again would write and hold nothing (see the module's doc).
    `states` holds the tables' hashes now; None for a table this import has written to."""
    if previous is None:
        return False
    counts = (previous.entity_counts or {}).get(entity) or {}
    if counts.get("quarantined", 1) or counts.get("duplicates", 1):
        return False
    # No attendance was held as dated after that import's today; a later today holds nothing
    # either (a nightly export's unchanged attendance the next morning), an earlier one might.
    if entity == "attendance" and today.isoformat() < (previous.fingerprints or {}).get("today", "9999-12-31"):
        return False
    stored = (previous.fingerprints or {}).get("tables", {})
    return all(states.get(table) is not None and states.get(table) == stored.get(table) for table in inputs_of(entity))
