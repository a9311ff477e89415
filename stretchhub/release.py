"""The release: a digest of the code, templates and pinned packages that render what is cached.

A cache key that includes it can never hand a new deploy an entry an older
release rendered (docs/caching.md), with nothing for a deploy to set or
forget: the same code gives the same digest, and any change gives another.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.conf import settings

# static/ for the stylesheet the printable handout is rendered with.
SOURCES = ("accounts", "programs", "stretchhub", "templates", "static")
SUFFIXES = {".py", ".html", ".txt", ".json", ".css"}


@cache
def release() -> str:
    digest = hashlib.blake2s(digest_size=8)
    base = settings.BASE_DIR
    files = [base / "requirements.txt"]
    files += sorted(p for folder in SOURCES for p in (base / folder).rglob("*") if p.suffix in SUFFIXES)
    for path in files:
        digest.update(str(path.relative_to(base)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
