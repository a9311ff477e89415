"""Web Push for the outbox: what a reminder or a nudge says on a device, and one push to one device.

pywebpush encrypts the payload for the device (RFC 8291, aes128gcm) and
py_vapid signs the request (RFC 8292, VAPID). The POST itself goes through
stretchhub.outbound, as a webhook does: the endpoint is a URL a browser gave
us, so only public addresses, pinned to the address checked, no redirects.
The rules (who, when, how often, retries): docs/push.md.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from accounts.models import PushSubscription
from stretchhub import outbound, vapid

# How long a push service keeps a push for a device that is offline: long
# enough for a phone in a bag, short enough that a reminder never turns up the next day.
TTL = dt.timedelta(hours=4)
# A signature is valid this long (RFC 8292 allows at most 24 hours).
SIGNATURE_LIFETIME = dt.timedelta(hours=12)
RETRY_AFTER_LIMIT = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Notification:
    """One push for one device: what the service worker shows (static/js/sw.js renders it)."""

    subscription: PushSubscription
    title: str
    body: str
    # Opened by a tap on the notification.
    url: str
    # The signed one-click confirmation page, opened by the "Done" action.
    done_url: str
    # The "Done" action's label, in the member's language like the rest.
    done_title: str
    # The notification it replaces on the device, and the undelivered push it replaces at the push service.
    tag: str

    def payload(self) -> bytes:
        data = {
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "done_url": self.done_url,
            "done_title": self.done_title,
            "tag": self.tag,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


# Built in the member's language: the caller activates it (translation.override), as for their emails.


def _stretches(count: int) -> str:
    return ngettext("%(count)s stretch", "%(count)s stretches", count) % {"count": count}


def reminder_notification(
    *,
    subscription: PushSubscription,
    program_title: str,
    session_title: str,
    stretch_count: int,
    open_count: int,
    url: str,
    done_url: str,
    enrolment_id: int,
) -> Notification:
    body = f"{program_title} · {_stretches(stretch_count)}"
    if open_count:
        body += " · " + ngettext("%(count)d open from earlier", "%(count)d open from earlier", open_count) % {
            "count": open_count
        }
    return Notification(
        subscription=subscription,
        title=gettext("Time to stretch: %(session)s") % {"session": session_title},
        body=body,
        url=url,
        done_url=done_url,
        done_title=gettext("Done"),
        tag=f"enrolment-{enrolment_id}",
    )


def nudge_notification(
    *,
    subscription: PushSubscription,
    program_title: str,
    session_title: str,
    stretch_count: int,
    url: str,
    done_url: str,
    enrolment_id: int,
) -> Notification:
    return Notification(
        subscription=subscription,
        title=gettext("Catch up when it suits you: %(session)s") % {"session": session_title},
        body=gettext("Yesterday's session in %(program)s is still open (%(stretches)s).")
        % {"program": program_title, "stretches": _stretches(stretch_count)},
        url=url,
        done_url=done_url,
        done_title=gettext("Done"),
        tag=f"enrolment-{enrolment_id}",
    )


# --- Sending ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    sent: bool = False
    # The push service no longer knows the device (404, 410): it is removed.
    gone: bool = False
    transient: bool = False
    error: str = ""
    # At least this long before a retry (a 429 or 503's Retry-After).
    wait: dt.timedelta | None = None


@cache
def _signer(private_key: str) -> Vapid:
    return Vapid(vapid.private_key(private_key))


class Signatures:
    """VAPID headers per push service origin, made once per batch (the JWT names the origin as its audience)."""

    def __init__(self):
        self._by_origin: dict[str, dict[str, str]] = {}

    def header(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._by_origin:
            claims = {
                "aud": origin,
                "sub": settings.VAPID_SUBJECT,
                "exp": int(time.time() + SIGNATURE_LIFETIME.total_seconds()),
            }
            self._by_origin[origin] = _signer(settings.VAPID_PRIVATE_KEY).sign(claims)
        return self._by_origin[origin]["Authorization"]


def retry_wait(retry_after: str | None, *, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Retry-After as seconds or an HTTP date, capped at an hour; None when absent or unreadable."""
    if not retry_after:
        return None
    value = retry_after.strip()
    if value.isdigit():
        wait = dt.timedelta(seconds=int(value))
    else:
        try:
            wait = email.utils.parsedate_to_datetime(value) - (now or timezone.now())
        except (TypeError, ValueError):
            return None
    return max(dt.timedelta(0), min(wait, RETRY_AFTER_LIMIT))


def send(notification: Notification, *, signatures: Signatures) -> Outcome:
    """One push, encrypted for its device and signed; what the push service answered, classified."""
    subscription = notification.subscription
    try:
        body = WebPusher(subscription.subscription_info).encode(notification.payload())["body"]
    except (WebPushException, ValueError) as exc:
        return Outcome(error=f"Could not encrypt for this device: {exc}"[:300])
    headers = {
        "Authorization": signatures.header(subscription.endpoint),
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aes128gcm",
        "TTL": str(int(TTL.total_seconds())),
        "Urgency": "normal",
        "Topic": notification.tag[:32],
    }
    answer = outbound.post(
        subscription.endpoint,
        body=body,
        headers=headers,
        allow_private=settings.WEB_PUSH_ALLOW_PRIVATE,
        timeout=settings.WEB_PUSH_TIMEOUT_SECONDS,
    )
    return classify(answer)


def classify(answer: outbound.Answer) -> Outcome:
    """201 sent; 404/410 the device is gone; 429, 5xx and no answer retried; any other answer fails the push."""
    status = answer.status
    if status is None:
        refused = answer.error.startswith("refused:")
        return Outcome(transient=not refused, error=f"Push service: {answer.error}")
    if 200 <= status < 300:
        return Outcome(sent=True)
    error = f"Push service answered {status}."
    if status in (404, 410):
        return Outcome(gone=True, error=f"{error} The device is no longer subscribed; it was removed.")
    if status == 429 or status >= 500:
        return Outcome(transient=True, error=error, wait=retry_wait(answer.retry_after))
    # 400 (malformed), 401/403 (our signature refused: another VAPID key), 413 (too big).
    return Outcome(error=error)
