"""Partner webhooks: the endpoints partners register, the events (an outbox), one delivery per event and endpoint."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    MEMBER_CREATED = "member.created"
    MEMBER_UPDATED = "member.updated"
    ENROLMENT_CREATED = "enrolment.created"
    ENROLMENT_PAUSED = "enrolment.paused"
    ENROLMENT_RESUMED = "enrolment.resumed"
    ENROLMENT_LEFT = "enrolment.left"
    ENROLMENT_COMPLETED = "enrolment.completed"
    COMPLETION_CREATED = "completion.created"
    COMPLETION_DELETED = "completion.deleted"
    # Sent to one endpoint on request; never subscribed to.
    WEBHOOK_TEST = "webhook.test"


SUBSCRIBABLE_TYPES = [value for value in EventType.values if value != EventType.WEBHOOK_TEST]


class WebhookEndpoint(models.Model):
    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    # Event types to send; empty means all of them.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    # The signing secrets ("whsec_" + base64). They must stay readable to sign, so
    # they are stored as they are; the API shows one only when it is made.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Since when every attempt has failed; cleared by a success.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.partner}: {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookEvent(models.Model):
    """One change a partner hears about, written in the transaction that made it (the outbox row).

    The id is the feed's cursor and, as `evt_<id>`, the `webhook-id` of every delivery.
    """

    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40, choices=EventType.choices)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept when the member is deleted: the partner's own id for them.
    member_external_id = models.CharField(max_length=100, blank=True)
    # The body as sent: {"type", "timestamp", "data"}.
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["partner", "id"], name="webhook_event_feed_idx"),
            models.Index(fields=["created_at"], name="webhook_event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.type}"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.pk}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The member's external id ("" when the event is about no member): deliveries
    # with the same key go to an endpoint one at a time, in event order.
    ordering_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender's claim: until then no other sender takes the row.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="unique_webhook_delivery")]
        indexes = [
            # The dispatcher: which endpoints have something due.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            # A sender: the endpoint's pending rows in event order, first eligible one wins.
            models.Index(
                fields=["endpoint", "event"],
                name="webhook_delivery_queue_idx",
                condition=models.Q(status="pending"),
            ),
            # Is an earlier event of the same member still pending for this endpoint?
            models.Index(
                fields=["endpoint", "ordering_key", "event"],
                name="webhook_delivery_order_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the endpoint answered, or why there was no answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    succeeded = models.BooleanField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.response_code or self.error}"
