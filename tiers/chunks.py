"""The engine over a district in chunks of students, for bounded memory and, next, parallel workers.

Every figure the engine computes is one student's (their enrollments, records, prior years and
Tier 2 plans); only the calendar is shared. So a district splits by student: chunk k of n holds
the students whose id mod n is k — stable from night to night and the same in SQL
(`mod(student_id, n) = k`, see tiers.loading) and here, so all of one student's schools, records
and years land in the same chunk. Each chunk's result is the whole run's result restricted to
its students; tests/test_engine_chunks.py holds the combined result identical to one pass.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from . import engine
from .engine_io import EngineInput, EngineResult


def chunk_of(student_ids, chunks: int) -> np.ndarray:
    return np.asarray(student_ids, dtype="int64") % chunks


def inputs_chunk(inputs: EngineInput, chunk: int, chunks: int) -> EngineInput:
    """The inputs of the chunk's students (the whole calendar)."""

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[chunk_of(frame["student_id"], chunks) == chunk].reset_index(drop=True)

    return EngineInput(
        calendar=inputs.calendar,
        enrollments=mine(inputs.enrollments),
        records=mine(inputs.records),
        prior_years=mine(inputs.prior_years),
        students=mine(inputs.students),
    )


def compute_in_chunks(
    load: Callable[[int, int], EngineInput], *, chunks: int, as_of, policy, tier2_plans=None
) -> EngineResult:
    """engine.compute one chunk at a time: `load(chunk, chunks)` gives a chunk's inputs, so only
    one chunk's records and the engine's work on them are in memory at once."""
    results = []
    for chunk in range(chunks):
        plans = None
        if tier2_plans is not None:
            plans = tier2_plans[chunk_of(tier2_plans["student_id"], chunks) == chunk]
        results.append(engine.compute(load(chunk, chunks), as_of=as_of, policy=policy, tier2_plans=plans))
    return combine(results)


def combine(results: list[EngineResult]) -> EngineResult:
    """One result from the chunks' results, in the order one pass gives (by student; within a
    student, the order the engine gave)."""

    def joined(frames: list[pd.DataFrame], *, index: bool = False) -> pd.DataFrame:
        kept = [frame for frame in frames if len(frame)] or frames[:1]
        frame = pd.concat(kept) if len(kept) > 1 else kept[0].copy()
        if index:
            return frame.sort_index(kind="stable")
        return frame.sort_values("student_id", kind="stable").reset_index(drop=True)

    return EngineResult(
        students=joined([r.students for r in results], index=True),
        student_schools=joined([r.student_schools for r in results]),
        absences=joined([r.absences for r in results]),
        skipped=joined([r.skipped for r in results]),
    )
