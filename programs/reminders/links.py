"""Signed, expiring links in outbox emails (django.core.signing; no table needed).

A link is the person's credential for one action (on one enrolment, or on one
of their email preferences), so the
pages behind it need no login; GET only ever shows a confirmation (mail
scanners follow links), and the action itself is a POST.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

DONE_MAX_AGE = dt.timedelta(days=7)
# Long: an unsubscribe link in an old email should keep working for a while.
UNSUBSCRIBE_MAX_AGE = dt.timedelta(days=90)
_DONE_SALT = "reminders.done"
_UNSUBSCRIBE_SALT = "reminders.unsubscribe"
_PREFERENCE_SALT = "reminders.preference-off"

# The account-wide switches a one-click link may turn off, with what the page calls them.
PREFERENCES = {
    "nudge_emails": _("catch-up emails after a missed session"),
    "weekly_summary_emails": _("weekly summary emails"),
    "trainer_digest_emails": _("the daily digest of members who slipped"),
}


class LinkError(Exception):
    """A link that was altered or cut short; the message is user-facing."""

    status = 400


class LinkExpired(LinkError):
    status = 410


def _read(token: str, *, salt: str, max_age: dt.timedelta, keys: tuple[str, ...]) -> dict:
    try:
        payload = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(gettext("This link has expired.")) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise LinkError(gettext("This link is not valid. Check that you copied all of it.")) from exc
    if not isinstance(payload, dict) or any(not isinstance(payload.get(key), int) for key in keys):
        raise LinkError(gettext("This link is not valid. Check that you copied all of it."))
    return payload


def done_token(*, enrolment_id: int, session_id: int) -> str:
    return signing.TimestampSigner(salt=_DONE_SALT).sign_object({"e": enrolment_id, "s": session_id})


def done_token_read(token: str) -> tuple[int, int]:
    payload = _read(token, salt=_DONE_SALT, max_age=DONE_MAX_AGE, keys=("e", "s"))
    return payload["e"], payload["s"]


def unsubscribe_token(*, enrolment_id: int) -> str:
    return signing.TimestampSigner(salt=_UNSUBSCRIBE_SALT).sign_object({"e": enrolment_id})


def unsubscribe_token_read(token: str) -> int:
    return _read(token, salt=_UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE, keys=("e",))["e"]


def preference_off_token(*, user_id: int, preference: str) -> str:
    if preference not in PREFERENCES:
        raise ValueError(f"Not an email preference: {preference}")
    return signing.TimestampSigner(salt=_PREFERENCE_SALT).sign_object({"u": user_id, "p": preference})


def preference_off_token_read(token: str) -> tuple[int, str]:
    payload = _read(token, salt=_PREFERENCE_SALT, max_age=UNSUBSCRIBE_MAX_AGE, keys=("u",))
    if payload.get("p") not in PREFERENCES:
        raise LinkError(gettext("This link is not valid. Check that you copied all of it."))
    return payload["u"], payload["p"]


def preference_unsubscribe_url(*, user_id: int, preference: str) -> str:
    """The one-click link that switches one of a person's email preferences off."""
    token = preference_off_token(user_id=user_id, preference=preference)
    return absolute(reverse("reminders:preference_off", kwargs={"token": token}))


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def done_url(*, enrolment_id: int, session_id: int, urls: LinkPrefixes | None = None) -> str:
    token = done_token(enrolment_id=enrolment_id, session_id=session_id)
    return (urls or LinkPrefixes.build()).done.format(token=token)


def unsubscribe_url(*, enrolment_id: int, urls: LinkPrefixes | None = None) -> str:
    token = unsubscribe_token(enrolment_id=enrolment_id)
    return (urls or LinkPrefixes.build()).unsubscribe.format(token=token)


def session_url(*, enrolment_id: int, session_id: int, urls: LinkPrefixes | None = None) -> str:
    return (urls or LinkPrefixes.build()).session.format(pk=enrolment_id, session_pk=session_id)


@dataclass(frozen=True)
class LinkPrefixes:
    """Absolute URL patterns, reversed once per batch rather than four times per email."""

    done: str
    unsubscribe: str
    session: str

    @classmethod
    def build(cls) -> LinkPrefixes:
        def pattern(name: str, **placeholders: int | str) -> str:
            path = reverse(name, kwargs=placeholders)
            for key, value in placeholders.items():
                path = path.replace(str(value), "{" + key + "}", 1)
            return absolute(path)

        return cls(
            done=pattern("reminders:done", token="TOKEN"),
            unsubscribe=pattern("reminders:unsubscribe", token="TOKEN"),
            session=pattern("programs:session", pk=9_999_991, session_pk=9_999_992),
        )


def settings_url() -> str:
    return absolute(reverse("accounts:settings"))
