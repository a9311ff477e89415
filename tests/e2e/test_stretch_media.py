"""The stretches' pictures in a real browser: the guided player shows the right picture for each stretch
and side (mirrored for the side a drawing does not show), plays a video muted inline, and the pages read
well at phone and desktop width."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client

from programs import media, services
from programs.models import Program, Stretch, StretchImage
from tests.factories import EnrolmentFactory, UserFactory, picture_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WEBM = Path(__file__).resolve().parents[1] / "media" / "fixtures" / "tiny.webm"


def _watch(page):
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _log_in(page, live_server, member):
    client = Client()
    client.force_login(member)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _shots(page, artifacts, name, *, full_page=True):
    for label, size in (("375", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts / f"{name}-{label}.png"), full_page=full_page)
    page.set_viewport_size(DESKTOP)


def _shown(player):
    """What the player's stage shows: (kind, src, mirrored) for each picture or video."""
    return player.locator("[data-media]").evaluate(
        """el => Array.from(el.children).map(node => {
            if (node.tagName === "FIGURE") {
                const img = node.querySelector("img");
                return ["picture", new URL(img.getAttribute("src"), location.href).pathname, node.dataset.mirrored];
            }
            return [node.tagName.toLowerCase(), null, null];
        })"""
    )


def test_the_player_shows_each_stretchs_picture_for_each_side(page, live_server, settings, artifacts):
    settings.PLAYER_SPEED_PARAM = True
    settings.SITE_URL = live_server.url
    call_command("seed_demo", "--no-logins", verbosity=0)
    problems = _watch(page)
    member = UserFactory(username="sam", display_name="Sam")
    program = Program.objects.get(slug="lower-back-relief")
    enrolment = EnrolmentFactory(member=member, program=program, start_date=dt.date.today())
    session = program.sessions.get(week=2, day=6)  # the whole routine: all four stretches
    drawings = {
        slug: [media.picture(i).src for i in StretchImage.objects.filter(stretch__slug=slug).order_by("order")]
        for slug in ("cat-cow", "seated-hip-stretch", "crossed-leg-hamstring-stretch", "bar-hang")
    }
    assert all(src.endswith(".svg") for srcs in drawings.values() for src in srcs)
    names = dict(Stretch.objects.values_list("name", "slug"))
    _log_in(page, live_server, member)

    page.goto(f"{live_server.url}/enrolments/{enrolment.pk}/sessions/{session.pk}/")
    page.get_by_role("button", name="Start guided session").click()
    player = page.locator("#player")
    player.get_by_role("button", name="Pause").click()

    seen = []
    shot = set()
    while player.get_attribute("data-phase") != "done":
        phase = player.get_attribute("data-phase")
        slug = names[player.locator("[data-name]").inner_text()]
        label = player.locator("[data-phase]").text_content().lower()
        side = "right" if "right side" in label or phase == "switch" else "left"
        shown = _shown(player)
        expected_mirror = (
            "true" if slug in ("seated-hip-stretch", "crossed-leg-hamstring-stretch") and side == "right" else "false"
        )
        assert shown == [["picture", src, expected_mirror] for src in drawings[slug]], (phase, slug, side)
        for alt in player.locator("[data-media] img").evaluate_all("imgs => imgs.map(i => i.alt)"):
            assert alt
        seen.append((slug, phase, side))
        if (slug, phase, side) == ("seated-hip-stretch", "hold", "right") and "hip" not in shot:
            shot.add("hip")
            player.scroll_into_view_if_needed()
            page.set_viewport_size(PHONE)
            player.screenshot(path=str(artifacts / "player-pictures-right-375.png"))
            page.set_viewport_size(DESKTOP)
            player.screenshot(path=str(artifacts / "player-pictures-right-desktop.png"))
        if (slug, phase) == ("cat-cow", "reps") and "cat-cow" not in shot:
            shot.add("cat-cow")
            page.set_viewport_size(PHONE)
            player.screenshot(path=str(artifacts / "player-pictures-catcow-375.png"))
            page.set_viewport_size(DESKTOP)
        player.get_by_role("button", name="Skip").click()

    assert ("seated-hip-stretch", "hold", "left") in seen and ("seated-hip-stretch", "hold", "right") in seen
    assert ("crossed-leg-hamstring-stretch", "switch", "right") in seen
    assert {slug for slug, _, _ in seen} == set(drawings)
    assert _shown(player) == []  # the finish shows no picture
    assert problems == []


def test_the_player_plays_a_stretchs_video_muted_and_inline(page, live_server, settings, artifacts):
    settings.SITE_URL = live_server.url
    call_command("seed_demo", "--no-logins", verbosity=0)
    problems = _watch(page)
    hang = Stretch.objects.get(slug="bar-hang")
    services.stretch_video_upload(
        stretch=hang,
        video=ContentFile(WEBM.read_bytes(), name="hang.webm"),
        poster=picture_upload(size=(640, 480), name="poster.jpg"),
    )
    member = UserFactory(username="sam")
    program = Program.objects.get(slug="lower-back-relief")
    enrolment = EnrolmentFactory(member=member, program=program, start_date=dt.date.today())
    session = program.sessions.get(week=2, day=2)  # cat–cow, hip, hang
    _log_in(page, live_server, member)

    page.goto(f"{live_server.url}/enrolments/{enrolment.pk}/sessions/{session.pk}/")
    page.get_by_role("button", name="Start guided session").click()
    player = page.locator("#player")
    player.get_by_role("button", name="Pause").click()
    while player.locator("[data-name]").inner_text() != "Hanging from a bar":
        player.get_by_role("button", name="Skip").click()

    assert [kind for kind, _, _ in _shown(player)] == ["video"]
    video = player.locator("[data-media] video")
    assert video.evaluate("v => v.paused")  # it waits while the player is paused
    player.get_by_role("button", name="Resume").click()
    page.wait_for_function(
        "v => v.muted && v.playsInline && !v.paused && v.currentTime > 0", arg=video.element_handle(), timeout=10_000
    )
    player.screenshot(path=str(artifacts / "player-video-desktop.png"))
    assert problems == []


def test_the_program_page_shows_the_illustrations_at_phone_and_desktop_width(page, live_server, artifacts):
    call_command("seed_demo", "--no-logins", verbosity=0)
    problems = _watch(page)

    page.goto(f"{live_server.url}/programs/lower-back-relief/")

    pictures = page.locator(".stretch-picture img")
    assert pictures.count() == 6
    for index in range(6):
        image = pictures.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.get_attribute("alt")
    _shots(page, artifacts, "program-pictures")
    page.set_viewport_size(PHONE)
    page.locator("#stretch-seated-hip-stretch").scroll_into_view_if_needed()
    page.locator("#stretch-seated-hip-stretch").screenshot(path=str(artifacts / "program-hip-card-375.png"))
    page.set_viewport_size(DESKTOP)
    assert re.search(r"\.svg$", pictures.first.get_attribute("src"))
    assert problems == []
