"""Nudge letters: one PDF per student in the guardian's language with their own numbers, all.pdf,
an outreach action (letter) on each timeline, and the same batch refused a second time."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scope
from pypdf import PdfReader

from outreach.families.models import FamilyContact, Letter, LetterBatch
from outreach.models import OutreachAction
from students.models import Guardian

from .tiers_data import tiers_year


def _text(path) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def _plain(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def year(tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        Guardian.objects.filter(student=year.monday).update(language="Spanish")
        FamilyContact.objects.create(district=year.district, name="Rosa Díaz", phone="919-555-0123")
        year.school.sis_id = "MS-1"
        year.school.save()
    return year


def _print(tmp_path, *extra):
    call_command(
        "nudge_letters", "--district", "alpha", "--school", "MS-1", "--as-of", "2025-10-31", "--min-absences", "2",
        "--out", str(tmp_path), *extra,
    )  # fmt: skip


def test_one_letter_per_student_over_the_line_in_their_familys_language(year, tmp_path):
    _print(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["T002.pdf", "T003.pdf", "all.pdf"]
    spanish = _plain(_text(tmp_path / "T002.pdf"))  # `monday`: 9 absent days of 50, a Spanish-speaking family
    assert "Querida familia de Monday" in spanish
    assert "Días de ausencia hasta ahora: 9 de 50 días de clase." in spanish
    assert "ausentismo crónico" in spanish and "Rosa Díaz" in spanish and "919-555-0123" in spanish
    english = _plain(_text(tmp_path / "T003.pdf"))  # `recent`: 3 excused days of 50
    assert "Dear family of Recent" in english and "Days missed so far: 3 of 50 school days." in english
    assert "Monday" not in english  # no other student's data
    together = PdfReader(io.BytesIO((tmp_path / "all.pdf").read_bytes()))
    assert len(together.pages) == 2


def test_each_letter_is_an_outreach_action_on_the_timeline(year, tmp_path):
    _print(tmp_path)
    with scope(district=year.district):
        actions = OutreachAction.objects.filter(method="letter")
        assert sorted(action.student.sis_id for action in actions) == ["T002", "T003"]
        assert all(not action.sensitive and not action.barrier and not action.notes for action in actions)
        assert Letter.objects.filter(language="es").count() == 1
        batch = LetterBatch.objects.get()
        assert (batch.total, batch.done, batch.status) == (2, 2, "done")


def test_the_same_batch_twice_is_refused_unless_asked_for(year, tmp_path):
    _print(tmp_path / "first")
    with pytest.raises(CommandError, match="already printed"):
        _print(tmp_path / "second")
    assert not (tmp_path / "second").exists()
    _print(tmp_path / "again", "--again")
    with scope(district=year.district):
        assert LetterBatch.objects.count() == 2 and OutreachAction.objects.filter(method="letter").count() == 4


def test_a_higher_line_picks_fewer_students_and_an_unknown_school_is_an_error(year, tmp_path):
    call_command(
        "nudge_letters", "--district", "alpha", "--school", "MS-1", "--as-of", "2025-10-31", "--min-absences", "5",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert sorted(path.name for path in tmp_path.iterdir()) == ["T002.pdf", "all.pdf"]
    with pytest.raises(CommandError, match="No school"):
        call_command(
            "nudge_letters", "--district", "alpha", "--school", "NOPE", "--min-absences", "1", "--out", str(tmp_path)
        )


def test_the_timeline_reads_the_letter_in_the_readers_language(year, tmp_path, login, tenant_a):
    from django.urls import reverse

    _print(tmp_path)
    url = reverse("outreach:student_timeline", kwargs={"district": "alpha", "student_id": year.monday.pk})
    client = login(tenant_a.user("attendance_lead"))
    assert "Nudge letter (es): 9 of 50 school days missed" in client.get(url).content.decode()
    client.post(reverse("language_set"), {"language": "es"})
    assert "Carta de asistencia (es): faltó 9 de 50 días de clase" in client.get(url).content.decode()


def test_chunks_laid_out_in_worker_processes_give_the_same_letters(year, tmp_path, settings, monkeypatch):
    """A large batch is laid out in chunks by spawned worker processes: each student still gets
    exactly their own pages, and all.pdf keeps the letters in order."""
    from outreach.families import letters

    settings.LETTERS_PROCESSES = 2
    monkeypatch.setattr(letters, "CHUNK", 1)
    _print(tmp_path)
    spanish = _plain(_text(tmp_path / "T002.pdf"))
    assert "Días de ausencia hasta ahora: 9 de 50 días de clase." in spanish and "Recent" not in spanish
    assert "Días de ausencia por mes:" in spanish
    english = _plain(_text(tmp_path / "T003.pdf"))
    assert "Days missed so far: 3 of 50 school days." in english and "Monday" not in english
    assert "Days missed by month:" in english
    together = [
        _plain(page.extract_text()) for page in PdfReader(io.BytesIO((tmp_path / "all.pdf").read_bytes())).pages
    ]
    assert len(together) == 2 and "Monday" in together[0] and "Recent" in together[1]


def test_a_failing_layout_worker_fails_the_batch_instead_of_hanging():
    from outreach.families.letter_pdf import letters_pdf

    good = [("1", '<section id="letter-1"><p>One</p></section>')]
    broken = [("2", "<p>a letter without its anchor</p>")]
    results = letters_pdf("", [good, broken], processes=2)
    written, singles = next(results)
    assert list(singles) == ["1"] and written.startswith(b"%PDF")
    with pytest.raises(RuntimeError, match="worker failed"):
        next(results)
