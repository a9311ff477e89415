import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import PartnerFactory, UserFactory
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _world(count: int):
    for n in range(count):
        partner = PartnerFactory()
        endpoint = services.endpoint_create(partner=partner, url=f"http://127.0.0.1:9/{n}", events=[])
        member = UserFactory(partner=partner, external_id=f"x-{n}")
        services.event_record(type="member.created", obj=member, member=member)
        services.endpoint_test(endpoint=endpoint)
    for delivery in WebhookDelivery.objects.filter(attempt_log=None):
        WebhookAttempt.objects.create(delivery=delivery, at=timezone.now(), succeeded=False, response_code=500)


@pytest.mark.parametrize("page", ["webhookendpoint", "webhookevent", "webhookattempt"])
def test_the_lists_cost_the_same_queries_for_more_rows(admin_client, django_assert_num_queries, page):
    _world(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(f"/admin/webhooks/{page}/").status_code == 200
    _world(6)
    with django_assert_num_queries(len(few.captured_queries)):
        assert admin_client.get(f"/admin/webhooks/{page}/").status_code == 200


def test_an_event_page_shows_its_deliveries_and_secrets_nowhere(admin_client):
    _world(1)
    event = WebhookEvent.objects.first()
    endpoint = WebhookEndpoint.objects.get()
    html = admin_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").content.decode()
    assert "pending" in html
    assert (
        endpoint.secret
        not in admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    )


def test_the_redeliver_action_queues_the_events_again(admin_client):
    _world(2)
    WebhookDelivery.objects.update(status="failed", attempts=8, next_attempt_at=None)
    events = list(WebhookEvent.objects.filter(type="member.created").values_list("pk", flat=True))

    response = admin_client.post(
        "/admin/webhooks/webhookevent/", {"action": "redeliver", "_selected_action": events}, follow=True
    )

    assert response.status_code == 200
    redelivered = WebhookDelivery.objects.filter(event_id__in=events)
    assert set(redelivered.values_list("status", "attempts")) == {("pending", 0)}
    assert WebhookDelivery.objects.filter(status="failed").count() == 2  # the test events stay as they were


def test_switching_an_endpoint_back_on_clears_its_failures(admin_client, partner):
    endpoint = services.endpoint_create(partner=partner, url="http://127.0.0.1:9/", events=[])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, failing_since="2026-03-01T00:00Z")

    admin_client.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/", {"is_active": "on"})

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None
