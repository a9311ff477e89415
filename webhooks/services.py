"""Partner webhooks: recording events (the outbox), endpoints, delivering with retries, replay.

Events are written by the services that make the change, in their
transaction: a change that rolls back leaves no event. Delivery happens later,
in Celery, one claimed row at a time (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import random
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import Partner
from stretchhub import outbound

from .models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .payloads import event_data

log = logging.getLogger(__name__)

# The waits after the 1st, 2nd, … failed attempt: about a day in all, then the delivery fails.
RETRY_SCHEDULE = [
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=14),
]
# Spread retries so an endpoint that comes back is not hit by every delivery at once.
RETRY_JITTER = 0.2
# An endpoint whose every attempt failed for this long is switched off.
SWITCH_OFF_AFTER = dt.timedelta(days=3)
PREVIOUS_SECRET_VALID_FOR = dt.timedelta(hours=24)
RETENTION = dt.timedelta(days=30)
SEND_BATCH = 100
# Rows claimed (and recorded) together: the claim and the bookkeeping cost a
# few queries per batch instead of per delivery.
CLAIM_BATCH = 20
# How long "a sender is queued or running for this endpoint" holds without the sender saying it finished.
SENDER_MARK_SECONDS = 60


class WebhookError(Exception):
    """A rule refused a webhook change; the message is shown to the partner as it is."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- Events (written with the change) -----------------------------------------------------------


def event_record(*, type: str, obj, member) -> WebhookEvent | None:
    """Record that `obj` changed, for the member's partner; nothing for a member no partner manages.

    Call it inside the transaction of the change: the event, and its deliveries
    to the partner's endpoints, commit or roll back with it.
    """
    if member is None or member.partner_id is None:
        return None
    now = timezone.now()
    event = WebhookEvent.objects.create(
        partner_id=member.partner_id,
        type=type,
        member=member,
        member_external_id=member.external_id,
        payload=_payload(type, now, event_data(type=type, obj=obj, member=member)),
        created_at=now,
    )
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(partner_id=member.partner_id, is_active=True) if e.wants(type)
    ]
    _deliveries_create(event, endpoints, now=now)
    return event


def _payload(type: str, now: dt.datetime, data: dict) -> dict:
    # Through JSON once, so what is stored is exactly what is sent.
    return json.loads(json.dumps({"type": type, "timestamp": now.isoformat(), "data": data}, cls=DjangoJSONEncoder))


def _deliveries_create(event: WebhookEvent, endpoints: list[WebhookEndpoint], *, now: dt.datetime) -> None:
    if not endpoints:
        return
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=endpoint, ordering_key=event.member_external_id, next_attempt_at=now)
        for endpoint in endpoints
    )
    _kick_on_commit([endpoint.pk for endpoint in endpoints])


def _kick_on_commit(endpoint_ids: Iterable[int]) -> None:
    ids = sorted(set(endpoint_ids))
    transaction.on_commit(lambda: endpoints_kick(endpoint_ids=ids))


def _kick_key(endpoint_id: int) -> str:
    return f"webhooks:sender-queued:{endpoint_id}"


def endpoints_kick(*, endpoint_ids: Iterable[int]) -> None:
    """Queue a sender for each endpoint that has none queued or running.

    A burst of commits would otherwise queue a task per event, most of which
    would find nothing left to send: a sender takes every row due while it
    runs. A row committed just as a sender finishes waits for beat's dispatch
    (every few seconds). The mark lapses on its own if a sender dies.
    """
    from .tasks import webhook_endpoint_send_task

    for endpoint_id in endpoint_ids:
        # With the cache down add() answers None: queue anyway.
        if cache.add(_kick_key(endpoint_id), True, SENDER_MARK_SECONDS) is False:
            continue
        try:
            webhook_endpoint_send_task.delay(endpoint_id)
        except Exception:
            # The broker is down: the rows wait in the database and beat's
            # dispatch queues them when it is back.
            cache.delete(_kick_key(endpoint_id))
            log.warning("Webhook delivery for endpoint %s not queued; the dispatcher will", endpoint_id, exc_info=True)
            return


