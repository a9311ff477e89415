"""The partner's webhook endpoints and events feed through the API."""

import datetime as dt

import pytest

from programs import services as programs_services
from tests.api.conftest import as_member, as_partner
from tests.factories import PartnerFactory, UserFactory
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

from .receiver import start_receiver

pytestmark = pytest.mark.django_db
URL = "/api/v1/partner/webhooks/"


def test_it_registers_an_endpoint_and_shows_the_secret_only_then(partner, receiver):
    api = as_partner(partner)
    created = api.post(URL, {"url": receiver.url, "events": ["completion.created"]}, format="json")

    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "events", "is_active", "failing_since", "created_at", "secret"}
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["completion.created"]
    shown = api.get(f"{URL}{body['id']}/").json()
    assert "secret" not in shown
    assert "secret" not in api.get(URL).json()["results"][0]


def test_an_absent_list_means_every_event(partner, receiver):
    response = as_partner(partner).post(URL, {"url": receiver.url}, format="json")
    assert response.json()["events"] == []
    assert WebhookEndpoint.objects.get().wants("enrolment.left")


def test_an_unknown_event_type_is_a_400(partner, receiver):
    response = as_partner(partner).post(URL, {"url": receiver.url, "events": ["member.deleted"]}, format="json")
    assert response.status_code == 400
    assert "events" in response.json()["errors"]


