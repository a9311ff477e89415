"""Stretch pictures and videos: what an upload must be, what is kept of it, and the sizes made from it.

The rules are written down in docs/media.md. In short: a picture is decoded
by Pillow before anything is stored, refused with a clear message when it is
too big (bytes or pixels), not a JPEG/PNG/WebP, or damaged, and kept only as
our own re-encoding, so no EXIF (camera, GPS position) or other metadata
survives. Its responsive sizes are django-imagekit specs whose file names
are computed from the stored name alone: showing a picture costs no storage
or database look-up. A video is checked by its size and by the container its
first bytes declare (MP4 or WebM), whatever its name says. Nothing here
writes: services.stretch_image_* and stretch_video_* do, in that order.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils import formats
from django.utils.translation import gettext
from imagekit import ImageSpec
from imagekit.cachefiles import ImageCacheFile
from PIL import Image, ImageOps, UnidentifiedImageError
from pilkit.processors import ResizeToFit

if TYPE_CHECKING:
    from .models import Stretch, StretchImage

# What Pillow may try to decode an upload as: any other format is refused before decoding.
ACCEPTED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
# The kept picture's longest side; a larger upload is scaled down to it.
IMAGE_MAX_EDGE = 2560
POSTER_MAX_EDGE = 1280
# The responsive sizes, by width. A picture gets those narrower than itself, and
# is itself the widest entry of its srcset.
RENDITION_WIDTHS = (320, 640, 960, 1280)
# The size an email shows (at 96 px, so sharp on a phone's dense screen too).
EMAIL_WIDTH = 320
JPEG_QUALITY = 85

VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}
VIDEO_CONTENT_TYPES = {ext: mime for mime, ext in VIDEO_TYPES.items()}
# filetype reads the container's signature from the first bytes.
VIDEO_SNIFF_BYTES = 8192

EMBED_ORIGINS = {"youtube": "https://www.youtube-nocookie.com", "vimeo": "https://player.vimeo.com"}


def _number(value: float) -> str:
    """One decimal at most, none for a whole number, with the active language's decimal mark."""
    value = round(value, 1)
    return formats.number_format(value if value % 1 else int(value))


def _mb(size: int) -> str:
    return f"{_number(size / (1024 * 1024))} MB"


# --- Pictures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedImage:
    """A picture as we keep it: our own encoding, no metadata, within the limits."""

    content: bytes
    extension: str
    width: int
    height: int

    def as_file(self, name: str) -> ContentFile:
        return ContentFile(self.content, name=name)


def _read_limited(upload: File, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            gettext("This file is %(size)s; a picture may be at most %(limit)s.")
            % {"size": _mb(size), "limit": _mb(limit)},
            code="too_large",
        )
    upload.seek(0)
    # Never more than the limit, whatever the upload said its size was.
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            gettext("This file is over %(limit)s; a picture may be at most %(limit)s.") % {"limit": _mb(limit)},
            code="too_large",
        )
    return data


