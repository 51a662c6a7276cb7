"""One import, start to finish: read every file, then place and load entity by entity inside a
single transaction, holding what cannot be placed.

Reading comes first and writes nothing, so a file that cannot be parsed rejects the import
with the district's data untouched. Loading follows the entity order (schools before the
students who attend them, enrollments and calendars before the attendance checked against
them) and is all-or-nothing: a failure half-way rolls everything back.
"""

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable
from fractions import Fraction

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from districts.models import District, School
from districts.tenancy import district_sql
from students.models import AttendanceCode
from students.services import attendance_codes_install_defaults

from . import unchanged
from .loading import Counts, Journal, load_entity
from .models import ImportChange, ImportRun, QuarantinedRow
from .models import QuarantineReason as Reason
from .parsing import ParsedImport
from .parsing.typing import typed_frame
from .placing import DistrictIndex, Placement, place
from .schema import ENTITIES, FILE, LOAD_ORDER, ROW

ADVISORY_LOCK_NAMESPACE = 72001  # one import at a time per district; other districts run freely
Progress = Callable[..., None]
# The removal guard (issue 9): an import stops before writing anything, unless confirmed, when at
# one school it would remove more than GUARD_ROWS rows of one kind that are also more than
# GUARD_SHARE of the rows of that kind its files cover there. A day's corrections pass; a
# school's year does not.
GUARD_ROWS = 50
GUARD_SHARE = Fraction(5, 100)


class RemovalsNeedConfirmation(Exception):
    """Raised inside the import's transaction, so that everything it wrote is rolled back."""

    def __init__(self, removals: list[dict]):
        self.removals = removals
        super().__init__(f"{sum(entry['removed'] for entry in removals)} rows would be removed")


@dataclasses.dataclass
class EntityOutcome:
    read: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    quarantined: int = 0
    duplicates: int = 0
    dropped: int = 0  # present days, which are not stored
    resolved: int = 0  # held rows a replay placed

    def add(self, other: "EntityOutcome") -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclasses.dataclass
class Outcome:
    entities: dict[str, EntityOutcome] = dataclasses.field(default_factory=dict)
    removals: list[dict] = dataclasses.field(default_factory=list)  # the guard's report, per entity and school

    def total(self, name: str) -> int:
        return sum(getattr(outcome, name) for outcome in self.entities.values())


def import_parsed(*, run: ImportRun, parsed: ParsedImport, install_default_codes: bool, progress: Progress) -> Outcome:
    """Load a parsed import. Raises ImportRejected (nothing written) if a file cannot be read,
    and RemovalsNeedConfirmation (nothing written) when the removal guard stops it."""
    progress(stage="reading")
    district = run.district
    index = DistrictIndex(district, school_year=run.school_year)
    hashing = unchanged.enabled()
    digests = (
        unchanged.file_digests(parsed, district=district, window=index.window, school_year=run.school_year)
        if hashing
        else {}
    )
    previous = unchanged.previous_imports(district, digests) if digests else {}
    # Text that hashes as an earlier import's read without error then and reads the same now:
    # it is typed only if the entity turns out to need loading after all.
    typed = parsed.typed(skip=set(previous))
    progress(rows_read=parsed.rows_read)
    present = {table.entity for table in parsed.tables}
    raw_rows = _RawRows(parsed)
    outcome = Outcome()
    journal = Journal(district.pk, run.pk, guard_rows=GUARD_ROWS)
    removals: dict[str, Counts] = {}
    with transaction.atomic():
        lock_district(district)
        with _codes_journaled(run):
            if install_default_codes and not AttendanceCode.objects.exists():
                attendance_codes_install_defaults(district=district)
            _install_standard_codes(district, parsed.standard_codes)
        # The stored rows' hashes, kept current as entities load (None: written by this import).
        states = unchanged.table_states(district) if previous else {}
        entities = [entity for entity in LOAD_ORDER if entity in present]
        for step, entity in enumerate(entities, start=1):
            progress(stage=f"loading:{entity}", step=step - 1, steps=len(entities))
            if unchanged.unchanged(entity, previous.get(entity), states, today=index.today):
                outcome.entities[entity] = _as_before(previous[entity], entity)
                raw_rows.release(entity)
                progress(step=step)
                continue
            if entity not in typed:
                typed.update(parsed.typed(only={entity}))
            raw_rows.start(entity)
            result = outcome.entities.setdefault(entity, EntityOutcome())
            for frame, scope in typed.pop(entity):
                placement = place(entity, frame, index, scope=scope)
                counts = load_entity(district, entity, placement.rows, placement.scope, journal)
                removed = removals.setdefault(entity, Counts())
                removed += counts
                result.add(_record(run, entity, frame, placement, counts, raw_rows.get))
                index.forget(*_CHANGES[entity])
            if result.added or result.changed or result.removed or not states:
                states[unchanged.ENTITY_TABLES[entity]] = None
            raw_rows.release(entity)
            progress(
                rows_written=outcome.total("added") + outcome.total("changed"),
                rows_quarantined=outcome.total("quarantined"),
                step=step,
            )
        outcome.removals = removal_report(removals)
        if not run.allow_removals and any(entry["over"] for entry in outcome.removals):
            raise RemovalsNeedConfirmation(outcome.removals)
        if hashing:
            known = {table: state for table, state in states.items() if state is not None}
            missing = [table for table in unchanged.ALL_TABLES if table not in known]
            run.fingerprints = {
                "entities": digests,
                "tables": {**known, **unchanged.table_states(district, missing)},
                "today": index.today.isoformat(),
            }
    return outcome


