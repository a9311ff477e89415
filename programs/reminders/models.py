from django.db import models


class ReminderDelivery(models.Model):
    """One reminder email for one enrolment on one local date: the claim that makes it happen once."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed (sending)"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Waiting to retry"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    enrolment = models.ForeignKey("programs.Enrolment", on_delete=models.CASCADE, related_name="reminder_deliveries")
    local_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.CLAIMED)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name_plural = "reminder deliveries"
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "local_date"], name="one_reminder_per_enrolment_day"),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"Reminder for {self.enrolment} on {self.local_date}"
