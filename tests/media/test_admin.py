"""Trainers add, order, describe and remove a stretch's pictures, and set its video, in the admin."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from programs import media
from programs.models import Stretch, StretchImage
from tests.factories import (
    StretchFactory,
    StretchImageFactory,
    TrainerFactory,
    UserFactory,
    picture_bytes,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def trainer_client(client, db):
    client.force_login(TrainerFactory(username="tina"))
    return client


def stretch_form(stretch, *, images=(), new=(), **fields):
    """POST data for the stretch page: its fields, the pictures inline (existing as given, then new ones)."""
    data = {
        **{
            f"{name}_{language}": getattr(stretch, f"{name}_{language}") or ""
            for name in ("name", "summary", "steps", "cues", "cautions")
            for language in ("en", "de")
        },
        "slug": stretch.slug,
        "status": stretch.status,
        "media_url": "",
        "body_areas": [str(a.pk) for a in stretch.body_areas.all()],
        "position": stretch.position,
        "equipment": stretch.equipment,
        "difficulty": str(stretch.difficulty),
        "default_sets": str(stretch.default_sets),
        "default_reps": stretch.default_reps or "",
        "default_hold_seconds": stretch.default_hold_seconds or "",
        "video_link": stretch.video_embed_url,
        "images-TOTAL_FORMS": str(len(images) + len(new)),
        "images-INITIAL_FORMS": str(len(images)),
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for i, (image, order, extra) in enumerate(images):
        data.update(
            {
                f"images-{i}-id": str(image.pk),
                f"images-{i}-stretch": str(stretch.pk),
                f"images-{i}-alt_en": image.alt_en,
                f"images-{i}-alt_de": image.alt_de or "",
                f"images-{i}-caption_en": image.caption_en,
                f"images-{i}-caption_de": image.caption_de or "",
                f"images-{i}-side": image.side,
                f"images-{i}-order": str(order),
                **{f"images-{i}-{k}": v for k, v in extra.items()},
            }
        )
    for j, (upload, alt) in enumerate(new, start=len(images)):
        data.update({f"images-{j}-upload": upload, f"images-{j}-alt_en": alt, f"images-{j}-order": str(j + 1)})
    return data


def _url(stretch):
    return reverse("admin:programs_stretch_change", args=[stretch.pk])


def _files(settings):
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def test_a_trainer_adds_a_picture_with_its_alt_text_and_sees_its_preview(trainer_client, settings):
    stretch = StretchFactory()
    upload = SimpleUploadedFile("pose.jpg", picture_bytes(size=(1200, 900)), content_type="image/jpeg")

    response = trainer_client.post(_url(stretch), stretch_form(stretch, new=[(upload, "Both arms reach up.")]))

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    (image,) = StretchImage.objects.filter(stretch=stretch)
    assert (image.alt, image.width, image.height) == ("Both arms reach up.", 1200, 900)
    assert len(_files(settings)) == 4  # the picture and its 320, 640 and 960 sizes
    page = trainer_client.get(_url(stretch)).content.decode()
    assert re.search(
        r'<img class="sh-picture-preview" src="/media/[^"]+" width="240" height="180" alt="Both arms reach up.">', page
    )
    # Every field the pictures inline adds has its label.
    for field in ("upload", "alt_en", "alt_de", "caption_en", "caption_de", "side"):
        assert re.search(rf'<label[^>]* for="id_images-\d+-{field}"', page), field


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (b"plain text", "pose.jpg", "not a picture we can read"),
        (b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), "huge.jpg", "at most 10 MB"),
    ],
)
def test_a_refused_upload_is_a_form_error_and_nothing_is_stored(trainer_client, settings, content, name, error):
    stretch = StretchFactory()
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")

    response = trainer_client.post(_url(stretch), stretch_form(stretch, new=[(upload, "Arms up.")]))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not StretchImage.objects.exists()
    assert _files(settings) == []


def test_alt_text_is_required(trainer_client, settings):
    stretch = StretchFactory()
    upload = SimpleUploadedFile("pose.jpg", picture_bytes(), content_type="image/jpeg")

    response = trainer_client.post(_url(stretch), stretch_form(stretch, new=[(upload, "")]))

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert _files(settings) == []


def test_a_trainer_reorders_describes_and_removes_pictures(
    trainer_client, settings, django_capture_on_commit_callbacks
):
    stretch = StretchFactory()
    first, second, third = (StretchImageFactory(stretch=stretch, alt=f"Picture {n}.") for n in (1, 2, 3))
    gone = media.picture(first).src

    data = stretch_form(
        stretch,
        images=[
            (first, 1, {"DELETE": "on"}),
            (second, 3, {}),
            (third, 2, {"alt_en": "Kneeling, the back rounds.", "alt_de": "Kniend, der Rücken wird rund."}),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = trainer_client.post(_url(stretch), data)

    assert response.status_code == 302
    assert list(StretchImage.objects.filter(stretch=stretch).values_list("alt", "alt_en", "alt_de", "order")) == [
        ("Kneeling, the back rounds.", "Kneeling, the back rounds.", "Kniend, der Rücken wird rund.", 1),
        ("Picture 2.", "Picture 2.", None, 2),
    ]
    assert not any(str(p).endswith(gone.rsplit("/", 1)[-1]) for p in _files(settings))


def test_a_trainer_sets_a_youtube_link_and_it_is_saved_as_its_no_cookie_embed(trainer_client):
    stretch = StretchFactory()

    response = trainer_client.post(
        _url(stretch), stretch_form(stretch, video_link="https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    )

    assert response.status_code == 302
    stretch.refresh_from_db()
    assert stretch.video_embed_url == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"


def test_a_link_to_another_site_is_a_form_error(trainer_client):
    stretch = StretchFactory()

    response = trainer_client.post(_url(stretch), stretch_form(stretch, video_link="https://example.com/video.mp4"))

    assert response.status_code == 200
    assert "Only YouTube and Vimeo videos can be embedded" in response.content.decode()
    assert Stretch.objects.get(pk=stretch.pk).video_embed_url == ""


def test_a_trainer_uploads_a_video_file_with_its_poster(trainer_client, settings):
    stretch = StretchFactory()
    video = SimpleUploadedFile("clip.webm", (FIXTURES / "tiny.webm").read_bytes(), content_type="video/webm")
    poster = SimpleUploadedFile("poster.jpg", picture_bytes(size=(640, 360)), content_type="image/jpeg")

    response = trainer_client.post(_url(stretch), stretch_form(stretch, video_upload=video, video_poster_upload=poster))

    assert response.status_code == 302
    stretch.refresh_from_db()
    assert stretch.video.name.endswith(".webm") and stretch.video_poster.name.endswith(".jpg")
    assert 'aria-label="Current video of' in trainer_client.get(_url(stretch)).content.decode()


def test_a_video_file_without_a_poster_is_refused_and_nothing_is_stored(trainer_client, settings):
    stretch = StretchFactory()
    video = SimpleUploadedFile("clip.webm", (FIXTURES / "tiny.webm").read_bytes(), content_type="video/webm")

    response = trainer_client.post(_url(stretch), stretch_form(stretch, video_upload=video))

    assert response.status_code == 200
    assert "A video file needs its poster picture." in response.content.decode()
    assert _files(settings) == []


def test_a_member_cannot_open_or_change_a_stretchs_pictures(client, settings):
    stretch = StretchFactory()
    client.force_login(UserFactory(username="mo"))
    upload = SimpleUploadedFile("pose.jpg", picture_bytes(), content_type="image/jpeg")

    assert client.get(_url(stretch)).status_code == 302
    response = client.post(_url(stretch), stretch_form(stretch, new=[(upload, "Arms up.")]))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not StretchImage.objects.exists()
    assert _files(settings) == []
