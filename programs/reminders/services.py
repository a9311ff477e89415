"""An enrolment's reminders and catch-up nudges: keeping Enrolment.next_reminder_at right,
and the two message kinds the outbox dispatches and sends for it, by email and as push."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation

from accounts.models import PushSubscription
from programs import schedule
from programs.models import Completion, Enrolment, ProgramSession
from stretchhub.i18n import user_language

from . import due, links, outbox, push
from .models import OutboxMessage

log = logging.getLogger(__name__)
Kind = OutboxMessage.Kind
Channel = OutboxMessage.Channel
CHUNK = outbox.CHUNK
# The kinds that belong to an enrolment and a local date: between them, at most one email a day.
ENROLMENT_KINDS = (Kind.REMINDER, Kind.NUDGE)


@dataclass
class EnrolmentSchedule:
    """An enrolment's sessions in day order, with the ids needed for links."""

    enrolment: Enrolment
    tz: ZoneInfo
    sessions: list[schedule.ScheduledSession] = field(default_factory=list)
    session_ids: dict[int, int] = field(default_factory=dict)  # day number → ProgramSession pk


def enrolment_schedules(enrolments: Sequence[Enrolment], *, today_by_id: dict[int, dt.date]) -> list[EnrolmentSchedule]:
    """Scheduled sessions (date, done) of each enrolment, in two queries for the lot.

    Dates come from programs.schedule so they match the web, the API and the
    trainer's view.
    """
    program_ids = {e.program_id for e in enrolments}
    days_by_program: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for program_id, session_id, week, day in ProgramSession.objects.filter(program_id__in=program_ids).values_list(
        "program_id", "id", "week", "day"
    ):
        days_by_program[program_id].append((schedule.day_number(week=week, day=day), session_id))
    for days in days_by_program.values():
        days.sort()
    done: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, session_id in Completion.objects.filter(enrolment__in=[e.pk for e in enrolments]).values_list(
        "enrolment_id", "program_session_id"
    ):
        done[enrolment_id].add(session_id)

    result = []
    for enrolment in enrolments:
        member = enrolment.member
        item = EnrolmentSchedule(enrolment=enrolment, tz=due.zone(member.timezone if member else "UTC"))
        pauses = enrolment.pause_list(today=today_by_id.get(enrolment.pk))
        for number, session_id in days_by_program.get(enrolment.program_id, ()):
            date = schedule.session_date(start_date=enrolment.start_date, day_number=number, pauses=pauses)
            item.sessions.append(
                schedule.ScheduledSession(day_number=number, date=date, done=session_id in done[enrolment.pk])
            )
            item.session_ids[number] = session_id
        result.append(item)
    return result


def with_push_devices(enrolments: QuerySet) -> QuerySet:
    """Enrolments with `has_push_device`: whether their member switched push on anywhere (no extra query)."""
    return enrolments.annotate(has_push_device=Exists(PushSubscription.objects.filter(user_id=OuterRef("member_id"))))


def _wants(enrolment: Enrolment, *, switch: str, email: bool = True, devices: bool | None = None) -> bool:
    member = enrolment.member
    return due.reminders_wanted(
        status=enrolment.status,
        reminders_enabled=enrolment.reminders_enabled,
        member_exists=member is not None,
        member_active=bool(member and member.is_active),
        member_email=member.email if member and email else "",
        member_email_reminders=bool(member and getattr(member, switch)),
        member_push_devices=getattr(enrolment, "has_push_device", False) if devices is None else devices,
    )


def wants_reminders(enrolment: Enrolment) -> bool:
    """By email or on a device; `enrolment` comes from with_push_devices()."""
    return _wants(enrolment, switch="email_reminders")


def wants_nudges(enrolment: Enrolment) -> bool:
    """Nudges have their own email switch; the enrolment's own (its unsubscribe link) stops them on every channel."""
    return _wants(enrolment, switch="nudge_emails")


def wants_messages(enrolment: Enrolment) -> bool:
    return wants_reminders(enrolment) or wants_nudges(enrolment)


def by_email(enrolment: Enrolment, *, kind: str) -> bool:
    switch = "email_reminders" if kind == Kind.REMINDER else "nudge_emails"
    return _wants(enrolment, switch=switch, devices=False)


def by_push(enrolment: Enrolment, *, devices: bool) -> bool:
    """Pushes follow the enrolment and the account, not the email switches: a member may have push instead of email."""
    return _wants(enrolment, switch="email_reminders", email=False, devices=devices)


