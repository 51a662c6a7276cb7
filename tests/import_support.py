"""Shared helpers for the import tests: run an import the way the command line does, inside
the district's scope, with stored files kept in a temporary media folder."""

from pathlib import Path

import pytest
from django_scopes import scope

from imports import services
from imports.models import ColumnMapping, ImportRun

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
CONTOSO = Path("/work/shared/data/oea-contoso-sis")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_import(district, path, *, format="csv", mapping=None, source=ImportRun.Source.COMMAND) -> ImportRun:
    with scope(district=district):
        run = services.import_run_create(district=district, format=format, path=path, mapping=mapping, source=source)
        return services.import_run_process(run=run)


def replay(district) -> ImportRun:
    with scope(district=district):
        run = services.quarantine_replay_create(district=district)
        return services.import_run_process(run=run)


def import_objects_of(district) -> tuple[ImportRun, ColumnMapping]:
    """An import run and a column mapping of the district, for routes that name one
    (tests/test_isolation_matrix.py fills import_run_id and mapping_id from these)."""
    with scope(district=district):
        run = ImportRun.objects.filter(original_name="matrix.zip").first() or ImportRun.objects.create(
            district=district, original_name="matrix.zip", status=ImportRun.Status.SUCCEEDED
        )
        mapping, _ = ColumnMapping.objects.get_or_create(district=district, format="sis_csv", name="Matrix mapping")
    return run, mapping
