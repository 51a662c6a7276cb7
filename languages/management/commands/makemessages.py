"""`manage.py makemessages`, with the settings this project's catalogue is kept in.

Seven people add strings at once, so the .po must merge cleanly in git: entries sorted by their
English text, no "#: file:line" references (they change with every edit above a string), and the
creation date in the header left as it was. The file ends written the way polib writes it
(languages.catalog.normalise_catalogue), the tool everyone fills the Spanish with: GNU gettext
and polib wrap long lines differently, and a catalogue rewrapped by one and then the other turned
every rebase into a conflict over the whole file. Without -l it updates every language in
LANGUAGES but English. Needs GNU gettext (xgettext, msgmerge): scripts/test installs it.
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management.commands import makemessages

from languages.catalog import normalise_catalogue

# Not part of the product's interface, or not ours.
IGNORED = ["tests", "bench", "docs", "locale", "media", "staticfiles", "test-artifacts", "node_modules", "build"]
_CREATED = re.compile(r'^"POT-Creation-Date: .*\\n"$', re.MULTILINE)


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--sort-output"]
    msguniq_options = [*makemessages.Command.msguniq_options, "--sort-output"]
    msgattrib_options = [*makemessages.Command.msgattrib_options, "--sort-output"]

    def handle(self, *args, **options):
        if not options["locale"] and not options["all"]:
            options["locale"] = [code for code, _ in settings.LANGUAGES if code != "en"]
        options["no_location"] = True
        options["no_wrap"] = True
        options["ignore_patterns"] = [*options["ignore_patterns"], *IGNORED]
        headers = {path: _created(path) for path in _catalogues()}
        super().handle(*args, **options)
        for path in _catalogues():
            normalise_catalogue(path)
        for path, created in headers.items():
            if created and path.exists():
                _restore_created(path, created)


def _catalogues() -> list[Path]:
    return [path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.po")]


def _created(path: Path) -> str | None:
    found = _CREATED.search(path.read_text(encoding="utf-8"))
    return found.group(0) if found else None


def _restore_created(path: Path, created: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(_CREATED.sub(lambda _match: created, text, count=1), encoding="utf-8")