def _devices_of(enrolments: Sequence[Enrolment]) -> dict[int, list[int]]:
    """Member id → the ids of their push devices, for the enrolments whose member has any (one query, or none)."""
    members = {e.member_id for e in enrolments if getattr(e, "has_push_device", False)}
    devices: dict[int, list[int]] = defaultdict(list)
    if members:
        for user_id, pk in (
            PushSubscription.objects.filter(user_id__in=members).order_by("pk").values_list("user_id", "pk")
        ):
            devices[user_id].append(pk)
    return devices


def _handled_dates(enrolment_ids: list[int], *, since: dt.date) -> dict[int, set[dt.date]]:
    handled: dict[int, set[dt.date]] = defaultdict(set)
    for enrolment_id, local_date in OutboxMessage.objects.filter(
        enrolment_id__in=enrolment_ids, kind__in=ENROLMENT_KINDS, local_date__gte=since
    ).values_list("enrolment_id", "local_date"):
        handled[enrolment_id].add(local_date)
    return handled


def next_reminders(enrolments: Sequence[Enrolment], *, now: dt.datetime) -> dict[int, dt.datetime | None]:
    """The next reminder or nudge instant of each enrolment, in three queries.

    The enrolments come with their member and from with_push_devices().
    """
    result: dict[int, dt.datetime | None] = {e.pk: None for e in enrolments}
    wanted = [e for e in enrolments if wants_messages(e)]
    if not wanted:
        return result
    today_by_id = {e.pk: due.local_date_of(now, due.zone(e.member.timezone)) for e in wanted}
    schedules = enrolment_schedules(wanted, today_by_id=today_by_id)
    handled = _handled_dates([e.pk for e in wanted], since=min(today_by_id.values()) - dt.timedelta(days=1))
    for item in schedules:
        enrolment = item.enrolment
        stored = enrolment.next_reminder_at
        today = today_by_id[enrolment.pk]
        # Today's time has passed but the dispatcher has not handled it yet
        # (it is still stored as due): keep it rather than silently skip a day.
        keep = stored is not None and stored <= now and due.local_date_of(stored, item.tz) == today
        result[enrolment.pk] = due.next_reminder_at(
            sessions=item.sessions,
            reminder_time=enrolment.reminder_time,
            tz=item.tz,
            now=now,
            skip_dates=handled[enrolment.pk],
            keep_passed_today=keep,
            reminders=wants_reminders(enrolment),
            nudges=wants_nudges(enrolment),
        )
    return result


def member_reminders_refresh(*, member) -> None:
    """After a member's timezone, reminder or nudge settings change: each current enrolment's next email moves."""
    current = Enrolment.objects.filter(member=member, status__in=Enrolment.CURRENT_STATUSES)
    reminder_schedule_refresh(enrolments=list(current.only("pk")))


def reminder_schedule_refresh(*, enrolments: Iterable[Enrolment], now: dt.datetime | None = None) -> None:
    """Recompute and store Enrolment.next_reminder_at for these enrolments.

    Call after any write that changes an enrolment's schedule, status, reminder
    time or switch, its completions, or the member's timezone / email settings.
    Reads the enrolments afresh (so pass them after saving) and also sets the
    new value on the objects given. A handful of queries per 1,000 enrolments.
    """
    now = now or timezone.now()
    given = [e for e in enrolments if e.pk is not None]
    ids = list(dict.fromkeys(e.pk for e in given))
    new_values: dict[int, dt.datetime | None] = {}
    for start in range(0, len(ids), CHUNK):
        fresh = list(
            with_push_devices(Enrolment.objects.filter(pk__in=ids[start : start + CHUNK])).select_related("member")
        )
        computed = next_reminders(fresh, now=now)
        changed = []
        for enrolment in fresh:
            value = computed[enrolment.pk]
            new_values[enrolment.pk] = value
            if enrolment.next_reminder_at != value:
                enrolment.next_reminder_at = value
                changed.append(enrolment)
        if changed:
            outbox.save_next_instants(changed, field="next_reminder_at")
    for enrolment in given:
        if enrolment.pk in new_values:
            enrolment.next_reminder_at = new_values[enrolment.pk]


