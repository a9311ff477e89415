"""Pictures and video wherever a stretch is shown: the program and session pages, the API and its schema,
the reminder email; and the Content-Security-Policy that lets exactly those in."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from programs import media, services
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import (
    EnrolmentFactory,
    ProgramFactory,
    ProgramSessionFactory,
    SessionItemFactory,
    StretchFactory,
    StretchImageFactory,
    UserFactory,
    picture_upload,
)

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 600"><circle cx="400" cy="300" r="90"/></svg>'


@pytest.fixture
def program(db):
    program = ProgramFactory(slug="back", title="Back")
    hip = StretchFactory(name="Seated hip stretch", slug="hip", per_side=True)
    services.stretch_image_add(
        stretch=hip,
        upload=picture_upload(size=(800, 600), format="PNG"),
        svg=SVG,
        alt="Ankle on the knee.",
        side="left",
    )
    cat = StretchFactory(name="Cat–cow", slug="cat-cow", default_hold_seconds=None, default_reps=5)
    StretchImageFactory(stretch=cat, alt="The back dips.", caption="Breathe in: cow.", size=(1300, 975))
    StretchImageFactory(stretch=cat, alt="The back rounds.", size=(1300, 975))
    plain = StretchFactory(name="Plain stretch", slug="plain")
    session = ProgramSessionFactory(program=program, week=1, day=1, title="Day one")
    SessionItemFactory(session=session, stretch=hip, order=0, hold_seconds=20, per_side=True)
    SessionItemFactory(session=session, stretch=cat, order=1, hold_seconds=None, reps=5)
    SessionItemFactory(session=session, stretch=plain, order=2)
    return program


def _imgs(html: str) -> list[str]:
    return re.findall(r"<img [^>]+>", html)


def test_the_program_page_shows_each_picture_with_its_alt_text_and_sizes(client, program):
    html = client.get("/programs/back/").content.decode()

    imgs = _imgs(html)
    assert len(imgs) == 3
    drawing, cow, cat = imgs
    # The drawing is an SVG: sharp at any size, so no srcset.
    assert re.search(r'src="/media/stretches/drawings/[0-9a-f]+\.svg"', drawing) and "srcset" not in drawing
    assert 'alt="Ankle on the knee."' in drawing and 'width="800" height="600"' in drawing
    # A raster picture offers its sizes, and says how wide it is shown.
    assert 'alt="The back dips."' in cow and 'width="1300" height="975"' in cow
    widths = re.findall(r" (\d+)w", re.search(r'srcset="([^"]+)"', cow).group(1))
    assert widths == ["320", "640", "960", "1280", "1300"]
    assert 'sizes="' in cow and 'loading="lazy"' in cow
    assert "<figcaption>Breathe in: cow.</figcaption>" in html


def test_the_session_page_marks_each_picture_with_the_side_it_shows(client, program):
    member = UserFactory(username="mia")
    enrolment = EnrolmentFactory(member=member, program=program, start_date=dt.date.today())
    session = program.sessions.get()
    client.force_login(member)

    html = client.get(f"/enrolments/{enrolment.pk}/sessions/{session.pk}/").content.decode()

    assert len(_imgs(html)) == 3
    assert html.count('data-side="left"') == 1 and html.count('data-side=""') == 2
    assert '<div class="player__media" data-media hidden></div>' in html


def test_another_member_does_not_see_the_session_page(client, program):
    enrolment = EnrolmentFactory(member=UserFactory(username="mia"), program=program)
    client.force_login(UserFactory(username="max"))

    assert client.get(f"/enrolments/{enrolment.pk}/sessions/{program.sessions.get().pk}/").status_code == 404


def _csp(response) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in response["Content-Security-Policy"].split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_a_page_frames_nothing_unless_it_shows_an_embedded_video(client, program):
    assert _csp(client.get("/programs/back/"))["frame-src"] == ["'none'"]

    services.stretch_video_embed(stretch=program.sessions.get().items.first().stretch, url="https://vimeo.com/76979871")
    response = client.get("/programs/back/")

    assert _csp(response)["frame-src"] == ["https://player.vimeo.com"]
    html = response.content.decode()
    assert 'src="https://player.vimeo.com/video/76979871?dnt=1"' in html
    assert 'title="Video of Seated hip stretch (Vimeo)"' in html
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in html


def test_an_uploaded_video_is_shown_muted_with_its_poster_and_frames_nothing(client, program):
    from pathlib import Path

    from django.core.files.base import ContentFile

    webm = ContentFile((Path(__file__).parent / "fixtures" / "tiny.webm").read_bytes(), name="clip.webm")
    stretch = program.sessions.get().items.first().stretch
    services.stretch_video_upload(stretch=stretch, video=webm, poster=picture_upload(size=(640, 360)))

    response = client.get("/programs/back/")

    html = response.content.decode()
    assert re.search(
        r'<video class="stretch-video" data-video controls muted playsinline preload="none" poster="/media/', html
    )
    assert re.search(r'<source src="/media/stretches/videos/[0-9a-f]+\.webm" type="video/webm">', html)
    assert _csp(response)["frame-src"] == ["'none'"]


def test_the_api_gives_each_stretch_its_pictures_and_video(program, settings):
    settings.SITE_URL = "https://stretch.example"

    body = APIClient().get("/api/v1/programs/back/").json()

    by_slug = {s["slug"]: s for s in body["stretches"]}
    (drawing,) = by_slug["hip"]["images"]
    assert drawing["src"].startswith("https://stretch.example/media/stretches/drawings/")
    assert drawing["srcset"].startswith("https://stretch.example/media/sizes/") and drawing["srcset"].endswith(" 800w")
    assert (drawing["width"], drawing["height"], drawing["alt"], drawing["side"]) == (
        800,
        600,
        "Ankle on the knee.",
        "left",
    )
    cow, cat = by_slug["cat-cow"]["images"]
    assert (cow["alt"], cow["caption"], cat["alt"]) == ("The back dips.", "Breathe in: cow.", "The back rounds.")
    assert cow["src"].startswith("https://stretch.example/media/sizes/")  # the 640 size
    assert by_slug["plain"]["images"] == [] and by_slug["plain"]["video"] is None

    services.stretch_video_embed(
        stretch=program.sessions.get().items.first().stretch, url="https://youtu.be/dQw4w9WgXcQ"
    )
    video = APIClient().get("/api/v1/stretches/hip/").json()["video"]
    assert video == {
        "kind": "embed",
        "src": "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "content_type": None,
        "poster": None,
        "width": None,
        "height": None,
        "provider": "youtube",
    }


def test_a_new_picture_shows_at_once_on_the_cached_api_detail(program):
    api = APIClient()
    before = api.get("/api/v1/programs/back/").json()
    assert len(before["stretches"][2]["images"]) == 0

    StretchImageFactory(stretch=program.sessions.get().items.last().stretch, alt="Reaching up.")

    after = api.get("/api/v1/programs/back/").json()
    assert [i["alt"] for i in after["stretches"][2]["images"]] == ["Reaching up."]


def test_the_schema_describes_pictures_and_video():
    schema = APIClient().get("/api/v1/schema/?format=json").json()["components"]["schemas"]

    image = schema["StretchImage"]
    assert {"src", "srcset", "width", "height", "alt", "caption", "side"} <= set(image["properties"])
    assert set(image["required"]) >= {"src", "srcset", "width", "height", "alt"}
    assert {"kind", "src", "content_type", "poster", "provider"} <= set(schema["StretchVideo"]["properties"])
    stretch = schema["StretchDetail"]["properties"]
    assert stretch["images"]["items"] == {"$ref": "#/components/schemas/StretchImage"}


def test_the_reminder_shows_small_pictures_by_absolute_url_and_reads_fully_without_them(program, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://stretch.example"
    member = UserFactory(username="mia", timezone="Europe/Berlin")
    start = dt.datetime(2026, 3, 4, 6, 0, tzinfo=dt.UTC)
    enrolment = EnrolmentFactory(member=member, program=program, start_date=start.date())
    with time_machine.travel(start, tick=False) as clock:
        reminder_schedule_refresh(enrolments=[enrolment], now=start)
        clock.move_to(start + dt.timedelta(hours=1))
        batches = []
        outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
        for ids, token in batches:
            outbox_send_batch(ids=ids, token=token)
    (message,) = mail.outbox
    ((html, _),) = message.alternatives

    imgs = _imgs(html)
    assert len(imgs) == 2  # the first picture of each stretch that has one
    for img, alt in zip(imgs, ("Ankle on the knee.", "The back dips."), strict=True):
        assert re.search(r'src="https://stretch\.example/media/sizes/stretches/images/[^"]+\.(png|jpg)"', img), img
        assert f'alt="{alt}"' in img and 'width="96" height="72"' in img
    # With images off the message still says everything: every stretch, every prescription.
    without = re.sub(r"<img [^>]+>", "", html)
    for text in ("Seated hip stretch", "20 s hold per side", "Cat–cow", "5 reps", "Plain stretch"):
        assert text in without
    assert "<img" not in message.body
    assert media.EMAIL_WIDTH == 320


def _handout_images(pdf: bytes) -> list[tuple[int, int]]:
    import io

    import pypdf

    # The pages share one set of resources: each picture once, by its name.
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    images = {image.name: image.image.size for page in reader.pages for image in page.images}
    return list(images.values())


def test_the_handout_prints_each_stretchs_pictures_from_the_storage(storage, client, program):
    response = client.get("/programs/back/handout.pdf")

    assert response.status_code == 200
    pdf = response.content
    # Cat–cow's two photos print at the 640 px size; the hip's drawing is vector (no raster image).
    assert sorted(_handout_images(pdf)) == [(640, 480), (640, 480)]
    assert b"/Subtype /Form" in pdf or b"/Subtype/Form" in pdf  # the drawing, drawn as PDF paths
