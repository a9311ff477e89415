"""Deliveries end to end: real changes, a real HTTP receiver, every body verified with standardwebhooks."""

import datetime as dt
import itertools
import socket

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import services as programs_services
from programs.reminders.links import done_token
from tests.api.conftest import as_partner
from tests.factories import PartnerFactory, UserFactory
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.tasks import webhooks_dispatch_task

from .receiver import start_receiver

pytestmark = pytest.mark.django_db


def register(api, url, events=None):
    response = api.post("/api/v1/partner/webhooks/", {"url": url, "events": events or []}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_tells_the_partner_each_change_of_its_member_in_order_whatever_it_came_through(
    partner, program, receiver, now, eager_celery, django_capture_on_commit_callbacks, client
):
    other_receiver = start_receiver()
    api = as_partner(partner)
    secret = register(api, receiver.url)["secret"]
    receiver.secrets.append(secret)
    register(as_partner(PartnerFactory(name="Gym B")), other_receiver.url)

    def step(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    member = step(
        lambda: api.post(
            "/api/v1/partner/members/", {"external_id": "m-1", "email": "m1@clinic.example"}, format="json"
        )
    )
    member_id = member.json()["id"]
    enrolled = step(
        lambda: api.post(
            f"/api/v1/partner/members/{member_id}/enrolments/",
            {"program": "back", "start_date": "2026-03-02"},
            format="json",
        )
    )
    enrolment_id = enrolled.json()["id"]
    monday, wednesday = program.sessions.get(week=1, day=1), program.sessions.get(week=1, day=3)
    client.force_login(member_model(member_id))
    ticked = step(lambda: client.post(reverse("programs:session_tick", args=[enrolment_id, monday.pk]), {}))
    by_link = step(lambda: client.post(f"/r/done/{done_token(enrolment_id=enrolment_id, session_id=wednesday.pk)}/"))
    undone = step(lambda: client.post(reverse("programs:session_undo", args=[enrolment_id, monday.pk])))
    base = f"/api/v1/partner/members/{member_id}/enrolments/{enrolment_id}"
    paused = step(lambda: api.post(f"{base}/pause/", format="json"))
    left = step(lambda: api.post(f"{base}/leave/", format="json"))

    assert [r.status_code for r in (member, enrolled, ticked, by_link, undone, paused, left)] == [
        201,
        201,
        302,
        200,
        302,
        200,
        200,
    ]
    payloads = receiver.verified(secret)
    assert [p["type"] for p in payloads] == [
        "member.created",
        "enrolment.created",
        "completion.created",
        "completion.created",
        "completion.deleted",
        "enrolment.paused",
        "enrolment.left",
    ]
    assert {p["data"]["external_id"] for p in payloads} == {"m-1"}
    assert [p["data"]["session"] for p in payloads if p["type"].startswith("completion.")] == [
        monday.pk,
        wednesday.pk,
        monday.pk,
    ]
    assert payloads[-1]["data"]["status"] == "left"
    assert payloads[1]["data"] == {**api.get(f"{base}/").json() | {"status": "active", "ended_at": None}} | {
        "member_id": member_id,
        "external_id": "m-1",
    }
    assert len({r.webhook_id for r in receiver.received}) == 7
    assert other_receiver.received == []
    other_receiver.server.shutdown()


def member_model(pk):
    from accounts.models import User

    return User.objects.get(pk=pk)


@pytest.fixture
def endpoint(partner, receiver):
    endpoint = services.endpoint_create(partner=partner, url=receiver.url, events=[])
    receiver.secrets.append(endpoint.secret)
    return endpoint


def enrol(member, program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return programs_services.enrolment_create(member=member, program=program, start_date=dt.date(2026, 3, 2))


def test_it_retries_until_the_receiver_answers_with_the_same_webhook_id(
    partner_member, program, endpoint, receiver, now, time_machine, eager_celery, django_capture_on_commit_callbacks
):
    receiver.script = [500, 500]
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("pending", 1, 500)
    assert dt.timedelta(seconds=4) <= delivery.next_attempt_at - now <= dt.timedelta(seconds=6)

    webhooks_dispatch_task()  # not due yet
    time_machine.move_to(now + dt.timedelta(seconds=7), tick=False)
    webhooks_dispatch_task()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert dt.timedelta(minutes=4) <= delivery.next_attempt_at - delivery.last_attempt_at <= dt.timedelta(minutes=6)

    time_machine.move_to(delivery.next_attempt_at, tick=False)
    webhooks_dispatch_task()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("succeeded", 3, 200)
    assert [r.webhook_id for r in receiver.received] == [f"evt_{delivery.event_id}"] * 3
    receiver.verified(endpoint.secret)
    assert list(WebhookAttempt.objects.values_list("response_code", flat=True)) == [500, 500, 200]


def test_a_receiver_that_hangs_times_out_and_is_retried(
    partner_member, program, endpoint, receiver, now, eager_celery, django_capture_on_commit_callbacks
):
    receiver.script = ["hang"]
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("pending", 1, None)
    assert delivery.last_error.startswith("timeout")
    assert delivery.next_attempt_at > now


def test_a_refused_connection_is_retried(partner, partner_member, program, now, django_capture_on_commit_callbacks):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/hooks"
    endpoint = services.endpoint_create(partner=partner, url=url, events=[])
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    services.deliveries_send(endpoint_id=endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "connection refused")


def test_a_rolled_back_change_sends_nothing(
    partner_member, program, endpoint, receiver, now, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            programs_services.enrolment_create(member=partner_member, program=program, start_date=dt.date(2026, 3, 2))
            raise RuntimeError("the request failed after the enrolment")

    webhooks_dispatch_task()
    assert WebhookEvent.objects.count() == 0
    assert receiver.received == []


def test_members_without_a_partner_make_no_events(alice, program, endpoint, now, django_capture_on_commit_callbacks):
    enrol(alice, program, django_capture_on_commit_callbacks)
    assert WebhookEvent.objects.count() == 0


def test_it_keeps_the_order_per_member_while_an_earlier_event_waits_for_a_retry(
    partner, partner_member, program, endpoint, receiver, now, time_machine, django_capture_on_commit_callbacks
):
    second = UserFactory(partner=partner, external_id="p-2")
    receiver.script = [500]
    enrolment = enrol(partner_member, program, django_capture_on_commit_callbacks)
    services.deliveries_send(endpoint_id=endpoint.pk)  # the first event fails: retried in ~5 s
    programs_services.enrolment_pause(enrolment=enrolment)
    enrol(second, program, django_capture_on_commit_callbacks)

    services.deliveries_send(endpoint_id=endpoint.pk)
    # The pause waits behind the failed enrolment of the same member; the other member's goes.
    assert receiver.types(endpoint.secret) == ["enrolment.created", "enrolment.created"]
    assert receiver.verified(endpoint.secret)[1]["data"]["external_id"] == "p-2"

    time_machine.move_to(now + dt.timedelta(seconds=10), tick=False)
    services.deliveries_send(endpoint_id=endpoint.pk)
    assert receiver.types(endpoint.secret)[2:] == ["enrolment.created", "enrolment.paused"]


def test_a_delivery_fails_after_the_last_retry(
    partner_member, program, endpoint, receiver, now, time_machine, django_capture_on_commit_callbacks
):
    receiver.script = [503] * 8
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    at = now
    for _attempt in range(8):
        services.deliveries_send(endpoint_id=endpoint.pk)
        delivery = WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            at = delivery.next_attempt_at
            time_machine.move_to(at, tick=False)

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    # About a day of retries, then no more.
    assert dt.timedelta(hours=26) <= delivery.last_attempt_at - now <= dt.timedelta(hours=38)
    services.deliveries_send(endpoint_id=endpoint.pk)
    assert len(receiver.received) == 8


def test_an_endpoint_failing_for_three_days_is_switched_off_and_the_partner_told(
    partner, partner_member, program, endpoint, receiver, now, time_machine, django_capture_on_commit_callbacks
):
    partner.contact_email = "dev@clinic.example"
    partner.save()
    receiver.script = [500] * 100
    enrolment = enrol(partner_member, program, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_send(endpoint_id=endpoint.pk)
    time_machine.move_to(now + dt.timedelta(days=3, minutes=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        programs_services.enrolment_pause(enrolment=enrolment, today=dt.date(2026, 3, 13))
    WebhookDelivery.objects.update(next_attempt_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_send(endpoint_id=endpoint.pk)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dev@clinic.example"]
    assert endpoint.url in mail.outbox[0].body


def test_after_a_rotation_both_secrets_sign_for_a_day(
    partner_member, program, endpoint, receiver, now, time_machine, django_capture_on_commit_callbacks
):
    old = endpoint.secret
    services.endpoint_rotate_secret(endpoint=endpoint)
    receiver.secrets = [endpoint.secret, old]
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    services.deliveries_send(endpoint_id=endpoint.pk)
    time_machine.move_to(now + dt.timedelta(hours=25), tick=False)
    services.endpoint_test(endpoint=WebhookEndpoint.objects.get())
    services.deliveries_send(endpoint_id=endpoint.pk)

    first, second = receiver.received
    assert len(first.headers["webhook-signature"].split()) == 2
    assert len(receiver.verified(endpoint.secret)) == 2
    assert first.payloads[old] is not None
    assert second.payloads[old] is None


def test_a_member_change_is_one_member_updated_event_whoever_made_it(partner, partner_member, now, alice):
    from accounts.services import user_update_settings

    api = as_partner(partner)
    response = api.patch(
        f"/api/v1/partner/members/{partner_member.pk}/",
        {"email": "new@clinic.example", "display_name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    partner_member.refresh_from_db()
    # From the member's own settings page: a field the partner sees, then one it does not.
    common = {
        "user": partner_member,
        "display_name": "Renamed",
        "timezone_name": "Asia/Tokyo",
        "default_reminder_time": partner_member.default_reminder_time,
        "email_reminders": True,
    }
    user_update_settings(**common)
    user_update_settings(**common, nudge_emails=not partner_member.nudge_emails)
    user_update_settings(
        user=alice,
        display_name="Alice 2",
        timezone_name=alice.timezone,
        default_reminder_time=alice.default_reminder_time,
        email_reminders=True,
    )

    events = list(WebhookEvent.objects.values_list("type", "payload__data__email", "payload__data__timezone"))
    assert events == [
        ("member.updated", "new@clinic.example", "Europe/Berlin"),
        ("member.updated", "new@clinic.example", "Asia/Tokyo"),
    ]
    assert response.json() == {k: v for k, v in WebhookEvent.objects.first().payload["data"].items()}


_serial = itertools.count()


def _members_changed(partner, count):
    for _ in range(count):
        member = UserFactory(partner=partner, external_id=f"b-{next(_serial)}")
        services.event_record(type="member.updated", obj=member, member=member)


def _claims(queries) -> int:
    return sum(1 for query in queries if query["sql"].lstrip().startswith("UPDATE") and "RETURNING" in query["sql"])


def test_sending_a_batch_costs_the_same_queries_for_more_deliveries(partner, endpoint, receiver, now):
    _members_changed(partner, 2)
    with CaptureQueriesContext(connection) as few:
        services.deliveries_send(endpoint_id=endpoint.pk)
    _members_changed(partner, 15)
    # claim, load, record (savepoint, deliveries, attempts, release), the claim that finds nothing
    with CaptureQueriesContext(connection) as many:
        services.deliveries_send(endpoint_id=endpoint.pk)
    assert len(few) == len(many) == 7
    assert len(receiver.received) == 17
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}


def test_a_sender_hands_back_what_it_could_not_send_before_its_claim_runs_out(
    partner, endpoint, receiver, now, settings
):
    settings.WEBHOOKS_CLAIM_LEASE_SECONDS = 60
    _members_changed(partner, 3)
    ticks = iter(range(0, 10_000, 20))

    def slow_clock():
        # Each look at the clock is 20 s later: one POST uses up most of a claim.
        return now + dt.timedelta(seconds=next(ticks))

    with CaptureQueriesContext(connection) as queries:
        assert services.deliveries_send(endpoint_id=endpoint.pk, clock=slow_clock) == 3

    # The batch of three was claimed; after one POST the rest went back and was claimed afresh.
    assert _claims(queries) == 1 + 3
    assert len(receiver.received) == 3
    assert set(WebhookDelivery.objects.values_list("status", "attempts", "locked_until")) == {("succeeded", 1, None)}


def test_recording_an_event_costs_the_same_queries_for_more_endpoints(
    partner, partner_member, django_assert_num_queries
):
    services.endpoint_create(partner=partner, url="http://127.0.0.1:9/a", events=[])
    # event, endpoints, deliveries
    with django_assert_num_queries(3):
        services.event_record(type="member.updated", obj=partner_member, member=partner_member)
    for n in range(4):
        services.endpoint_create(partner=partner, url=f"http://127.0.0.1:9/{n}", events=[])
    with django_assert_num_queries(3):
        services.event_record(type="member.updated", obj=partner_member, member=partner_member)
    assert WebhookDelivery.objects.count() == 1 + 5


def test_a_test_event_reaches_a_switched_off_endpoint_and_nothing_else_does(
    partner_member, program, endpoint, receiver, now, django_capture_on_commit_callbacks
):
    services.endpoint_update(endpoint=endpoint, is_active=False)
    enrol(partner_member, program, django_capture_on_commit_callbacks)
    services.endpoint_test(endpoint=endpoint)
    services.deliveries_send(endpoint_id=endpoint.pk)

    assert receiver.types(endpoint.secret) == ["webhook.test"]
    assert WebhookEvent.objects.filter(type="enrolment.created").exists()