def due_enrolments_query(*, now: dt.datetime):
    """The dispatcher's indexed query (partial index enrolment_next_reminder_idx)."""
    return Enrolment.objects.filter(Q(next_reminder_at__lte=now)).order_by("next_reminder_at")


class EnrolmentMessages:
    """Dispatch of reminders and nudges: both are due at an enrolment's next_reminder_at.

    One row per channel: the email, and a push for each of the member's devices.
    """

    def dispatch_chunk(
        self, *, now: dt.datetime, token: dt.datetime, lease_until: dt.datetime
    ) -> list[OutboxMessage] | None:
        """Claim the next chunk of due enrolments: rows in, next_reminder_at moved on."""
        query = with_push_devices(due_enrolments_query(now=now)).select_related("member")
        enrolments = list(outbox.locked(query)[:CHUNK])
        if not enrolments:
            return None
        wanted = [e for e in enrolments if wants_messages(e)]
        devices = _devices_of(wanted)
        today_by_id = {e.pk: due.local_date_of(now, due.zone(e.member.timezone)) for e in wanted}
        schedules = {item.enrolment.pk: item for item in enrolment_schedules(wanted, today_by_id=today_by_id)}
        since = min(today_by_id.values(), default=now.date()) - dt.timedelta(days=2)
        handled = _handled_dates([e.pk for e in wanted], since=since)
        rows = []
        for enrolment in enrolments:
            item = schedules.get(enrolment.pk)
            if item is None:
                enrolment.next_reminder_at = None
                continue
            stored = enrolment.next_reminder_at
            local_date = due.local_date_of(stored, item.tz)
            reminders, nudges = wants_reminders(enrolment), wants_nudges(enrolment)
            kind = None
            if reminders and due.session_on(item.sessions, local_date) is not None:
                kind = Kind.REMINDER
            elif nudges and due.nudge_missed_session(item.sessions, local_date) is not None:
                kind = Kind.NUDGE
            if kind is not None and local_date not in handled[enrolment.pk]:
                row = dict(
                    kind=kind,
                    recipient_id=enrolment.member_id,
                    enrolment_id=enrolment.pk,
                    local_date=local_date,
                    due_at=stored,
                    token=token,
                    lease_until=lease_until,
                    now=now,
                )
                if by_email(enrolment, kind=kind):
                    rows.append(outbox.new_row(**row))
                if by_push(enrolment, devices=bool(devices[enrolment.member_id])):
                    rows += [
                        outbox.new_row(**row, channel=Channel.PUSH, push_subscription_id=device)
                        for device in devices[enrolment.member_id]
                    ]
            # After a missed day, today's email may still be due (even if its
            # time has passed): the next round of this loop picks it up.
            enrolment.next_reminder_at = due.next_reminder_at(
                sessions=item.sessions,
                reminder_time=enrolment.reminder_time,
                tz=item.tz,
                now=now,
                skip_dates=handled[enrolment.pk] | {local_date},
                keep_passed_today=now - stored > outbox.missed_after(),
                reminders=reminders,
                nudges=nudges,
            )
        # Insert-or-nothing: a row that already exists for (enrolment, kind,
        # local date) on its channel and device — from a duplicate dispatcher,
        # a second beat — is left alone.
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        outbox.save_next_instants(enrolments, field="next_reminder_at")
        return rows


@dataclass
class _Planned:
    """A claimed row, its enrolment's schedule, and the session it is about."""

    message: OutboxMessage
    schedule: EnrolmentSchedule
    session: schedule.ScheduledSession


def _plan(
    messages: list[OutboxMessage],
    *,
    now: dt.datetime,
    skip: outbox.Skip,
    kind: str,
    session_for,
    unwanted: str,
    gone: str,
) -> list[_Planned]:
    """Re-check each row right before sending; the rows still worth a message, with their session."""
    enrolments = [m.enrolment for m in messages]
    today_by_id = {e.pk: due.local_date_of(now, due.zone(e.member.timezone if e.member else "UTC")) for e in enrolments}
    schedules = {item.enrolment.pk: item for item in enrolment_schedules(enrolments, today_by_id=today_by_id)}
    planned = []
    for message in messages:
        item = schedules[message.enrolment_id]
        session = session_for(item.sessions, message.local_date)
        if message.channel == Channel.PUSH and message.push_subscription is None:
            skip(message, "The device was removed before the push went out.")
        elif not _row_wanted(message, kind=kind):
            skip(message, unwanted)
        elif session is None:
            skip(message, gone)
        elif now - message.due_at > outbox.missed_after():
            skip(message, f"Missed: not sent within {outbox.missed_after()} of its time.")
        else:
            planned.append(_Planned(message=message, schedule=item, session=session))
    return planned


