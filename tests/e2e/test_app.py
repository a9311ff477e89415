"""StretchHub as an installed app, in headless Chromium: installable, push switched on, the
session kept for offline use, a tick made offline synced once, and nothing left after logout.

Chromium checks installability and runs push only in a normal profile (an
incognito context reports "in-incognito" and has no Push API), so these tests
use a persistent context of their own.
"""

import datetime as dt
import json
import re
import time

import pytest
from django.utils import timezone

from accounts.models import PushSubscription
from programs.models import Completion
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.services import reminder_schedule_refresh
from stretchhub import vapid
from stretchhub.api.models import IdempotencyRecord
from tests.factories import PASSWORD, EnrolmentFactory, UserFactory, build_program
from tests.reminders.push_service import Device, start_push_service

from .conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app(chromium, tmp_path):
    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=["--headless", "--no-sandbox", "--disable-gpu"],
        viewport=PHONE,
        timezone_id="Europe/London",
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def push_keys(settings):
    settings.VAPID_PRIVATE_KEY = vapid.new_private_key()
    settings.WEB_PUSH_ALLOW_PRIVATE = True
    return settings.VAPID_PRIVATE_KEY


@pytest.fixture
def member(live_server, settings):
    settings.SITE_URL = live_server.url
    user = UserFactory(username="maya", display_name="Maya", timezone="Europe/London")
    program = build_program(weeks=2, days=(1, 2, 3, 4, 5, 6, 7), items_per_session=2, title="Desk reset")
    today = timezone.now().astimezone(user.tzinfo).date()
    user.enrolment = EnrolmentFactory(member=user, program=program, start_date=today)
    return user


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/today/$"))
    # Controlled by the service worker, which then keeps the member's pages: a page
    # loaded while it was still installing is controlled from its next load.
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def kept_pages(page) -> list[str]:
    return page.evaluate(
        """async () => {
            const name = (await caches.keys()).find(n => n.startsWith("stretchhub-pages-"));
            if (!name) return [];
            const cache = await caches.open(name);
            return (await cache.keys()).map(r => new URL(r.url).pathname);
        }"""
    )


def poll(page, script: str, *, seconds: float = 15):
    """The script's value in the page once it is not empty (an async script's promise, awaited)."""
    deadline = time.monotonic() + seconds
    while not (value := page.evaluate(script)):
        assert time.monotonic() < deadline, f"nothing from {script}"
        page.wait_for_timeout(100)
    return value


def wait_until_kept(page, *paths: str) -> list[str]:
    """The pages the worker kept, once it has kept these (and written its note of them, which comes last)."""
    deadline = time.monotonic() + 15
    while True:
        kept = kept_pages(page)
        if {"/offline/kept.json", *paths} <= set(kept):
            return kept
        assert time.monotonic() < deadline, f"the worker kept only {kept}"
        page.wait_for_timeout(100)


def todays_session(user):
    return user.enrolment.program.sessions.get(week=1, day=1)


