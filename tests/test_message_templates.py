"""Message templates: shipped defaults in English and Spanish, an unknown merge field or a
punitive word refused before saving, a preview with a real student, and the letter pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from exports.models import ExportJob
from outreach.families import selectors
from outreach.families.defaults import DEFAULT_TEMPLATES
from outreach.families.merge import template_check
from outreach.families.models import DEFAULT_TIER, LetterBatch, MessageTemplate
from outreach.families.services import template_save, templates_ensure
from students.models import Guardian

from .factories import GuardianFactory
from .tiers_data import tiers_year


@pytest.mark.parametrize("kind", list(DEFAULT_TEMPLATES))
def test_the_shipped_templates_pass_their_own_checks_in_both_languages(kind):
    assert set(DEFAULT_TEMPLATES[kind]) == {"en", "es"}
    for subject, body in DEFAULT_TEMPLATES[kind].values():
        template_check(subject=subject, body=body, tier=DEFAULT_TIER[kind])


def _errors(**kwargs) -> str:
    with pytest.raises(ValidationError) as raised, translation.override("en"):
        template_check(**kwargs)
    return " ".join(message for messages in raised.value.message_dict.values() for message in messages)


def test_an_unknown_merge_field_is_named():
    text = _errors(subject="Hi {student_first_name}", body="Missed {days_missed} days at {school}", tier=1)
    assert "{days_missed}" in text and "{school}" not in text


def test_a_punitive_word_cannot_go_in_a_tier_1_or_2_template_in_either_language():
    assert "“truancy”" in _errors(subject="", body="This is a truancy warning.", tier=1)
    assert "“court”" in _errors(subject="", body="We may refer you to court.", tier=2)
    assert "“multa”" in _errors(subject="", body="Puede recibir una multa.", tier=2)
    assert "“policia”" in _errors(subject="", body="Llamaremos a la policía.", tier=1)
    template_check(subject="", body="A court date would come only after supports.", tier=3)


def test_saving_a_bad_template_changes_nothing(tenant_a):
    district = tenant_a.district
    with scope(district=district):
        templates_ensure(district=district)
        before = MessageTemplate.objects.get(kind="welcome", tier=1, language="en").body
        with pytest.raises(ValidationError):
            template_save(
                district=district, by=None, kind="welcome", tier=1, language="en", subject="", body="{grade} fines"
            )
        assert MessageTemplate.objects.get(kind="welcome", tier=1, language="en").body == before


@pytest.fixture
def year(tenant_a):
    return tiers_year(tenant_a)


def _template_url(district, kind="absence_notice", language="es"):
    with scope(district=district):
        templates_ensure(district=district)
        template = MessageTemplate.objects.get(kind=kind, language=language)
    return reverse("outreach:message_template", kwargs={"district": district.slug, "template_id": template.pk})


def test_an_admin_previews_a_draft_with_a_real_student_before_saving(year, tenant_a, login):
    client = login(tenant_a.user("district_admin"))
    url = _template_url(year.district)
    draft = {"subject": "Aviso", "body": "{student_first_name} faltó {days_missed_year} días.", "preview": "1"}
    page = client.post(url, draft | {"preview_student": year.monday.sis_id})
    html = page.content.decode()
    assert page.status_code == 200 and "Monday faltó" in html
    with scope(district=year.district):
        assert MessageTemplate.objects.get(kind="absence_notice", language="es").subject != "Aviso"


def test_an_unknown_field_shows_as_an_error_and_a_good_template_saves(year, tenant_a, login):
    client = login(tenant_a.user("district_admin"))
    url = _template_url(year.district)
    page = client.post(url, {"subject": "Aviso", "body": "Hola {nombre}", "save": "1"})
    assert page.status_code == 200 and "{nombre}" in page.content.decode()
    saved = client.post(url, {"subject": "Aviso", "body": "Hola, {student_first_name}.", "save": "1"})
    assert saved.status_code == 302
    with scope(district=year.district):
        assert MessageTemplate.objects.get(kind="absence_notice", language="es").body == "Hola, {student_first_name}."


def test_templates_are_for_district_admins(year, tenant_a, login):
    client = login(tenant_a.user("attendance_lead"))
    assert client.get(_template_url(year.district)).status_code == 403
    assert client.get(reverse("outreach:messages_home", kwargs={"district": "alpha"})).status_code == 403


def test_the_messages_page_counts_families_whose_language_has_no_template(year, tenant_a, login):
    with scope(district=year.district):
        GuardianFactory(student=year.steady, language="Vietnamese")
        GuardianFactory(student=year.recent, language="vie")
        Guardian.objects.filter(student=year.monday).update(language="Spanish")
        gaps = selectors.language_gaps()
    assert [(gap.language, gap.guardians) for gap in gaps] == [("vi", 2)]
    page = login(tenant_a.user("district_admin")).get(reverse("outreach:messages_home", kwargs={"district": "alpha"}))
    assert page.status_code == 200 and "vi: 2 guardians" in page.content.decode()


def test_a_lead_prints_letters_for_their_school_through_an_export_job(
    year, tenant_a, login, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    client = login(tenant_a.user("attendance_lead"))
    url = reverse("outreach:letters", kwargs={"district": "alpha"})
    form = {"school": year.school.pk, "selection": "absences:2", "as_of": "2025-10-31"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302
    with scope(district=year.district):
        batch = LetterBatch.objects.get()
        job = ExportJob.objects.get()
    assert (batch.status, batch.total, batch.done) == ("done", 2, 2), (job.status, job.error)
    assert response["Location"] == job.get_absolute_url() and job.status == "succeeded", job.error
    download = client.get(reverse("exports:job_download", kwargs={"district": "alpha", "job_id": job.pk}))
    assert download.status_code == 200
    content = b"".join(download.streaming_content) if download.streaming else download.content
    assert content.startswith(b"%PDF")
    again = client.post(url, form)
    assert again.status_code == 200 and "already printed" in again.content.decode()
    assert client.post(url, form | {"school": year.other_school.pk}).status_code == 200  # not their school: no choice
    with scope(district=year.district):
        assert LetterBatch.objects.count() == 1 and ExportJob.objects.count() == 1


def test_each_students_letter_is_downloadable_by_the_requester_alone_and_logged(
    year, tenant_a, tenant_b, login, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django_scopes import scopes_disabled

    from districts.models import AuditEvent

    settings.MEDIA_ROOT = str(tmp_path)
    lead = login(tenant_a.user("attendance_lead"))
    form = {"school": year.school.pk, "selection": "absences:2", "as_of": "2025-10-31"}
    with django_capture_on_commit_callbacks(execute=True):
        lead.post(reverse("outreach:letters", kwargs={"district": "alpha"}), form)
    with scope(district=year.district):
        job = ExportJob.objects.get()
    assert [part["name"] for part in job.parts] == ["T002.pdf", "T003.pdf"]
    letters_page = lead.get(reverse("outreach:letters", kwargs={"district": "alpha"})).content.decode()
    assert job.get_absolute_url() in letters_page and "Every student with 2 or more absent days" in letters_page
    admins_page = login(tenant_a.user("district_admin")).get(reverse("outreach:letters", kwargs={"district": "alpha"}))
    assert job.get_absolute_url() not in admins_page.content.decode()  # the files stay with whoever printed them
    lead = login(tenant_a.user("attendance_lead"))
    page = lead.get(job.get_absolute_url()).content.decode()
    assert year.monday.full_name in page and "T003" in page
    with scopes_disabled():
        listed = AuditEvent.objects.get(object_type="export:outreach.nudge_letters:parts")
        assert sorted(listed.students) == sorted([year.monday.pk, year.recent.pk]) and listed.action == "view"
    part = reverse("exports:job_part_download", kwargs={"district": "alpha", "job_id": job.pk, "part": 0})
    response = lead.get(part)
    content = b"".join(response.streaming_content)
    assert response.status_code == 200 and content.startswith(b"%PDF") and response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == 'attachment; filename="T002.pdf"'
    with scopes_disabled():
        logged = AuditEvent.objects.get(object_type="export:outreach.nudge_letters:part")
    assert (logged.action, logged.students, logged.object_id) == ("export", [year.monday.pk], str(job.pk))
    missing = reverse("exports:job_part_download", kwargs={"district": "alpha", "job_id": job.pk, "part": 2})
    assert lead.get(missing).status_code == 404
    for stranger in (tenant_a.user("district_admin"), tenant_b.user("attendance_lead")):
        assert login(stranger).get(part).status_code == 404
    other = reverse("exports:job_part_download", kwargs={"district": "beta", "job_id": job.pk, "part": 0})
    assert login(tenant_b.user("district_admin")).get(other).status_code == 404


def test_an_admin_gives_a_school_its_own_contact_for_the_letters_and_can_take_it_back(
    year, tenant_a, tenant_b, login, tmp_path
):
    import io

    from django.core.management import call_command
    from pypdf import PdfReader

    from outreach.families.messages import TemplateBook
    from outreach.families.models import FamilyContact

    admin = login(tenant_a.user("district_admin"))
    url = reverse("outreach:messages_contact", kwargs={"district": "alpha"})
    admin.post(url, {"school": "", "name": "District Office", "phone": "919-555-0100"})
    admin.post(url, {"school": year.school.pk, "name": "Ana Ruiz", "phone": "919-555-0142"})
    page = admin.get(reverse("outreach:messages_home", kwargs={"district": "alpha"})).content.decode()
    assert f"{year.school.name}: Ana Ruiz, 919-555-0142" in page and "District Office, 919-555-0100" in page
    with scope(district=year.district):
        book = TemplateBook(year.district)
        assert book.contact(year.school.pk).name == "Ana Ruiz"
        assert book.contact(year.other_school.pk).name == "District Office"
        year.school.sis_id = "MS-1"
        year.school.save()
    call_command(
        "nudge_letters", "--district", "alpha", "--school", "MS-1", "--as-of", "2025-10-31", "--min-absences", "5",
        "--out", str(tmp_path),
    )  # fmt: skip
    text = " ".join(PdfReader(io.BytesIO((tmp_path / "T002.pdf").read_bytes())).pages[0].extract_text().split())
    assert "Call Ana Ruiz at 919-555-0142." in text
    admin.post(url, {"school": year.school.pk, "name": "", "phone": ""})
    with scope(district=year.district):
        assert TemplateBook(year.district).contact(year.school.pk).name == "District Office"
        assert FamilyContact.objects.count() == 1
    assert admin.post(url, {"school": tenant_b.school.pk, "name": "X", "phone": "1"}).status_code == 404
    assert login(tenant_a.user("attendance_lead")).post(url, {"name": "X", "phone": "1"}).status_code == 403
    with scope(district=year.district):
        assert FamilyContact.objects.get().name == "District Office"


def test_letter_files_are_kept_once_removed_after_the_retention_and_prepared_again_without_logging_twice(
    year, tenant_a, login, settings, tmp_path, django_capture_on_commit_callbacks
):
    import datetime
    from pathlib import Path

    from django.core.management import call_command
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from outreach.families.letters import letter_batch_folder, letter_files_expire
    from outreach.families.models import Letter
    from outreach.models import OutreachAction

    settings.MEDIA_ROOT = str(tmp_path)
    lead = login(tenant_a.user("attendance_lead"))
    letters_url = reverse("outreach:letters", kwargs={"district": "alpha"})
    form = {"school": year.school.pk, "selection": "absences:2", "as_of": "2025-10-31"}
    with django_capture_on_commit_callbacks(execute=True):
        lead.post(letters_url, form)
    with scope(district=year.district):
        job, batch = ExportJob.objects.get(), LetterBatch.objects.get()
        logged = (Letter.objects.count(), OutreachAction.objects.filter(method="letter").count())
    files = [Path(settings.MEDIA_ROOT, job.file.name), *(Path(settings.MEDIA_ROOT, part["path"]) for part in job.parts)]
    assert logged == (2, 2) and all(path.exists() for path in files)
    assert not letter_batch_folder(batch).exists()  # laid out, handed to the job: no second copy left behind

    call_command("expire_files")  # inside the retention: nothing goes
    assert all(path.exists() for path in files)
    call_command("expire_files", "--hours", "0")
    assert not any(path.exists() for path in files)
    assert not Path(settings.MEDIA_ROOT, job.file.name).parent.exists()  # nor its empty folder
    page = lead.get(letters_url).content.decode()
    assert "Files removed: prepare them again" in page and job.get_absolute_url() in page

    with django_capture_on_commit_callbacks(execute=True):
        lead.post(reverse("exports:job_retry", kwargs={"district": "alpha", "job_id": job.pk}))
    with scope(district=year.district):
        job.refresh_from_db()
        assert job.is_downloadable and [part["name"] for part in job.parts] == ["T002.pdf", "T003.pdf"]
        assert (Letter.objects.count(), OutreachAction.objects.filter(method="letter").count()) == logged
    assert "All letters and one per student" in lead.get(letters_url).content.decode()

    # A folder left by a worker that stopped before handing it over goes once the batch is old enough.
    folder = letter_batch_folder(batch)
    folder.mkdir(parents=True)
    (folder / "all.pdf").write_bytes(b"%PDF")
    with scopes_disabled():
        assert letter_files_expire() == 0
        assert (
            letter_files_expire(now=timezone.now() + datetime.timedelta(hours=settings.EXPORT_RETENTION_HOURS + 1)) == 1
        )
    assert not folder.exists()
