"""Every kind of message the outbox sends, in one list: who dispatches which rows, who builds which message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from . import outbox, services
from .models import OutboxMessage
from .trainer_digest import TrainerDigestKind
from .weekly_summary import WeeklySummaryKind

Kind = OutboxMessage.Kind
WEEKLY_SUMMARIES = WeeklySummaryKind()
TRAINER_DIGESTS = TrainerDigestKind()

# In this order within a dispatch run: a session's reminder before the rest.
DISPATCHERS: list[outbox.MessageKind] = [services.ENROLMENT_MESSAGES, WEEKLY_SUMMARIES, TRAINER_DIGESTS]
BUILDERS: dict[str, outbox.MessageKind] = {
    Kind.REMINDER: services.REMINDERS,
    Kind.NUDGE: services.NUDGES,
    Kind.WEEKLY_SUMMARY: WEEKLY_SUMMARIES,
    Kind.TRAINER_DIGEST: TRAINER_DIGESTS,
}


def outbox_dispatch(*, enqueue: outbox.Enqueue, now: dt.datetime | None = None, **options) -> outbox.DispatchResult:
    return outbox.dispatch(kinds=DISPATCHERS, enqueue=enqueue, now=now, **options)


def outbox_send_batch(*, ids: Sequence[int], token: dt.datetime, now: dt.datetime | None = None) -> outbox.SendResult:
    return outbox.send_batch(ids=ids, token=token, builders=BUILDERS, now=now)