def _as_before(previous: ImportRun, entity: str) -> EntityOutcome:
    """An unchanged entity's figures: what the same rows read to before, nothing written."""
    counts = previous.entity_counts[entity]
    return EntityOutcome(read=counts.get("read", 0), dropped=counts.get("dropped", 0))


def removal_report(removals: dict[str, Counts]) -> list[dict]:
    """What an import removes, per entity and school, largest first; `over` marks what the
    guard will not let through unconfirmed."""
    schools = {
        school.pk: school
        for school in School.objects.filter(
            pk__in=[school for counts in removals.values() for school in counts.removed_by_school if school]
        )
    }
    report = []
    for entity, counts in removals.items():
        for school_id, removed in counts.removed_by_school.items():
            if not removed:
                continue
            covered = counts.covered_by_school.get(school_id)
            school = schools.get(school_id)
            report.append(
                {
                    "entity": entity,
                    "label": str(ENTITIES[entity].label),
                    "school_id": school_id,
                    "school": f"{school.name} ({school.sis_id})" if school else "",
                    "removed": removed,
                    "covered": covered,
                    "over": removed > GUARD_ROWS and covered is not None and removed > GUARD_SHARE * covered,
                }
            )
    return sorted(report, key=lambda entry: (-entry["removed"], entry["entity"], entry["school"]))


@contextlib.contextmanager
def _codes_journaled(run: ImportRun):
    """Codes an import adds to the district's map are journaled, so an undo takes them back."""
    before = set(AttendanceCode.objects.values_list("pk", flat=True))
    yield
    added = sorted(set(AttendanceCode.objects.values_list("pk", flat=True)) - before)
    if added:
        ImportChange.objects.create(
            district=run.district,
            run=run,
            model=AttendanceCode._meta.label_lower,
            action=ImportChange.Action.ADDED,
            row_ids=added,
        )


