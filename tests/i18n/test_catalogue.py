"""The German catalogue is complete: CI fails when a marked string has no German, or a translation's
placeholders differ from the English ones (docs/i18n.md, "Keeping translations complete")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from .catalogue import CATALOGUES, PLACEHOLDER, TAG, english_texts, entries, german_texts

REPO = Path(settings.BASE_DIR)
# What makemessages reads; tests and benchmarks mark nothing.
NOT_SOURCE = (".venv", ".git", "var", "staticfiles", "test-artifacts", "tests", "bench", "__pycache__", "*.mo")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, polib.POFile]:
    """makemessages run afresh on a copy of the code, merged into a copy of the committed catalogues."""
    if shutil.which("xgettext") is None:
        if os.environ.get("REQUIRE_GETTEXT"):
            pytest.fail("GNU gettext (xgettext) is missing: CI installs it (apt-get install gettext).")
        pytest.skip("GNU gettext (xgettext) is not installed: apt-get install gettext")
    copy = tmp_path_factory.mktemp("source") / "stretchhub"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE), symlinks=True)
    env = {**os.environ, "DJANGO_DEBUG": "1", "PYTHONPATH": str(copy)}
    env.pop("DATABASE_URL", None)
    for domain in CATALOGUES:
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "de", "-d", domain, "--no-location", "--no-obsolete"],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
        )
    return {domain: polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po")) for domain in CATALOGUES}


def _key(entry: polib.POEntry) -> tuple:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


@pytest.mark.parametrize("domain", CATALOGUES)
def test_every_marked_string_has_a_german_translation(extracted, domain):
    untranslated = [
        entry.msgid for entry in extracted[domain] if "fuzzy" in entry.flags or not all(german_texts(entry))
    ]
    assert untranslated == [], "Marked strings without German (run `make translations`, then translate them)"


@pytest.mark.parametrize("domain", CATALOGUES)
def test_the_committed_catalogue_is_what_the_code_marks(extracted, domain):
    committed = polib.pofile(str(REPO / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po"))
    fresh = {_key(e) for e in extracted[domain]}
    kept = {_key(e) for e in committed if not e.obsolete}
    assert sorted(fresh - kept, key=str) == [], "New marked strings: run `make translations` and translate them"
    assert sorted(kept - fresh, key=str) == [], "Strings no longer in the code: run `make translations`"


def test_no_translation_is_fuzzy_or_empty():
    assert [e.msgid for e in entries() if "fuzzy" in e.flags or not all(german_texts(e))] == []


def test_translations_keep_the_english_placeholders():
    wrong = []
    for entry in entries():
        english = english_texts(entry)
        german = german_texts(entry)
        # The singular may drop the count ("One member …"); the plural keeps every placeholder.
        pairs = list(zip(english, german, strict=True)) if entry.msgid_plural else [(english[0], german[0])]
        for index, (source, translation) in enumerate(pairs):
            source_names = _placeholders(source)
            if entry.msgid_plural and index == 0:
                if not set(_placeholders(translation)) <= set(_placeholders(english[1])):
                    wrong.append((entry.msgid, translation))
            elif _placeholders(translation) != source_names:
                wrong.append((entry.msgid, translation))
    assert wrong == []


def test_translations_keep_the_english_markup():
    # A link or a <strong> in a sentence must survive translation, attributes and all.
    wrong = [
        (entry.msgid, text)
        for entry in entries()
        for source, text in zip(english_texts(entry), german_texts(entry), strict=False)
        if _tags(source) != _tags(text)
    ]
    assert wrong == []


def test_python_format_entries_are_flagged_for_msgfmt():
    # msgfmt --check-format (compilemessages) then refuses a broken placeholder on its own.
    django = polib.pofile(str(REPO / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    assert [e.msgid for e in django if "%(" in e.msgid and "python-format" not in e.flags] == []
