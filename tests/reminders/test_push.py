"""Reminders and catch-up nudges as Web Push, through the outbox, to a real push service on 127.0.0.1.

The push service (push_service.py) checks each request's VAPID signature
against the server's public key and decrypts the body with the device's own
keys, as a browser would: what these tests read is what a phone would show.
"""

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import PushSubscription
from accounts.services import push_subscription_remove
from programs.models import Completion
from programs.reminders import outbox
from programs.reminders.models import OutboxMessage
from tests.factories import build_program

from .conftest import make_enrolments, subscribe
from .test_services import AT_8_BERLIN_4_MARCH, NOW, dispatch, refreshed, send_all, session_on

Status, Channel = OutboxMessage.Status, OutboxMessage.Channel


@pytest.fixture(autouse=True)
def clock():
    # Ticking, so every claim and token is a distinct instant, as in real life.
    import tests.reminders.test_services as services_tests

    with time_machine.travel(NOW, tick=True) as traveller:
        services_tests._clock = traveller
        yield traveller
    services_tests._clock = None


@pytest.fixture
def program(db):
    return build_program(weeks=2, days=(1, 3, 5))


@pytest.fixture
def enrolment(program):
    (enrolment,) = make_enrolments(1, program=program, nudge_emails=False)
    return enrolment


def rows_of(enrolment):
    return list(OutboxMessage.objects.filter(enrolment=enrolment).order_by("channel", "push_subscription_id"))


def test_it_pushes_the_days_reminder_to_every_device_and_emails_it_too(enrolment, program, push_service, smtp_sink):
    member = enrolment.member
    phone, laptop = push_service.device(), push_service.device()
    on_phone, on_laptop = subscribe(member, phone), subscribe(member, laptop)
    assert refreshed(enrolment) == AT_8_BERLIN_4_MARCH

    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued)

    rows = rows_of(enrolment)
    assert [(r.channel, r.push_subscription_id, r.status) for r in rows] == [
        (Channel.EMAIL, None, Status.SENT),
        (Channel.PUSH, on_phone.pk, Status.SENT),
        (Channel.PUSH, on_laptop.pk, Status.SENT),
    ]
    assert result.sent == 3
    assert push_service.per_device() == {phone.id: 1, laptop.id: 1}
    assert smtp_sink.recipients() == {member.email: 1}

    session = session_on(program, week=1, day=3)
    site = settings.SITE_URL
    push = push_service.delivered()[0]
    done_url = push.payload.pop("done_url")
    assert push.payload == {
        "title": f"Time to stretch: {session.title}",
        # Monday's session is still open: mentioned, never pushed on its own.
        "body": f"{program.title} · 2 stretches · 1 open from earlier",
        "url": f"{site}/enrolments/{enrolment.pk}/sessions/{session.pk}/",
        "tag": f"enrolment-{enrolment.pk}",
    }
    assert done_url.startswith(f"{site}/r/done/")
    # Signed for this push service, by us; kept four hours for a device that is offline.
    assert push.claims["aud"] == push_service.origin
    assert push.claims["sub"] == "mailto:hello@stretchhub.localhost"
    assert push.headers["ttl"] == str(4 * 3600)
    assert push.headers["urgency"] == "normal"
    assert push.headers["topic"] == f"enrolment-{enrolment.pk}"
    assert int(push.headers["content-length"]) < 4096

    # The "Done" action opens the signed confirmation page: GET asks, POST ticks.
    client = Client()
    path = urlsplit(done_url).path
    assert b"Yes, I did it" in client.get(path).content
    assert not Completion.objects.filter(enrolment=enrolment).exists()
    assert client.post(path).status_code == 200
    assert Completion.objects.get(enrolment=enrolment).program_session == session


