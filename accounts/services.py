"""Writes for member accounts: sign-up, email verification, settings, data deletion."""

import datetime as dt
import re

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stretchhub import outbound, vapid

from .emails import send_verification_email
from .models import WEEKDAYS, PushSubscription, User
from .tokens import VerificationError, user_from_verification_token

RESEND_INTERVAL_SECONDS = 60
# What user_update_settings writes.
SETTINGS_FIELDS = [
    "display_name",
    "timezone",
    "default_reminder_time",
    "email_reminders",
    "nudge_emails",
    "weekly_summary_emails",
    "weekly_summary_day",
    "weekly_summary_time",
    "trainer_digest_emails",
    "language",
]
# What a partner sees of their member (the partner API's member): a change to one is a member.updated webhook.
PARTNER_VISIBLE_FIELDS = ["email", "display_name", "timezone", "default_reminder_time", "email_reminders"]
WEEKDAY_NUMBERS = {number for number, _name in WEEKDAYS}
USERNAME_MAX_BASE = 30


class AccountError(Exception):
    """A rule refused an account change; the message is user-facing."""


class EmailTaken(AccountError):
    def __init__(self):
        super().__init__(_("An account with this email address already exists. Log in, or reset your password."))


def normalize_email(email: str) -> str:
    return BaseUserManager.normalize_email(email.strip())


def _username_base(email: str) -> str:
    local = email.split("@", 1)[0].casefold()
    base = re.sub(r"[^a-z0-9._-]+", "", local).strip("._-")[:USERNAME_MAX_BASE]
    return base or "member"


def _free_username(email: str) -> str:
    """The email's local part, made unique with a number: one query for all candidates."""
    base = _username_base(email)
    taken = {
        name.casefold()
        for name in User.objects.filter(username__iregex=rf"^{re.escape(base)}[0-9]*$").values_list(
            "username", flat=True
        )
    }
    if base not in taken:
        return base
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


def user_signup(
    *, email: str, password: str, display_name: str, timezone_name: str, language: str = settings.LANGUAGE_CODE
) -> User:
    """Create a member (unverified) and send the verification email, in the language they signed up in."""
    email = normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    for _attempt in range(3):
        user = User(
            username=_free_username(email),
            email=email,
            display_name=display_name.strip(),
            timezone=timezone_name,
            language=language,
        )
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            # Lost a race: either the same email signed up a moment ago, or the
            # same derived username did; the second kind is retried with a new number.
            if User.objects.filter(email__iexact=email).exists():
                raise EmailTaken() from exc
            continue
        break
    else:
        raise AccountError(_("We could not create your account just now. Please try again."))
    send_verification_email(user=user)
    return user


def user_send_verification(*, user: User) -> None:
    if user.email_verified_at is not None:
        raise AccountError(_("Your email address is already confirmed."))
    # cache.add is atomic: only one resend per interval gets through, which
    # keeps the button from being used to flood an inbox. With the cache down
    # it answers None and the link goes out: a member waiting for it matters more.
    if cache.add(f"accounts:verify-resend:{user.pk}", True, RESEND_INTERVAL_SECONDS) is False:
        raise AccountError(_("We sent you a link less than a minute ago. Check your inbox and spam folder."))
    send_verification_email(user=user)


def user_verify_email(*, token: str, now: dt.datetime | None = None) -> tuple[User, bool]:
    """Mark the address of the link's account as verified; (user, whether it changed now).

    Verifying twice is harmless: the second time changes nothing.
    """
    try:
        user = user_from_verification_token(token)
    except VerificationError as exc:
        raise AccountError(str(exc)) from exc
    updated = User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
        email_verified_at=now or timezone.now()
    )
    user.refresh_from_db(fields=["email_verified_at"])
    return user, bool(updated)


