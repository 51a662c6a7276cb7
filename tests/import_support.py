"""Shared helpers for the import tests: run an import the way the command line does, inside
the district's scope, with stored files kept in a temporary media folder."""

from pathlib import Path

import pytest
from django_scopes import scope

from imports import services
from imports.models import ImportRun

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