def test_it_changes_rotates_tests_and_deletes(partner, receiver, django_capture_on_commit_callbacks, eager_celery):
    api = as_partner(partner)
    receiver.secrets = []
    endpoint = api.post(URL, {"url": receiver.url}, format="json").json()
    changed = api.patch(f"{URL}{endpoint['id']}/", {"events": ["enrolment.left"], "is_active": False}, format="json")
    assert changed.json()["events"] == ["enrolment.left"] and changed.json()["is_active"] is False

    rotated = api.post(f"{URL}{endpoint['id']}/rotate-secret/", format="json").json()
    assert rotated["secret"] != endpoint["secret"]
    receiver.secrets = [rotated["secret"]]
    api.patch(f"{URL}{endpoint['id']}/", {"is_active": True}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        tested = api.post(f"{URL}{endpoint['id']}/test/", format="json")
    assert tested.status_code == 202
    assert [p["type"] for p in receiver.verified(rotated["secret"])] == ["webhook.test"]

    assert api.delete(f"{URL}{endpoint['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://192.168.0.10/hooks",
        "ftp://example.com/hooks",
        "https://user:pw@127.0.0.1/hooks",
    ],
)
def test_it_refuses_a_private_or_plain_url_in_production(partner, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = as_partner(partner).post(URL, {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


def test_it_checks_the_address_again_at_every_connection(
    partner, partner_member, program, receiver, settings, now, django_capture_on_commit_callbacks
):
    # Registered while allowed (as a name that later resolves elsewhere would be), refused when sent.
    endpoint = services.endpoint_create(partner=partner, url=receiver.url.replace("127.0.0.1", "localhost"), events=[])
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    programs_services.enrolment_create(member=partner_member, program=program, start_date=dt.date(2026, 3, 2))
    services.deliveries_send(endpoint_id=endpoint.pk)

    delivery = WebhookDelivery.objects.get()
    assert receiver.received == []
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("refused: ")


def test_a_redirect_is_not_followed(partner, partner_member, program, receiver, now):
    target = start_receiver()
    receiver.script = [302]
    receiver.location = target.url
    endpoint = services.endpoint_create(partner=partner, url=receiver.url, events=[])
    programs_services.enrolment_create(member=partner_member, program=program, start_date=dt.date(2026, 3, 2))
    services.deliveries_send(endpoint_id=endpoint.pk)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_response_code) == ("pending", 302)
    assert len(receiver.received) == 1
    assert target.received == []
    target.server.shutdown()


def test_a_partner_sees_and_changes_only_its_own_endpoints(partner, receiver):
    other = services.endpoint_create(partner=PartnerFactory(name="Gym B"), url=receiver.url, events=[])
    api = as_partner(partner)

    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{other.pk}/").status_code == 404
    assert api.patch(f"{URL}{other.pk}/", {"is_active": False}, format="json").status_code == 404
    assert api.post(f"{URL}{other.pk}/rotate-secret/", format="json").status_code == 404
    assert api.delete(f"{URL}{other.pk}/").status_code == 404
    assert as_member(UserFactory()).get(URL).status_code == 401
    assert api.get("/api/v1/partner/events/").json()["results"] == []
    other.refresh_from_db()
    assert other.is_active


def _events(partner, count):
    member = UserFactory(partner=partner, external_id="feed-1")
    elsewhere = WebhookEndpoint.objects.create(partner=PartnerFactory(), url="https://x.example/", secret="whsec_")
    for n in range(count):
        services.event_record(type="member.updated", obj=member, member=member)
        if n % 7 == 0:
            # Another partner's events interleave with these and never show.
            services.endpoint_test(endpoint=elsewhere)


def test_the_feed_pages_through_a_thousand_events_with_no_gap_or_repeat(
    partner, receiver, django_assert_max_num_queries
):
    services.endpoint_create(partner=partner, url=receiver.url, events=[])
    _events(partner, 1000)
    mine = list(WebhookEvent.objects.filter(partner=partner).order_by("pk").values_list("pk", flat=True))
    api = as_partner(partner)

    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=100" + (f"&after={cursor}" if cursor else "")
        with django_assert_max_num_queries(8):
            page = api.get(f"/api/v1/partner/events/{query}").json()
        seen += [event["id"] for event in page["results"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == mine
    assert pages == 10
    first = api.get("/api/v1/partner/events/?limit=1").json()["results"][0]
    assert first["webhook_id"] == f"evt_{mine[0]}"
    assert first["deliveries"][0]["status"] == "pending"


def test_the_feed_filters_by_type_and_refuses_a_bad_cursor(partner):
    member = UserFactory(partner=partner, external_id="feed-2")
    services.event_record(type="member.created", obj=member, member=member)
    services.event_record(type="member.updated", obj=member, member=member)
    api = as_partner(partner)

    assert [e["type"] for e in api.get("/api/v1/partner/events/?type=member.created").json()["results"]] == [
        "member.created"
    ]
    assert api.get("/api/v1/partner/events/?after=abc").status_code == 400
    assert api.get("/api/v1/partner/events/?type=nope").status_code == 400


def test_a_replay_redelivers_one_event_or_everything_since(
    partner, partner_member, receiver, now, time_machine, django_capture_on_commit_callbacks, eager_celery
):
    with django_capture_on_commit_callbacks(execute=True):
        services.event_record(type="member.created", obj=partner_member, member=partner_member)
    endpoint = services.endpoint_create(partner=partner, url=receiver.url, events=[])
    receiver.secrets = [endpoint.secret]
    time_machine.move_to(now + dt.timedelta(hours=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_record(type="member.updated", obj=partner_member, member=partner_member)
    api = as_partner(partner)
    first, second = WebhookEvent.objects.order_by("pk")

    with django_capture_on_commit_callbacks(execute=True):
        one = api.post(f"/api/v1/partner/events/{first.pk}/redeliver/", format="json")
    with django_capture_on_commit_callbacks(execute=True):
        since = api.post("/api/v1/partner/events/redeliver/", {"since": now.isoformat()}, format="json")

    assert one.status_code == since.status_code == 202
    assert (one.json(), since.json()) == ({"deliveries": 1}, {"deliveries": 2})
    # Registered after the first event, the endpoint gets it on replay; every replay keeps its webhook-id.
    assert [r.webhook_id for r in receiver.received] == [
        second.webhook_id,
        first.webhook_id,
        first.webhook_id,
        second.webhook_id,
    ]
    assert len(receiver.verified(endpoint.secret)) == 4
    feed = api.get("/api/v1/partner/events/").json()["results"]
    assert [len(e["deliveries"][0]["attempts"]) for e in feed] == [2, 2]
    other = PartnerFactory(name="Gym B")
    assert as_partner(other).post(f"/api/v1/partner/events/{first.pk}/redeliver/", format="json").status_code == 404


def test_old_events_are_pruned_after_thirty_days(partner, partner_member, now, time_machine):
    services.event_record(type="member.created", obj=partner_member, member=partner_member)
    time_machine.move_to(now + dt.timedelta(days=29), tick=False)
    services.event_record(type="member.updated", obj=partner_member, member=partner_member)
    time_machine.move_to(now + dt.timedelta(days=31), tick=False)

    assert services.events_prune() == 1
    assert list(WebhookEvent.objects.values_list("type", flat=True)) == ["member.updated"]
