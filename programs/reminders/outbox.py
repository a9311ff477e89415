"""The outbox every message goes through: dispatch, the fenced claim, leases, retries and sending.

One `OutboxMessage` row is one message on one channel — an email, or a push to
one device — for one natural key (docs/messages.md, docs/push.md).
What a kind of message adds — when it is due, whether it is still wanted, what
it says — lives with that kind (programs/reminders/kinds.py lists them); how a
row is queued, claimed, kept, retried and marked lives here, once for all.

A row's state, and what `claimed_at` and `lease_until` mean in it:

    claimed   claimed_at = the dispatch round that made it     lease_until = the dispatcher's lease, until queued
    claimed   claimed_at = the same, once handed to the broker lease_until = when it is queued again
    claimed   claimed_at = the instant a sender took it        lease_until = the sender's lease
    retrying  claimed_at = when the transient failure happened lease_until = when its backoff ends

`claimed_at` is the fencing token: a sender task carries the token it was
queued with and can only take rows still holding it, and every outcome it
writes is conditional on the row holding the sender's own instant. The
dispatcher takes back every claimed row whose `lease_until` has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import push
from .models import OutboxMessage

log = logging.getLogger(__name__)
Status = OutboxMessage.Status
Channel = OutboxMessage.Channel

# Recipients handled per round of queries: keeps IN lists under SQLite's
# parameter limit and memory flat at 100,000 recipients.
CHUNK = 1000
BATCH_SIZE = 100
MAX_ATTEMPTS = 6
# A dispatch run stops starting new chunks after this; the next minute's run goes on.
DISPATCH_BUDGET = dt.timedelta(seconds=45)


def queued_lease() -> dt.timedelta:
    """How long a row handed to the broker waits for a sender before it is queued again.

    Only a message the broker lost (a restart without persistence) needs it: a
    worker takes one message per pool process and claims it at once, so a
    killed worker leaves rows held by a sender, not queued ones. Long enough
    that a backlog rarely outlasts it; a row that does is queued again, and
    its first message then finds nothing to take.
    """
    return dt.timedelta(seconds=settings.OUTBOX_QUEUED_LEASE_SECONDS)


def sending_lease() -> dt.timedelta:
    """How long a live process holds rows without renewing: the dispatcher until it has queued
    them, a sender while it sends them (it renews every third of it)."""
    return dt.timedelta(seconds=settings.OUTBOX_SENDING_LEASE_SECONDS)


def missed_after() -> dt.timedelta:
    """A message this late (workers down for hours) is recorded as skipped, not sent at an odd hour."""
    return dt.timedelta(hours=settings.OUTBOX_MISSED_AFTER_HOURS)


def retry_backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16 … minutes after the n-th failed attempt, at most an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


# --- What a kind of message provides --------------------------------------------------------------------

Skip = Callable[[OutboxMessage, str], None]


class MessageKind(Protocol):
    def dispatch_chunk(
        self, *, now: dt.datetime, token: dt.datetime, lease_until: dt.datetime
    ) -> list[OutboxMessage] | None:
        """Insert the rows of the next chunk of recipients due at `now` (None when none is left)."""

    def build(
        self, messages: list[OutboxMessage], *, now: dt.datetime, skip: Skip
    ) -> list[tuple[OutboxMessage, EmailMultiAlternatives | push.Notification]]:
        """Re-check each claimed row, skip(row, reason) the unwanted, build the others' email or push."""