def replay_held(*, run: ImportRun, rows: list[QuarantinedRow], progress: Progress) -> Outcome:
    """Place held rows again against the district as it is now (codes mapped, students added,
    calendar fixed). Placed rows are written and marked resolved; the rest stay held with their
    current reason. A replay never removes stored rows: it has no file to be the truth."""
    outcome = Outcome()
    district = run.district
    journal = Journal(district.pk, run.pk)
    with transaction.atomic():
        lock_district(district)
        index = DistrictIndex(district)
        frames = _held_frames(rows)
        entities = [entity for entity in LOAD_ORDER if entity in frames]
        progress(rows_read=len(rows))
        for step, entity in enumerate(entities, start=1):
            progress(stage=f"replaying:{entity}", step=step - 1, steps=len(entities))
            result = outcome.entities.setdefault(entity, EntityOutcome())
            for frame, held, school_year in frames[entity]:
                index.school_year = school_year  # each held row is read against its own import's year
                placement = place(entity, frame, index)
                counts = load_entity(district, entity, placement.rows, None, journal)
                result.add(_settle(run, held, placement, counts))
                index.forget(*_CHANGES[entity])
            progress(rows_written=outcome.total("added") + outcome.total("changed"), step=step)
    return outcome


_CHANGES = {
    "schools": ["schools"],
    "students": ["students"],
    "enrollments": ["enrollments"],
    "calendar": ["calendar"],
    "guardians": [],
    "prior_year": [],
    "attendance": [],
}


def lock_district(district: District) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers on its own
    with connection.cursor() as cursor:
        sql, params = district_sql(
            district,
            "SELECT pg_advisory_xact_lock(%(namespace)s, %(district_id)s)",
            {"namespace": ADVISORY_LOCK_NAMESPACE},
        )
        cursor.execute(sql, params)


def _install_standard_codes(district: District, codes: dict[str, str]) -> None:
    """Codes whose meaning a standard fixes (Ed-Fi descriptors) join the district's map; a code
    the district already mapped keeps the district's meaning."""
    if not codes:
        return
    existing = set(AttendanceCode.objects.values_list("code", flat=True))
    new = [
        AttendanceCode(district=district, code=code, category=category)
        for code, category in codes.items()
        if code not in existing
    ]
    for code in new:
        code.full_clean()
    AttendanceCode.objects.bulk_create(new)


class _RawRows:
    """The file's own row for a held one. The (file, row) index of an entity is built on first
    use only, and an entity's text is let go once it is loaded (a year of attendance is large)."""

    def __init__(self, parsed: ParsedImport):
        self.parsed = parsed
        self.entity = None
        self.lookup = None

    def get(self, file: str, row: int) -> dict:
        if self.lookup is None:
            self.lookup = self.parsed.raw_lookup(self.entity)
        found = self.lookup.get((file, row))
        return found[0].raw_row(found[1]) if found else {}

    def start(self, entity: str) -> None:
        self.entity, self.lookup = entity, None

    def release(self, entity: str) -> None:
        self.parsed.tables = [table for table in self.parsed.tables if table.entity != entity]
        self.lookup = None


def _record(run, entity, frame, placement: Placement, counts: Counts, raw_of) -> EntityOutcome:
    held = _quarantine_rows(run, entity, frame, placement.held, raw_of, resolved=False)
    duplicates = pd.DataFrame(
        {"reason": Reason.DUPLICATE, "field": "", "params": [{}] * len(placement.duplicates)},
        index=placement.duplicates,
    )
    collapsed = _quarantine_rows(run, entity, frame, duplicates, raw_of, resolved=True)
    QuarantinedRow.objects.bulk_create([*held, *collapsed], batch_size=2000)
    _supersede(run, [row.row_hash for row in held])
    return EntityOutcome(
        read=len(frame),
        added=counts.added,
        changed=counts.changed,
        removed=counts.removed,
        quarantined=len(held),
        duplicates=len(collapsed),
        dropped=placement.dropped,
    )


