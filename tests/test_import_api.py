"""The import API: upload an export, get 202 and the run, follow the run's status."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from districts.models import Role
from imports.models import ImportRun
from students.models import AttendanceRecord

from .api_tokens import token_for
from .import_support import FIXTURES, _media_in_tmp, run_import  # noqa: F401


def _zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in sorted((FIXTURES / "canonical").iterdir()):
            archive.write(item, item.name)
    return SimpleUploadedFile("nightly.zip", buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def api(client, tenant_a):
    token = token_for(tenant_a.user(Role.DISTRICT_ADMIN))
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


def _list_url(tenant):
    return reverse("api:import_list", kwargs={"district": tenant.district.slug})


def test_posting_an_export_starts_an_import_and_answers_202(api, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_list_url(tenant_a), {"format": "csv", "files": [_zip()]})

    assert response.status_code == 202
    body = response.json()
    assert body["format"] == "csv" and body["source"] == "api" and len(body["sha256"]) == 64
    status = api.get(reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": body["id"]})).json()
    assert status["status"] == "succeeded"
    assert status["entity_counts"]["attendance"]["added"] == 10
    assert status["progress"]["rows_written"] == status["rows_written"]
    with scope(district=tenant_a.district):
        assert AttendanceRecord.objects.count() == 10


def test_the_list_shows_the_districts_imports(api, tenant_a, tenant_b):
    run_import(tenant_a.district, FIXTURES / "canonical")
    run_import(tenant_b.district, FIXTURES / "canonical")

    body = api.get(_list_url(tenant_a)).json()

    assert body["count"] == 1


def test_a_rejected_file_is_reported_in_the_status(api, tenant_a, django_capture_on_commit_callbacks):
    bad = SimpleUploadedFile("students.csv", b"student_id,grade\n,7\n", content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        body = api.post(_list_url(tenant_a), {"format": "csv", "files": [bad]}).json()

    status = api.get(reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": body["id"]})).json()
    assert status["status"] == "rejected"
    assert status["errors"][0] == {
        "file": "students.csv",
        "row": 2,
        "column": "student_id",
        "code": "required_blank",
        "params": {},
        "message": "this value is required and is blank",
    }


def test_an_sis_upload_names_a_saved_mapping(api, tenant_a):
    response = api.post(_list_url(tenant_a), {"format": "sis_csv", "mapping": "nope", "files": [_zip()]})

    assert response.status_code == 400
    assert "mapping" in response.json()
    with scope(district=tenant_a.district):
        assert not ImportRun.objects.exists()


def test_the_import_api_is_for_district_admins(client, tenant_a):
    token = token_for(tenant_a.user(Role.DISTRICT_STAFF))

    response = client.get(_list_url(tenant_a), headers={"Authorization": f"Token {token}"})

    assert response.status_code == 403


def test_another_districts_run_is_not_found(api, tenant_a, tenant_b):
    run = run_import(tenant_b.district, FIXTURES / "canonical")

    response = api.get(reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": run.pk}))

    assert response.status_code == 404