def test_it_pushes_instead_of_emailing_when_the_member_switched_reminder_emails_off(enrolment, push_service, smtp_sink):
    member = enrolment.member
    member.email_reminders = False
    member.save()
    phone = push_service.device()
    subscribe(member, phone)
    assert refreshed(enrolment) == AT_8_BERLIN_4_MARCH

    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued)

    assert [(r.channel, r.status) for r in rows_of(enrolment)] == [(Channel.PUSH, Status.SENT)]
    assert push_service.per_device() == {phone.id: 1}
    assert smtp_sink.count == 0


def test_removing_the_last_device_of_a_member_without_reminder_emails_cancels_their_next_reminder(
    enrolment, push_service
):
    member = enrolment.member
    member.email_reminders = False
    member.save()
    subscription = subscribe(member, push_service.device())
    assert refreshed(enrolment) == AT_8_BERLIN_4_MARCH

    push_subscription_remove(subscription=subscription)

    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at is None


def test_a_second_dispatcher_claims_no_device_twice(enrolment, push_service, smtp_sink):
    subscribe(enrolment.member, push_service.device())
    refreshed(enrolment)
    _, first = dispatch(AT_8_BERLIN_4_MARCH)
    # A duplicate beat that still sees the enrolment as due.
    type(enrolment).objects.filter(pk=enrolment.pk).update(next_reminder_at=AT_8_BERLIN_4_MARCH)
    _, second = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(first)
    send_all(second)

    assert len(rows_of(enrolment)) == 2
    assert second.ids == []
    assert sum(push_service.per_device().values()) == 1 and smtp_sink.count == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_device_the_push_service_no_longer_knows_is_removed(enrolment, push_service, smtp_sink, status):
    member = enrolment.member
    gone, kept = push_service.device(), push_service.device()
    gone_subscription, _ = subscribe(member, gone), subscribe(member, kept)
    push_service.script[gone.id] = [status]
    refreshed(enrolment)

    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued)

    assert not PushSubscription.objects.filter(pk=gone_subscription.pk).exists()
    failed = OutboxMessage.objects.get(enrolment=enrolment, status=Status.FAILED)
    assert failed.channel == Channel.PUSH and failed.push_subscription is None
    assert f"Push service answered {status}. The device is no longer subscribed; it was removed." == failed.last_error
    assert (result.sent, result.failed, result.retrying) == (2, 1, 0)
    assert push_service.per_device() == {kept.id: 1}
    assert smtp_sink.count == 1


def test_a_429_waits_for_its_retry_after_and_then_goes_out_once(enrolment, push_service, clock):
    phone = push_service.device()
    subscribe(enrolment.member, phone)
    push_service.script[phone.id] = [(429, 300)]
    refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)

    (first,) = send_all(queued)
    row = OutboxMessage.objects.get(enrolment=enrolment, channel=Channel.PUSH)
    assert first.retrying == 1 and row.status == Status.RETRYING
    assert row.last_error == "Push service answered 429."
    # Longer than the first backoff (a minute): the push service asked for five.
    assert row.lease_until - row.claimed_at == dt.timedelta(seconds=300)

    _, too_soon = dispatch(row.claimed_at + dt.timedelta(minutes=2))
    assert too_soon.ids == []
    _, retry = dispatch(row.claimed_at + dt.timedelta(minutes=5, seconds=1))
    assert retry.ids == [row.pk]
    send_all(retry)

    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2
    assert push_service.attempts[phone.id] == 2
    assert push_service.per_device() == {phone.id: 1}


@pytest.mark.parametrize("status", [500, 503])
def test_a_push_service_error_is_retried_with_the_outbox_backoff(enrolment, push_service, status):
    phone = push_service.device()
    subscribe(enrolment.member, phone)
    push_service.script[phone.id] = [status]
    refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued)

    row = OutboxMessage.objects.get(enrolment=enrolment, channel=Channel.PUSH)
    assert row.status == Status.RETRYING
    assert row.lease_until - row.claimed_at == outbox.retry_backoff(1)


