"""The upload pipeline (programs/media.py, services.stretch_image_*), on the filesystem and on a real S3 server.

Every refusal leaves the storage and the database as they were; what is kept
is our own re-encoding, without the camera's metadata, with its sizes.
"""

import io
import struct
import urllib.request
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from programs import handout, media, services
from programs.models import StretchImage
from tests.factories import StretchFactory, StretchImageFactory, picture_bytes, picture_upload

pytestmark = pytest.mark.django_db(transaction=True)


def _refused(storage, stretch, upload, code):
    with pytest.raises(ValidationError) as refused:
        services.stretch_image_add(stretch=stretch, upload=upload, alt="Arms up.")
    assert refused.value.code == code
    assert storage.names() == []
    assert not StretchImage.objects.exists()
    return str(refused.value.messages[0])


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be width × height pixels in a few dozen bytes: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_it_refuses_a_renamed_text_file_and_stores_nothing(storage):
    upload = ContentFile(b"this is not a picture, only named like one", name="pose.jpg")

    message = _refused(storage, StretchFactory(), upload, "not_an_image")
    assert "JPEG, PNG or WebP" in message


def test_it_refuses_an_svg_upload_and_stores_nothing(storage):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script></svg>'

    _refused(storage, StretchFactory(), ContentFile(svg, name="pose.png"), "not_an_image")


def test_it_refuses_a_50_mb_file_before_reading_it_and_stores_nothing(storage):
    upload = ContentFile(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), name="huge.jpg")

    message = _refused(storage, StretchFactory(), upload, "too_large")
    assert "50 MB" in message and "at most 10 MB" in message


def test_it_refuses_a_decompression_bomb_from_its_header_and_stores_nothing(storage):
    bomb = _png_header_only(60_000, 60_000)
    assert len(bomb) < 200

    message = _refused(storage, StretchFactory(), ContentFile(bomb, name="bomb.png"), "too_many_pixels")
    assert "at most 40 megapixels" in message


def test_it_refuses_a_picture_over_the_pixel_limit_that_pillow_itself_would_open(storage, settings):
    settings.MEDIA_IMAGE_MAX_PIXELS = 1_000_000
    upload = ContentFile(_png_header_only(1200, 1000), name="big.png")

    message = _refused(storage, StretchFactory(), upload, "too_many_pixels")
    assert "1200 × 1000 pixels" in message


