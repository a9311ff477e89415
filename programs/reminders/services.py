"""Reminder writes: keeping Enrolment.next_reminder_at right, dispatching and sending."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from programs import schedule
from programs.models import Completion, Enrolment, ProgramSession

from . import due
from .models import OutboxMessage

log = logging.getLogger(__name__)

# Enrolments handled per round of queries: keeps IN lists under SQLite's
# parameter limit and memory flat at 100,000 enrolments.
CHUNK = 1000


@dataclass
class EnrolmentSchedule:
    """An enrolment's sessions in day order, with the ids needed for links."""

    enrolment: Enrolment
    tz: ZoneInfo
    sessions: list[schedule.ScheduledSession] = field(default_factory=list)
    session_ids: dict[int, int] = field(default_factory=dict)  # day number → ProgramSession pk


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # validated on save; a bad legacy value must not stop a batch
        return ZoneInfo("UTC")


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
        item = EnrolmentSchedule(enrolment=enrolment, tz=_tz(member.timezone if member else "UTC"))
        pauses = enrolment.pause_list(today=today_by_id.get(enrolment.pk))
        for number, session_id in days_by_program.get(enrolment.program_id, ()):
            date = schedule.session_date(start_date=enrolment.start_date, day_number=number, pauses=pauses)
            item.sessions.append(
                schedule.ScheduledSession(day_number=number, date=date, done=session_id in done[enrolment.pk])
            )
            item.session_ids[number] = session_id
        result.append(item)
    return result


def wants_reminders(enrolment: Enrolment) -> bool:
    member = enrolment.member
    return due.reminders_wanted(
        status=enrolment.status,
        reminders_enabled=enrolment.reminders_enabled,
        member_exists=member is not None,
        member_active=bool(member and member.is_active),
        member_email=member.email if member else "",
        member_email_reminders=bool(member and member.email_reminders),
    )


def _handled_dates(enrolment_ids: list[int], *, since: dt.date) -> dict[int, set[dt.date]]:
    handled: dict[int, set[dt.date]] = defaultdict(set)
    for enrolment_id, local_date in OutboxMessage.objects.filter(
        enrolment_id__in=enrolment_ids, local_date__gte=since
    ).values_list("enrolment_id", "local_date"):
        handled[enrolment_id].add(local_date)
    return handled


def next_reminders(enrolments: Sequence[Enrolment], *, now: dt.datetime) -> dict[int, dt.datetime | None]:
    """The next reminder instant of each enrolment (loaded with its member), in three queries."""
    result: dict[int, dt.datetime | None] = {e.pk: None for e in enrolments}
    wanted = [e for e in enrolments if wants_reminders(e)]
    if not wanted:
        return result
    today_by_id = {e.pk: due.local_date_of(now, _tz(e.member.timezone)) for e in wanted}
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
        )
    return result


def member_reminders_refresh(*, member) -> None:
    """After a member's timezone or reminder settings change: each current enrolment's next reminder moves (or goes)."""
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
        fresh = list(Enrolment.objects.filter(pk__in=ids[start : start + CHUNK]).select_related("member"))
        computed = next_reminders(fresh, now=now)
        changed = []
        for enrolment in fresh:
            value = computed[enrolment.pk]
            new_values[enrolment.pk] = value
            if enrolment.next_reminder_at != value:
                enrolment.next_reminder_at = value
                changed.append(enrolment)
        if changed:
            _save_next_reminders(changed)
    for enrolment in given:
        if enrolment.pk in new_values:
            enrolment.next_reminder_at = new_values[enrolment.pk]


GROUPED_UPDATES = 10


def _save_next_reminders(enrolments: Sequence[Enrolment]) -> None:
    """Store next_reminder_at, in at most GROUPED_UPDATES + 1 queries.

    Enrolments due together mostly move on to the same instant (same zone,
    time and schedule): one UPDATE per value is far cheaper for the database
    than bulk_update's CASE with a branch per row. The rest go in one bulk_update.
    """
    by_value: dict[dt.datetime | None, list[int]] = defaultdict(list)
    for enrolment in enrolments:
        by_value[enrolment.next_reminder_at].append(enrolment.pk)
    groups = sorted(by_value.items(), key=lambda item: len(item[1]), reverse=True)
    for value, ids in groups[:GROUPED_UPDATES]:
        Enrolment.objects.filter(pk__in=ids).update(next_reminder_at=value)
    grouped = {pk for _, ids in groups[:GROUPED_UPDATES] for pk in ids}
    rest = [e for e in enrolments if e.pk not in grouped]
    if rest:
        Enrolment.objects.bulk_update(rest, ["next_reminder_at"], batch_size=len(rest))


