"""The weekly summary email: when it is due, what it says, and its message kind for the outbox.

Rules (docs/weekly-summary.md): once per local week, at the weekday and time the
member chose, one email covering each of their active enrolments, for a week
that had something due. The week is the 7 local days ending on the send day;
"next week" is the 7 days after it; the outbox key is the Monday of the ISO week
of the send day, so moving the day mid-week never gives two summaries in a week.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Max, Prefetch
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from programs import schedule
from programs.models import Enrolment, ProgramSession
from programs.pain_chart import pain_chart
from programs.selectors import EnrolmentProgress, SessionSlot, enrolment_progress, member_progress_prefetches
from stretchhub import l10n

from . import due, emails, links, outbox
from .due import reminder_instant
from .models import OutboxMessage

PREFERENCE = "weekly_summary_emails"
WEEK = dt.timedelta(days=7)
# Users whose next summary is stored per round of queries (keeps IN lists under SQLite's limit).
CHUNK = outbox.CHUNK
USER_FIELDS = (
    "id",
    "email",
    "is_active",
    "display_name",
    "username",
    "timezone",
    "language",
    PREFERENCE,
    "weekly_summary_day",
    "weekly_summary_time",
    "next_weekly_summary_at",
)


# --- When: pure maths -----------------------------------------------------------------------------


def week_monday(local_date: dt.date) -> dt.date:
    """The Monday of the ISO week of `local_date`: the summary's natural key."""
    return local_date - dt.timedelta(days=local_date.weekday())


def summary_window(send_date: dt.date) -> tuple[dt.date, dt.date]:
    """The 7 local days a summary sent on `send_date` covers, the send day included."""
    return send_date - dt.timedelta(days=6), send_date


def next_week_window(send_date: dt.date) -> tuple[dt.date, dt.date]:
    return send_date + dt.timedelta(days=1), send_date + WEEK


def next_summary_at(
    *, weekday: int, at: dt.time, tz: ZoneInfo, now: dt.datetime, handled_week: dt.date | None = None
) -> dt.datetime:
    """The first instant, now or later, of `weekday` at `at` in `tz`, in a week after `handled_week`.

    `handled_week` is the Monday of the latest week already summarised (a row
    exists): a member who moves their day to later in that week waits for the
    next one. DST gaps and folds are handled as for reminders (due.reminder_instant).
    """
    monday = week_monday(now.astimezone(tz).date())
    if handled_week is not None and monday <= handled_week:
        monday = handled_week + WEEK
    while True:
        instant = reminder_instant(local_date=monday + dt.timedelta(days=weekday), reminder_time=at, tz=tz)
        if instant >= now:
            return instant
        monday += WEEK


def summary_wanted(user: User, *, has_current_enrolment: bool) -> bool:
    """Whether a member gets weekly summaries at all (switch, account, address, something to follow)."""
    return bool(user.weekly_summary_emails and user.is_active and user.email and has_current_enrolment)


def _user_next(user: User, *, has_current: bool, now: dt.datetime, handled_week: dt.date | None) -> dt.datetime | None:
    if not summary_wanted(user, has_current_enrolment=has_current):
        return None
    return next_summary_at(
        weekday=user.weekly_summary_day,
        at=user.weekly_summary_time,
        tz=due.zone(user.timezone),
        now=now,
        handled_week=handled_week,
    )


def weekly_summary_schedule_refresh(*, users: Iterable[User], now: dt.datetime | None = None) -> None:
    """Recompute and store User.next_weekly_summary_at for these members.

    Call after a change to the member's zone, summary day, time or switch, and
    after an enrolment starts or ends. Reads the rows afresh, sets the new value
    on the objects given too. Four queries per 1,000 members, at most.
    """
    now = now or timezone.now()
    given = [u for u in users if u.pk is not None]
    ids = list(dict.fromkeys(u.pk for u in given))
    new_values: dict[int, dt.datetime | None] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        fresh = list(User.objects.filter(pk__in=chunk).only(*USER_FIELDS))
        current = set(
            Enrolment.objects.filter(member_id__in=chunk, status__in=Enrolment.CURRENT_STATUSES)
            .values_list("member_id", flat=True)
            .distinct()
        )
        handled = dict(
            OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEEKLY_SUMMARY, recipient_id__in=chunk)
            .values("recipient_id")
            .annotate(week=Max("local_date"))
            .values_list("recipient_id", "week")
        )
        changed = []
        for user in fresh:
            value = _user_next(user, has_current=user.pk in current, now=now, handled_week=handled.get(user.pk))
            new_values[user.pk] = value
            if user.next_weekly_summary_at != value:
                user.next_weekly_summary_at = value
                changed.append(user)
        if changed:
            outbox.save_next_instants(changed, field="next_weekly_summary_at")
    for user in given:
        if user.pk in new_values:
            user.next_weekly_summary_at = new_values[user.pk]