def endpoint_sender_finished(*, endpoint_id: int) -> None:
    """The endpoint's sender found nothing more to send: the next commit queues a new one."""
    cache.delete(_kick_key(endpoint_id))


# --- Endpoints ----------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_url_check(*, url: str) -> None:
    """Refuse a URL that is not https or reaches a private address (WebhookError)."""
    try:
        outbound.resolve_checked(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    except outbound.UnsafeURL as refusal:
        raise WebhookError(str(refusal)) from None


def endpoint_create(*, partner: Partner, url: str, events: list[str]) -> WebhookEndpoint:
    endpoint_url_check(url=url)
    return WebhookEndpoint.objects.create(partner=partner, url=url, events=sorted(set(events)), secret=new_secret())


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str | None = None, events: list[str] | None = None, is_active: bool | None = None
) -> WebhookEndpoint:
    if url is not None:
        endpoint_url_check(url=url)
        endpoint.url = url
    if events is not None:
        endpoint.events = sorted(set(events))
    # Judged against the stored row: an admin form has already set the new value on `endpoint`.
    was_active = WebhookEndpoint.objects.values_list("is_active", flat=True).get(pk=endpoint.pk)
    if is_active is not None and is_active != was_active:
        endpoint.is_active = is_active
        # Switched on again: the three days of failures start afresh.
        endpoint.failing_since = None
        endpoint.disabled_at = None if is_active else timezone.now()
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing too for a day, so the partner can switch without losing a delivery."""
    now = _now(now)
    with transaction.atomic():
        endpoint.refresh_from_db(from_queryset=WebhookEndpoint.objects.select_for_update())
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + PREVIOUS_SECRET_VALID_FOR
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookEvent:
    """A webhook.test event, delivered to this endpoint only (also while it is switched off)."""
    now = timezone.now()
    with transaction.atomic():
        data = {"endpoint": endpoint.pk, "message": "A test event from StretchHub."}
        event = WebhookEvent.objects.create(
            partner_id=endpoint.partner_id,
            type=EventType.WEBHOOK_TEST,
            payload=_payload(EventType.WEBHOOK_TEST, now, data),
            created_at=now,
        )
        _deliveries_create(event, [endpoint], now=now)
    return event


# --- Delivery -----------------------------------------------------------------------------------


def signature_header(endpoint: WebhookEndpoint, *, webhook_id: str, timestamp: dt.datetime, body: bytes) -> str:
    """`v1,<sig>` with the current secret, and with the previous one while it is still valid."""
    secrets_in_use = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and timestamp < endpoint.previous_secret_expires_at
    ):
        secrets_in_use.append(endpoint.previous_secret)
    return " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets_in_use)


def body_of(event: WebhookEvent) -> bytes:
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()


# The endpoint's due rows that are first in line for their member (so at most
# one per member), oldest first, claimed in one statement. Written in SQL because
# the ORM spent more time compiling it than the database did running it.
_CLAIM_SQL = """
UPDATE {table} SET locked_until = %(until)s
WHERE id IN (
    SELECT d.id FROM {table} d
    WHERE d.endpoint_id = %(endpoint)s AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
      AND (d.locked_until IS NULL OR d.locked_until < %(now)s)
      AND NOT EXISTS (
          SELECT 1 FROM {table} e
          WHERE e.endpoint_id = d.endpoint_id AND e.status = 'pending' AND e.ordering_key = d.ordering_key
            AND e.ordering_key <> '' AND e.event_id < d.event_id
      )
    ORDER BY d.event_id LIMIT %(batch)s {skip_locked}
)
AND status = 'pending' AND (locked_until IS NULL OR locked_until < %(now)s)
RETURNING id
"""


def _claim(endpoint_id: int, now: dt.datetime, *, batch: int) -> tuple[list[WebhookDelivery], dt.datetime]:
    """Take up to `batch` due rows of the endpoint for this sender, in event order, and the claim's end."""
    # The guarantee: a conditional UPDATE only one sender can win, so a row is
    # POSTed by one sender at a time. A sender that dies keeps the claim until
    # the lease runs out, then the rows are taken again: at least once, and the
    # receiver dedupes by webhook-id. SKIP LOCKED (PostgreSQL) lets several
    # senders of one endpoint each take different members' rows instead of
    # waiting for the same ones; SQLite serialises writers anyway.
    skip_locked = "FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = _CLAIM_SQL.format(table=WebhookDelivery._meta.db_table, skip_locked=skip_locked)
    until = now + dt.timedelta(seconds=settings.WEBHOOKS_CLAIM_LEASE_SECONDS)
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores them (SQLite: text)
        cursor.execute(sql, {"until": adapt(until), "endpoint": endpoint_id, "now": adapt(now), "batch": batch})
        ids = [row[0] for row in cursor.fetchall()]
    deliveries = list(WebhookDelivery.objects.select_related("event", "endpoint").filter(pk__in=ids).order_by("event"))
    # One endpoint object for the batch, so what one attempt learns about its health the next one sees.
    for delivery in deliveries[1:]:
        delivery.endpoint = deliveries[0].endpoint
    return deliveries, until


