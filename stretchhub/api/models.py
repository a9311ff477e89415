from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an Idempotency-Key, replayed for retries.

    Keys are scoped per caller (a member or a partner), so two callers never
    collide; the unique constraint is what makes two simultaneous retries one.
    """

    class CallerKind(models.TextChoices):
        MEMBER = "member", "Member"
        PARTNER = "partner", "Partner"

    caller_kind = models.CharField(max_length=10, choices=CallerKind)
    caller_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and canonical JSON body: the same key with another request is a conflict.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["caller_kind", "caller_id", "key"], name="unique_idempotency_key_per_caller"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller_kind} {self.caller_id}: {self.key}"