def user_update_settings(
    *,
    user: User,
    display_name: str,
    timezone_name: str,
    default_reminder_time: dt.time,
    email_reminders: bool,
    nudge_emails: bool | None = None,
    weekly_summary_emails: bool | None = None,
    weekly_summary_day: int | None = None,
    weekly_summary_time: dt.time | None = None,
    trainer_digest_emails: bool | None = None,
    email: str | None = None,
    language: str | None = None,
) -> User:
    """Change a member's profile and email settings; every current enrolment's next reminder follows.

    The one way to change them, from the settings page, the member and partner
    APIs and the admin. An email preference (or the address, which only the
    partner API changes here) left at None stays as it is. What
    changed is judged against the stored row (locked), not against `user`,
    which an admin form has already filled with the new values.
    """
    # Imported here: accounts sits below programs and imports nothing from it at
    # module level (tests/stretchhub/test_boundaries.py); a member's settings,
    # deletion and export are the account operations that reach into programs.
    from programs.reminders.services import member_reminders_refresh
    from programs.reminders.weekly_summary import weekly_summary_schedule_refresh
    from webhooks.services import event_record

    if weekly_summary_day is not None and weekly_summary_day not in WEEKDAY_NUMBERS:
        raise AccountError(_("Choose a day of the week for the weekly summary."))
    if language is not None and language not in {code for code, _name in settings.LANGUAGES}:
        raise AccountError(_("Choose English or German."))
    with transaction.atomic():
        stored = User.objects.select_for_update().values(*SETTINGS_FIELDS, "email").get(pk=user.pk)
        new = {
            "display_name": display_name.strip(),
            "timezone": timezone_name,
            "default_reminder_time": default_reminder_time,
            "email_reminders": email_reminders,
            "nudge_emails": nudge_emails,
            "weekly_summary_emails": weekly_summary_emails,
            "weekly_summary_day": weekly_summary_day,
            "weekly_summary_time": weekly_summary_time,
            "trainer_digest_emails": trainer_digest_emails,
            "language": language,
            "email": email,
        }
        new = {name: stored[name] if value is None else value for name, value in new.items()}
        for name, value in new.items():
            setattr(user, name, value)
        user.save(update_fields=[*SETTINGS_FIELDS, "email"] if email is not None else SETTINGS_FIELDS)

        def changed(*names: str) -> bool:
            return any(stored[name] != new[name] for name in names)

        if changed("timezone", "default_reminder_time", "email_reminders", "nudge_emails"):
            # Reminders and catch-up nudges fall at a local time: a new timezone
            # or either switch moves (or cancels) every current enrolment's next one.
            member_reminders_refresh(member=user)
        if changed("timezone", "weekly_summary_emails", "weekly_summary_day", "weekly_summary_time"):
            weekly_summary_schedule_refresh(users=[user])
        if changed(*PARTNER_VISIBLE_FIELDS):
            event_record(type="member.updated", obj=user, member=user)
    return user


def user_set_language(*, user: User, language: str) -> None:
    """The language of the member's pages and emails (one of settings.LANGUAGES)."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise AccountError(_("Choose English or German."))
    if user.language != language:
        user.language = language
        User.objects.filter(pk=user.pk).update(language=language)


def user_switch_off_email(*, user: User, preference: str) -> None:
    """One-click unsubscribe from one kind of email (nudges, weekly summary, trainer digest).

    Setting it twice is setting it once. The weekly summary's next instant is
    cleared with its switch, and each enrolment's next email moves on past the
    nudges, so the dispatcher has nothing to look at.
    """
    from programs.reminders.services import member_reminders_refresh  # see user_update_settings

    if preference not in ("nudge_emails", "weekly_summary_emails", "trainer_digest_emails"):
        raise ValueError(f"Not an email preference: {preference}")
    fields = {preference: False}
    if preference == "weekly_summary_emails":
        fields["next_weekly_summary_at"] = None
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(**fields)
        for name, value in fields.items():
            setattr(user, name, value)
        if preference == "nudge_emails":
            member_reminders_refresh(member=user)


def user_password_reset_done(*, user: User, now: dt.datetime | None = None) -> None:
    """After a reset by email: the member proved they read that inbox, and knows the new password."""
    User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(email_verified_at=now or timezone.now())
    _axes_forget(user, attempts_only=True)


def _axes_forget(user: User, *, attempts_only: bool = False) -> None:
    # accounts.backends.axes_username keys attempts by the case-folded login typed.
    keys = [user.username.casefold()] + ([user.email.casefold()] if user.email else [])
    AccessAttempt.objects.filter(username__in=keys).delete()
    if not attempts_only:
        AccessLog.objects.filter(username__in=keys).delete()
        AccessFailureLog.objects.filter(username__in=keys).delete()


def user_delete_account(*, user: User) -> None:
    """Delete the member and their personal data; keep their anonymous history (programs.services)."""
    from programs.services import member_history_anonymise  # see user_update_settings

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        member_history_anonymise(member=user)
        _axes_forget(user)
        user.delete()


# --- Push devices (docs/push.md) ------------------------------------------------------------------------


class PushSubscriptionError(AccountError):
    """A subscription the browser sent that we cannot use; the message says why."""


def _key_bytes(value: str, *, length: int, what: str) -> bytes:
    try:
        raw = vapid.b64url_decode(value)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != length:
        raise PushSubscriptionError(f"The browser sent an unusable {what}.")
    return raw


def push_subscription_check(*, endpoint: str, p256dh: str, auth: str) -> None:
    """Refuse what no push could be sent to: an endpoint that is not a public https URL, or malformed keys."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if len(endpoint) > PushSubscription._meta.get_field("endpoint").max_length:
        raise PushSubscriptionError("The push service address is too long.")
    try:
        outbound.resolve_checked(endpoint, allow_private=settings.WEB_PUSH_ALLOW_PRIVATE)
    except outbound.UnsafeURL as refusal:
        raise PushSubscriptionError(f"We cannot send to this push service: {refusal}") from None
    point = _key_bytes(p256dh, length=65, what="device key (p256dh)")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise PushSubscriptionError("The browser sent an unusable device key (p256dh).") from None
    _key_bytes(auth, length=16, what="auth secret")