def locked(queryset: QuerySet) -> QuerySet:
    """The due rows of one dispatcher: overlapping dispatchers split them instead of queueing behind each other."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset  # SQLite serialises writers anyway


def new_row(
    *,
    kind: str,
    recipient_id: int,
    local_date: dt.date,
    due_at: dt.datetime,
    token: dt.datetime,
    lease_until: dt.datetime,
    now: dt.datetime,
    enrolment_id: int | None = None,
    payload: dict | None = None,
    channel: str = Channel.EMAIL,
    push_subscription_id: int | None = None,
) -> OutboxMessage:
    """A row claimed for this dispatch round, or skipped when it is already too late to send."""
    missed = now - due_at > missed_after()
    return OutboxMessage(
        kind=kind,
        channel=channel,
        push_subscription_id=push_subscription_id,
        recipient_id=recipient_id,
        enrolment_id=enrolment_id,
        local_date=local_date,
        due_at=due_at,
        claimed_at=token,
        lease_until=None if missed else lease_until,
        status=Status.SKIPPED if missed else Status.CLAIMED,
        last_error=f"Missed: not dispatched within {missed_after()} of its time." if missed else "",
        payload=payload or {},
    )


def message_id(message: OutboxMessage) -> str:
    # Stable per row: should a copy ever be sent twice, mail clients can
    # recognise it as the same message.
    host = urlsplit(settings.SITE_URL).hostname or "stretchhub.localhost"
    return f"<{message.kind.replace('_', '-')}.{message.pk}.{message.local_date:%Y%m%d}@{host}>"


def bulk_headers(unsubscribe_url: str) -> dict[str, str]:
    return {
        # RFC 8058: one-click unsubscribe by a POST to this https URL.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # RFC 3834: automatic mail; out-of-office replies should stay quiet.
        "Auto-Submitted": "auto-generated",
    }


GROUPED_UPDATES = 10


def save_next_instants(objects: Sequence, *, field: str) -> None:
    """Store each object's next-due instant (`field`), in at most GROUPED_UPDATES + 1 queries.

    Recipients due together mostly move on to the same instant (same zone, time
    and schedule): one UPDATE per value is far cheaper for the database than
    bulk_update's CASE with a branch per row. The rest go in one bulk_update.
    """
    if not objects:
        return
    model = type(objects[0])
    by_value: dict[dt.datetime | None, list[int]] = defaultdict(list)
    for obj in objects:
        by_value[getattr(obj, field)].append(obj.pk)
    groups = sorted(by_value.items(), key=lambda item: len(item[1]), reverse=True)
    for value, ids in groups[:GROUPED_UPDATES]:
        model.objects.filter(pk__in=ids).update(**{field: value})
    grouped = {pk for _, ids in groups[:GROUPED_UPDATES] for pk in ids}
    rest = [obj for obj in objects if obj.pk not in grouped]
    if rest:
        model.objects.bulk_update(rest, [field], batch_size=len(rest))


# --- Dispatch -------------------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    queued: int = 0
    requeued: int = 0
    missed: int = 0
    batches: int = 0
    # Claimed but not handed to a sender (the broker refused): left for the next dispatch.
    held: int = 0


Enqueue = Callable[[list[int], dt.datetime], None]


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


def _in_chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _queue(ids: list[int], token: dt.datetime, *, enqueue: Enqueue, batch_size: int, result: DispatchResult) -> bool:
    """Hand `ids` to the senders in batches; False (the rest held back) when a batch cannot be queued."""
    for start in range(0, len(ids), batch_size):
        try:
            enqueue(ids[start : start + batch_size], token)
        except Exception:  # the broker is down or refused: whatever the error, this batch is not queued
            log.warning("Could not queue messages; the next dispatch queues them again", exc_info=True)
            _in_the_brokers_hands(ids[:start], token=token)
            result.held += _hold(ids[start:], token=token)
            return False
        result.batches += 1
    _in_the_brokers_hands(ids, token=token)
    return True


def _in_the_brokers_hands(ids: list[int], *, token: dt.datetime) -> None:
    """Queued rows wait up to the queued lease; until now the dispatcher's short one held them.

    So a dispatcher killed between committing its rows and queueing them
    leaves them to the next dispatch, not to the long wait. A row a sender
    has already taken holds another token and is left alone.
    """
    until = timezone.now() + queued_lease()
    for part in _in_chunks(ids):
        _update_returning_ids(
            f"{_in_clause(part)} AND status = %s AND claimed_at = %s",
            [*part, Status.CLAIMED, token],
            set_sql="lease_until = %s",
            set_params=[until],
        )


def _hold(ids: list[int], *, token: dt.datetime) -> int:
    """Leave rows that could not be queued for the next dispatch."""
    # A lease that has already run out makes the next dispatch take them back.
    # Changing the token also fences off a message that did reach the broker
    # despite the error: its sender finds nothing left to take.
    held = 0
    expired = token - dt.timedelta(seconds=1)
    for part in _in_chunks(ids):
        held += len(
            _update_returning_ids(
                f"{_in_clause(part)} AND status = %s AND claimed_at = %s",
                [*part, Status.CLAIMED, token],
                set_sql="claimed_at = %s, lease_until = %s",
                set_params=[expired, expired],
            )
        )
    return held


def _take_back(*, now: dt.datetime, token: dt.datetime) -> list[int]:
    """Claims whose lease ran out (message lost, sender died) and retries whose backoff is over, under `token`."""
    # Each UPDATE re-checks its condition on the row it changes, so two
    # dispatchers racing here cannot both take the same row. One index
    # (status, lease_until) serves all three.
    # A row whose senders keep dying (a message that crashes the worker) is
    # given up rather than retried for ever.
    _update_returning_ids(
        "status = %s AND lease_until < %s AND attempts >= %s",
        [Status.CLAIMED, now, MAX_ATTEMPTS],
        set_sql="status = %s, lease_until = NULL, last_error = %s",
        set_params=[Status.FAILED, f"Gave up: the sender stopped without an outcome {MAX_ATTEMPTS} times."],
    )
    return _update_returning_ids(
        "status IN (%s, %s) AND lease_until <= %s",
        [Status.CLAIMED, Status.RETRYING, now],
        set_sql="status = %s, claimed_at = %s, lease_until = %s",
        set_params=[Status.CLAIMED, token, token + sending_lease()],
    )


def dispatch(
    *,
    kinds: Sequence[MessageKind],
    enqueue: Enqueue,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    budget: dt.timedelta = DISPATCH_BUDGET,
) -> DispatchResult:
    """Queue every message due at `now` (and the ones taken back) for the senders.

    `enqueue(ids, token)` hands one batch to a sender; it runs after the rows
    are committed. Safe to run twice at once: both may queue a batch, only one
    sender can take each row.
    """
    now = now or timezone.now()
    started = time.monotonic()
    result = DispatchResult()

    token = timezone.now()
    with transaction.atomic():
        taken_back = _take_back(now=now, token=token)
    result.requeued = len(taken_back)
    # A broker that refused one batch refuses the next: stop until the next
    # dispatch. Recipients not yet claimed are still due and wait too.
    if not _queue(taken_back, token, enqueue=enqueue, batch_size=batch_size, result=result):
        return result

    for kind in kinds:
        while time.monotonic() - started < budget.total_seconds():
            # Each chunk gets its own token: distinct rounds never share one.
            token = timezone.now()
            lease_until = token + sending_lease()
            with transaction.atomic():
                rows = kind.dispatch_chunk(now=now, token=token, lease_until=lease_until)
            if rows is None:
                break
            result.missed += sum(row.status == Status.SKIPPED for row in rows)
            ids = list(
                OutboxMessage.objects.filter(status=Status.CLAIMED, lease_until=lease_until, claimed_at=token)
                .order_by("id")
                .values_list("id", flat=True)
            )
            result.queued += len(ids)
            if not _queue(ids, token, enqueue=enqueue, batch_size=batch_size, result=result):
                return result
    return result


# --- Sending --------------------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    not_taken: int = 0
    # Rows taken back from this sender (it fell behind its lease) and left to their new holder.
    lost: int = 0


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
    """Writes one row's result, fenced by the claim so a taken-over row is never overwritten."""

    def __init__(self, *, claim: dt.datetime, result: SendResult):
        self.claim = claim
        self.result = result

    def _write(self, message: OutboxMessage, **fields) -> None:
        OutboxMessage.objects.filter(pk=message.pk, status=Status.CLAIMED, claimed_at=self.claim).update(**fields)

    def sent(self, message: OutboxMessage) -> None:
        # Once per email, so plain SQL: the ORM's update() costs more to build
        # than the statement costs to run.
        table = OutboxMessage._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, lease_until = NULL, last_error = '' "
                "WHERE id = %s AND status = %s AND claimed_at = %s",
                [Status.SENT, _adapt(timezone.now()), message.pk, Status.CLAIMED, _adapt(self.claim)],
            )
        self.result.sent += 1

    def skipped(self, message: OutboxMessage, reason: str) -> None:
        self._write(message, status=Status.SKIPPED, lease_until=None, last_error=reason)
        self.result.skipped += 1

    def failed(self, message: OutboxMessage, error: str) -> None:
        self._write(message, status=Status.FAILED, lease_until=None, last_error=error)
        self.result.failed += 1

    def transient(self, message: OutboxMessage, error: str, *, wait: dt.timedelta | None = None) -> None:
        """Retried after its backoff, or after `wait` when the other end asked for longer (Retry-After)."""
        if message.attempts >= MAX_ATTEMPTS:
            self.failed(message, f"Gave up after {message.attempts} attempts. {error}")
            return
        failed_at = timezone.now()
        self._write(
            message,
            status=Status.RETRYING,
            claimed_at=failed_at,
            lease_until=failed_at + max(retry_backoff(message.attempts), wait or dt.timedelta(0)),
            last_error=error,
        )
        self.result.retrying += 1