def test_it_is_installable_and_pushes_a_reminder_to_the_device(app, live_server, member, push_keys, artifacts):
    page = app.new_page()
    log_in(page, live_server, member)

    # Chromium's own install check and manifest report.
    cdp = app.new_cdp_session(page)
    installability = cdp.send("Page.getInstallabilityErrors")
    report = cdp.send("Page.getAppManifest")
    print("\nInstallability errors:", installability["installabilityErrors"])
    print("Manifest", report["url"], "errors:", report["errors"])
    manifest = json.loads(report["data"])
    print(json.dumps(manifest, indent=2))
    assert installability["installabilityErrors"] == []
    assert report["errors"] == [] and report["url"] == f"{live_server.url}/manifest.webmanifest"
    assert manifest["start_url"] == "/today/" and manifest["display"] == "standalone"
    report_page = app.new_page()
    report_page.set_content(
        "<h1>Chromium: Page.getInstallabilityErrors / Page.getAppManifest</h1>"
        f"<p>Installability errors: <b>{installability['installabilityErrors'] or 'none'}</b></p>"
        f"<p>Manifest <code>{report['url']}</code>, parse errors: <b>{report['errors'] or 'none'}</b></p>"
        f"<pre>{json.dumps(manifest, indent=2)}</pre>"
        + "".join(f'<img src="{live_server.url}{icon["src"]}" width="96"> ' for icon in manifest["icons"])
    )
    report_page.screenshot(path=str(artifacts / "app-install-criteria.png"), full_page=True)
    report_page.close()

    # Push: the browser asks only when the member presses the button.
    app.grant_permissions(["notifications"], origin=live_server.url)
    page.goto(f"{live_server.url}/accounts/settings/")
    status = page.locator("[data-push-status]")
    status.filter(has_text="Push is off for this device.").wait_for()
    page.get_by_role("button", name="Switch push on for this device").click()
    # Chromium's pushManager.subscribe needs Google's push service, which this machine
    # cannot reach: the page says so, and stores nothing.
    status.filter(has_text="Your browser could not reach its push service").wait_for(timeout=30_000)
    assert not PushSubscription.objects.exists()

    # So the test registers a device of its own push service, through the same endpoint
    # (and with the same CSRF-protected request) the page uses.
    service = start_push_service(public_key=vapid.public_key(push_keys))
    try:
        device = service.device()
        answer = page.evaluate(
            """async ([url, subscription]) => {
                const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
                const response = await fetch(url, {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                    body: JSON.stringify(subscription)});
                return {status: response.status, body: await response.json()};
            }""",
            ["/accounts/settings/push/", device.subscription],
        )
        assert answer["status"] == 201 and answer["body"]["label"] == "Chrome on Linux"
        page.reload()
        devices = page.locator("[data-push-device]")
        assert devices.count() == 1 and "Chrome on Linux" in devices.inner_text()
        page.screenshot(path=str(artifacts / "settings-push-devices.png"), full_page=True)
        page.locator("[data-push]").screenshot(path=str(artifacts / "settings-push-card.png"))

        # The day's reminder, due a minute ago: one email and one push to the device.
        due_at = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
        enrolment = member.enrolment
        enrolment.reminder_time = due_at.astimezone(member.tzinfo).time()
        enrolment.save()
        reminder_schedule_refresh(enrolments=[enrolment], now=due_at - dt.timedelta(seconds=30))
        batches = []
        outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
        for ids, token in batches:
            outbox_send_batch(ids=ids, token=token)

        (push,) = service.delivered()
        session = todays_session(member)
        print("The push service decrypted:", json.dumps(push.payload, indent=2, ensure_ascii=False))
        assert push.payload["title"] == f"Time to stretch: {session.title}"
        assert push.payload["url"] == f"{live_server.url}/enrolments/{enrolment.pk}/sessions/{session.pk}/"
        assert push.payload["done_url"].startswith(f"{live_server.url}/r/done/")

        # What the device does with it: the service worker shows it, with its "Done" action.
        registration_id = page.evaluate(
            "async () => (await navigator.serviceWorker.ready).active && (await navigator.serviceWorker.ready).scope"
        )
        assert registration_id == f"{live_server.url}/"
        worker_cdp = app.new_cdp_session(page)
        registrations = []
        worker_cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        worker_cdp.send("ServiceWorker.enable")
        page.wait_for_timeout(500)
        (registration,) = [r for r in registrations if r["scopeURL"] == f"{live_server.url}/" and not r["isDeleted"]]
        worker_cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server.url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(push.payload),
            },
        )
        shown = poll(
            page,
            """async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => ({
                title: n.title, body: n.body, tag: n.tag, actions: n.actions.map(a => a.title), data: n.data}))""",
        )
        assert shown == [
            {
                "title": f"Time to stretch: {session.title}",
                "body": push.payload["body"],
                "tag": f"enrolment-{enrolment.pk}",
                "actions": ["Done"],
                "data": {"url": push.payload["url"], "done_url": push.payload["done_url"]},
            }
        ]

        # Removing the device stops its pushes.
        page.get_by_role("button", name="Remove Chrome on Linux").click()
        page.get_by_text("Push is off for Chrome on Linux.").wait_for()
        assert not PushSubscription.objects.exists()
    finally:
        service.stop()


