"""Celery tasks for the outbox: thin wrappers around its services, passing ids."""

import datetime as dt
import logging

from celery import shared_task

from . import kinds

log = logging.getLogger(__name__)


# Not acks_late: a dispatcher run lost with its worker is simply redone by the
# next minute's run, and a late redelivery would only repeat that work.
@shared_task(acks_late=False, time_limit=120, soft_time_limit=100)
def outbox_dispatch_task() -> None:
    def enqueue(ids: list[int], token: dt.datetime) -> None:
        outbox_send_batch_task.delay(ids, token.isoformat())

    result = kinds.outbox_dispatch(enqueue=enqueue)
    if result.queued or result.requeued or result.missed:
        log.info(
            "Outbox dispatched: %s queued, %s taken back, %s missed, in %s batches",
            result.queued,
            result.requeued,
            result.missed,
            result.batches,
        )
    if result.held:
        log.warning("Outbox held back: %s could not be queued (broker unavailable?); retried next minute", result.held)


# acks_late: safe because the claim makes the task idempotent (a second run
# takes no row), and it means a message fetched by a worker that dies before
# claiming is delivered again instead of lost. reject_on_worker_lost requeues
# it at once when the pool process is killed. The time limits only bound a
# hung mail server (EMAIL_TIMEOUT covers each call, these the whole batch); a
# sender that stops renewing its lease loses its rows long before.
@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=300, soft_time_limit=240)
def outbox_send_batch_task(ids: list[int], token: str) -> None:
    result = kinds.outbox_send_batch(ids=ids, token=dt.datetime.fromisoformat(token))
    log.info(
        "Outbox batch: %s sent, %s retrying, %s failed, %s skipped, %s already taken, %s taken back",
        result.sent,
        result.retrying,
        result.failed,
        result.skipped,
        result.not_taken,
        result.lost,
    )