def due_enrolments_query(*, now: dt.datetime):
    """The dispatcher's indexed query (partial index enrolment_next_reminder_idx)."""
    return Enrolment.objects.filter(Q(next_reminder_at__lte=now)).order_by("next_reminder_at")


# --- Dispatch and delivery -------------------------------------------------
#
# A OutboxMessage row is the claim for one (enrolment, local date); the
# unique constraint on that pair is the guarantee that a day is handled once.
# Its claimed_at doubles as a fencing token:
#   status=claimed, claimed_at = the dispatch round that queued it  → queued
#   status=claimed, claimed_at = the instant a sender took it       → sending
#   status=retrying, claimed_at = when the transient failure happened
# A sender task carries the token it was queued with and can only take rows
# still holding that token, so a duplicate or redelivered message finds
# nothing to take.

# Longer than the sender task's hard time limit (reminders/tasks.py), so a live
# sender is never overtaken: by then Celery has killed it.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# A reminder more than this late (workers down for hours) is pointless; it is
# recorded as skipped rather than sent at an odd hour.
MISSED_AFTER = dt.timedelta(hours=6)
MAX_ATTEMPTS = 6
BATCH_SIZE = 100
DISPATCH_BUDGET = dt.timedelta(seconds=45)


def retry_backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16 … minutes after the n-th failed attempt, at most an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DispatchResult:
    queued: int = 0
    requeued: int = 0
    missed: int = 0
    batches: int = 0
    # Claimed but not handed to a sender (the broker refused): left for the next dispatch.
    held: int = 0


Enqueue = Callable[[list[int], dt.datetime], None]


def _queue(ids: list[int], token: dt.datetime, *, enqueue: Enqueue, batch_size: int, result: DispatchResult) -> bool:
    """Hand `ids` to the senders in batches; False (the rest held back) when a batch cannot be queued."""
    for start in range(0, len(ids), batch_size):
        try:
            enqueue(ids[start : start + batch_size], token)
        except Exception:  # the broker is down or refused: whatever the error, this batch is not queued
            log.warning("Could not queue reminders; the next dispatch queues them again", exc_info=True)
            result.held += _hold(ids[start:], token=token)
            return False
        result.batches += 1
    return True


def _hold(ids: list[int], *, token: dt.datetime) -> int:
    """Leave rows that could not be queued for the next dispatch, not CLAIM_TIMEOUT later."""
    # Backdating the claim past CLAIM_TIMEOUT makes the rows stale at once, so
    # the next dispatch's _requeue_stale takes them back a minute from now.
    # Changing the token also fences off a message that did reach the broker
    # despite the error: its sender finds nothing left to take.
    held = 0
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        held += len(
            _update_returning_ids(
                f"{_in_clause(part)} AND status = %s AND claimed_at = %s",
                [*part, OutboxMessage.Status.CLAIMED, token],
                set_sql="claimed_at = %s",
                set_params=[token - CLAIM_TIMEOUT - dt.timedelta(seconds=1)],
            )
        )
    return held


def _update_returning_ids(sql_where: str, params: list, *, set_sql: str, set_params: list) -> list[int]:
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        params = [_adapt(p) for p in (*set_params, *params)]
        cursor.execute(f"UPDATE {table} SET {set_sql} WHERE {sql_where} RETURNING id", params)
        return [row[0] for row in cursor.fetchall()]


def _adapt(value):
    # Raw SQL bypasses the field's conversion; SQLite stores naive UTC text.
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _in_clause(ids: Sequence[int]) -> str:
    return "id IN (" + ", ".join(["%s"] * len(ids)) + ")"


