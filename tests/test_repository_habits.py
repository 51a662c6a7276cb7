"""Habits the suite keeps: no test reads a fixed absolute path outside the repository (shared
data is found from the repository: tests/shared_data.py), and no stale skip waits for code that
has long landed."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ABSOLUTE_OUTSIDE = re.compile(r"""["'](/work/|/home/|/tmp/|/root/)""")


def _sources():
    for path in sorted(TESTS.rglob("*.py")):
        if path.name != Path(__file__).name:
            yield path, path.read_text()


def test_no_test_reads_a_fixed_path_outside_the_repository():
    offenders = [
        f"{path.relative_to(TESTS)}:{text[: m.start()].count(chr(10)) + 1}"
        for path, text in _sources()
        for m in ABSOLUTE_OUTSIDE.finditer(text)
    ]
    assert not offenders, f"find these through the repository (tests/shared_data.py): {offenders}"


def test_the_shared_data_is_found_beside_the_repository():
    from .shared_data import shared_data

    assert shared_data("edfi-descriptors").is_dir()


def test_no_skip_waits_for_code_that_has_landed():
    stale = [str(path.relative_to(TESTS)) for path, text in _sources() if "has not landed yet" in text]
    assert not stale