def test_a_push_the_service_refuses_fails_and_keeps_the_device(enrolment, push_service):
    phone = push_service.device()
    subscription = subscribe(enrolment.member, phone)
    # 403: the push service does not accept our signature (say, a device subscribed with another key).
    push_service.script[phone.id] = [403]
    refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued)

    row = OutboxMessage.objects.get(enrolment=enrolment, channel=Channel.PUSH)
    assert (row.status, row.last_error) == (Status.FAILED, "Push service answered 403.")
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_a_device_removed_between_dispatch_and_sending_is_skipped(enrolment, push_service):
    subscription = subscribe(enrolment.member, push_service.device())
    refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    push_subscription_remove(subscription=subscription)
    send_all(queued)

    row = OutboxMessage.objects.get(enrolment=enrolment, channel=Channel.PUSH)
    assert (row.status, row.last_error) == (Status.SKIPPED, "The device was removed before the push went out.")
    assert push_service.received == []


def test_a_catch_up_nudge_is_pushed_with_the_missed_session(program, push_service, smtp_sink):
    # Day 1 was Tuesday 3 March and is still open; Wednesday is a rest day: a nudge at 08:00.
    (enrolment,) = make_enrolments(1, program=program, start_date=dt.date(2026, 3, 3))
    phone = push_service.device()
    subscribe(enrolment.member, phone)
    assert refreshed(enrolment) == AT_8_BERLIN_4_MARCH

    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued)

    assert {(r.kind, r.channel, r.status) for r in rows_of(enrolment)} == {
        (OutboxMessage.Kind.NUDGE, Channel.EMAIL, Status.SENT),
        (OutboxMessage.Kind.NUDGE, Channel.PUSH, Status.SENT),
    }
    missed = session_on(program, week=1, day=1)
    (push,) = push_service.delivered()
    assert push.payload["title"] == f"Catch up when it suits you: {missed.title}"
    assert push.payload["body"] == f"Yesterday's session in {program.title} is still open (2 stretches)."
    assert push.payload["url"] == f"{settings.SITE_URL}/enrolments/{enrolment.pk}/sessions/{missed.pk}/"
    client = Client()
    client.post(urlsplit(push.payload["done_url"]).path)
    assert Completion.objects.get(enrolment=enrolment).program_session == missed


def test_it_sends_a_batch_of_pushes_in_a_fixed_number_of_queries_plus_one_update_per_push(
    program, push_service, django_assert_num_queries
):
    enrolments = make_enrolments(12, program=program, nudge_emails=False)
    for enrolment in enrolments:
        enrolment.member.email_reminders = False
        enrolment.member.save()
        subscribe(enrolment.member, push_service.device())
    for enrolment in enrolments:
        refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    # claim (with its savepoints), rows with their devices, sessions, completions, session
    # details (3: sessions, items with stretches, the stretches' pictures, loaded as for emails),
    # then one UPDATE per push, as for emails; PostgreSQL's asynchronous commit adds two.
    with django_assert_num_queries(9 + 12 + (2 if connection.vendor == "postgresql" else 0)):
        (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert result.sent == 12
    assert sum(push_service.per_device().values()) == 12


def test_a_push_service_that_is_no_longer_public_gets_nothing(enrolment, push_service, settings):
    # Checked again on every push, as for webhooks: here the address is loopback, which
    # only development and the tests may use.
    subscribe(enrolment.member, push_service.device())
    settings.WEB_PUSH_ALLOW_PRIVATE = False
    refreshed(enrolment)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued)

    row = OutboxMessage.objects.get(enrolment=enrolment, channel=Channel.PUSH)
    assert row.status == Status.FAILED
    assert row.last_error.startswith("Push service: refused: The URL must use https.")
    assert push_service.received == []


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("120", dt.timedelta(minutes=2)),
        ("Wed, 04 Mar 2026 06:10:00 GMT", dt.timedelta(minutes=10)),
        ("86400", dt.timedelta(hours=1)),
        ("soon", None),
        (None, None),
    ],
)
def test_it_reads_retry_after_as_seconds_or_a_date_and_waits_an_hour_at_most(retry_after, wait):
    from programs.reminders.push import retry_wait

    assert retry_wait(retry_after, now=NOW) == wait
