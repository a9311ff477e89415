"""Push devices on the settings page: switching push on (the page's JSON endpoint), listing, removing, logout."""

import json

import pytest
from django.urls import reverse

from accounts.models import PushSubscription
from accounts.services import device_label
from tests.reminders.push_service import Device

pytestmark = pytest.mark.django_db

SUBSCRIBE = reverse("accounts:push_subscribe")
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


@pytest.fixture(autouse=True)
def vapid_key(settings):
    from stretchhub import vapid

    settings.VAPID_PRIVATE_KEY = vapid.new_private_key()
    settings.WEB_PUSH_ALLOW_PRIVATE = True


def device(n: int = 1) -> Device:
    return Device(endpoint=f"http://127.0.0.1:9/push/device-{n}")


def post(client, body, **extra):
    return client.post(SUBSCRIBE, json.dumps(body), content_type="application/json", **extra)


def test_it_stores_the_devices_subscription_for_the_member(client, alice, django_assert_num_queries):
    client.force_login(alice)
    phone = device()

    # session, member, the device (locked), its insert (two savepoints), the member's current
    # enrolments whose next reminder it may move, the session saved (two savepoints each)
    with django_assert_num_queries(13):
        response = post(client, phone.subscription, HTTP_USER_AGENT=CHROME_ANDROID)

    assert response.status_code == 201
    stored = PushSubscription.objects.get()
    assert response.json() == {"id": stored.pk, "label": "Chrome on Android", "created": True}
    assert (stored.user, stored.endpoint, stored.p256dh) == (alice, phone.endpoint, phone.p256dh)


def test_sending_the_same_device_again_keeps_one_row(client, alice):
    client.force_login(alice)
    phone = device()
    post(client, phone.subscription)

    again = post(client, phone.subscription)

    assert again.status_code == 200 and again.json()["created"] is False
    assert PushSubscription.objects.count() == 1


def test_a_device_moves_to_the_member_who_switched_push_on_there_last(client, alice, bob):
    phone = device()
    client.force_login(alice)
    post(client, phone.subscription)
    client.force_login(bob)

    response = post(client, phone.subscription)

    assert response.status_code == 201
    assert list(PushSubscription.objects.values_list("user__username", flat=True)) == ["bob"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "bm90IGEga2V5"}}, "unusable device key (p256dh)"),
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "B" + "A" * 86}}, "unusable device key (p256dh)"),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "c2hvcnQ"}}, "unusable auth secret"),
        (lambda s: {**s, "endpoint": "ftp://push.example/x"}, "The URL must use https."),
    ],
)
def test_it_refuses_a_subscription_no_push_could_reach_with_a_clear_message(client, alice, change, message):
    client.force_login(alice)

    response = post(client, change(device().subscription))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_subscription"
    assert message in response.json()["message"]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[]", '{"endpoint": 3, "keys": {}}', '{"endpoint": "x", "keys": "y"}'])
def test_it_answers_a_malformed_body_with_a_400(client, alice, body):
    client.force_login(alice)

    response = client.post(SUBSCRIBE, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "message": 'Send {"endpoint": …, "keys": {"p256dh": …, "auth": …}} as JSON.',
        "code": "invalid",
        "errors": {},
    }


def test_in_production_only_public_https_push_services_are_accepted(client, alice, settings):
    settings.WEB_PUSH_ALLOW_PRIVATE = False
    client.force_login(alice)

    for endpoint in ("http://127.0.0.1:9/push/x", "https://127.0.0.1/push/x", "https://169.254.169.254/push/x"):
        response = post(client, {**device().subscription, "endpoint": endpoint})
        assert response.status_code == 400, endpoint
    assert not PushSubscription.objects.exists()


def test_it_asks_an_anonymous_caller_to_log_in(client):
    response = post(client, device().subscription)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_it_says_so_when_push_is_not_set_up(client, alice, settings):
    settings.VAPID_PRIVATE_KEY = None
    client.force_login(alice)

    response = post(client, device().subscription)

    assert response.status_code == 503
    assert response.json()["code"] == "push_unavailable"


def test_the_settings_page_lists_the_members_devices_with_a_remove_button(client, alice, bob):
    client.force_login(alice)
    post(client, device(1).subscription, HTTP_USER_AGENT=CHROME_ANDROID)
    mine = PushSubscription.objects.get()
    client.force_login(bob)
    post(client, device(2).subscription)
    client.force_login(alice)

    html = client.get(reverse("accounts:settings")).content.decode()

    assert "Chrome on Android" in html
    assert reverse("accounts:push_remove", kwargs={"pk": mine.pk}) in html
    assert device(2).endpoint not in html
    assert 'data-vapid-key="' in html and "Switch push on for this device" in html


def test_a_member_removes_their_device(client, alice, django_assert_num_queries):
    client.force_login(alice)
    post(client, device().subscription)
    subscription = PushSubscription.objects.get()

    # session, member, the device; then in one transaction its delete (the device, the outbox
    # rows it leaves, the row), and the member's current enrolments whose next reminder it may move
    with django_assert_num_queries(10):
        response = client.post(reverse("accounts:push_remove", kwargs={"pk": subscription.pk}))

    assert response.status_code == 302 and response["Location"] == reverse("accounts:settings")
    assert not PushSubscription.objects.exists()


def test_a_member_cannot_remove_another_members_device(client, alice, bob):
    client.force_login(bob)
    post(client, device().subscription)
    bobs = PushSubscription.objects.get()
    client.force_login(alice)

    response = client.post(reverse("accounts:push_remove", kwargs={"pk": bobs.pk}))

    assert response.status_code == 404
    assert PushSubscription.objects.filter(pk=bobs.pk).exists()


def test_removing_needs_a_login_and_a_post(client, alice):
    client.force_login(alice)
    post(client, device().subscription)
    subscription = PushSubscription.objects.get()
    path = reverse("accounts:push_remove", kwargs={"pk": subscription.pk})

    assert client.get(path).status_code == 405
    client.logout()
    assert client.post(path).status_code == 302
    assert PushSubscription.objects.exists()


def test_logging_out_forgets_this_browsers_devices_and_clears_the_site_data(client, alice):
    client.force_login(alice)
    post(client, device(1).subscription)
    elsewhere = device(2)
    PushSubscription.objects.create(user=alice, endpoint=elsewhere.endpoint, p256dh=elsewhere.p256dh, auth="x" * 22)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    # The member's other device (another browser) keeps its pushes.
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [elsewhere.endpoint]


def test_logging_out_forgets_the_device_the_page_names(client, alice):
    phone = device(3)
    PushSubscription.objects.create(user=alice, endpoint=phone.endpoint, p256dh=phone.p256dh, auth="x" * 22)
    client.force_login(alice)

    client.post(reverse("accounts:logout"), {"push_endpoint": phone.endpoint})

    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_ANDROID, "Chrome on Android"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Safari/604.1",
            "Safari on iPhone",
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0", "Firefox on Windows"),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
        ("", "A browser"),
    ],
)
def test_it_names_a_device_after_its_browser_and_system(user_agent, label):
    assert device_label(user_agent) == label
