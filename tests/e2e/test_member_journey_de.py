"""The first day once more, in German: a browser set to German (Accept-Language: de-DE) signs up,
confirms the email, enrols in the seed program, runs the player and ticks the session off."""

import re

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def german_page(chromium):
    context = chromium.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin", locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _shot(page, artifacts, name):
    page.screenshot(path=str(artifacts / f"de-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / f"de-{name}-375-screen.png"))
    page.set_viewport_size(DESKTOP)


def test_a_german_browser_gets_the_first_day_in_german(german_page, live_server, settings, artifacts):
    from playwright.sync_api import expect

    page = german_page
    problems = []
    page.on(
        "console",
        lambda m: m.type == "error" and "Failed to load resource" not in m.text and problems.append(m.text),
    )
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    settings.PLAYER_SPEED_PARAM = True
    settings.SITE_URL = live_server.url
    call_command("seed_demo", verbosity=0)
    base = live_server.url

    # Sign up, in German from the first page on.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jeden Tag ein bisschen dehnen")
    assert page.locator("html").get_attribute("lang") == "de"
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("E-Mail-Adresse").fill("lena@example.com")
    page.get_by_label("Dein Name").fill("Lena")
    page.get_by_label("Passwort", exact=True).fill("ein-langes-dehnbares-passwort")
    page.get_by_label("Passwort wiederholen").fill("ein-langes-dehnbares-passwort")
    expect(page.get_by_label("Zeitzone")).to_have_value("Europe/Berlin")  # from the browser
    _shot(page, artifacts, "signup")
    page.get_by_role("button", name="Konto anlegen").click()
    page.wait_for_url(re.compile(r"/accounts/verify/sent/"))
    assert User.objects.get(email="lena@example.com").language == "de"

    # The confirmation email is German too.
    (message,) = mail.outbox
    assert message.subject == "Bestätige deine E-Mail-Adresse für StretchHub"
    link = re.search(r"https?://\S+/accounts/verify/\S+/", message.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="E-Mail-Adresse bestätigen").click()
    page.wait_for_url(re.compile(r"/today/"))

    # The program page and enrolment.
    page.goto(f"{base}/programs/lower-back-relief/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Entlastung für den unteren Rücken")
    expect(page.get_by_role("heading", name="Katze-Kuh")).to_be_visible()
    _shot(page, artifacts, "program")
    page.get_by_role("link", name="Anmelden", exact=True).click()
    page.get_by_role("button", name="Programm starten").click()
    page.wait_for_url(re.compile(r"/today/$"))
    page.get_by_text("Du bist für Entlastung für den unteren Rücken angemeldet.").wait_for()
    _shot(page, artifacts, "dashboard")

    # Today's session in the player, its announcements in German.
    page.get_by_role("link", name="Heutige Einheit starten").click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/sessions/\d+/$"))
    page.goto(page.url + "?speed=20")
    page.evaluate(
        """() => {
            window.__said = [];
            const live = document.querySelector("#player [data-live]");
            new MutationObserver(() => live.textContent && window.__said.push(live.textContent))
                .observe(live, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.get_by_role("button", name="Geführte Einheit starten").click()
    player = page.locator("#player")
    expect(player.locator("[data-live]")).to_contain_text("Mach dich bereit")
    page.wait_for_selector('#player[data-phase="reps"]')
    expect(player.locator("[data-phase]")).to_have_text("Wiederholungen")
    page.keyboard.press("Space")
    expect(player.get_by_role("button", name="Fortsetzen")).to_have_attribute("aria-pressed", "true")
    _shot(page, artifacts, "player")
    page.keyboard.press("Space")
    rep = player.get_by_role("button", name="Wiederholung zählen")
    while player.get_attribute("data-phase") == "reps":
        rep.click()
    expect(player).to_have_attribute("data-phase", "done", timeout=30_000)
    said = page.evaluate("window.__said")
    assert "Hüftdehnung im Sitzen, linke Seite: 20 Sekunden halten." in said
    assert any(text.startswith("Seite wechseln.") for text in said)
    assert said[-1] == "Einheit geschafft. Gut gemacht! Hak sie unten ab."

    # Tick it off with pain scores.
    player.get_by_role("link", name="Abhaken").click()
    page.get_by_label("Schmerz vorher").fill("5")
    page.get_by_label("Schmerz nachher").fill("3")
    page.get_by_role("button", name="Diese Einheit abhaken").click()
    page.locator("#tick-box").get_by_role("heading", name="Erledigt").wait_for()
    tick_box = re.sub(r"\s+", " ", page.locator("#tick-box").inner_text())
    assert "Schmerz vorher 5 nachher 3" in tick_box
    assert re.search(r"Abgehakt am \w+, \d+\. \w+, \d\d:\d\d Uhr\.", tick_box), tick_box
    _shot(page, artifacts, "ticked")

    # Progress, calendar and pain chart in German.
    page.locator("#tick-box").get_by_role("link", name="Deinen Fortschritt ansehen").click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/$"))
    stats = re.sub(r"\s+", " ", page.locator(".stats").inner_text())
    assert stats.startswith("1/16 Einheiten erledigt")
    assert "100% Durchhaltequote insgesamt" in stats
    assert page.locator("svg.pain-chart__svg").count() == 1
    expect(page.locator(".cal thead")).to_contain_text("Mo")
    _shot(page, artifacts, "progress")

    # The footer switcher turns the member's pages (and emails) English.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible()
    assert User.objects.get(email="lena@example.com").language == "en"
    assert problems == []