def test_the_session_runs_offline_and_a_tick_made_there_syncs_once(app, live_server, member, artifacts):
    page = app.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, live_server, member)
    enrolment, session = member.enrolment, todays_session(member)
    session_path = f"/enrolments/{enrolment.pk}/sessions/{session.pk}/"
    tomorrow = enrolment.program.sessions.get(week=1, day=2)

    # The worker keeps today, the progress page and the next days' sessions, with what they need.
    kept = wait_until_kept(page, "/today/", f"/enrolments/{enrolment.pk}/", session_path)
    assert f"/enrolments/{enrolment.pk}/sessions/{tomorrow.pk}/" in kept

    # No network: today's session opens and the guided player runs.
    app.set_offline(True)
    page.goto(f"{live_server.url}{session_path}")
    page.get_by_role("heading", name=session.title, level=1).wait_for()
    page.get_by_role("button", name="Start guided session").click()
    player = page.locator("#player")
    assert player.locator("[data-phase]").text_content() == "Get ready"
    page.wait_for_function("() => document.querySelector('#player [data-clock]').textContent === '0:04'")
    player.get_by_role("button", name="Skip").click()
    assert player.locator("[data-phase]").text_content().startswith(("Hold", "Repetitions"))
    page.screenshot(path=str(artifacts / "offline-player.png"))
    player.get_by_role("button", name="Close player").click()

    # A tick made offline is kept on the device.
    page.get_by_label("Pain before").fill("5")
    page.get_by_label("Pain after").fill("2")
    page.get_by_role("button", name="Tick off this session").click()
    page.get_by_text("Saved on this device, will sync").wait_for()
    page.screenshot(path=str(artifacts / "offline-tick-saved.png"), full_page=True)
    page.reload()
    page.get_by_text("Saved on this device, will sync").wait_for()
    assert not Completion.objects.exists()

    # Logging out needs the network, and would lose the tick: the page says so and stays.
    asked = []

    def stay(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_timeout(500)
    assert asked == ["You are offline. Log out when you are back online: ticks saved on this device are sent first."]
    assert page.url.endswith(session_path)
    page.get_by_text("Saved on this device, will sync").wait_for()

    # Back online. The first send reaches the server but its answer is lost on the way
    # back (the request aborts after the server answered): the tick stays queued and is
    # sent again with the same Idempotency-Key, which the server replays.
    api = f"{live_server.url}/api/v1/enrolments/{enrolment.pk}/completions/"
    sent = []

    def lose_the_first_answer(route):
        sent.append(route.request.headers.get("idempotency-key"))
        response = route.fetch()
        if len(sent) == 1:
            route.abort()
        else:
            route.fulfill(response=response)

    app.route(api, lose_the_first_answer)
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
    app.set_offline(False)
    try:
        page.get_by_text("Ticked off and synced").wait_for(timeout=20_000)
    except Exception:
        print("SENT", sent, Completion.objects.count())
        print("BOX", page.locator("#tick-box").inner_html())
        raise
    assert len(sent) == 2 and sent[0] == sent[1], sent
    completion = Completion.objects.get()
    assert (completion.program_session, completion.pain_before, completion.pain_after) == (session, 5, 2)
    assert IdempotencyRecord.objects.filter(key=sent[0]).count() == 1

    page.screenshot(path=str(artifacts / "offline-tick-synced.png"), full_page=True)
    page.reload()
    page.locator("#tick-box").get_by_role("heading", name="Done").wait_for()

    # Exactly once on the progress page.
    page.goto(f"{live_server.url}/enrolments/{enrolment.pk}/")
    row = page.locator("tr", has=page.get_by_role("link", name=session.title))
    assert row.count() == 1 and "Done" in row.inner_text()
    assert page.locator(".state--done").count() == 1
    assert problems == []


def test_logging_out_leaves_no_page_of_the_member_in_the_browser(app, live_server, member, push_keys):
    page = app.new_page()
    log_in(page, live_server, member)
    # A device this browser session switched push on for (as in the test above).
    page.goto(f"{live_server.url}/accounts/settings/")
    status = page.evaluate(
        """async (subscription) => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            return (await fetch("/accounts/settings/push/", {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify(subscription)})).status;
        }""",
        Device(endpoint="http://127.0.0.1:9/push/this-browser").subscription,
    )
    assert status == 201 and PushSubscription.objects.count() == 1
    session_path = f"/enrolments/{member.enrolment.pk}/sessions/{todays_session(member).pk}/"
    wait_until_kept(page, session_path)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/")

    # The home page the member lands on registers the worker afresh; with nobody signed
    # in it keeps nothing. The queue of offline ticks is gone with the rest.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_timeout(500)
    assert kept_pages(page) == []
    assert page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)") == []
    assert not PushSubscription.objects.exists()
    # Offline, the member's session is not there for the next person to open.
    app.set_offline(True)
    try:
        page.goto(f"{live_server.url}{session_path}")
    except Exception as error:  # no worker, no network: the browser's own error
        assert "ERR_INTERNET_DISCONNECTED" in str(error)
    else:
        assert "You are offline" in page.content()
        assert todays_session(member).title not in page.content()