def image_prepare(upload: File, *, max_edge: int = IMAGE_MAX_EDGE) -> PreparedImage:
    """Check an uploaded picture and re-encode it, or raise ValidationError saying what is wrong.

    Refused: more than MEDIA_IMAGE_MAX_BYTES; anything Pillow cannot open as a
    JPEG, PNG or WebP (an SVG, a PDF, a renamed text file); more pixels than
    MEDIA_IMAGE_MAX_PIXELS, checked from the header before the pixels are
    decoded, so a decompression bomb never gets to fill memory; a file whose
    pixels do not decode (truncated or damaged). Kept: the pixels, turned
    upright by their EXIF orientation, in PNG when the upload was a PNG or has
    transparency and in JPEG otherwise, and nothing else of the file.
    """
    data = _read_limited(upload, settings.MEDIA_IMAGE_MAX_BYTES)
    max_pixels = settings.MEDIA_IMAGE_MAX_PIXELS
    too_many = ValidationError(
        gettext("This picture has too many pixels; at most %(limit)s megapixels are allowed.")
        % {"limit": _number(max_pixels / 1_000_000)},
        code="too_many_pixels",
    )
    with warnings.catch_warnings():
        # Pillow's own bomb check (above Image.MAX_IMAGE_PIXELS) warns before it raises: refuse at the warning.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_IMAGE_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ValidationError(
                gettext("This file is not a picture we can read: upload a JPEG, PNG or WebP image."),
                code="not_an_image",
            ) from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ValidationError(
                    gettext(
                        "This picture is %(width)s × %(height)s pixels (%(megapixels)s megapixels); "
                        "at most %(limit)s megapixels are allowed."
                    )
                    % {
                        "width": width,
                        "height": height,
                        "megapixels": _number(width * height / 1_000_000),
                        "limit": _number(max_pixels / 1_000_000),
                    },
                    code="too_many_pixels",
                )
            source_format = image.format
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise too_many from None
            except (OSError, ValueError, SyntaxError):
                raise ValidationError(
                    gettext(
                        "This picture is damaged or incomplete: its pixels could not be read. Export it again and "
                        "upload the new file."
                    ),
                    code="damaged",
                ) from None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    if source_format == "PNG" or has_alpha:
        clean, extension, options = upright.convert("RGBA" if has_alpha else "RGB"), "png", {"optimize": True}
    else:
        clean = upright.convert("RGB")
        extension, options = "jpg", {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
    # convert() copies the source's info (EXIF, ICC, XMP, text chunks): keep none of it.
    clean.info = {}
    if max(clean.size) > max_edge:
        clean.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    clean.save(out, format="PNG" if extension == "png" else "JPEG", **options)
    return PreparedImage(content=out.getvalue(), extension=extension, width=clean.width, height=clean.height)


_SVG_SIZE = re.compile(r"^\s*[-+]?[\d.]+\s*[ ,]\s*[-+]?[\d.]+\s*[ ,]\s*([\d.]+)\s*[ ,]\s*([\d.]+)\s*$")


def svg_size(content: bytes) -> tuple[int, int]:
    """Width and height of a trusted SVG drawing, from its viewBox (the seed illustrations have one)."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(content)
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        raise ValueError("Not an SVG document.")
    match = _SVG_SIZE.match(root.get("viewBox", ""))
    if match is None:
        raise ValueError("An illustration needs a viewBox (min-x min-y width height).")
    return round(float(match.group(1))), round(float(match.group(2)))


class _Rendition(ImageSpec):
    options = {"quality": 82, "optimize": True, "progressive": True}


# One imagekit spec per width. The file name is imagekit's: a hash of the
# stored name and the processing, so different processing makes new names and
# a cached old file is never served in place of a new one.
RENDITION_SPECS: dict[int, type[ImageSpec]] = {
    width: type(f"Width{width}", (_Rendition,), {"processors": [ResizeToFit(width=width, upscale=False)]})
    for width in RENDITION_WIDTHS
}


def rendition_widths(width: int) -> list[int]:
    """The responsive widths a picture this wide gets."""
    return [w for w in RENDITION_WIDTHS if w < width]


@lru_cache(maxsize=4096)
def rendition_name(source_name: str, width: int) -> str:
    """The storage name of one size of a stored picture, computed without any I/O."""
    return ImageCacheFile(RENDITION_SPECS[width](source=File(None, name=source_name))).name


def rendition_files(source: File, *, width: int) -> list[ImageCacheFile]:
    """The sizes to generate for a picture just stored under `source.name` (its content readable from `source`)."""
    return [ImageCacheFile(RENDITION_SPECS[w](source=source)) for w in rendition_widths(width)]


def print_file_name(image: StretchImage) -> str:
    """The stored file a printed page shows: the drawing itself, else the size nearest 640 px wide."""
    if image.svg:
        return image.svg.name
    wide = [w for w in rendition_widths(image.width) if w >= 640]
    return rendition_name(image.image.name, wide[0]) if wide else image.image.name


def absolute_url(url: str) -> str:
    """A storage URL as an absolute one: the filesystem's are site paths, a bucket's are absolute already."""
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


@dataclass(frozen=True)
class Picture:
    """A stretch picture as the pages, the emails and the API show it."""

    src: str
    # Raster sizes ("url 320w, …"); the widest is the kept original.
    srcset: str
    width: int
    height: int
    alt: str
    caption: str
    side: str
    # A drawing (SVG): pages show `src` alone, it is sharp at any size.
    is_drawing: bool
    # The raster that pages offer beside a drawing and that emails show.
    raster_src: str
    email_src: str

    @property
    def page_srcset(self) -> str:
        return "" if self.is_drawing else self.srcset


def picture(image: StretchImage, *, absolute: bool = False) -> Picture:
    """URLs and sizes of one picture; no storage or database look-up."""
    storage = image.image.storage
    url = (lambda name: absolute_url(storage.url(name))) if absolute else storage.url
    name = image.image.name
    widths = rendition_widths(image.width)
    sized = [(url(rendition_name(name, w)), w) for w in widths] + [(url(name), image.width)]
    mid = next((u for u, w in sized if w >= 640), sized[-1][0])
    email = sized[0][0]
    return Picture(
        src=url(image.svg.name) if image.svg else mid,
        srcset=", ".join(f"{u} {w}w" for u, w in sized),
        width=image.width,
        height=image.height,
        alt=image.alt,
        caption=image.caption,
        side=image.side,
        is_drawing=bool(image.svg),
        raster_src=mid,
        email_src=email,
    )


# --- Video -----------------------------------------------------------------------------------------


def video_check(upload: File) -> str:
    """The file extension ("mp4" or "webm") an uploaded video is stored under, or ValidationError.

    The container is read from the file's first bytes, not from its name: a
    QuickTime .mov, a Matroska .mkv or anything else named .mp4 is refused.
    """
    limit = settings.MEDIA_VIDEO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            gettext("This file is %(size)s; a video may be at most %(limit)s.")
            % {"size": _mb(size), "limit": _mb(limit)},
            code="too_large",
        )
    upload.seek(0)
    kind = filetype.guess(upload.read(VIDEO_SNIFF_BYTES))
    upload.seek(0)
    if kind is None or kind.mime not in VIDEO_TYPES:
        if kind:
            message = gettext(
                "This file is not an MP4 or WebM video (this one is %(type)s): export the video as MP4 (H.264) or "
                "WebM and upload that."
            ) % {"type": kind.mime}
        else:
            message = gettext(
                "This file is not an MP4 or WebM video: export the video as MP4 (H.264) or WebM and upload that."
            )
        raise ValidationError(
            message,
            code="not_a_video",
        )
    return VIDEO_TYPES[kind.mime]


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtube-nocookie.com", "www.youtube-nocookie.com"}
_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}
_VIMEO_HASH = re.compile(r"^[0-9a-f]{6,20}$")


def _embed_refused(message: str = "") -> ValidationError:
    return ValidationError(
        message
        or gettext("Give a YouTube or Vimeo link to one video (for example https://www.youtube.com/watch?v=…)."),
        code="embed_url",
    )


def video_embed_normalise(url: str) -> str:
    """A YouTube or Vimeo link as the one embed address we show, or ValidationError.

    YouTube videos play from youtube-nocookie.com (no cookies until the member
    presses play); Vimeo's with dnt=1 (no tracking). Every other site is refused.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise _embed_refused()
    segments = [s for s in parts.path.split("/") if s]
    if host == "youtu.be" or host in _YOUTUBE_HOSTS:
        if host == "youtu.be":
            video_id = segments[0] if segments else ""
        elif segments[:1] == ["watch"]:
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live", "v"):
            video_id = segments[1]
        else:
            video_id = ""
        if not _YOUTUBE_ID.match(video_id):
            raise _embed_refused(
                gettext("This YouTube link does not name one video: copy the link from the video's Share.")
            )
        return f"{EMBED_ORIGINS['youtube']}/embed/{video_id}"
    if host in _VIMEO_HOSTS:
        if host == "player.vimeo.com":
            numbers = segments[1:2] if segments[:1] == ["video"] else []
            private = (parse_qs(parts.query).get("h") or [""])[0]
        else:
            # vimeo.com/123, vimeo.com/123/abcdef (unlisted), vimeo.com/channels/x/123, …/videos/123
            numeric = [i for i, s in enumerate(segments) if s.isdigit()]
            numbers = [segments[numeric[-1]]] if numeric else []
            rest = segments[numeric[-1] + 1 :] if numeric else []
            private = rest[0] if rest else ""
        if not numbers or not numbers[0].isdigit():
            raise _embed_refused(
                gettext("This Vimeo link does not name one video: copy the link from the video's Share.")
            )
        query = f"h={private}&dnt=1" if _VIMEO_HASH.match(private) else "dnt=1"
        return f"{EMBED_ORIGINS['vimeo']}/video/{numbers[0]}?{query}"
    raise _embed_refused(gettext("Only YouTube and Vimeo videos can be embedded; upload the video file instead."))


def video_embed_provider(url: str) -> str:
    return "youtube" if url.startswith(EMBED_ORIGINS["youtube"]) else "vimeo"


def video_embed_player_url(url: str) -> str:
    """The embed address the guided player uses: starts at once, muted, inline."""
    extra = "autoplay=1&mute=1&playsinline=1" if video_embed_provider(url) == "youtube" else "autoplay=1&muted=1"
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@dataclass(frozen=True)
class Video:
    kind: str  # "file" or "embed"
    src: str
    content_type: str | None
    poster: str | None
    width: int | None
    height: int | None
    provider: str | None
    player_src: str


def video(stretch: Stretch, *, absolute: bool = False) -> Video | None:
    """A stretch's video as pages and the API show it, or None; no storage or database look-up."""
    if stretch.video_embed_url:
        url = stretch.video_embed_url
        return Video("embed", url, None, None, None, None, video_embed_provider(url), video_embed_player_url(url))
    if not stretch.video:
        return None
    storage = stretch.video.storage
    url = (lambda name: absolute_url(storage.url(name))) if absolute else storage.url
    src = url(stretch.video.name)
    extension = stretch.video.name.rsplit(".", 1)[-1]
    return Video(
        "file",
        src,
        VIDEO_CONTENT_TYPES.get(extension),
        url(stretch.video_poster.name),
        stretch.video_poster_width,
        stretch.video_poster_height,
        None,
        src,
    )


def embed_origins(stretches) -> list[str]:
    """The frame origins a page showing these stretches needs in its Content-Security-Policy."""
    return sorted({EMBED_ORIGINS[video_embed_provider(s.video_embed_url)] for s in stretches if s.video_embed_url})


def allow_embeds(response, stretches):
    """Let the page frame the YouTube/Vimeo players of its stretches' videos, and nothing else."""
    origins = embed_origins(stretches)
    if origins:
        # Replaces the site's frame-src 'none' (django-csp reads this off the response).
        response._csp_replace = {"frame-src": origins}
    return response
