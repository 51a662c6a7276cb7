"""The Spanish catalogue: nothing fuzzy, no placeholder lost in translation, and compiled the
way ./scripts/demo and the Docker image compile it (pure Python, no GNU gettext)."""

import gettext
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from languages.catalog import catalogue_problems, catalogue_text, compile_catalogue, po_files


def _spanish_po():
    return next(path for path in po_files() if path.parent.parent.name == "es")


def test_every_interface_language_but_english_has_a_catalogue():
    assert {path.parent.parent.name for path in po_files()} >= {code for code, _ in settings.LANGUAGES} - {"en"}


def test_the_spanish_catalogue_has_nothing_fuzzy_and_keeps_every_placeholder():
    problems = catalogue_problems(_spanish_po(), require_all=False)
    assert not problems, "\n".join(map(str, problems))


def test_the_compiled_catalogue_holds_every_translated_entry(tmp_path):
    po = polib.pofile(str(_spanish_po()))
    mo_path = compile_catalogue(_spanish_po())
    catalogue = gettext.GNUTranslations(mo_path.open("rb"))
    translated = [entry for entry in po.translated_entries() if not entry.msgid_plural and not entry.msgctxt]
    assert translated
    for entry in translated:
        assert catalogue.gettext(entry.msgid) == entry.msgstr


def test_compilemessages_needs_no_gettext(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no msgfmt to be found
    call_command("compilemessages", verbosity=0)
    assert _spanish_po().with_suffix(".mo").exists()


def test_a_placeholder_changed_in_translation_is_caught(tmp_path):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="%(count)s days absent", msgstr="%(cuenta)s días de ausencia"))
    po.append(polib.POEntry(msgid="Hello", msgstr="Hola", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Untranslated", msgstr=""))
    path = tmp_path / "django.po"
    po.save(str(path))
    reasons = [problem.reason for problem in catalogue_problems(path, require_all=True)]
    assert len(reasons) == 3
    assert any("placeholders" in reason for reason in reasons)
    assert any("fuzzy" in reason for reason in reasons)


@pytest.mark.parametrize("language, expected", [("en", "Sign out"), ("es", "Cerrar sesión")])
def test_the_running_app_reads_the_catalogue(language, expected):
    with translation.override(language):
        assert translation.gettext("Sign out") == expected


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="GNU gettext is not installed (scripts/test installs it as root)"
)
def test_every_string_of_the_interface_has_its_spanish(tmp_path, settings, monkeypatch):
    """Extract every marked string from a copy of the sources, as `manage.py makemessages` does,
    and fail on any without a Spanish translation (or fuzzy): run makemessages, write the Spanish,
    compilemessages (docs/translations.md)."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "node_modules", "media", "staticfiles", "test-artifacts", "docs", "tests", "bench",
            "*.mo", "*.sqlite3", "*.egg-info",
        ),
    )  # fmt: skip
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["es"], verbosity=0)
    problems = catalogue_problems(copy / "locale" / "es" / "LC_MESSAGES" / "django.po", require_all=True)
    assert not problems, "Spanish missing (see docs/translations.md):\n" + "\n".join(map(str, problems))
    # A complete catalogue comes back from makemessages line for line: how it wraps and orders
    # entries is the way polib saves them, so filling the Spanish moves nothing else in the file.
    extracted = (copy / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert extracted == _spanish_po().read_text(encoding="utf-8"), (
        "makemessages would rewrite the committed catalogue: run `manage.py makemessages` and commit the result"
    )


def test_the_catalogue_is_kept_as_polib_writes_it():
    """Saved by polib (the fill path) or left by makemessages, the file has one form; a catalogue
    wrapped another way (msgmerge's own wrapping, an editor's) would rewrap whole in the next diff."""
    assert _spanish_po().read_text(encoding="utf-8") == catalogue_text(_spanish_po()), (
        "locale/es/LC_MESSAGES/django.po is not in the form polib writes: run `manage.py makemessages`"
    )


def test_makemessages_leaves_the_catalogue_as_polib_would_save_it(tmp_path):
    from languages.catalog import normalise_catalogue

    path = tmp_path / "django.po"
    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(
        polib.POEntry(msgid="A sentence long enough to be wrapped by one tool and not by the other one", msgstr="x")
    )
    po.save(str(path))
    assert normalise_catalogue(path) is True
    assert path.read_text(encoding="utf-8") == catalogue_text(path) and 'msgid "A sentence long' not in path.read_text()
    assert normalise_catalogue(path) is False


def test_no_date_is_formatted_with_glibcs_dash_flag():
    """`%-d` and its kin work on glibc alone (issue 13: dates through Django's formats): a page
    or file built with one fails on another C library."""
    import re

    root = Path(settings.BASE_DIR)
    dash_flag = re.compile(r"%-[a-zA-Z]")
    found = [
        f"{path.relative_to(root)}:{number}"
        for pattern in ("*.py", "*.html", "*.txt")
        for path in root.rglob(pattern)
        if not {".venv", "node_modules", "tests", "media", "staticfiles"} & set(path.relative_to(root).parts)
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
        if dash_flag.search(line)
    ]
    assert not found, "strftime's dash flag (use Django's date formats): " + ", ".join(found)