def test_it_refuses_a_truncated_picture_and_stores_nothing(storage):
    whole = picture_bytes(size=(900, 700), format="PNG")

    _refused(storage, StretchFactory(), ContentFile(whole[: len(whole) // 2], name="cut.png"), "damaged")


def test_it_still_refuses_a_truncated_picture_once_a_handout_was_printed(storage):
    # Importing the PDF renderer flips a process-wide Pillow switch that would let truncated pictures in.
    handout.render_pdf(template="programs/handout_base.html", context={}, paper="a4")
    whole = picture_bytes(size=(900, 700), format="PNG")

    _refused(storage, StretchFactory(), ContentFile(whole[: len(whole) // 2], name="cut.png"), "damaged")


def test_it_refuses_a_picture_without_alt_text_and_stores_nothing(storage):
    with pytest.raises(ValidationError, match="alt text"):
        services.stretch_image_add(stretch=StretchFactory(), upload=picture_upload(), alt="   ")
    assert storage.names() == []


def test_it_strips_exif_and_gps_and_turns_the_picture_upright(storage):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    upload = picture_upload(size=(1200, 800), exif=exif)
    assert Image.open(io.BytesIO(upload.read())).getexif()[0x010F] == "PhoneMaker"

    image = services.stretch_image_add(stretch=StretchFactory(), upload=upload, alt="Arms up.")

    kept = Image.open(io.BytesIO(storage.read(image.image.name)))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}
    assert "exif" not in kept.info and "icc_profile" not in kept.info
    assert kept.size == (800, 1200) == (image.width, image.height)
    for name in storage.names():
        assert b"PhoneMaker" not in storage.read(name)


def test_it_makes_each_responsive_size_narrower_than_the_picture(storage):
    image = services.stretch_image_add(
        stretch=StretchFactory(), upload=picture_upload(size=(1000, 750), format="PNG"), alt="Arms up."
    )

    sizes = {name: Image.open(io.BytesIO(storage.read(name))).size for name in storage.names()}
    assert sorted(sizes.values()) == [(320, 240), (640, 480), (960, 720), (1000, 750)]
    assert sizes[image.image.name] == (1000, 750)
    picture = media.picture(image)
    for width in (320, 640, 960):
        assert f"{width}w" in picture.srcset
    assert picture.srcset.endswith(" 1000w")


def test_it_keeps_a_large_picture_at_most_2560_pixels_wide(storage):
    image = services.stretch_image_add(stretch=StretchFactory(), upload=picture_upload(size=(4000, 3000)), alt="Up.")

    assert (image.width, image.height) == (2560, 1920)
    assert len(storage.names()) == 1 + len(media.RENDITION_WIDTHS)


def test_it_keeps_a_png_with_transparency_as_png(storage):
    image = services.stretch_image_add(
        stretch=StretchFactory(), upload=picture_upload(format="PNG", colour=(0, 0, 0, 0), name="a.png"), alt="Up."
    )

    kept = Image.open(io.BytesIO(storage.read(image.image.name)))
    assert kept.format == "PNG" and kept.mode == "RGBA"


def test_it_serves_what_it_stored_at_the_urls_it_shows_with_long_cache_headers(storage, client):
    image = StretchImageFactory(size=(700, 500))
    picture = media.picture(image)

    urls = [entry.split()[0] for entry in picture.srcset.split(", ")]
    assert len(urls) == 3
    for url in urls:
        if storage.kind == "filesystem":
            # Django serves var/media/ itself (stretchhub.views.media).
            assert url.startswith("/media/")
            response = client.get(url)
            body, headers = b"".join(response.streaming_content), response.headers
        else:
            # The bucket's public address, read without credentials as a browser does.
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(url, timeout=10) as response:
                body, headers = response.read(), response.headers
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(body)).width in (320, 640, 700)


def test_it_deletes_the_picture_and_all_its_files_once_the_deletion_commits(storage):
    image = StretchImageFactory(size=(1300, 900))
    other = StretchImageFactory(size=(500, 400))
    assert len(storage.names()) == 5 + 2

    with transaction.atomic():
        services.stretch_image_delete(image=image)
        assert len(storage.names()) == 7  # still there until the row's deletion commits

    assert len(storage.names()) == 2
    assert list(StretchImage.objects.all()) == [other]


def test_it_removes_what_it_stored_when_saving_the_row_fails(storage, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(StretchImage, "save", fail)

    with pytest.raises(RuntimeError):
        services.stretch_image_add(stretch=StretchFactory(), upload=picture_upload(size=(700, 500)), alt="Up.")
    assert storage.names() == []


def test_it_stores_a_trusted_drawing_as_it_is_with_its_raster(storage):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 600"><rect width="800" height="600"/></svg>'

    image = services.stretch_image_add(
        stretch=StretchFactory(), upload=picture_upload(size=(800, 600), format="PNG"), svg=svg, alt="Up."
    )

    assert storage.read(image.svg.name) == svg
    picture = media.picture(image)
    assert picture.src.endswith(".svg") and picture.is_drawing and picture.page_srcset == ""
    assert picture.email_src.endswith(".png") and "320w" in picture.srcset


def test_it_shows_pictures_without_touching_the_storage_or_the_database(
    storage, django_assert_num_queries, monkeypatch
):
    image = StretchImage.objects.get(pk=StretchImageFactory(size=(1300, 900)).pk)
    backend = type(default_storage._wrapped)
    calls = []
    for method in ("exists", "open", "size", "listdir", "save"):
        monkeypatch.setattr(backend, method, lambda *args, _name=method, **kwargs: calls.append(_name))

    with django_assert_num_queries(0):
        picture = media.picture(image, absolute=True)

    assert calls == []
    assert picture.srcset.count("w, ") == 4  # 320, 640, 960, 1280 and the picture itself


def test_a_refusal_is_in_the_trainers_language_with_its_decimal_mark(settings):
    from django.utils import translation

    settings.MEDIA_IMAGE_MAX_BYTES = 1024 * 1024
    big = ContentFile(b"\xff\xd8\xff" + b"\0" * (1536 * 1024), name="big.jpg")
    with translation.override("de"), pytest.raises(ValidationError) as refused:
        media.image_prepare(big)
    assert refused.value.messages == ["Diese Datei hat 1,5 MB; ein Bild darf höchstens 1 MB haben."]
    with translation.override("de"), pytest.raises(ValidationError) as refused:
        media.image_prepare(ContentFile(b"plain text", name="pose.jpg"))
    assert refused.value.messages[0].startswith("Diese Datei ist kein Bild, das wir lesen können")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        media.image_prepare(big)
    assert refused.value.messages == ["This file is 1.5 MB; a picture may be at most 1 MB."]
