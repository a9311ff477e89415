from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One message to one person on one channel, for one natural key: the claim that makes it go out once.

    Every kind of message goes through this one outbox (docs/messages.md):
    reminders and catch-up nudges belong to an enrolment and a local date, the
    weekly summary to a member and a local week (keyed by its Monday), the
    trainer digest to a trainer and a local date. Reminders and nudges also go
    as push, one row per device (docs/push.md); everything else is email.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        NUDGE = "nudge", _("Catch-up nudge")
        WEEKLY_SUMMARY = "weekly_summary", _("Weekly summary")
        TRAINER_DIGEST = "trainer_digest", _("Trainer digest")

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PUSH = "push", "Push"

    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Claimed (sending)")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Waiting to retry")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.REMINDER)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outbox_messages")
    enrolment = models.ForeignKey(
        "programs.Enrolment", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    channel = models.CharField(max_length=5, choices=Channel, default=Channel.EMAIL)
    # The device a push goes to. Kept when the device is removed (null then), so
    # the row still tells what happened; a push row is never dispatched without one.
    push_subscription = models.ForeignKey(
        "accounts.PushSubscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_messages"
    )
    # The recipient's local date the message is for; for the weekly summary,
    # the Monday of its local week.
    local_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.CLAIMED)
    due_at = models.DateTimeField()
    # The fencing token: the dispatch round that queued the row, then the
    # instant a sender took it (services, at the claim).
    claimed_at = models.DateTimeField(null=True, blank=True)
    # While claimed: when the row is taken back unless its holder renews it.
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What the message reported, where the next one depends on it (the digest's slipped members).
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = "outbox message"
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "kind", "local_date"],
                condition=Q(enrolment__isnull=False, channel="email"),
                name="one_message_per_enrolment_kind_day",
            ),
            models.UniqueConstraint(
                fields=["enrolment", "kind", "local_date", "push_subscription"],
                condition=Q(channel="push"),
                name="one_push_per_enrolment_kind_day_device",
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "local_date"],
                condition=Q(enrolment__isnull=True),
                name="one_message_per_person_kind_day",
            ),
            models.CheckConstraint(
                condition=Q(channel="push", enrolment__isnull=False)
                | Q(channel="email", push_subscription__isnull=True),
                name="outbox_push_rows_belong_to_an_enrolment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_until"], name="outbox_status_lease_idx"),
            models.Index(fields=["recipient", "kind", "-local_date"], name="outbox_recipient_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient} on {self.local_date}"