def _requeue_stale(*, now: dt.datetime, token: dt.datetime) -> list[int]:
    """Take back rows whose message was lost (broker restarted) or whose sender died,
    and retries whose backoff is over."""
    # Each UPDATE re-checks its condition on the row it changes, so two
    # dispatchers racing here cannot both take the same row.
    # A row whose senders keep dying (a message that crashes the worker) is
    # given up rather than retried for ever.
    _update_returning_ids(
        "status = %s AND claimed_at < %s AND attempts >= %s",
        [OutboxMessage.Status.CLAIMED, now - CLAIM_TIMEOUT, MAX_ATTEMPTS],
        set_sql="status = %s, last_error = %s",
        set_params=[
            OutboxMessage.Status.FAILED,
            f"Gave up: the sender stopped without an outcome {MAX_ATTEMPTS} times.",
        ],
    )
    stale = _update_returning_ids(
        "status = %s AND claimed_at < %s",
        [OutboxMessage.Status.CLAIMED, now - CLAIM_TIMEOUT],
        set_sql="claimed_at = %s",
        set_params=[token],
    )
    waiting = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.RETRYING, claimed_at__lt=now - retry_backoff(1)
    ).values_list("id", "attempts", "claimed_at")
    ready = [pk for pk, attempts, failed_at in waiting if failed_at <= now - retry_backoff(attempts)]
    retried = []
    for start in range(0, len(ready), CHUNK):
        part = ready[start : start + CHUNK]
        retried += _update_returning_ids(
            f"{_in_clause(part)} AND status = %s",
            [*part, OutboxMessage.Status.RETRYING],
            set_sql="status = %s, claimed_at = %s",
            set_params=[OutboxMessage.Status.CLAIMED, token],
        )
    return stale + retried


def _dispatch_chunk(*, now: dt.datetime, token: dt.datetime) -> tuple[list[Enrolment], list[OutboxMessage]] | None:
    """Claim the next chunk of due enrolments: delivery rows in, next_reminder_at advanced."""
    query = due_enrolments_query(now=now).select_related("member")
    if connection.features.has_select_for_update_skip_locked:
        # Overlapping dispatchers split the due rows between them instead of
        # queueing behind each other. (SQLite serialises writers anyway.)
        query = query.select_for_update(skip_locked=True, of=("self",))
    enrolments = list(query[:CHUNK])
    if not enrolments:
        return None
    wanted = [e for e in enrolments if wants_reminders(e)]
    today_by_id = {e.pk: due.local_date_of(now, _tz(e.member.timezone)) for e in wanted}
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
        skip = handled[enrolment.pk] | {local_date}
        missed = now - stored > MISSED_AFTER
        if local_date not in handled[enrolment.pk] and due.session_on(item.sessions, local_date) is not None:
            rows.append(
                OutboxMessage(
                    kind=OutboxMessage.Kind.REMINDER,
                    recipient_id=enrolment.member_id,
                    enrolment=enrolment,
                    local_date=local_date,
                    due_at=stored,
                    claimed_at=token,
                    status=OutboxMessage.Status.SKIPPED if missed else OutboxMessage.Status.CLAIMED,
                    last_error=f"Missed: not dispatched within {MISSED_AFTER} of its time." if missed else "",
                )
            )
        # After a missed day, today's reminder may still be due (even if its
        # time has passed): the next round of this loop picks it up.
        enrolment.next_reminder_at = due.next_reminder_at(
            sessions=item.sessions,
            reminder_time=enrolment.reminder_time,
            tz=item.tz,
            now=now,
            skip_dates=skip,
            keep_passed_today=missed,
        )
    # Insert-or-nothing: a row that already exists for (enrolment, local date)
    # — from a duplicate dispatcher, a second beat — is left alone.
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    _save_next_reminders(enrolments)
    return enrolments, rows


