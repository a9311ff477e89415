"""The installable web app's files: the manifest, the service worker at the root, the offline page and list."""

import datetime as dt
import json
import struct

import pytest
from django.contrib.staticfiles import finders

from stretchhub import pwa
from tests.factories import CompletionFactory, EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db


def test_the_manifest_names_the_app_its_start_page_and_icons_browsers_install_with(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == manifest["short_name"] == "StretchHub"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/today/", "/", "standalone")
    assert manifest["theme_color"] == "#0b6e62"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = open(finders.find(icon["src"].removeprefix("/static/")), "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_the_service_worker_is_served_from_the_root_fresh_and_for_the_whole_site(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    config = json.loads(body.split("self.STRETCHHUB = ", 1)[1].split(";\n", 1)[0])
    assert config["version"] == pwa.version()
    assert "/static/js/player.js" in config["shell"] and "/static/css/player.css" in config["shell"]
    assert (config["offlinePage"], config["offlinePages"]) == ("/offline/", "/offline/pages/")
    assert 'self.addEventListener("push"' in body


def test_the_caches_are_named_after_the_release_and_its_files(settings, tmp_path):
    before = pwa._version()
    source = tmp_path / "js"
    source.mkdir()
    (source / "sw.js").write_text("// another worker")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    try:
        assert pwa._version() != before
    finally:
        settings.STATICFILES_DIRS = settings.STATICFILES_DIRS[1:]
        finders.get_finder.cache_clear()
    assert pwa._version() == before


def test_every_page_names_the_manifest_and_loads_the_app_script(client, alice):
    client.force_login(alice)

    html = client.get("/today/").content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert f'src="/static/js/pwa.js" defer data-member="{alice.pk}" data-logout="/accounts/logout/"' in html


def test_the_csp_lets_in_our_own_manifest_and_worker_and_still_no_inline_script(client):
    policy = client.get("/offline/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["manifest-src"] == "'self'"
    assert directives["worker-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]


def test_the_offline_page_is_the_same_for_everyone(client, alice):
    anonymous = client.get("/offline/").content
    client.force_login(alice)
    signed_in = client.get("/offline/")

    assert signed_in.content == anonymous
    assert b"You are offline" in anonymous and b"csrfmiddlewaretoken" not in anonymous


@pytest.fixture
def alices_week(alice, time_machine):
    # Wednesday 6 May 2026 in Berlin; sessions every day from Monday 4 May, Monday's open.
    time_machine.move_to(dt.datetime(2026, 5, 6, 8, 0, tzinfo=dt.UTC), tick=False)
    program = build_program(weeks=2, days=(1, 2, 3, 4, 5, 6, 7), items_per_session=1)
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 5, 4))
    CompletionFactory(enrolment=enrolment, program_session=program.sessions.get(week=1, day=2))
    return enrolment


def test_the_offline_list_is_today_progress_and_the_coming_sessions(
    client, alice, alices_week, django_assert_num_queries
):
    client.force_login(alice)
    sessions = {(s.week, s.day): s.pk for s in alices_week.program.sessions.all()}

    # session, member, their enrolments, sessions, completions
    with django_assert_num_queries(5):
        response = client.get("/offline/pages/")

    assert response["Cache-Control"].startswith("max-age=0")
    base = f"/enrolments/{alices_week.pk}"
    # Monday's session, still open, then Wednesday (today) to Saturday.
    assert response.json() == {
        "member": alice.pk,
        "pages": ["/today/", f"{base}/"] + [f"{base}/sessions/{sessions[(1, day)]}/" for day in (1, 3, 4, 5, 6)],
    }


def test_the_offline_list_holds_nothing_of_another_member(client, bob, alices_week):
    client.force_login(bob)

    assert client.get("/offline/pages/").json() == {"member": bob.pk, "pages": ["/today/"]}


def test_nobody_signed_in_keeps_no_pages(client, alices_week):
    assert client.get("/offline/pages/").json() == {"member": None, "pages": []}
