import datetime as dt
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from .validators import validate_timezone

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class User(AbstractUser):
    """A person: a member, a trainer (staff in the "Trainers" group) or an administrator.

    The member profile lives here rather than in a side table: every page that
    needs the timezone or reminder settings already has the user loaded.
    """

    email = models.EmailField("email address", blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=80, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # The language of the member's pages and of every email sent to them (docs/i18n.md).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    default_reminder_time = models.TimeField(default=dt.time(8, 0))
    email_reminders = models.BooleanField(
        default=True, help_text=_("Master switch: when off, no reminder email is sent for any enrolment.")
    )
    nudge_emails = models.BooleanField(
        default=True, help_text=_("A catch-up email on the day after a missed session that has no session of its own.")
    )
    weekly_summary_emails = models.BooleanField(default=True, help_text=_("A summary of the week, once a week."))
    weekly_summary_day = models.PositiveSmallIntegerField(
        choices=WEEKDAYS, default=6, help_text=_("The local weekday the weekly summary goes out.")
    )
    weekly_summary_time = models.TimeField(default=dt.time(18, 0), help_text=_("The local time it goes out."))
    # The next instant (UTC) a weekly summary is due; null when none is. Kept
    # up to date by the summary's services when the settings change.
    next_weekly_summary_at = models.DateTimeField(null=True, blank=True)
    trainer_digest_emails = models.BooleanField(
        default=True, help_text=_("Trainers: a daily email at 08:00 local time when a member of a program slipped.")
    )
    # Members created through the partner API belong to that partner and are
    # identified there by the partner's own id.
    partner = models.ForeignKey(
        "accounts.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    external_id = models.CharField(max_length=100, blank=True)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_user_email_ci", condition=~models.Q(email="")),
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                name="unique_partner_external_id",
                condition=models.Q(partner__isnull=False),
            ),
            models.CheckConstraint(
                condition=models.Q(partner__isnull=True) | ~models.Q(external_id=""),
                name="partner_member_has_external_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_weekly_summary_at"],
                name="user_next_weekly_summary_idx",
                condition=models.Q(next_weekly_summary_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def is_trainer(self) -> bool:
        return self.is_staff and not self.is_superuser


class Partner(models.Model):
    """A clinic, gym or app that manages its own members through the API."""

    name = models.CharField(max_length=120, unique=True)
    contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerAPIKey(AbstractAPIKey):
    """A partner's key: shown once on creation, stored hashed, revocable."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"


class APIToken(models.Model):
    """A member's API token (`Authorization: Token …`), stored as a SHA-256 digest.

    Tokens are 256-bit random strings, so a fast unsalted digest is enough: a
    leaked table gives nothing to brute-force, and lookup stays one indexed query.
    A member may hold several (one per app); each is revoked on its own.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text=_("First characters, to tell tokens apart."))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class PushSubscription(models.Model):
    """One device (a browser profile) where a member switched push on: where its push service
    takes messages (RFC 8030) and the keys to encrypt them for it (RFC 8291).

    The endpoint is unique: a device belongs to whoever switched push on there
    last. Reminders and catch-up nudges go to every device of the member
    (docs/push.md); removing the row stops them there.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.CharField(max_length=2048, unique=True)
    # The browser's P-256 public key and auth secret, base64url as the browser gives them.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    label = models.CharField(max_length=80, blank=True, help_text="Browser and system, from the User-Agent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "push device"

    def __str__(self) -> str:
        return f"{self.label or 'A device'} ({self.user})"

    @property
    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
