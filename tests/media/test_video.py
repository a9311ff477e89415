"""A stretch's video: an uploaded MP4/WebM (checked by its container, with a poster) or a YouTube/Vimeo embed."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from programs import media, services
from programs.models import Stretch
from tests.factories import StretchFactory, picture_upload

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parent / "fixtures"


def _video(name: str, *, as_name: str | None = None) -> ContentFile:
    return ContentFile((FIXTURES / name).read_bytes(), name=as_name or name)


def test_it_stores_a_webm_video_with_its_poster(storage):
    stretch = services.stretch_video_upload(
        stretch=StretchFactory(), video=_video("tiny.webm"), poster=picture_upload(size=(640, 360))
    )

    video = media.video(Stretch.objects.get(pk=stretch.pk))
    assert video.kind == "file" and video.content_type == "video/webm"
    assert (video.width, video.height) == (640, 360)
    assert storage.read(stretch.video.name) == (FIXTURES / "tiny.webm").read_bytes()
    assert sorted(storage.names()) == sorted([stretch.video.name, stretch.video_poster.name])


def test_it_names_the_file_by_its_container_not_by_the_name_it_came_with(storage):
    stretch = services.stretch_video_upload(
        stretch=StretchFactory(), video=_video("tiny.mp4", as_name="clip.webm"), poster=picture_upload()
    )

    assert stretch.video.name.endswith(".mp4")
    assert media.video(stretch).content_type == "video/mp4"


@pytest.mark.parametrize(
    ("upload", "found"),
    [
        (lambda: _video("tiny.mov", as_name="clip.mp4"), "video/quicktime"),
        (lambda: ContentFile(b"just some text, named like a video", name="clip.webm"), None),
        (lambda: picture_upload(name="clip.mp4"), "image/jpeg"),
    ],
)
def test_it_refuses_what_is_not_an_mp4_or_webm_container_and_stores_nothing(storage, upload, found):
    stretch = StretchFactory()

    with pytest.raises(ValidationError) as refused:
        services.stretch_video_upload(stretch=stretch, video=upload(), poster=picture_upload())

    assert refused.value.code == "not_a_video"
    if found:
        assert found in refused.value.messages[0]
    assert storage.names() == []
    stretch.refresh_from_db()
    assert not stretch.video and not stretch.video_poster


def test_it_refuses_a_video_over_the_limit_and_stores_nothing(storage, settings):
    settings.MEDIA_VIDEO_MAX_BYTES = 4 * 1024

    with pytest.raises(ValidationError, match="at most 4 KB|at most 0 MB") as refused:
        services.stretch_video_upload(stretch=StretchFactory(), video=_video("tiny.webm"), poster=picture_upload())
    assert refused.value.code == "too_large"
    assert storage.names() == []


def test_it_refuses_a_bad_poster_and_stores_not_even_the_good_video(storage):
    with pytest.raises(ValidationError) as refused:
        services.stretch_video_upload(
            stretch=StretchFactory(), video=_video("tiny.webm"), poster=ContentFile(b"nope", name="poster.jpg")
        )
    assert refused.value.code == "not_an_image"
    assert storage.names() == []


def test_an_embed_replaces_an_uploaded_video_and_its_files_go(storage):
    stretch = services.stretch_video_upload(
        stretch=StretchFactory(), video=_video("tiny.webm"), poster=picture_upload()
    )

    services.stretch_video_embed(stretch=stretch, url="https://youtu.be/dQw4w9WgXcQ")

    stretch.refresh_from_db()
    assert stretch.video_embed_url == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert not stretch.video and not stretch.video_poster
    assert storage.names() == []


@pytest.mark.parametrize(
    ("link", "embed"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("http://youtu.be/dQw4w9WgXcQ?si=abc", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871?dnt=1"),
        ("https://vimeo.com/76979871/8272103f6e", "https://player.vimeo.com/video/76979871?h=8272103f6e&dnt=1"),
        ("https://vimeo.com/channels/staffpicks/76979871", "https://player.vimeo.com/video/76979871?dnt=1"),
        (
            "https://player.vimeo.com/video/76979871?h=8272103f6e",
            "https://player.vimeo.com/video/76979871?h=8272103f6e&dnt=1",
        ),
    ],
)
def test_it_turns_a_youtube_or_vimeo_link_into_its_privacy_friendly_embed(link, embed):
    assert media.video_embed_normalise(link) == embed
    assert media.video_embed_normalise(embed) == embed


@pytest.mark.parametrize(
    "link",
    [
        "https://example.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)//youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/playlist?list=PL123",
        "https://vimeo.com/channels/staffpicks",
        "not a link",
    ],
)
def test_it_refuses_any_other_link(link):
    with pytest.raises(ValidationError):
        media.video_embed_normalise(link)


def test_the_database_keeps_one_kind_of_video_and_a_poster_with_every_file(db):
    from django.db import IntegrityError, transaction

    stretch = StretchFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Stretch.objects.filter(pk=stretch.pk).update(
            video="a.webm", video_poster="a.jpg", video_embed_url="https://player.vimeo.com/video/1?dnt=1"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Stretch.objects.filter(pk=stretch.pk).update(video="a.webm")
