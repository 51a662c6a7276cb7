"""A run's fired rules, staged in a table of the run's own for the set-based flag sync.

Why: the flag sync used to hold the whole district's result in one process (every student's
row, every absent day, every open flag read back into pandas) to decide which flags open, hold,
lapse or end. Instead each chunk of students, as it is computed — in this process or in a chunk
task on another worker — writes one row per fired (student, rule): the student's last counted
absence (what "resolved means resolved" compares) and, for a pair with no open flag that holds
tonight, the figures its "why" will quote. The swap then syncs every flag in a few statements
(tiers.lifecycle.flags_sync_from_candidates), reading this table and tiers_flag only.

The table is the run's own, like its result partitions: UNLOGGED on PostgreSQL (it is rebuilt
from the stored attendance whenever the run is, so it needs no WAL), dropped when the run ends.
"""

import json

import numpy as np
import pandas as pd
from django.db import connection

from districts.models import District
from districts.tenancy import district_fetchall

from .engine_io import EngineResult
from .policy import RULE_TIERS, Policy
from .why import why_params
from .writing import insert_frame_into

COLUMNS = ["student_id", "rule", "tier", "last_absence", "why_params"]


def table_name(run_id: int) -> str:
    return f"tiers_flagcandidates_run{int(run_id)}"


def create(run_id: int) -> str:
    """A fresh, empty table for the run (a leftover of a killed attempt is replaced)."""
    table = table_name(run_id)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
        cursor.execute(
            f'CREATE {"UNLOGGED " if postgres else ""}TABLE "{table}" ('
            "student_id bigint NOT NULL, rule varchar(32) NOT NULL, tier smallint NOT NULL, "
            "last_absence date NULL, why_params text NULL, opens boolean NOT NULL DEFAULT false, follows_id bigint NULL)"
        )
    return table


def clear(run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{table_name(run_id)}"')


def index(run_id: int) -> None:
    """One index for the sync's joins, built once every chunk has written (faster than per row)."""
    table = table_name(run_id)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX IF NOT EXISTS "{table}_pair" ON "{table}" (student_id, rule)')
        if connection.vendor == "postgresql":
            cursor.execute(f'ANALYZE "{table}"')


def drop(run_ids) -> None:
    with connection.cursor() as cursor:
        for run_id in run_ids:
            cursor.execute(f'DROP TABLE IF EXISTS "{table_name(run_id)}"')


def staged_runs() -> set[int]:
    """Runs whose candidates table exists now (one catalog query, every district's)."""
    prefix = table_name(0).removesuffix("0")
    return {
        int(name.removeprefix(prefix))
        for name in connection.introspection.table_names()
        if name.startswith(prefix) and name.removeprefix(prefix).isdigit()
    }


def drop_leftovers(*, finished) -> list[int]:
    """Drop the tables of runs that will never sync again: a run killed after creating its table
    and before its first chunk wrote a row (or before its end dropped it) leaves it behind, and
    the result sweeps look for rows, not for this table. `finished(ids)` says which of these runs
    are done (failed, succeeded or gone); the table of a queued or running run is kept."""
    staged = staged_runs()
    leftover = sorted(finished(staged)) if staged else []
    if leftover:
        drop(leftover)
    return leftover


HOLDING_SQL = """
    SELECT student_id, rule FROM tiers_flag
    WHERE district_id = %(district_id)s AND status IN ('new', 'in_progress') AND currently_met = %(true)s
      AND (student_id %% %(chunks)s) = %(chunk)s
"""


def stage(
    district: District, run_id: int, result: EngineResult, policy: Policy, *, chunk: tuple[int, int] = (0, 1)
) -> int:
    """Write the chunk's fired (student, rule) pairs. The figures of a "why" are worked out only
    for pairs without an open flag that holds now: the few that may open or hold again tonight,
    not the 240,000 that simply go on holding at 200,000 students."""
    fired = result.students["rules"].explode().dropna().rename("rule").reset_index()
    if fired.empty:
        return 0
    fired["rule"] = fired["rule"].astype(str)
    last_absence = pd.to_datetime(result.absences.groupby("student_id")["date"].max()).dt.date
    fired["tier"] = fired["rule"].map(RULE_TIERS).astype("int64")
    last = fired["student_id"].map(last_absence).astype(object)
    fired["last_absence"] = last.where(last.notna(), None)
    holding = pd.DataFrame(
        district_fetchall(district, HOLDING_SQL, {"true": True, "chunk": chunk[0], "chunks": chunk[1]}),
        columns=["student_id", "rule"],
    )
    known = fired.merge(holding.drop_duplicates(), on=["student_id", "rule"], how="left", indicator=True)
    needs_why = (known["_merge"] == "left_only").to_numpy()
    whys = _whys(fired[needs_why], result.students, result.absences, policy)
    fired["why_params"] = None
    fired.loc[needs_why, "why_params"] = [json.dumps(params) for params in whys]
    insert_frame_into(table_name(run_id), fired[COLUMNS])
    return len(fired)


def _whys(pairs: pd.DataFrame, students: pd.DataFrame, absences: pd.DataFrame, policy: Policy) -> list[dict]:
    needed = absences[absences["student_id"].isin(pairs["student_id"])]
    membership = students["membership_days"].reindex(needed["student_id"]).to_numpy()
    recent_window = policy.rule("t2_recent_absences").window
    early_window = policy.rule("t2_first_10_days").window
    recent = _dates_by_student(needed[needed["ordinal"].to_numpy() > membership - recent_window])
    early = _dates_by_student(needed[needed["ordinal"] <= early_window])
    rows = students.loc[pairs["student_id"]]
    return [
        why_params(rule, row, recent.get(student, []), early.get(student, []), policy)
        for rule, student, row in zip(pairs["rule"], pairs["student_id"], rows.itertuples())
    ]


def _dates_by_student(absences: pd.DataFrame) -> dict[int, list]:
    ordered = absences.sort_values(["student_id", "date"], kind="stable")
    students, starts = np.unique(ordered["student_id"].to_numpy(), return_index=True)
    chunks = np.split(ordered["date"].to_numpy(), starts[1:])
    return dict(zip(students.tolist(), (list(chunk) for chunk in chunks)))
