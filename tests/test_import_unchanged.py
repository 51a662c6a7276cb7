"""Files imported again unchanged are found unchanged by hashing (imports.unchanged), and the
outcome is exactly what placing and comparing every row gives (the path taken before, and
still taken when anything differs)."""

import dataclasses
import datetime
import shutil

import pytest
from django_scopes import scope

from imports import pipeline, placing, unchanged
from imports.models import ImportRun, QuarantinedRow
from imports.services import import_run_process, import_run_undo_create
from students.models import Guardian

from .import_support import (  # noqa: F401
    FIRST_DAY,
    FIXTURES,
    _media_in_tmp,
    build_year,
    district_state,
    run_import,
    write_csv,
)

FIGURES = ("status", "rows_read", "added", "changed", "removed", "rows_quarantined", "duplicates", "entity_counts")
# Every fixture folder the import tests read, in its format.
FOLDERS = [
    ("canonical", "csv"),
    ("journey", "csv"),
    ("oneroster-1.1", "oneroster"),
    ("oneroster-1.2", "oneroster"),
    ("edfi-json", "edfi-json"),
    ("edfi-xml", "edfi-xml"),
]


@pytest.fixture
def placed(monkeypatch):
    """The entities each import placed row by row, in order. Only PostgreSQL finds entities
    unchanged (the embedded SQLite default always places every row, by design)."""
    if not unchanged.enabled():
        pytest.skip("finding files unchanged by hashing is PostgreSQL's; SQLite places every row")
    calls: list[str] = []
    real = pipeline.place

    def spy(entity, *args, **kwargs):
        calls.append(entity)
        return real(entity, *args, **kwargs)

    monkeypatch.setattr(pipeline, "place", spy)
    return calls


def figures(run: ImportRun) -> dict:
    return {name: getattr(run, name) for name in FIGURES}


def open_held(district) -> list[tuple]:
    with scope(district=district):
        return sorted(
            QuarantinedRow.objects.filter(resolved=False).values_list("entity", "file_name", "row_number", "reason")
        )


def test_the_same_files_again_are_found_unchanged_without_placing_a_row(tenant_a, tmp_path, placed):
    build_year(tenant_a.district, tmp_path)
    before = district_state(tenant_a.district)
    with scope(district=tenant_a.district):
        first = ImportRun.objects.get()
    placed.clear()

    again = run_import(tenant_a.district, tmp_path / "year")

    assert again.status == ImportRun.Status.SUCCEEDED
    assert placed == [], "no entity is placed row by row"
    assert (again.added, again.changed, again.removed, again.rows_quarantined) == (0, 0, 0, 0)
    assert again.rows_read == first.rows_read  # every row still counted as read
    assert district_state(tenant_a.district) == before
    assert set(again.fingerprints["entities"]) == set(again.entity_counts)


@pytest.mark.parametrize("folder,format", FOLDERS)
def test_hashing_gives_what_placing_every_row_gives_on_every_fixture(tenant_a, tenant_b, monkeypatch, folder, format):
    """Tenant A imports each fixture twice with hashing, tenant B twice without it: the same
    stored rows, held rows and figures, run for run."""
    path = FIXTURES / folder
    hashed = [run_import(tenant_a.district, path, format=format) for _ in range(2)]
    monkeypatch.setattr(unchanged, "enabled", lambda: False)
    full = [run_import(tenant_b.district, path, format=format) for _ in range(2)]

    assert [figures(run) for run in hashed] == [figures(run) for run in full]
    assert district_state(tenant_a.district) == district_state(tenant_b.district)
    assert open_held(tenant_a.district) == open_held(tenant_b.district)


def test_an_import_that_held_rows_is_placed_again(tenant_a, placed):
    """Held rows are recorded again by the next import of the same file (superseding their
    earlier copies), so an entity with held rows is never taken as unchanged."""
    first = run_import(tenant_a.district, FIXTURES / "canonical")
    assert first.entity_counts["attendance"]["quarantined"] > 0
    placed.clear()

    run_import(tenant_a.district, FIXTURES / "canonical")

    assert "attendance" in placed
    assert "schools" not in placed


