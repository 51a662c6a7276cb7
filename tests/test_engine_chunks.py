"""The engine in chunks of students gives exactly the one-pass result (issue 14): on random small
districts (the property tests' awkward corners: overlapping enrollments, holes, fractional
days, Tier 2 plans) and on a district read from the database chunk by chunk."""

import pandas as pd
import pytest
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiers import chunks, engine
from tiers.loading import SchoolYear, load_year
from tiers.services import policy_current

from .test_engine_properties import districts
from .tiers_data import OCT_31, tiers_year


def assert_identical(chunked, whole):
    pd.testing.assert_frame_equal(chunked.students, whole.students, check_exact=True)
    for name in ("student_schools", "absences"):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(whole, name), check_exact=True, obj=name)
    columns = list(whole.skipped.columns)
    pd.testing.assert_frame_equal(
        chunked.skipped.sort_values(columns, kind="stable").reset_index(drop=True),
        whole.skipped.sort_values(columns, kind="stable").reset_index(drop=True),
        check_exact=True,
        # The same strings; pandas infers str or object for them depending on which chunk had any.
        check_dtype=False,
        obj="skipped",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(districts(), st.integers(2, 5))
def test_chunks_of_a_random_district_give_the_one_pass_result(district, count):
    inputs, as_of, policy, plans = district
    whole = engine.compute(inputs, as_of=as_of, policy=policy, tier2_plans=plans)
    chunked = chunks.compute_in_chunks(
        lambda chunk, n: chunks.inputs_chunk(inputs, chunk, n), chunks=count, as_of=as_of, policy=policy,
        tier2_plans=plans,
    )  # fmt: skip
    assert_identical(chunked, whole)


def test_every_student_is_in_exactly_one_chunk_whatever_their_schools():
    ids = pd.Series([101, 102, 103, 104, 205, 10_000_019])
    owners = [chunks.chunk_of(ids, 3)[ids == student].tolist() for student in ids]
    assert all(len(set(owner)) == 1 for owner in owners)
    assert sorted(chunks.chunk_of(ids, 3).tolist()) == sorted(i % 3 for i in ids)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_district_read_chunk_by_chunk_gives_the_one_pass_result(tenant_a, count):
    year_data = tiers_year(tenant_a)
    district = year_data.district
    with scope(district=district):
        year = SchoolYear.containing(district, OCT_31)
        policy = policy_current(district=district).as_policy()
        whole_inputs = load_year(district, year)
        whole = engine.compute(whole_inputs, as_of=OCT_31, policy=policy)
        loaded = []

        def load(chunk, n):
            part = load_year(district, year, chunk=(chunk, n))
            loaded.append(len(part.students))
            return part

        chunked = chunks.compute_in_chunks(load, chunks=count, as_of=OCT_31, policy=policy)
    assert sum(loaded) == len(whole_inputs.students) == 5
    assert_identical(chunked, whole)


def test_a_nightly_run_in_chunks_stores_what_one_pass_stores(tenant_a, tenant_b, monkeypatch):
    """The run itself (load, engine, write, flags, snapshot) with 2 students a chunk: the same rows."""
    from tiers import services

    from .test_tiers_services import NOV_28, compute, flag_rows, metric_rows, snapshot_rows

    stored = {}
    for name, district_tenant, chunk_students in [("one pass", tenant_a, 50_000), ("chunks", tenant_b, 2)]:
        monkeypatch.setattr(services, "CHUNK_STUDENTS", chunk_students)
        year = tiers_year(district_tenant, prefix="T")
        compute(year.district, OCT_31)  # the first run replays the year in one pass
        run = compute(year.district, NOV_28)
        assert services._chunk_count(year.district) == (1 if chunk_students > 5 else 3)
        ids = {student.pk: index for index, student in enumerate(year.students)}
        stored[name] = (
            [(ids[row[0]], *row[2:]) for row in metric_rows(year.district, run)],
            sorted((ids[row[2]], *row[3:10]) for row in flag_rows(year.district)),
            sorted((ids[row[0]], *row[1:]) for row in snapshot_rows(year.district)),
        )
    assert stored["chunks"] == stored["one pass"]
    assert stored["one pass"][0] and stored["one pass"][1]