def _release(deliveries: list[WebhookDelivery], *, claimed_until: dt.datetime) -> None:
    # Only rows still under this sender's claim (its lease end is the fencing token).
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries], locked_until=claimed_until).update(
        locked_until=None
    )


def deliveries_send(
    *,
    endpoint_id: int,
    limit: int = SEND_BATCH,
    claim_batch: int = CLAIM_BATCH,
    clock: Callable[[], dt.datetime] = timezone.now,
) -> int:
    """Send the endpoint's due deliveries, oldest first, a claimed batch at a time; how many were attempted."""
    attempted = 0
    timeout = dt.timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS)
    while attempted < limit:
        deliveries, claimed_until = _claim(endpoint_id, clock(), batch=min(claim_batch, limit - attempted))
        if not deliveries:
            break
        outcomes = []
        for n, delivery in enumerate(deliveries):
            # Never POST a row whose claim could run out mid-request (another
            # sender may take it then): hand the rest back for the next claim.
            if clock() + timeout >= claimed_until:
                _release(deliveries[n:], claimed_until=claimed_until)
                break
            outcomes.append((delivery, _attempt(delivery, now=clock()), clock()))
        # Recorded together, once the batch is sent: a sender that dies before
        # this sends those rows again after the lease, which at least once allows.
        if not outcomes:
            break
        _attempts_record(outcomes)
        attempted += len(outcomes)
    return attempted


def _attempt(delivery: WebhookDelivery, *, now: dt.datetime) -> outbound.Answer:
    endpoint, event = delivery.endpoint, delivery.event
    body = body_of(event)
    headers = {
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(endpoint, webhook_id=event.webhook_id, timestamp=now, body=body),
        "User-Agent": "StretchHub-Webhooks/1",
    }
    if not endpoint.is_active and event.type != EventType.WEBHOOK_TEST:
        return outbound.Answer(None, "the endpoint is switched off")
    return outbound.post(
        endpoint.url,
        body=body,
        headers=headers,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE,
        timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
    )


def _attempts_record(outcomes: list[tuple[WebhookDelivery, outbound.Answer, dt.datetime]]) -> None:
    succeeded = [(delivery, answer, at) for delivery, answer, at in outcomes if answer.ok]
    with transaction.atomic():
        # The usual batch: every row succeeded, most with the same status code; one UPDATE per code.
        by_code: dict[int, list] = {}
        for delivery, answer, at in succeeded:
            by_code.setdefault(answer.status, []).append((delivery, at))
        for code, rows in by_code.items():
            WebhookDelivery.objects.filter(pk__in=[delivery.pk for delivery, _at in rows]).update(
                status=WebhookDelivery.Status.SUCCEEDED,
                attempts=F("attempts") + 1,
                last_attempt_at=Case(*(When(pk=delivery.pk, then=Value(at)) for delivery, at in rows)),
                last_response_code=code,
                last_error="",
                locked_until=None,
                next_attempt_at=None,
            )
        for delivery, answer, at in outcomes:
            if not answer.ok:
                _failure_record(delivery, answer, at=at)
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery=delivery,
                at=at,
                succeeded=answer.ok,
                response_code=answer.status,
                error=answer.error or ("" if answer.ok else f"HTTP {answer.status}"),
            )
            for delivery, answer, at in outcomes
        )
        for delivery, answer, at in outcomes:
            if delivery.endpoint.is_active:
                _endpoint_health_record(delivery.endpoint, ok=answer.ok, at=at)


