"""The board report PDF (export renderer "pulse.board_pdf") against the hand-counted district of
tests/pulse_data.py: started from the dashboard, rendered in a task, every panel on paper, and
small groups blank when it is marked for outside the district."""

import datetime
import io

import pytest
from django.urls import reverse
from django_scopes import scope
from pypdf import PdfReader

from districts.models import Role
from exports.models import ExportJob

from .pulse_data import computed_pulse_district, supported_pulse_district


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


# ----------------------------------------------------------------------------- the review tables


def _follow_through_week(data, tenant):
    """A huddle held at the middle school in the week of the figures (Sep 15): casey discussed,
    dale not; the school's weeks are Aug 25, Sep 1, Sep 8 and this one, so 1 of 4 held."""
    from outreach.models import Huddle, HuddleRow, Section
    from outreach.services import huddle_attendance_record

    from .outreach_support import lead

    with scope(district=data.district):
        huddle = Huddle.objects.create(
            district=data.district, school=data.middle, week_start=datetime.date(2025, 9, 15),
            generated_at=datetime.datetime(2025, 9, 14, tzinfo=datetime.UTC),
        )  # fmt: skip
        for name, discussed in [("casey", True), ("dale", False)]:
            HuddleRow.objects.create(
                district=data.district, huddle=huddle, student=data.students[name], section=Section.NEW,
                discussed=discussed,
            )  # fmt: skip
        by = lead(tenant)
        huddle_attendance_record(huddle=huddle, members=[by], by=by)


def test_the_report_prints_follow_through_equity_and_data_quality(
    client, district, tenant_a, django_capture_on_commit_callbacks
):
    _follow_through_week(district, tenant_a)
    report(client, tenant_a, django_capture_on_commit_callbacks)
    text = text_of(finished_job(tenant_a))
    # Follow-through: the middle school held 1 of its 4 weeks' huddles and discussed 1 of 2 rows.
    assert "Follow-through by school" in text and "25.0% (1 of 4 weeks)" in text and "50.0% (1 of 2)" in text
    # Equity: every absence of the district is unexcused (ratio 1 to itself); casey is the one English learner.
    assert (
        "Equity by subgroup" in text
        and "Whole district 7 100.0% 1.00×" in text
        and "English learners: yes 1 100.0%" in text
    )
    # Data quality: the last attendance received at the middle school is casey's absence of Sep 18.
    assert "Data quality by school" in text and "Alpha County Schools Middle 09/18/2025" in text


def test_for_outside_the_review_tables_blank_small_schools(
    client, district, tenant_a, django_capture_on_commit_callbacks
):
    """The high school has 2 students with membership: under 3 it is blank, and the middle
    school with it (its complement), in follow-through and data quality as on the school table."""
    _follow_through_week(district, tenant_a)
    district.district.settings = {"pulse_min_cell": 3}
    district.district.save()
    report(client, tenant_a, django_capture_on_commit_callbacks, outside=True)
    text = text_of(finished_job(tenant_a))
    assert "1 of 4 weeks" not in text and "09/18/2025" not in text
    assert "Follow-through by school" in text and "Data quality by school" in text


@pytest.fixture
def supported(tenant_a):
    return supported_pulse_district(tenant_a)


def test_the_report_prints_what_followed_each_support(client, supported, tenant_a, django_capture_on_commit_callbacks):
    report(client, tenant_a, django_capture_on_commit_callbacks)
    text = text_of(finished_job(tenant_a))
    assert "What followed each support" in text and "Descriptive, not causal." in text
    assert "Phone call 2 75.0% 100.0% +25.0 pts" in text


def test_for_outside_a_small_support_is_blank(client, supported, tenant_a, django_capture_on_commit_callbacks):
    supported.district.settings = {"pulse_min_cell": 3}
    supported.district.save()
    report(client, tenant_a, django_capture_on_commit_callbacks, outside=True)
    text = text_of(finished_job(tenant_a))
    assert "Phone call Small group: not shown" in text and "Phone call 2" not in text


def _somali_families(data, count):
    from students.models import Guardian

    with scope(district=data.district):
        for name in list(data.students)[:count]:
            Guardian.objects.create(
                district=data.district, student=data.students[name], name=f"Guardian of {name}", language="Somali"
            )


def test_the_report_counts_families_whose_language_has_no_template(
    client, district, tenant_a, django_capture_on_commit_callbacks
):
    _somali_families(district, 2)
    report(client, tenant_a, django_capture_on_commit_callbacks)
    text = text_of(finished_job(tenant_a))
    assert "no template for (they get English): 2 (so: 2)" in text


def test_for_outside_a_rare_language_is_not_named(client, district, tenant_a, django_capture_on_commit_callbacks):
    _somali_families(district, 2)
    district.district.settings = {"pulse_min_cell": 3}
    district.district.save()
    report(client, tenant_a, django_capture_on_commit_callbacks, outside=True)
    text = text_of(finished_job(tenant_a))
    assert "no template for (they get English): fewer than the minimum shown" in text and "so: 2" not in text
