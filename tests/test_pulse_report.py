"""The board report PDF (export renderer "pulse.board_pdf") against the hand-counted district of
tests/pulse_data.py: started from the dashboard, rendered in a task, every panel on paper, and
small groups blank when it is marked for outside the district."""

import io

import pytest
from django.urls import reverse
from django_scopes import scope
from pypdf import PdfReader

from districts.models import Role
from exports.models import ExportJob

from .pulse_data import computed_pulse_district


@pytest.fixture
def district(tenant_a):
    return computed_pulse_district(tenant_a)


def report(client, tenant, capture, *, outside=False, role=Role.DISTRICT_STAFF, language="en"):
    user = tenant.user(role)
    user.language = language
    user.save()
    client.force_login(user)
    url = reverse("pulse:board_pdf", kwargs={"district": tenant.district.slug})
    with capture(execute=True):
        response = client.post(url, {"outside": "1"} if outside else {})
    return response


def text_of(job) -> str:
    with job.file.open("rb") as handle:
        pages = PdfReader(io.BytesIO(handle.read())).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def finished_job(tenant):
    with scope(district=tenant.district):
        return ExportJob.objects.get()


def test_the_report_prints_every_panel(client, district, tenant_a, django_capture_on_commit_callbacks):
    response = report(client, tenant_a, django_capture_on_commit_callbacks)
    job = finished_job(tenant_a)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.status, job.renderer, job.params) == ("succeeded", "pulse.board_pdf", {"outside": False})
    text = text_of(job)
    for expected in ["Chronic absence now", "50.0%", "Priority schools", "By school", "By grade", "By subgroup",
                     "English learners", "Week-2 and week-4 checks", district.middle.name]:  # fmt: skip
        assert expected in text, expected
    assert job.students == []  # counts only


def test_for_outside_small_groups_are_blank(client, district, tenant_a, django_capture_on_commit_callbacks):
    district.district.settings = {"pulse_min_cell": 2}
    district.district.save()
    report(client, tenant_a, django_capture_on_commit_callbacks, outside=True)
    text = text_of(finished_job(tenant_a))
    assert "Prepared for outside the district" in text
    # Grades 6 (0 students) and 8 (1) are under 2; english_learner=Y (1) takes N with it.
    assert text.count("Small group: not shown") >= 4


def test_the_report_reads_in_the_requesters_language(client, district, tenant_a, django_capture_on_commit_callbacks):
    report(client, tenant_a, django_capture_on_commit_callbacks, language="es")
    text = text_of(finished_job(tenant_a))
    assert "Ausentismo crónico hoy" in text and "Escuelas prioritarias" in text


@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_school_roles_cannot_start_it(client, district, tenant_a, role, django_capture_on_commit_callbacks):
    assert report(client, tenant_a, django_capture_on_commit_callbacks, role=role).status_code == 403


def test_before_the_first_run_there_is_nothing_to_print(client, tenant_a, django_capture_on_commit_callbacks):
    assert report(client, tenant_a, django_capture_on_commit_callbacks).status_code == 404
