"""Reads for the partner's webhook pages: the events feed, oldest first, with each delivery's attempts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import Partner

from .models import WebhookAttempt, WebhookDelivery, WebhookEvent


def partner_events(*, partner: Partner) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(partner=partner)


def events_feed(
    *, partner: Partner, after: int | None, type: str | None, limit: int
) -> tuple[list[WebhookEvent], int | None]:
    """Up to `limit` events after the cursor, and the cursor of the next page (None when this is the last)."""
    events = partner_events(partner=partner).order_by("pk")
    if after is not None:
        events = events.filter(pk__gt=after)
    if type:
        events = events.filter(type=type)
    deliveries = WebhookDelivery.objects.order_by("endpoint_id").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("at", "pk"))
    )
    page = list(events.prefetch_related(Prefetch("deliveries", queryset=deliveries))[: limit + 1])
    if len(page) > limit:
        page = page[:limit]
        return page, page[-1].pk
    return page, None
