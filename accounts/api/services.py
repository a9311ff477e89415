"""Writes behind the API: member tokens, partner-managed members, the calendar feed token."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import APIToken, Partner, User, new_calendar_token
from accounts.services import normalize_email, user_update_settings
from stretchhub.api.authentication import token_digest


class PartnerMemberConflict(Exception):
    """Another member already holds this external id (for the partner) or email address."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def api_token_create(*, user: User) -> tuple[APIToken, str]:
    """A new token for the member; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = APIToken.objects.create(user=user, digest=token_digest(raw), prefix=raw[:8])
    return token, raw


def api_token_revoke(*, token: APIToken) -> None:
    APIToken.objects.filter(pk=token.pk).delete()


def calendar_token_rotate(*, user: User) -> str:
    """Give the member a new private calendar URL; the old one stops working at once."""
    user.calendar_token = new_calendar_token()
    user.save(update_fields=["calendar_token"])
    return user.calendar_token


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


def partner_member_create(
    *,
    partner: Partner,
    external_id: str,
    email: str,
    display_name: str = "",
    timezone_name: str = "UTC",
    default_reminder_time: dt.time | None = None,
    email_reminders: bool = True,
) -> User:
    """A member the partner manages: no password (they never log in here), found by the partner's own id."""
    # Imported here: webhooks builds on programs, which accounts does not import when it is imported.
    from webhooks.services import event_record

    email = normalize_email(email)
    if User.objects.filter(partner=partner, external_id=external_id).exists():
        raise PartnerMemberConflict("external_id", _("You already have a member with this external id."))
    if _email_taken(email):
        raise PartnerMemberConflict("email", _("A member with this email address already exists."))
    member = User(
        # Never shown or used to log in; random so it can neither clash nor leak the partner's ids.
        username=f"partner{partner.pk}-{secrets.token_hex(8)}",
        email=email,
        display_name=display_name.strip(),
        timezone=timezone_name,
        email_reminders=email_reminders,
        partner=partner,
        external_id=external_id,
    )
    if default_reminder_time is not None:
        member.default_reminder_time = default_reminder_time
    member.set_unusable_password()
    try:
        with transaction.atomic():
            member.save()
            event_record(type="member.created", obj=member, member=member)
    except IntegrityError:
        # Lost a race with a simultaneous create: report what the other one took.
        if User.objects.filter(partner=partner, external_id=external_id).exists():
            raise PartnerMemberConflict("external_id", _("You already have a member with this external id.")) from None
        raise PartnerMemberConflict("email", _("A member with this email address already exists.")) from None
    return member


def partner_member_update(
    *,
    member: User,
    email: str | None = None,
    display_name: str | None = None,
    timezone_name: str | None = None,
    default_reminder_time: dt.time | None = None,
    email_reminders: bool | None = None,
) -> User:
    """Change what the partner may change, through the member settings service (reminders and webhooks follow)."""
    if email is not None:
        email = normalize_email(email)
        if email.casefold() != member.email.casefold() and _email_taken(email, exclude_pk=member.pk):
            raise PartnerMemberConflict("email", _("A member with this email address already exists."))
    try:
        with transaction.atomic():
            user_update_settings(
                user=member,
                display_name=member.display_name if display_name is None else display_name,
                timezone_name=member.timezone if timezone_name is None else timezone_name,
                default_reminder_time=(
                    member.default_reminder_time if default_reminder_time is None else default_reminder_time
                ),
                email_reminders=member.email_reminders if email_reminders is None else email_reminders,
                email=email,
            )
    except IntegrityError:
        # Lost a race for the address (the unique constraint on emails decides).
        member.refresh_from_db()
        raise PartnerMemberConflict("email", _("A member with this email address already exists.")) from None
    return member