def _refresh_reminders(*user_ids: int) -> None:
    # A member's first device (or last one gone) can change whether they are
    # reachable at all: their enrolments' next reminder follows.
    from programs.reminders.services import member_reminders_refresh  # see user_update_settings

    for user in User.objects.filter(pk__in=set(user_ids)):
        member_reminders_refresh(member=user)


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox")]
_BROWSERS += [("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("CrOS", "ChromeOS")]
_SYSTEMS += [("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux")]


def device_label(user_agent: str) -> str:
    """ "Firefox on Android": enough for a member to tell their devices apart in the list."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser


def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store this device's subscription for `user`: (it, whether it is new for them).

    Saving the same endpoint again refreshes its keys. A device belongs to one
    member: an endpoint saved by another member moves to this one, since the
    browser hands the same subscription to whoever is signed in.
    """
    push_subscription_check(endpoint=endpoint, p256dh=p256dh, auth=auth)
    label = device_label(user_agent)
    with transaction.atomic():
        subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        created = False
        if subscription is None:
            try:
                with transaction.atomic():
                    subscription = PushSubscription.objects.create(
                        user=user, endpoint=endpoint, p256dh=p256dh, auth=auth, label=label
                    )
                created = True
            except IntegrityError:
                # The same device saved twice at once: the other request stored it first.
                subscription = PushSubscription.objects.select_for_update().get(endpoint=endpoint)
        previous_owner = None if created else subscription.user_id
        if not created:
            subscription.user, subscription.p256dh, subscription.auth = user, p256dh, auth
            subscription.label = label
            subscription.save(update_fields=["user", "p256dh", "auth", "label"])
        if previous_owner != user.pk:
            _refresh_reminders(*{user.pk, previous_owner} - {None})
    return subscription, previous_owner != user.pk


def push_subscription_remove(*, subscription: PushSubscription) -> None:
    """The member removed a device (or signed out on it): nothing more is pushed there."""
    with transaction.atomic():
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        _refresh_reminders(subscription.user_id)


def push_subscription_gone(*, subscription_id: int) -> None:
    """The push service says the device no longer exists (404/410): forget it."""
    with transaction.atomic():
        owner = PushSubscription.objects.filter(pk=subscription_id).values_list("user_id", flat=True).first()
        if owner is not None:
            PushSubscription.objects.filter(pk=subscription_id).delete()
            _refresh_reminders(owner)


def push_subscriptions_signed_out(*, user: User, ids: list[int], endpoint: str = "") -> int:
    """At logout: forget the devices this browser session switched push on for, and the one it names."""
    devices = PushSubscription.objects.filter(user=user).filter(
        models.Q(pk__in=[pk for pk in ids if isinstance(pk, int)]) | models.Q(endpoint=endpoint or None)
    )
    with transaction.atomic():
        removed, _ = devices.delete()
        if removed:
            _refresh_reminders(user.pk)
    return removed