def _claim(ids: Sequence[int], *, token: dt.datetime, claim: dt.datetime) -> list[int]:
    # THE CLAIM. A conditional UPDATE that only one sender can win: the row must
    # still hold the token of the round that queued this task. Afterwards it
    # holds this sender's own instant and a short lease, so a duplicate or
    # redelivered message (second dispatcher, Celery retry, broker redelivery)
    # takes nothing, and a sender that dies (SIGKILL, lost machine) stops
    # renewing: the next dispatch after its lease runs out takes the rows back.
    #
    # The one duplicate this accepts, on purpose: if a sending process dies
    # after the SMTP server accepted a message (its "250" after DATA) and
    # before that row's SENT mark commits — a few milliseconds per message —
    # the row is taken back and sent again, with the same Message-ID. Only the
    # message in flight when the process died is affected, so at most one per
    # killed sending process. Marking SENT before sending would turn the same
    # crash into a silently lost email, the worse failure (docs/messages.md);
    # a message the server had not accepted is not delivered, and sending it
    # again is right. A push is one row per device and the same holds for it,
    # the push service's 201 being the acceptance: a device gets at most one
    # second copy, and never one because another device or the email failed.
    # On PostgreSQL the SENT marks commit without waiting for
    # the disk (_marks_without_waiting_for_disk), so a crash of the database
    # server itself widens the window to its last fraction of a second of marks.
    ids = list(ids)
    if not ids:
        return []
    return _update_returning_ids(
        f"{_in_clause(ids)} AND status = %s AND claimed_at = %s",
        [*ids, Status.CLAIMED, token],
        set_sql="claimed_at = %s, lease_until = %s, attempts = attempts + 1",
        set_params=[claim, claim + sending_lease()],
    )