def _row_wanted(message: OutboxMessage, *, kind: str) -> bool:
    if message.channel == Channel.PUSH:
        return by_push(message.enrolment, devices=True)
    return by_email(message.enrolment, kind=kind)


Outgoing = EmailMultiAlternatives | push.Notification


class Reminders:
    def build(
        self, messages: list[OutboxMessage], *, now: dt.datetime, skip: outbox.Skip
    ) -> list[tuple[OutboxMessage, Outgoing]]:
        from . import emails

        planned = _plan(
            messages,
            now=now,
            skip=skip,
            kind=Kind.REMINDER,
            session_for=due.session_on,
            unwanted="Reminders were switched off or the enrolment is no longer active.",
            gone="The day's session was done before the reminder went out.",
        )
        contents = []
        for plan in planned:
            item = plan.schedule
            earlier = due.open_before(item.sessions, plan.message.local_date)
            contents.append(
                emails.ReminderContent(
                    delivery=plan.message,
                    enrolment=plan.message.enrolment,
                    local_date=plan.message.local_date,
                    session_id=item.session_ids[plan.session.day_number],
                    open_earlier=[(s.date, item.session_ids[s.day_number]) for s in earlier],
                )
            )
        wanted_ids = {c.session_id for c in contents} | {pk for c in contents for _, pk in c.open_earlier[:1]}
        sessions = emails.load_sessions(wanted_ids)
        shared = emails.SharedContext.build()
        return [
            (c.delivery, _reminder_push(c, sessions, shared.urls))
            if c.delivery.channel == Channel.PUSH
            else (c.delivery, emails.reminder_message(content=c, sessions=sessions, shared=shared))
            for c in contents
        ]


class Nudges:
    def build(
        self, messages: list[OutboxMessage], *, now: dt.datetime, skip: outbox.Skip
    ) -> list[tuple[OutboxMessage, Outgoing]]:
        from . import emails

        planned = _plan(
            messages,
            now=now,
            skip=skip,
            kind=Kind.NUDGE,
            session_for=due.nudge_missed_session,
            unwanted="Nudges were switched off or the enrolment is no longer active.",
            gone="The member caught up (or the day has a session of its own) before the nudge went out.",
        )
        session_ids = {p.message.pk: p.schedule.session_ids[p.session.day_number] for p in planned}
        sessions = emails.load_sessions(session_ids.values())
        shared = emails.SharedContext.build()
        outgoing: list[tuple[OutboxMessage, Outgoing]] = []
        for p in planned:
            session = sessions[session_ids[p.message.pk]]
            if p.message.channel == Channel.PUSH:
                message = _nudge_push(p.message, session=session, urls=shared.urls)
            else:
                message = emails.nudge_message(
                    message=p.message, missed_date=p.session.date, session=session, shared=shared
                )
            outgoing.append((p.message, message))
        return outgoing


def _reminder_push(content, sessions: dict[int, ProgramSession], urls: links.LinkPrefixes) -> push.Notification:
    enrolment = content.enrolment
    session = sessions[content.session_id]
    with translation.override(user_language(enrolment.member)):
        return push.reminder_notification(
            subscription=content.delivery.push_subscription,
            program_title=enrolment.program.title,
            session_title=session.title,
            stretch_count=len(session.items.all()),
            open_count=len(content.open_earlier),
            url=links.session_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
            done_url=links.done_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
            enrolment_id=enrolment.pk,
        )


def _nudge_push(message: OutboxMessage, *, session: ProgramSession, urls: links.LinkPrefixes) -> push.Notification:
    enrolment = message.enrolment
    with translation.override(user_language(enrolment.member)):
        return push.nudge_notification(
            subscription=message.push_subscription,
            program_title=enrolment.program.title,
            session_title=session.title,
            stretch_count=len(session.items.all()),
            url=links.session_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
            done_url=links.done_url(enrolment_id=enrolment.pk, session_id=session.pk, urls=urls),
            enrolment_id=enrolment.pk,
        )


ENROLMENT_MESSAGES = EnrolmentMessages()
REMINDERS = Reminders()
NUDGES = Nudges()
