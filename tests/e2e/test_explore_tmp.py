import datetime as dt
import json
import pytest
from stretchhub import vapid
from tests.factories import EnrolmentFactory, UserFactory, build_program, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_explore(chromium, live_server, settings, tmp_path):
    settings.VAPID_PRIVATE_KEY = vapid.new_private_key()
    member = UserFactory(username="alice")
    program = build_program(weeks=1, days=(1, 2, 3, 4, 5, 6, 7))
    EnrolmentFactory(program=program, member=member, start_date=dt.date.today())
    for persistent in (False, True):
        if persistent:
            context = chromium.browser_type.launch_persistent_context(str(tmp_path / "profile"), executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"])
        else:
            context = chromium.new_context()
        page = context.new_page()
        page.on("console", lambda m: print("CONSOLE", m.type, m.text))
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email or username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/today/")
        page.evaluate("() => navigator.serviceWorker.ready")
        cdp = context.new_cdp_session(page)
        print("persistent", persistent)
        print("ERRORS", json.dumps(cdp.send("Page.getInstallabilityErrors")))
        m = cdp.send("Page.getAppManifest")
        print("MANIFEST", m.get("url"), m.get("errors"), len(m.get("data") or ""))
        context.grant_permissions(["notifications"], origin=live_server.url)
        page.goto(f"{live_server.url}/accounts/settings/")
        page.wait_for_timeout(1500)
        print("STATUS", page.locator("[data-push-status]").inner_text())
        page.get_by_role("button", name="Switch push on for this device").click()
        page.wait_for_timeout(8000)
        print("STATUS", page.locator("[data-push-status]").inner_text())
        context.close()
