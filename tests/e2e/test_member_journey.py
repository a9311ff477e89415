"""A member's first day, in a real browser: sign up, confirm the email, enrol in the seed
program, do today's session in the guided player, tick it off, see progress, pause and resume."""

import re

import pytest
from django.core import mail
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def _shots(page, artifacts, name):
    """Full-page screenshots at phone and desktop width."""
    for label, size in (("375", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts / f"{name}-{label}.png"), full_page=True)
    # What a phone shows first, at a size that can be read.
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / f"{name}-375-screen.png"))
    page.set_viewport_size(DESKTOP)


def test_it_takes_a_new_member_through_their_first_session(page, live_server, settings, artifacts):
    from playwright.sync_api import expect

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

    # Sign up.
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Password", exact=True).fill("a-long-stretchy-password")
    page.get_by_label("Password again").fill("a-long-stretchy-password")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name=re.compile("sign up|create", re.I)).click()
    page.wait_for_url(re.compile(r"/accounts/verify/sent/"))

    # Confirm the email from the message we received.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/verify/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email address").click()
    page.wait_for_url(re.compile(r"/today/"))

    # Enrol in the seed program, starting today.
    page.goto(f"{base}/programs/lower-back-relief/")
    page.get_by_role("link", name="Enrol", exact=True).click()
    page.get_by_role("button", name="Start the program").click()
    page.wait_for_url(re.compile(r"/today/$"))
    page.get_by_text("You are enrolled in Lower back relief.").wait_for()
    _shots(page, artifacts, "dashboard")

    # Today's session, with fast timers.
    page.get_by_role("link", name="Start today's session").click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/sessions/\d+/$"))
    page.goto(page.url + "?speed=20")
    # Keep every announcement of the live region: at test speed some last a fraction of a second.
    page.evaluate(
        """() => {
            window.__said = [];
            const live = document.querySelector("#player [data-live]");
            new MutationObserver(() => live.textContent && window.__said.push(live.textContent))
                .observe(live, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.get_by_role("button", name="Start guided session").click()
    player = page.locator("#player")
    live = player.locator("[data-live]")
    expect(live).to_contain_text("Get ready")

    # Cat–cow first: count the reps (keyboard for the first, then the button).
    page.wait_for_selector('#player[data-phase="reps"]')
    page.keyboard.press("Enter")
    assert player.locator("[data-rep-count]").inner_text() == "1"
    page.keyboard.press("Space")  # pause
    assert player.get_by_role("button", name="Resume").get_attribute("aria-pressed") == "true"
    _shots(page, artifacts, "player")
    page.keyboard.press("Space")  # resume
    rep = player.get_by_role("button", name="Count a rep")
    while player.get_attribute("data-phase") == "reps":
        rep.click()

    # Then a hold, per side, with a "switch sides" cue between them; the timers run on their own.
    expect(player).to_have_attribute("data-phase", "done", timeout=30_000)
    said = page.evaluate("window.__said")
    assert "Seated hip stretch, left side: hold for 20 seconds." in said
    assert any(text.startswith("Switch sides.") for text in said)
    assert "Seated hip stretch, right side: hold for 20 seconds." in said
    assert said[-1] == "Session complete. Well done! Tick it off below."
    assert player.locator("[data-progress]").get_attribute("value") == player.locator("[data-progress]").get_attribute(
        "max"
    )

    # Tick off with pain scores, without a page reload.
    page.evaluate("window.__samePage = true")
    player.get_by_role("link", name="Tick it off").click()
    page.get_by_label("Pain before").fill("5")
    page.get_by_label("Pain after").fill("3")
    page.get_by_role("button", name="Tick off this session").click()
    page.locator("#tick-box").get_by_role("heading", name="Done").wait_for()
    assert page.evaluate("window.__samePage") is True
    assert "Pain before 5 after 3" in re.sub(r"\s+", " ", page.locator("#tick-box").inner_text())

    # The progress page counts it.
    page.locator("#tick-box").get_by_role("link", name="See your progress").click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/$"))
    stats = re.sub(r"\s+", " ", page.locator(".stats").inner_text())
    assert stats.startswith("1/16 sessions done")
    assert "100% adherence overall" in stats
    assert page.locator("svg.pain-chart__svg").count() == 1
    _shots(page, artifacts, "progress")
    page.set_viewport_size(PHONE)
    page.locator("#calendar-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "progress-375-calendar.png"))
    page.set_viewport_size(DESKTOP)

    # Pause, then resume.
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("is paused").wait_for()
    page.get_by_role("button", name="Resume").click()
    page.get_by_text("Welcome back").wait_for()
    page.goto(f"{base}/today/")
    assert page.get_by_text("Done today").is_visible()
    _shots(page, artifacts, "dashboard-done")
    # No script error and no Content-Security-Policy violation on any page.
    assert problems == []


def test_progress_and_today_read_well_after_weeks_of_history(page, live_server, artifacts):
    """Screenshots with real history: ticks with falling pain, a pause, a missed session to catch up."""
    import datetime as dt

    from django.test import Client

    from programs import selectors
    from programs.models import Completion
    from tests.factories import EnrolmentFactory, UserFactory, build_program

    member = UserFactory(username="kim", display_name="Kim", timezone="Europe/London")
    program = build_program(weeks=4, days=(1, 3, 5), items_per_session=3, title="Hips and hamstrings")
    today = selectors.member_local_today(member)
    enrolment = EnrolmentFactory(
        member=member,
        program=program,
        start_date=today - dt.timedelta(days=20),
        pauses=[{"started_on": (today - dt.timedelta(days=9)).isoformat(), "days": 3}],
    )
    due = [s for s in program.sessions.order_by("week", "day") if enrolment.date_of_session(s) < today]
    for index, session in enumerate(due[:-2] + due[-1:]):  # the second-to-last one is missed
        when = dt.datetime.combine(enrolment.date_of_session(session), dt.time(18), tzinfo=dt.UTC)
        Completion.objects.create(
            enrolment=enrolment,
            program_session=session,
            completed_at=when,
            pain_before=max(2, 7 - index // 2),
            pain_after=max(1, 5 - index // 2),
        )
    client = Client()
    client.force_login(member)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/enrolments/{enrolment.pk}/")
    assert page.locator("td.cal-day--paused").count() == 3
    assert page.locator("td.cal-day--missed").count() == 1
    assert page.locator("circle.pain-chart__dot--after").count() == len(due) - 1
    assert "Pain before went from 7" in page.locator(".pain-chart figcaption").inner_text()
    _shots(page, artifacts, "progress-history")
    page.set_viewport_size(PHONE)
    page.locator("#pain-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "progress-history-375-chart.png"))
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/today/")
    assert page.get_by_role("heading", name="To catch up (1)").is_visible()
    _shots(page, artifacts, "dashboard-history")
