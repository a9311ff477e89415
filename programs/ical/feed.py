"""A member's private iCal feed: each scheduled session as an event at the reminder time.

Events carry the member's timezone (TZID, with VTIMEZONE definitions), so a
calendar app keeps 08:00 at 08:00 local across a DST change. Dates come from
the same selectors as the web pages, so pauses shift them the same way.
Left enrolments disappear from the feed; while an enrolment is paused, only
its sessions before the pause stay (the rest have no date until it resumes).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from icalendar import Calendar, Event

from accounts.models import User
from programs import selectors
from programs.models import Enrolment, ProgramSession, SessionItem
from stretchhub.i18n import user_language

# Events are at least this long even when a session's items add up to less.
MIN_EVENT_MINUTES = 10


def _enrolments(member: User) -> list[Enrolment]:
    sessions = ProgramSession.objects.order_by("week", "day").prefetch_related(
        Prefetch(
            "items",
            queryset=SessionItem.objects.select_related("stretch")
            .only(
                "id",
                "session_id",
                "order",
                "sets",
                "reps",
                "hold_seconds",
                "per_side",
                "rest_seconds",
                "stretch",
                "stretch__name",
            )
            .order_by("order"),
        )
    )
    return list(
        Enrolment.objects.filter(member=member)
        .exclude(status=Enrolment.Status.LEFT)
        .select_related("program", "member")
        .prefetch_related(Prefetch("program__sessions", queryset=sessions), "completions")
        .order_by("created_at", "pk")
    )


def member_calendar(*, member: User, now: dt.datetime | None = None) -> bytes:
    """The feed in the member's language: a calendar app's request says nothing about it."""
    with translation.override(user_language(member)):
        return _member_calendar(member=member, now=now)


def _member_calendar(*, member: User, now: dt.datetime | None = None) -> bytes:
    now = now or timezone.now()
    today = selectors.member_local_today(member, now=now)
    tz = member.tzinfo
    host = urlsplit(settings.SITE_URL).hostname or "stretchhub"

    calendar = Calendar()
    calendar.add("prodid", "-//StretchHub//Stretching programs//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", gettext("StretchHub sessions"))
    calendar.add("x-wr-timezone", member.timezone)
    # Calendar apps poll; this is a hint of how often (RFC 7986).
    calendar.add("refresh-interval", dt.timedelta(hours=6), parameters={"VALUE": "DURATION"})

    for enrolment in _enrolments(member):
        progress = selectors.enrolment_progress(enrolment=enrolment, today=today)
        for slot in progress.slots:
            if enrolment.paused_on is not None and slot.date >= enrolment.paused_on and not slot.done:
                continue
            session = slot.session
            items = list(session.items.all())
            seconds = sum(selectors.item_seconds(item) for item in items)
            minutes = max(MIN_EVENT_MINUTES, round(seconds / 60))
            start = dt.datetime.combine(slot.date, enrolment.reminder_time, tzinfo=tz)
            link = settings.SITE_URL + reverse(
                "programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk}
            )
            event = Event()
            event.add("uid", f"enrolment-{enrolment.pk}-session-{session.pk}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", start)
            event.add("dtend", start + dt.timedelta(minutes=minutes))
            event.add("summary", f"{'✓ ' if slot.done else ''}{enrolment.program.title}: {session.title}")
            stretches = "".join(f"\n• {item.stretch.name}: {item.prescription_text}" for item in items)
            where = gettext("Week %(week)d, day %(day)d of %(program)s.") % {
                "week": session.week,
                "day": session.day,
                "program": enrolment.program.title,
            }
            event.add("description", f"{where}{stretches}\n{link}")
            event.add("url", link)
            event.add("status", "CONFIRMED")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)

    calendar.add_missing_timezones()
    return calendar.to_ical()
