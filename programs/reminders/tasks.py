"""Celery tasks for reminders: thin wrappers around services, passing ids."""

import datetime as dt
import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)

# Hard limit well under services.CLAIM_TIMEOUT (10 min): a sender still running
# when its claim is taken back would send a second copy. A batch of 100 takes
# seconds; the limit only bounds a hung SMTP server (EMAIL_TIMEOUT covers each
# call, this the whole batch).
SEND_TIME_LIMIT = 300
SEND_SOFT_TIME_LIMIT = 240


# Not acks_late: a dispatcher run lost with its worker is simply redone by the
# next minute's run, and a late redelivery would only repeat that work.
@shared_task(acks_late=False, time_limit=120, soft_time_limit=100)
def reminder_dispatch_task() -> None:
    def enqueue(delivery_ids: list[int], token: dt.datetime) -> None:
        reminder_send_batch_task.delay(delivery_ids, token.isoformat())

    result = services.reminder_dispatch(enqueue=enqueue)
    if result.queued or result.requeued or result.missed:
        log.info(
            "Reminders dispatched: %s queued, %s re-queued, %s missed, in %s batches",
            result.queued,
            result.requeued,
            result.missed,
            result.batches,
        )
    if result.held:
        log.warning(
            "Reminders held back: %s could not be queued (broker unavailable?); retried next minute", result.held
        )


# acks_late: safe because the claim makes the task idempotent (a second run
# takes no row), and it means a message fetched by a worker that dies before
# claiming is delivered again instead of lost. reject_on_worker_lost requeues
# it at once when the pool process is killed.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=SEND_TIME_LIMIT,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
)
def reminder_send_batch_task(delivery_ids: list[int], token: str) -> None:
    result = services.reminder_send_batch(delivery_ids=delivery_ids, token=dt.datetime.fromisoformat(token))
    log.info(
        "Reminder batch: %s sent, %s retrying, %s failed, %s skipped, %s already taken",
        result.sent,
        result.retrying,
        result.failed,
        result.skipped,
        result.not_taken,
    )