def test_a_hand_edit_since_the_import_is_put_right_by_the_same_files(tenant_a, tmp_path, placed):
    build_year(tenant_a.district, tmp_path)
    with scope(district=tenant_a.district):
        Guardian.objects.filter(student__sis_id="S1", name="Parent S1").update(phone="000")
    placed.clear()

    again = run_import(tenant_a.district, tmp_path / "year")

    assert again.entity_counts["guardians"]["changed"] == 1
    assert "guardians" in placed and "students" not in placed
    with scope(district=tenant_a.district):
        assert Guardian.objects.get(student__sis_id="S1", name="Parent S1").phone == "919-555-0100"


def test_a_changed_enrollment_places_the_unchanged_attendance_again(tenant_a, tenant_b, tmp_path, monkeypatch):
    """S1 left on 15 September: the same attendance file now has rows outside any enrollment."""
    build_year(tenant_a.district, tmp_path)
    folder = tmp_path / "next"
    shutil.copytree(tmp_path / "year", folder)
    enrollments = (
        (folder / "enrollments.csv").read_text().replace(f"S1,MS1,{FIRST_DAY},", f"S1,MS1,{FIRST_DAY},2025-09-15")
    )
    (folder / "enrollments.csv").write_text(enrollments)

    hashed = run_import(tenant_a.district, folder)
    monkeypatch.setattr(unchanged, "enabled", lambda: False)
    build_year(tenant_b.district, tmp_path / "b")
    full = run_import(tenant_b.district, folder)

    assert hashed.entity_counts["attendance"]["quarantined"] > 0
    assert figures(hashed) == figures(full)
    assert district_state(tenant_a.district) == district_state(tenant_b.district)
    assert open_held(tenant_a.district) == open_held(tenant_b.district)


def test_the_files_of_an_undone_import_come_back_whole(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    full = district_state(tenant_a.district)
    with scope(district=tenant_a.district):
        last = ImportRun.objects.filter(kind=ImportRun.Kind.IMPORT).latest("id")
        undo = import_run_process(run=import_run_undo_create(run=last))
    assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
    assert district_state(tenant_a.district)["attendance"] == set()

    again = run_import(tenant_a.district, tmp_path / "year")

    assert again.added > 0
    assert district_state(tenant_a.district) == full


def test_a_change_of_the_districts_school_year_places_the_rows_again(tenant_a, tmp_path, placed):
    build_year(tenant_a.district, tmp_path)
    district = tenant_a.district
    district.school_year_end = FIRST_DAY.replace(month=9, day=30)
    district.save(update_fields=["school_year_end"])
    placed.clear()

    again = run_import(district, tmp_path / "year")

    assert "attendance" in placed
    assert again.entity_counts["attendance"]["quarantined"] > 0


def test_the_embedded_database_path_keeps_no_fingerprints_when_hashing_is_off(tenant_a, tmp_path, monkeypatch):
    monkeypatch.setattr(unchanged, "enabled", lambda: False)
    build_year(tenant_a.district, tmp_path)
    with scope(district=tenant_a.district):
        assert ImportRun.objects.get().fingerprints == {}


def test_the_outcome_of_an_unchanged_entity_is_the_earlier_reading(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    with scope(district=tenant_a.district):
        first = ImportRun.objects.get()
    again = run_import(tenant_a.district, tmp_path / "year")
    expected = {
        entity: {**dataclasses.asdict(pipeline.EntityOutcome()), "read": counts["read"], "dropped": counts["dropped"]}
        for entity, counts in first.entity_counts.items()
    }
    assert again.entity_counts == expected


@pytest.mark.parametrize("days,again_placed", [(1, []), (-1, ["attendance"])])
def test_the_same_files_the_next_morning_are_unchanged_but_not_the_day_before(
    tenant_a, tmp_path, placed, monkeypatch, days, again_placed
):
    """Nothing was held as dated after the first import's today, so a later today holds nothing
    either (a nightly export's unchanged files the next morning); an earlier today might."""
    build_year(tenant_a.district, tmp_path)
    shifted = placing.district_today(tenant_a.district) + datetime.timedelta(days=days)
    monkeypatch.setattr(placing, "district_today", lambda district: shifted)
    placed.clear()

    again = run_import(tenant_a.district, tmp_path / "year")

    assert placed == again_placed
    assert (again.added, again.changed, again.removed, again.rows_quarantined) == (0, 0, 0, 0)
