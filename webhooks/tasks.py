"""Celery tasks for webhooks: thin wrappers around webhooks.services, passing ids."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


# Not acks_late: a lost dispatch is redone by the next one a few seconds later.
@shared_task(acks_late=False, time_limit=60, soft_time_limit=50)
def webhooks_dispatch_task() -> None:
    for endpoint_id in services.endpoints_with_due_deliveries():
        webhook_endpoint_send_task.delay(endpoint_id)


# One task per endpoint, so a slow endpoint holds up only its own deliveries.
# acks_late and reject_on_worker_lost: a message taken by a worker that dies is
# handed out again; the claim in the database keeps two runs from sending one row
# twice, and a row claimed by the dead worker is taken again after its lease.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=300, soft_time_limit=240)
def webhook_endpoint_send_task(self, endpoint_id: int) -> None:
    attempted = services.deliveries_send(endpoint_id=endpoint_id)
    if attempted == services.SEND_BATCH:
        # More may be due: carry on in a fresh task, on the queue this one came from,
        # so other endpoints get a turn.
        queue = (self.request.delivery_info or {}).get("routing_key")
        webhook_endpoint_send_task.apply_async((endpoint_id,), queue=queue)
    else:
        services.endpoint_sender_finished(endpoint_id=endpoint_id)


@shared_task(acks_late=False)
def webhook_events_prune_task() -> int:
    deleted = services.events_prune()
    if deleted:
        log.info("Webhook events pruned: %s older than %s days", deleted, services.RETENTION.days)
    return deleted