def _failure_record(delivery: WebhookDelivery, answer: outbound.Answer, *, at: dt.datetime) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = at
    delivery.last_response_code = answer.status
    delivery.last_error = answer.error or f"HTTP {answer.status}"
    delivery.locked_until = None
    if delivery.attempts > len(RETRY_SCHEDULE) or not delivery.endpoint.is_active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        wait = RETRY_SCHEDULE[delivery.attempts - 1].total_seconds()
        jitter = random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
        delivery.next_attempt_at = at + dt.timedelta(seconds=wait * jitter)
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_response_code",
            "last_error",
            "locked_until",
            "status",
            "next_attempt_at",
        ]
    )


def _endpoint_health_record(endpoint: WebhookEndpoint, *, ok: bool, at: dt.datetime) -> None:
    if ok:
        # As loaded with the row: a failure recorded meanwhile by another sender is cleared by the next success.
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
        return
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
        endpoint.failing_since = at
    # Only one sender switches it off (and writes to the partner): the conditional UPDATE decides.
    switched_off = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, is_active=True, failing_since__lte=at - SWITCH_OFF_AFTER
    ).update(is_active=False, disabled_at=at)
    if switched_off:
        endpoint.refresh_from_db()
        WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error="the endpoint was switched off"
        )
        transaction.on_commit(lambda: _tell_partner_switched_off(endpoint))


def _tell_partner_switched_off(endpoint: WebhookEndpoint) -> None:
    partner = endpoint.partner
    if not partner.contact_email:
        log.warning("Webhook endpoint %s switched off; partner %s has no contact email", endpoint.pk, partner.pk)
        return
    send_mail(
        subject="StretchHub: your webhook endpoint was switched off",
        message=(
            f"Hello {partner.name},\n\n"
            f"Every delivery to your webhook endpoint\n\n    {endpoint.url}\n\n"
            f"has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC, so we switched it off. "
            "Nothing is lost: the events of the last 30 days are in GET /api/v1/partner/events/.\n\n"
            f"When the endpoint works again, switch it back on (PATCH /api/v1/partner/webhooks/{endpoint.pk}/ "
            'with {"is_active": true}) and ask for a redelivery of what you missed '
            "(POST /api/v1/partner/events/redeliver/).\n\n"
            "The StretchHub team\n"
        ),
        from_email=None,
        recipient_list=[partner.contact_email],
    )


def endpoints_with_due_deliveries(*, now: dt.datetime | None = None) -> list[int]:
    now = _now(now)
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .values_list("endpoint_id", flat=True)
        .distinct()
        .order_by("endpoint_id")
    )


# --- Replay and retention -------------------------------------------------------------------------


def events_redeliver(*, partner: Partner, events, now: dt.datetime | None = None) -> int:
    """Send these events of the partner again to every active endpoint that wants them; how many deliveries."""
    now = _now(now)
    events = events.filter(partner=partner)
    queued = 0
    with transaction.atomic():
        endpoints = list(WebhookEndpoint.objects.filter(partner=partner, is_active=True))
        for endpoint in endpoints:
            wanted = events if not endpoint.events else events.filter(type__in=endpoint.events)
            wanted = wanted.exclude(type=EventType.WEBHOOK_TEST)
            queued += WebhookDelivery.objects.filter(endpoint=endpoint, event__in=wanted).update(
                status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=now, locked_until=None
            )
            missing = wanted.exclude(deliveries__endpoint=endpoint).values_list("pk", "member_external_id")
            created = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(event_id=pk, endpoint=endpoint, ordering_key=key, next_attempt_at=now)
                for pk, key in missing
            )
            queued += len(created)
        _kick_on_commit(endpoint.pk for endpoint in endpoints)
    return queued


def events_prune(*, now: dt.datetime | None = None) -> int:
    deleted, _ = WebhookEvent.objects.filter(created_at__lt=_now(now) - RETENTION).delete()
    return deleted