class _Lease:
    """The sender's hold on its rows, renewed every third of the lease while it sends."""

    def __init__(self, ids: Iterable[int], *, claim: dt.datetime):
        self.claim = claim
        self.held = set(ids)
        self.renewed = time.monotonic()

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed < sending_lease().total_seconds() / 3 or not self.held:
            return
        held = set()
        for part in _in_chunks(sorted(self.held)):
            held.update(
                _update_returning_ids(
                    f"{_in_clause(part)} AND status = %s AND claimed_at = %s",
                    [*part, Status.CLAIMED, self.claim],
                    set_sql="lease_until = %s",
                    set_params=[timezone.now() + sending_lease()],
                )
            )
        self.held = held
        self.renewed = time.monotonic()


def send_batch(
    *, ids: Sequence[int], token: dt.datetime, builders: dict[str, MessageKind], now: dt.datetime | None = None
) -> SendResult:
    """Send the rows still queued under `token`: the emails over one SMTP connection, then the pushes.

    Each kind re-checks its rows before sending (still wanted? anything to
    say?); every row ends sent, skipped, retrying or failed.
    """
    result = SendResult()
    claim = timezone.now()
    with transaction.atomic():
        taken = _claim(ids, token=token, claim=claim)
    result.not_taken = len(ids) - len(taken)
    if not taken:
        return result
    now = now or claim
    outcome = _Outcome(claim=claim, result=result)

    by_kind: dict[str, list[OutboxMessage]] = defaultdict(list)
    rows = OutboxMessage.objects.filter(pk__in=taken).select_related(
        "recipient", "enrolment__member", "enrolment__program", "push_subscription"
    )
    for row in rows.order_by("pk"):
        by_kind[row.kind].append(row)
    messages: list[tuple[OutboxMessage, EmailMultiAlternatives | push.Notification]] = []
    for kind, kind_rows in by_kind.items():
        try:
            messages += builders[kind].build(kind_rows, now=now, skip=outcome.skipped)
        except Exception as exc:  # a template bug must not hold up the other kinds
            log.exception("Could not build %s messages", kind)
            for row in kind_rows:
                outcome.transient(row, f"Could not build the message. {_error_text(exc)}")
    if not messages:
        return result

    emails = [(row, message) for row, message in messages if isinstance(message, EmailMultiAlternatives)]
    pushes = [(row, message) for row, message in messages if isinstance(message, push.Notification)]
    lease = _Lease(taken, claim=claim)
    with _marks_without_waiting_for_disk():
        if emails:
            _send_emails(emails, outcome, lease)
        if pushes:
            _send_pushes(pushes, outcome, lease)
    return result