def reminder_dispatch(
    *,
    enqueue: Enqueue,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    budget: dt.timedelta = DISPATCH_BUDGET,
) -> DispatchResult:
    """Queue every reminder due at `now` (and stale or retrying ones) for the senders.

    `enqueue(delivery_ids, token)` hands one batch to a sender; it runs after
    the rows are committed. Safe to run twice at once: both may queue a batch,
    only one sender can take each row.
    """
    now = now or timezone.now()
    started = timezone.now()
    result = DispatchResult()

    token = timezone.now()
    with transaction.atomic():
        requeued = _requeue_stale(now=now, token=token)
    result.requeued = len(requeued)
    # A broker that refused one batch refuses the next: stop until the next
    # dispatch. Rows not yet claimed are still due (next_reminder_at) and wait too.
    if not _queue(requeued, token, enqueue=enqueue, batch_size=batch_size, result=result):
        return result

    while timezone.now() - started < budget:
        # Each chunk gets its own token: distinct rounds never share one.
        token = timezone.now()
        with transaction.atomic():
            chunk = _dispatch_chunk(now=now, token=token)
        if chunk is None:
            break
        enrolments, rows = chunk
        result.missed += sum(r.status == OutboxMessage.Status.SKIPPED for r in rows)
        ids = list(
            OutboxMessage.objects.filter(
                enrolment_id__in=[e.pk for e in enrolments],
                status=OutboxMessage.Status.CLAIMED,
                claimed_at=token,
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        result.queued += len(ids)
        if not _queue(ids, token, enqueue=enqueue, batch_size=batch_size, result=result):
            break
    return result


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    not_taken: int = 0


@dataclass(frozen=True)
class SmtpErrorKind:
    transient: bool
    # The connection cannot carry the rest of the batch.
    broken: bool


def smtp_error_kind(exc: BaseException) -> SmtpErrorKind:
    """Transient (4xx, refused or dropped connection, timeout) or permanent (5xx, refused recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return SmtpErrorKind(transient=not codes or any(code < 500 for code in codes), broken=False)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SmtpErrorKind(transient=True, broken=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        # 421: the server is closing the connection.
        return SmtpErrorKind(transient=exc.smtp_code < 500, broken=exc.smtp_code == 421)
    if isinstance(exc, smtplib.SMTPException):
        # Unclassified protocol trouble: retried, but only MAX_ATTEMPTS times.
        return SmtpErrorKind(transient=True, broken=True)
    # Connection refused, timeouts, DNS: OSError and its subclasses.
    return SmtpErrorKind(transient=True, broken=True)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class _Outcome:
    """Writes one delivery's result, fenced by the claim so a taken-over row is never overwritten."""

    def __init__(self, *, claim: dt.datetime, result: SendResult):
        self.claim = claim
        self.result = result

    def _write(self, delivery: OutboxMessage, **fields) -> None:
        OutboxMessage.objects.filter(pk=delivery.pk, status=OutboxMessage.Status.CLAIMED, claimed_at=self.claim).update(
            **fields
        )

    def sent(self, delivery: OutboxMessage) -> None:
        # Once per email, so plain SQL: the ORM's update() costs more to build
        # than the statement costs to run.
        table = OutboxMessage._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, last_error = '' "
                "WHERE id = %s AND status = %s AND claimed_at = %s",
                [
                    OutboxMessage.Status.SENT,
                    _adapt(timezone.now()),
                    delivery.pk,
                    OutboxMessage.Status.CLAIMED,
                    _adapt(self.claim),
                ],
            )
        self.result.sent += 1

    def skipped(self, delivery: OutboxMessage, reason: str) -> None:
        self._write(delivery, status=OutboxMessage.Status.SKIPPED, last_error=reason)
        self.result.skipped += 1

    def failed(self, delivery: OutboxMessage, error: str) -> None:
        self._write(delivery, status=OutboxMessage.Status.FAILED, last_error=error)
        self.result.failed += 1

    def transient(self, delivery: OutboxMessage, error: str) -> None:
        if delivery.attempts >= MAX_ATTEMPTS:
            self.failed(delivery, f"Gave up after {delivery.attempts} attempts. {error}")
            return
        # claimed_at now records the failure; the dispatcher re-queues the row
        # once retry_backoff(attempts) has passed.
        self._write(delivery, status=OutboxMessage.Status.RETRYING, claimed_at=timezone.now(), last_error=error)
        self.result.retrying += 1


def _claim(delivery_ids: Sequence[int], *, token: dt.datetime, claim: dt.datetime) -> list[int]:
    # THE CLAIM. A conditional UPDATE that only one sender can win: the row must
    # still hold the token of the round that queued this task. Afterwards it
    # holds this sender's own instant, so a duplicate or redelivered message
    # (second dispatcher, Celery retry, broker redelivery) takes nothing.
    #
    # Remaining window, chosen on purpose: if this process dies after the SMTP
    # server accepted a message (its "250" after DATA) and before its SENT mark
    # (_Outcome.sent) commits — a few milliseconds per message — the row is still
    # claimed and, after CLAIM_TIMEOUT, the dispatcher queues it again: that
    # member gets a second email. The alternative, marking SENT before sending,
    # turns the same crash into a silently lost email, the worse failure (docs/reminders.md);
    # a message the server did not accept (a crash mid-DATA) is not delivered
    # and is correctly sent again. CLAIM_TIMEOUT is longer than the task's hard
    # time limit, so a sender that is merely slow has been killed by then and
    # never races the re-queued copy. The sent marks use asynchronous commit on
    # PostgreSQL (_marks_without_waiting_for_disk), so a crash of the database
    # server itself (not of a worker) widens the same window to the marks of
    # its last fraction of a second.
    ids = list(delivery_ids)
    if not ids:
        return []
    return _update_returning_ids(
        f"{_in_clause(ids)} AND status = %s AND claimed_at = %s",
        [*ids, OutboxMessage.Status.CLAIMED, token],
        set_sql="claimed_at = %s, attempts = attempts + 1",
        set_params=[claim],
    )


def reminder_send_batch(
    *, delivery_ids: Sequence[int], token: dt.datetime, now: dt.datetime | None = None
) -> SendResult:
    """Send the deliveries still queued under `token`, over one SMTP connection.

    Re-checks each before sending (session done since, enrolment paused or
    left, reminders switched off); marks each sent, skipped, retrying or failed.
    """
    from . import emails

    result = SendResult()
    claim = timezone.now()
    with transaction.atomic():
        taken = _claim(delivery_ids, token=token, claim=claim)
    result.not_taken = len(delivery_ids) - len(taken)
    if not taken:
        return result
    now = now or claim
    outcome = _Outcome(claim=claim, result=result)

    deliveries = list(
        OutboxMessage.objects.filter(pk__in=taken)
        .select_related("enrolment__member", "enrolment__program")
        .order_by("pk")
    )
    enrolments = [d.enrolment for d in deliveries]
    today_by_id = {e.pk: due.local_date_of(now, _tz(e.member.timezone if e.member else "UTC")) for e in enrolments}
    schedules = {item.enrolment.pk: item for item in enrolment_schedules(enrolments, today_by_id=today_by_id)}

    plans: list[tuple[OutboxMessage, emails.ReminderContent]] = []
    wanted_session_ids: set[int] = set()
    for delivery in deliveries:
        enrolment = delivery.enrolment
        item = schedules[enrolment.pk]
        if not wants_reminders(enrolment):
            outcome.skipped(delivery, "Reminders were switched off or the enrolment is no longer active.")
            continue
        session = due.session_on(item.sessions, delivery.local_date)
        if session is None:
            outcome.skipped(delivery, "The day's session was done before the reminder went out.")
            continue
        if now - delivery.due_at > MISSED_AFTER:
            outcome.skipped(delivery, f"Missed: not sent within {MISSED_AFTER} of its time.")
            continue
        earlier = due.open_before(item.sessions, delivery.local_date)
        content = emails.ReminderContent(
            delivery=delivery,
            enrolment=enrolment,
            local_date=delivery.local_date,
            session_id=item.session_ids[session.day_number],
            open_earlier=[(s.date, item.session_ids[s.day_number]) for s in earlier],
        )
        wanted_session_ids.add(content.session_id)
        wanted_session_ids.update(pk for _, pk in content.open_earlier[:1])
        plans.append((delivery, content))
    if not plans:
        return result

    sessions_by_id = emails.load_sessions(wanted_session_ids)
    shared = emails.SharedContext.build()
    messages = []
    for delivery, content in plans:
        try:
            messages.append(
                (delivery, emails.reminder_message(content=content, sessions=sessions_by_id, shared=shared))
            )
        except Exception as exc:  # a template bug must not hold up the rest of the batch
            log.exception("Could not build reminder %s", delivery.pk)
            outcome.transient(delivery, f"Could not build the message. {_error_text(exc)}")

    smtp = get_connection(fail_silently=False)
    try:
        smtp.open()
    except Exception as exc:
        for delivery, _ in messages:
            outcome.transient(delivery, f"Could not connect to the mail server. {_error_text(exc)}")
        return result
    with _marks_without_waiting_for_disk():
        _send_each(smtp, messages, outcome)
    return result


@contextmanager
def _marks_without_waiting_for_disk():
    # The outcome of each message is committed on its own, right after the
    # server took it (see the claim for why). On PostgreSQL a durable commit
    # waits for the disk, which would cap a worker at a couple of hundred
    # emails a second; asynchronous commit keeps every guarantee against a
    # crashed worker (the database has the row) and only loses the last
    # fraction of a second of marks if the database server itself crashes —
    # those rows stay claimed and are sent again after CLAIM_TIMEOUT.
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_each(smtp, messages, outcome: _Outcome) -> None:
    try:
        for position, (delivery, message) in enumerate(messages):
            try:
                smtp.send_messages([message])
            except Exception as exc:
                kind = smtp_error_kind(exc)
                if kind.transient:
                    outcome.transient(delivery, _error_text(exc))
                else:
                    outcome.failed(delivery, _error_text(exc))
                if kind.broken:
                    for rest, _ in messages[position + 1 :]:
                        outcome.transient(rest, f"Not attempted: the connection failed. {_error_text(exc)}")
                    break
            else:
                outcome.sent(delivery)
    finally:
        try:
            smtp.close()
        except Exception:  # every message already has its outcome; QUIT failing changes none
            log.warning("Closing the SMTP connection failed", exc_info=True)