def _quarantine_rows(run, entity, frame, reasons: pd.DataFrame, raw_of, *, resolved: bool) -> list[QuarantinedRow]:
    if reasons.empty:
        return []
    rows = frame.loc[reasons.index]
    values = canonical_values(rows.drop(columns=[FILE, ROW]))
    now = timezone.now()
    held = []
    for (index, reason), row_values in zip(reasons.iterrows(), values):
        file, row = str(rows.at[index, FILE]), int(rows.at[index, ROW])
        held.append(
            QuarantinedRow(
                district=run.district,
                run=run,
                entity=entity,
                file_name=file,
                row_number=row,
                field=reason["field"],
                reason=reason["reason"],
                message_params=reason["params"],
                code=row_values.get("code", "")[:32] if entity == "attendance" else "",
                school_sis_id=row_values.get("school_id", "")[:64],
                row_hash=row_hash(entity, row_values),
                values=row_values,
                raw=raw_of(file, row),
                resolved=resolved,
                resolution=QuarantinedRow.Resolution.COLLAPSED if resolved else "",
                resolved_at=now if resolved else None,
            )
        )
    return held


def _supersede(run: ImportRun, hashes: list[str]) -> None:
    """A row held again by a later import replaces its earlier copy, so re-importing the same
    file does not double the quarantine list."""
    now = timezone.now()
    for start in range(0, len(hashes), 5000):
        QuarantinedRow.objects.filter(resolved=False, row_hash__in=hashes[start : start + 5000]).exclude(
            run=run
        ).update(resolved=True, resolution=QuarantinedRow.Resolution.SUPERSEDED, resolved_at=now, resolved_by_run=run)


def canonical_values(frame: pd.DataFrame) -> list[dict]:
    """Typed rows back as canonical text (ISO dates, Y/N), which a replay reads again."""
    columns = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            columns[column] = ["" if pd.isna(value) else value.date().isoformat() for value in series]
        elif pd.api.types.is_bool_dtype(series):
            columns[column] = ["Y" if value else "N" for value in series.to_numpy()]
        else:
            columns[column] = ["" if pd.isna(value) else str(value) for value in series]
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def row_hash(entity: str, values: dict) -> str:
    return hashlib.sha1(json.dumps([entity, values], sort_keys=True).encode()).hexdigest()


def _held_frames(rows: list[QuarantinedRow]) -> dict[str, list[tuple[pd.DataFrame, list[QuarantinedRow], str]]]:
    """Held rows as typed frames again, one per entity, column set and school year (as an import
    loads them)."""
    grouped: dict[tuple, list[QuarantinedRow]] = {}
    for row in rows:
        key = (row.entity, tuple(sorted(row.values)), row.run.school_year, row.file_name)
        grouped.setdefault(key, []).append(row)
    shapes: dict[tuple, tuple[list, list]] = {}
    for (entity, columns, school_year, file), group in grouped.items():
        text = pd.DataFrame([row.values for row in group], dtype=str).fillna("")
        text[ROW] = [row.row_number for row in group]
        parts = shapes.setdefault((entity, columns, school_year), ([], []))
        parts[0].append(typed_frame(entity, text, file=file))
        parts[1].extend(group)
    frames: dict[str, list] = {}
    for (entity, _, school_year), (parts, held) in shapes.items():
        frames.setdefault(entity, []).append((pd.concat(parts, ignore_index=True), held, school_year))
    return frames


def _settle(run: ImportRun, held: list[QuarantinedRow], placement: Placement, counts: Counts) -> EntityOutcome:
    now = timezone.now()
    still = placement.held
    placed, changed = [], []
    for position, row in enumerate(held):
        if position in still.index:
            reason = still.loc[position]
            if row.reason != reason["reason"]:
                row.reason, row.field = reason["reason"], reason["field"]
                row.message, row.message_params = "", reason["params"]
                changed.append(row)
        else:
            row.resolved, row.resolution, row.resolved_at = True, QuarantinedRow.Resolution.REPLAYED, now
            row.resolved_by_run = run
            placed.append(row)
    QuarantinedRow.objects.bulk_update(
        [*placed, *changed],
        ["resolved", "resolution", "resolved_at", "resolved_by_run", "reason", "field", "message", "message_params"],
        batch_size=2000,
    )
    return EntityOutcome(
        read=len(held),
        added=counts.added,
        changed=counts.changed,
        quarantined=len(still),
        resolved=len(placed),
        dropped=placement.dropped,
    )