# --- What: the content, from the same selectors as the web ----------------------------------------


@dataclass(frozen=True)
class PainBar:
    date: dt.date
    session: str
    before: int | None
    after: int | None


@dataclass
class EnrolmentWeek:
    """One active enrolment's week, with the numbers the web shows for the send day."""

    progress: EnrolmentProgress
    week_slots: list[SessionSlot]
    next_week: list[SessionSlot]
    pain: list[PainBar] = field(default_factory=list)

    @property
    def enrolment(self) -> Enrolment:
        return self.progress.enrolment

    @property
    def week(self) -> schedule.Adherence:
        """Sessions done of those due in the 7 days ending on the send day (the web's "last 7 days")."""
        return self.progress.progress.adherence_7_days

    @property
    def open_today(self) -> bool:
        return self.progress.open_today is not None

    @property
    def pain_before_average(self) -> float | None:
        return _average(p.before for p in self.pain)

    @property
    def pain_after_average(self) -> float | None:
        return _average(p.after for p in self.pain)


def _average(values: Iterable[int | None]) -> float | None:
    scores = [v for v in values if v is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


@dataclass
class WeeklySummary:
    member: User
    send_date: dt.date
    enrolments: list[EnrolmentWeek]

    @property
    def first_day(self) -> dt.date:
        return summary_window(self.send_date)[0]


def _has_session_between(enrolment: Enrolment, first: dt.date, last: dt.date, *, today: dt.date) -> bool:
    # The dates the web shows: programs.schedule with the enrolment's pauses, as enrolment_progress places them.
    pauses = enrolment.pause_list(today=today)
    return any(
        first <= schedule.session_date(start_date=enrolment.start_date, day_number=s.day_number, pauses=pauses) <= last
        for s in enrolment.program.sessions.all()
    )


def enrolment_week(*, enrolment: Enrolment, send_date: dt.date, tz: ZoneInfo) -> EnrolmentWeek | None:
    """An active enrolment's week ending on `send_date`, or None when it had no session in it."""
    first, last = summary_window(send_date)
    progress = enrolment_progress(enrolment=enrolment, today=send_date)
    week_slots = [s for s in progress.slots if first <= s.date <= last]
    if not week_slots:
        return None
    next_first, next_last = next_week_window(send_date)
    titles = {s.session.pk: s.session.title for s in progress.slots}
    chart = pain_chart([s.completion for s in progress.slots if s.done], tz=tz, session_titles=titles)
    pain = [
        PainBar(date=row.date, session=row.session, before=row.before, after=row.after)
        for row in (chart.rows if chart else [])
        if first <= row.date <= last
    ]
    return EnrolmentWeek(
        progress=progress,
        week_slots=week_slots,
        next_week=[s for s in progress.slots if next_first <= s.date <= next_last],
        pain=pain,
    )


def weekly_summary_content(
    *, member: User, enrolments: Iterable[Enrolment], send_date: dt.date
) -> WeeklySummary | None:
    """The summary of the week ending on `send_date`, or None when nothing was due in it.

    `enrolments` are the member's active ones, loaded with member_progress_prefetches().
    """
    tz = due.zone(member.timezone)
    weeks = [
        week
        for enrolment in enrolments
        if enrolment.status == Enrolment.Status.ACTIVE
        and (week := enrolment_week(enrolment=enrolment, send_date=send_date, tz=tz)) is not None
    ]
    if not weeks:
        return None
    return WeeklySummary(member=member, send_date=send_date, enrolments=weeks)


def active_enrolments_by_member(member_ids: Iterable[int]) -> dict[int, list[Enrolment]]:
    """Active enrolments with what enrolment_progress reads, in three queries for the lot."""
    by_member: dict[int, list[Enrolment]] = defaultdict(list)
    enrolments = (
        Enrolment.objects.filter(member_id__in=set(member_ids), status=Enrolment.Status.ACTIVE)
        .select_related("program")
        .prefetch_related(*member_progress_prefetches())
        .order_by("created_at", "pk")
    )
    for enrolment in enrolments:
        by_member[enrolment.member_id].append(enrolment)
    return by_member


# --- The email ------------------------------------------------------------------------------------

BAR_MAX = 10  # pain scores run 0–10: a bar's width is the score in tenths


def _date_label(date: dt.date) -> str:
    return l10n.weekday_date(date)


def _short_date(date: dt.date) -> str:
    return l10n.short_weekday_date(date)


def _score_text(value: float | None) -> str:
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else l10n.decimal(value, 1)


def _percent_text(percent: int | None) -> str:
    return "—" if percent is None else f"{percent}%"


def _enrolment_context(week: EnrolmentWeek, *, urls: links.LinkPrefixes) -> dict:
    enrolment = week.enrolment
    p = week.progress.progress
    return {
        "program_title": enrolment.program.title,
        "enrolment_url": links.absolute(reverse("programs:enrolment", kwargs={"pk": enrolment.pk})),
        "done": week.week.done,
        "due": week.week.due,
        "planned": len(week.week_slots),
        "week_percent": week.week.percent,
        "overall_percent": p.adherence.percent,
        "week_text": _percent_text(week.week.percent),
        "overall_text": _percent_text(p.adherence.percent),
        "current_streak": p.current_streak,
        "best_streak": p.best_streak,
        "open_today": week.open_today,
        "pain_before_average": _score_text(week.pain_before_average),
        "pain_after_average": _score_text(week.pain_after_average),
        "has_pain": bool(week.pain),
        "pain_rows": [
            {
                "label": _short_date(bar.date),
                "session": bar.session,
                "before": bar.before,
                "after": bar.after,
                "before_text": _score_text(bar.before),
                "after_text": _score_text(bar.after),
                "before_width": (bar.before or 0) * 100 // BAR_MAX,
                "after_width": (bar.after or 0) * 100 // BAR_MAX,
            }
            for bar in week.pain
        ],
        "next_week": [
            {
                "label": _date_label(slot.date),
                "title": slot.session.title,
                "done": slot.done,
                "url": links.session_url(enrolment_id=enrolment.pk, session_id=slot.session.pk, urls=urls),
            }
            for slot in week.next_week
        ],
    }


def weekly_summary_message(
    *, message: OutboxMessage, summary: WeeklySummary, urls: links.LinkPrefixes | None = None
) -> EmailMultiAlternatives:
    """In the member's language, whoever's request or worker builds it."""
    return emails.in_recipients_language(_weekly_summary_message)(
        message=message, summary=summary, urls=urls, recipient=summary.member
    )


def _weekly_summary_message(
    *, message: OutboxMessage, summary: WeeklySummary, urls: links.LinkPrefixes | None = None
) -> EmailMultiAlternatives:
    urls = urls or links.LinkPrefixes.build()
    member = summary.member
    unsubscribe_url = links.preference_unsubscribe_url(user_id=member.pk, preference=PREFERENCE)
    context = {
        "member_name": member.display_name or member.username,
        "first_label": _date_label(summary.first_day),
        "last_label": _date_label(summary.send_date),
        "enrolments": [_enrolment_context(week, urls=urls) for week in summary.enrolments],
        "dashboard_url": links.absolute(reverse("programs:dashboard")),
        "settings_url": links.settings_url(),
        "unsubscribe_url": unsubscribe_url,
        "site_url": settings.SITE_URL,
    }
    context["total_done"] = sum(e["done"] for e in context["enrolments"])
    context["total_due"] = sum(e["due"] for e in context["enrolments"])
    return emails.outbox_email(
        template="weekly_summary", context=context, to=member.email, message=message, unsubscribe_url=unsubscribe_url
    )


# --- The outbox kind ------------------------------------------------------------------------------


def _send_date(message: OutboxMessage, tz: ZoneInfo) -> dt.date:
    stored = (message.payload or {}).get("send_date")
    if stored:
        return dt.date.fromisoformat(stored)
    return message.due_at.astimezone(tz).date()


class WeeklySummaryKind:
    """The weekly summary in the outbox: members are due by User.next_weekly_summary_at."""

    kind = OutboxMessage.Kind.WEEKLY_SUMMARY

    def dispatch_chunk(
        self, *, now: dt.datetime, token: dt.datetime, lease_until: dt.datetime
    ) -> list[OutboxMessage] | None:
        """Queue the summaries due at `now` for the next chunk of members: five queries, plus the stores.

        A member with nothing due this week gets no row (and no email); their
        next instant moves on all the same. The unique key (recipient, kind,
        Monday of the week) is the guarantee that a week is summarised once: a
        second dispatcher inserts nothing, whatever it read.
        """
        due_users = User.objects.filter(next_weekly_summary_at__lte=now).order_by("next_weekly_summary_at")
        users = list(outbox.locked(due_users.only(*USER_FIELDS))[: outbox.CHUNK])
        if not users:
            return None
        ids = [u.pk for u in users]
        days = ProgramSession.objects.only("id", "program_id", "week", "day")
        current: dict[int, list[Enrolment]] = defaultdict(list)
        for enrolment in (
            Enrolment.objects.filter(member_id__in=ids, status__in=Enrolment.CURRENT_STATUSES)
            .select_related("program")
            .only("id", "member_id", "status", "start_date", "pauses", "paused_on", "program__id")
            .prefetch_related(Prefetch("program__sessions", queryset=days))
        ):
            current[enrolment.member_id].append(enrolment)

        rows = []
        for user in users:
            tz = due.zone(user.timezone)
            due_at = user.next_weekly_summary_at
            send_date = due_at.astimezone(tz).date()
            monday = week_monday(send_date)
            enrolments = current.get(user.pk, [])
            wanted = summary_wanted(user, has_current_enrolment=bool(enrolments))
            first, last = summary_window(send_date)
            if wanted and any(
                e.status == Enrolment.Status.ACTIVE and _has_session_between(e, first, last, today=send_date)
                for e in enrolments
            ):
                rows.append(
                    outbox.new_row(
                        kind=self.kind,
                        recipient_id=user.pk,
                        local_date=monday,
                        due_at=due_at,
                        token=token,
                        lease_until=lease_until,
                        now=now,
                        payload={"send_date": send_date.isoformat()},
                    )
                )
            user.next_weekly_summary_at = _user_next(user, has_current=bool(enrolments), now=now, handled_week=monday)
        if rows:
            OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        outbox.save_next_instants(users, field="next_weekly_summary_at")
        return rows

    def build(
        self,
        messages: list[OutboxMessage],
        *,
        now: dt.datetime,
        skip: Callable[[OutboxMessage, str], None],
    ) -> list[tuple[OutboxMessage, EmailMultiAlternatives]]:
        """Re-check and build each claimed summary: four queries for the batch."""
        member_ids = {m.recipient_id for m in messages}
        members = User.objects.only(*USER_FIELDS).in_bulk(member_ids)
        enrolments = active_enrolments_by_member(member_ids)
        urls = links.LinkPrefixes.build()
        built = []
        for message in messages:
            member = members.get(message.recipient_id)
            if member is None:
                skip(message, "The member no longer exists.")
                continue
            mine = enrolments.get(member.pk, [])
            for enrolment in mine:
                enrolment.member = member
            if not summary_wanted(member, has_current_enrolment=True):
                skip(message, "Weekly summaries are switched off, or the member cannot get email.")
                continue
            summary = weekly_summary_content(
                member=member, enrolments=mine, send_date=_send_date(message, due.zone(member.timezone))
            )
            if summary is None:
                skip(message, "Nothing was due this week.")
                continue
            built.append((message, weekly_summary_message(message=message, summary=summary, urls=urls)))
        return built
