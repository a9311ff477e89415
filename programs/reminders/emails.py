"""An enrolment's emails, reminders and catch-up nudges: one function per message, each with
subject, text and HTML templates."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import translation

from programs import media
from programs.models import Enrolment, ProgramSession, SessionItem
from stretchhub import l10n
from stretchhub.i18n import user_language

from . import links, outbox
from .models import OutboxMessage


@dataclass
class ReminderContent:
    """What one reminder says: the day's session and the oldest open one from before."""

    delivery: OutboxMessage
    enrolment: Enrolment
    local_date: dt.date
    session_id: int
    # (date, ProgramSession pk) of sessions from earlier days still open, oldest first.
    open_earlier: list[tuple[dt.date, int]] = field(default_factory=list)


def load_sessions(session_ids: Iterable[int]) -> dict[int, ProgramSession]:
    """Sessions with their stretches in order and the stretches' pictures, in three queries."""
    items = SessionItem.objects.select_related("stretch").prefetch_related("stretch__images").order_by("order")
    return {
        session.pk: session
        for session in ProgramSession.objects.filter(pk__in=set(session_ids)).prefetch_related(
            Prefetch("items", queryset=items)
        )
    }


@dataclass(frozen=True)
class SharedContext:
    """What every email of a batch shares, worked out once per batch."""

    urls: links.LinkPrefixes
    settings_url: str

    @classmethod
    def build(cls) -> SharedContext:
        return cls(urls=links.LinkPrefixes.build(), settings_url=links.settings_url())


class ReminderEmail(EmailMultiAlternatives):
    def message(self):
        message = super().message()
        # A random boundary of our own: left unset, the email package makes one
        # and scans the whole body with a freshly compiled regex for each
        # message, a good part of the cost of sending 100,000 of them.
        message.set_boundary(f"=_stretchhub_{secrets.token_hex(16)}")
        return message


def outbox_email(
    *, template: str, context: dict, to: str, message: OutboxMessage, unsubscribe_url: str
) -> EmailMultiAlternatives:
    """One outbox email from its three templates (reminders/email/<template>_subject.txt, .txt, .html).

    Every kind carries the row's stable Message-ID and the one-click
    unsubscribe headers, pointing at `unsubscribe_url`.
    """
    email = ReminderEmail(
        subject=" ".join(render_to_string(f"reminders/email/{template}_subject.txt", context).split()),
        body=render_to_string(f"reminders/email/{template}.txt", context),
        to=[to],
        headers={"Message-ID": outbox.message_id(message), **outbox.bulk_headers(unsubscribe_url)},
    )
    email.attach_alternative(render_to_string(f"reminders/email/{template}.html", context), "text/html")
    return email


# How wide a stretch's picture is shown in an email, in CSS pixels.
EMAIL_PICTURE_WIDTH = 96


def _email_picture(stretch) -> dict | None:
    """The stretch's first picture, small, by absolute URL: the email reads the same without it."""
    image = next(iter(stretch.images.all()), None)
    if image is None:
        return None
    picture = media.picture(image, absolute=True)
    return {
        "src": picture.email_src,
        "alt": picture.alt,
        "width": EMAIL_PICTURE_WIDTH,
        "height": round(EMAIL_PICTURE_WIDTH * picture.height / picture.width),
    }


def _date_label(date: dt.date) -> str:
    return l10n.weekday_date(date)


def in_recipients_language(build):
    """Build the email in its recipient's language (`recipient` is the user it goes to), not the sender's."""

    def wrapper(*args, recipient, **kwargs):
        with translation.override(user_language(recipient)):
            return build(*args, **kwargs)

    return wrapper


def reminder_message(
    *, content: ReminderContent, sessions: dict[int, ProgramSession], shared: SharedContext | None = None
) -> EmailMultiAlternatives:
    return in_recipients_language(_reminder_message)(
        content=content, sessions=sessions, shared=shared, recipient=content.enrolment.member
    )


def _reminder_message(
    *, content: ReminderContent, sessions: dict[int, ProgramSession], shared: SharedContext | None = None
) -> EmailMultiAlternatives:
    shared = shared or SharedContext.build()
    urls = shared.urls
    enrolment = content.enrolment
    member = enrolment.member
    session = sessions[content.session_id]
    oldest_open = None
    if content.open_earlier:
        date, session_id = content.open_earlier[0]
        earlier = sessions.get(session_id)
        oldest_open = {
            "date_label": _date_label(date),
            "title": earlier.title if earlier else "",
            "url": links.session_url(enrolment_id=enrolment.pk, session_id=session_id, urls=urls),
        }
    unsubscribe_url = links.unsubscribe_url(enrolment_id=enrolment.pk, urls=urls)
    context = {
        "member_name": member.display_name or member.username,
        "program": enrolment.program,
        "session": session,
        "items": [
            {
                "name": item.stretch.name,
                "prescription": item.prescription_text,
                "per_side": item.per_side,
                "notes": item.notes,
                "picture": _email_picture(item.stretch),
            }
            for item in session.items.all()
        ],
        "local_date": content.local_date,
        "date_label": _date_label(content.local_date),
        "open_count": len(content.open_earlier),
        "oldest_open": oldest_open,
        "session_url": links.session_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
        "done_url": links.done_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
        "unsubscribe_url": unsubscribe_url,
        "settings_url": shared.settings_url,
        "site_url": settings.SITE_URL,
    }
    return outbox_email(
        template="reminder",
        context=context,
        to=member.email,
        message=content.delivery,
        unsubscribe_url=unsubscribe_url,
    )


def nudge_message(
    *, message: OutboxMessage, missed_date: dt.date, session: ProgramSession, shared: SharedContext
) -> EmailMultiAlternatives:
    """The catch-up nudge: the session missed the day before, one click to tick it, one to open it."""
    return in_recipients_language(_nudge_message)(
        message=message, missed_date=missed_date, session=session, shared=shared, recipient=message.enrolment.member
    )


def _nudge_message(
    *, message: OutboxMessage, missed_date: dt.date, session: ProgramSession, shared: SharedContext
) -> EmailMultiAlternatives:
    enrolment = message.enrolment
    member = enrolment.member
    urls = shared.urls
    # List-Unsubscribe switches nudges off; the enrolment's own link stops every email of the program.
    unsubscribe_url = links.preference_unsubscribe_url(user_id=member.pk, preference="nudge_emails")
    context = {
        "member_name": member.display_name or member.username,
        "program": enrolment.program,
        "session": session,
        "stretch_count": len(session.items.all()),
        "missed_label": _date_label(missed_date),
        "session_url": links.session_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
        "done_url": links.done_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
        "unsubscribe_url": unsubscribe_url,
        "program_unsubscribe_url": links.unsubscribe_url(enrolment_id=enrolment.pk, urls=urls),
        "settings_url": shared.settings_url,
        "site_url": settings.SITE_URL,
    }
    return outbox_email(
        template="nudge", context=context, to=member.email, message=message, unsubscribe_url=unsubscribe_url
    )
