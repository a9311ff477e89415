"""The printable handout: a program, or one of a member's sessions, as a PDF (docs/handout.md).

WeasyPrint lays an HTML template and static/css/handout.css out through Pango.
It fetches nothing from the network or the disk while it renders: the
stylesheet is read from our static files, the icons are inline SVG, the
stretch pictures (`media:<stored name>`) are read through the media storage
(a folder or the bucket), and any other URL (http, file) is refused.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from stretchhub.release import release

from . import selectors

# Paper names as `?paper=` takes them, and as CSS @page `size` says them.
PAPER_SIZES = {"a4": "A4", "letter": "letter"}
DEFAULT_PAPER = "a4"
STYLESHEET = "css/handout.css"
# How the handout's HTML names a stored stretch picture (templates/programs/_handout_figure.html).
MEDIA_SCHEME = "media:"
CACHE_SECONDS = 24 * 3600


class UnknownPaper(ValueError):
    def __init__(self, value: str):
        super().__init__(f"Unknown paper size {value!r}: use one of {', '.join(sorted(PAPER_SIZES))}.")


def paper_size(value: str | None) -> str:
    """The paper a `?paper=` value names (A4 when none is given); raises UnknownPaper for anything else."""
    paper = (value or DEFAULT_PAPER).strip().lower()
    if paper not in PAPER_SIZES:
        raise UnknownPaper(value or "")
    return paper


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    # Opened in the browser's viewer to print; saved under a name that says what it is.
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _weasyprint():
    # Imported on first use: importing WeasyPrint parses its own stylesheets, a cost the
    # worker, beat and every manage.py command would otherwise pay for nothing.
    import weasyprint
    from PIL import ImageFile

    # Importing WeasyPrint makes Pillow accept truncated images in the whole process; the
    # upload checks (programs/media.py) refuse them, so Pillow's default is put back. The
    # handout only prints pictures we re-encoded ourselves, never truncated ones.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def render_pdf(*, template: str, context: dict, paper: str) -> bytes:
    weasyprint = _weasyprint()

    class Fetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(MEDIA_SCHEME):
                return _media_response(url)
            return super().fetch(url, headers)

    html = render_to_string(template, {**context, "paper": paper})
    # data: and our media files only; nothing is read from the network or the disk.
    fetcher = Fetcher(allowed_protocols={"data"})
    stylesheets = [
        weasyprint.CSS(filename=finders.find(STYLESHEET), url_fetcher=fetcher),
        weasyprint.CSS(string=f"@page {{ size: {PAPER_SIZES[paper]}; {_page_margins_css()} }}", url_fetcher=fetcher),
    ]
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _page_margins_css() -> str:
    """The footer's words in the active language (handout.css places and styles them)."""
    warning = gettext("Stretching should never hurt. Stop if you feel sharp pain.")
    page_of = _css_string(gettext("Page %(page)s of %(pages)s"))
    page_of = page_of.replace("%(page)s", '" counter(page) "').replace("%(pages)s", '" counter(pages) "')
    return f"@bottom-left {{ content: {_css_string(warning)}; }} @bottom-right {{ content: {page_of}; }}"


def _media_response(url: str):
    weasyprint = _weasyprint()

    name = url.removeprefix(MEDIA_SCHEME)
    with default_storage.open(name, "rb") as stored:
        body = stored.read()
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return weasyprint.urls.URLFetcherResponse(url, body, headers={"Content-Type": content_type})


def program_handout_pdf(*, slug: str, paper: str) -> tuple[str, bytes]:
    """(ETag, PDF) of a published program's handout; raises Program.DoesNotExist for anything else.

    Kept in the cache under the program's stamp and the release, as the API's
    program detail is (docs/caching.md): a write to anything the handout shows
    or a deploy makes a new key, and rendering happens once per version.
    The active language is part of the key: each language is its own handout.
    """
    stamp = selectors.program_detail_stamp(slug=slug)
    language = translation.get_language()
    digest = hashlib.blake2s(repr((release(), slug, paper, language, stamp)).encode(), digest_size=16).hexdigest()
    key = f"handout:program:{digest}"
    entry = cache.get(key)
    if entry is None:
        handout = selectors.program_handout(slug=slug)
        pdf = render_pdf(template="programs/handout_program.html", context={"handout": handout}, paper=paper)
        entry = (f'"{hashlib.blake2s(pdf, digest_size=16).hexdigest()}"', pdf)
        cache.set(key, entry, CACHE_SECONDS)
    return entry


def session_handout_pdf(*, handout: selectors.SessionHandout, paper: str) -> bytes:
    return render_pdf(template="programs/handout_session.html", context={"handout": handout}, paper=paper)
