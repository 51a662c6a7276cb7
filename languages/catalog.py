"""The translation catalogues: compiled without GNU gettext, and checked for what a reader
would notice (a missing or fuzzy translation, a placeholder lost in translation).

The .po files under locale/ are the source of truth and are committed; the .mo files are built
from them (`manage.py compilemessages`, which this app makes pure Python so `./scripts/demo`
works on a machine without gettext) and never committed, so two branches never fight over a
binary file.
"""

import dataclasses
import re
from pathlib import Path

import polib
from django.conf import settings

# %(name)s, %s, %d …, and {name} for str.format / blocktranslate-free Python texts.
_PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{[a-z_][a-z0-9_]*\}")


# Where polib wraps a long msgid or msgstr (its default): `polib.pofile(path).save()` writes the
# catalogue exactly as makemessages leaves it, so filling the Spanish with polib moves no other line.
WRAP_WIDTH = 78


def normalise_catalogue(po_path: Path) -> bool:
    """Rewrite the .po as polib writes it (wrapped at WRAP_WIDTH); True if anything changed."""
    text = po_path.read_text(encoding="utf-8")
    normal = catalogue_text(po_path)
    if normal != text:
        po_path.write_text(normal, encoding="utf-8")
    return normal != text


def catalogue_text(po_path: Path) -> str:
    """The .po as polib writes it: the one form the committed catalogue is kept in."""
    return polib.pofile(str(po_path), wrapwidth=WRAP_WIDTH).__unicode__()


def po_files() -> list[Path]:
    return sorted(path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.po"))


def compile_catalogue(po_path: Path) -> Path:
    """Write the .mo beside the .po (fuzzy and untranslated entries are left out, as msgfmt does)."""
    mo_path = po_path.with_suffix(".mo")
    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return mo_path


def compile_stale_catalogues() -> list[Path]:
    """Compile every .po whose .mo is missing or older; returns what was compiled."""
    compiled = []
    for po_path in po_files():
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            compiled.append(compile_catalogue(po_path))
    return compiled


@dataclasses.dataclass(frozen=True)
class Problem:
    msgid: str
    reason: str
    fuzzy: bool = False

    def __str__(self) -> str:
        return f"{self.reason}: {self.msgid!r}"


def catalogue_problems(po_path: Path, *, require_all: bool) -> list[Problem]:
    """Fuzzy entries and changed placeholders always; untranslated ones when `require_all`."""
    problems = []
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(Problem(entry.msgid, "fuzzy (check the Spanish, then remove the fuzzy flag)", fuzzy=True))
        elif not entry.translated():
            if require_all:
                problems.append(Problem(entry.msgid, "not translated"))
        else:
            problems.extend(_placeholder_problems(entry))
    return problems


def _placeholder_problems(entry: polib.POEntry) -> list[Problem]:
    wanted = sorted(_PLACEHOLDER.findall(entry.msgid))
    if entry.msgid_plural:
        plural = sorted(_PLACEHOLDER.findall(entry.msgid_plural))
        translations = list(entry.msgstr_plural.values())
        # A singular text may leave out the count ("one day" for "%(n)s days"); no other change.
        ok = all(set(_PLACEHOLDER.findall(text)) <= set(wanted) | set(plural) for text in translations)
        ok = ok and sorted(_PLACEHOLDER.findall(translations[-1])) == plural
    else:
        ok = sorted(_PLACEHOLDER.findall(entry.msgstr)) == wanted
    return [] if ok else [Problem(entry.msgid, "placeholders differ between English and Spanish")]