@contextmanager
def _marks_without_waiting_for_disk():
    # The outcome of each message is committed on its own, right after the
    # server took it (see the claim for why). On PostgreSQL a durable commit
    # waits for the disk, which would cap a worker at a couple of hundred
    # emails a second; asynchronous commit keeps every guarantee against a
    # crashed worker (the database has the row) and only loses the last
    # fraction of a second of marks if the database server itself crashes —
    # those rows stay claimed and are sent again once their lease runs out.
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


def _send_emails(messages, outcome: _Outcome, lease: _Lease) -> None:
    smtp = get_connection(fail_silently=False)
    try:
        smtp.open()
    except Exception as exc:
        for row, _ in messages:
            outcome.transient(row, f"Could not connect to the mail server. {_error_text(exc)}")
        return
    try:
        for position, (row, message) in enumerate(messages):
            lease.renew_if_due()
            if row.pk not in lease.held:
                # Taken back while this sender fell behind: its new holder sends it.
                outcome.result.lost += 1
                continue
            try:
                smtp.send_messages([message])
            except Exception as exc:
                kind = smtp_error_kind(exc)
                if kind.transient:
                    outcome.transient(row, _error_text(exc))
                else:
                    outcome.failed(row, _error_text(exc))
                if kind.broken:
                    for rest, _ in messages[position + 1 :]:
                        outcome.transient(rest, f"Not attempted: the connection failed. {_error_text(exc)}")
                    break
            else:
                outcome.sent(row)
    finally:
        try:
            smtp.close()
        except Exception:  # every message already has its outcome; QUIT failing changes none
            log.warning("Closing the SMTP connection failed", exc_info=True)


def _send_pushes(messages: list[tuple[OutboxMessage, push.Notification]], outcome: _Outcome, lease: _Lease) -> None:
    """One POST per device. A push service's answer is about that device alone, so one failing stops no other.

    The same guarantee as email (see the claim): a row is marked sent only
    after its push service answered 201, so a sender killed in between sends
    that one push again.
    """
    from accounts.services import push_subscription_gone

    signatures = push.Signatures()
    for row, notification in messages:
        lease.renew_if_due()
        if row.pk not in lease.held:
            outcome.result.lost += 1
            continue
        answer = push.send(notification, signatures=signatures)
        if answer.sent:
            outcome.sent(row)
        elif answer.transient:
            outcome.transient(row, answer.error, wait=answer.wait)
        else:
            outcome.failed(row, answer.error)
            if answer.gone:
                push_subscription_gone(subscription_id=notification.subscription.pk)
