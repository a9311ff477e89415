"""The committed catalogues, read with polib, and what "a string of one language on a page" means.

A page passes as German when no English phrase of the catalogue is in its
visible text (and the other way round). A phrase is a msgid's literal text
between its placeholders and tags; it is looked for as whole words, case and
all. Left out, with the reason:

- phrases the other language writes the same way ("Status", "Pause",
  "optional", "StretchHub") — any phrase found in a translation of the other
  language is left out, so they need no list of their own;
- phrases shorter than four letters ("up", "Day"), which turn up inside
  words and names of either language;
- text inside an element with its own lang attribute: the footer's switcher
  names each language in that language ("Deutsch" on an English page);
- web addresses, which are the same in every language;
- ALLOWED below: words that are English and German at once, or that appear in
  content a member typed, each with its reason.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import polib
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUES = ("django", "djangojs")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
TAG = re.compile(r"<[^>]+>")
ALLOWED = {
    # German uses the same word.
    "Name",
    "Status",
    "Email",
    "Level",
    # Brand names in the calendar card, written the same in both languages.
    "Google Calendar, Apple Calendar, Outlook",
}


@cache
def entries() -> list[polib.POEntry]:
    found = []
    for name in CATALOGUES:
        found += [e for e in polib.pofile(str(LOCALE / "de" / "LC_MESSAGES" / f"{name}.po")) if not e.obsolete]
    return found


def german_texts(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def english_texts(entry: polib.POEntry) -> list[str]:
    return [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]


def _phrases(text: str) -> list[str]:
    chunks = re.split(f"{PLACEHOLDER.pattern}|{TAG.pattern}", html.unescape(text))
    cleaned = (chunk.strip(" .,:;!?()[]—–-·“”\"'…←→") for chunk in chunks)
    return [chunk for chunk in cleaned if len(re.sub(r"[^A-Za-zÄÖÜäöüß]", "", chunk)) >= 4]


@cache
def phrases(language: str) -> frozenset[str]:
    """Phrases only `language` writes: none that the other language's catalogue side also contains."""
    mine, theirs = (english_texts, german_texts) if language == "en" else (german_texts, english_texts)
    other = " \n ".join(html.unescape(t) for e in entries() for t in theirs(e))
    result = set()
    for entry in entries():
        for text in mine(entry):
            for phrase in _phrases(text):
                if phrase not in ALLOWED and not _contains(other, phrase):
                    result.add(phrase)
    return frozenset(result)


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\wÄÖÜäöüß]){re.escape(phrase)}(?![\wÄÖÜäöüß])", text) is not None


def visible_text(page: str) -> str:
    """What a person reads or hears: the text outside tags, plus titles, labels and placeholders."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    # The language switcher names each language in that language ("Deutsch"), marked with lang="…".
    page = re.sub(r"<(button|a|span|option)\b[^>]*\slang=\"[a-z-]+\"[^>]*>[^<]*</\1>", " ", page)
    attributes = re.findall(r'\s(?:aria-label|title|placeholder|alt|data-announce)="([^"]*)"', page)
    text = TAG.sub(" ", page)
    text = html.unescape(" ".join([text, *attributes]))
    # Addresses are the same in every language ("/accounts/settings/").
    return " ".join(re.sub(r"https?://\S+", " ", text).split())


def foreign_phrases(text: str, *, language: str) -> list[str]:
    """Phrases of the other language found in `text`, which should be all in `language`."""
    other = "de" if language == "en" else "en"
    return sorted(p for p in phrases(other) if _contains(text, p))
