"""The reminder rules and the outbox pipeline, with reminders alone: catch-up nudges are
switched off here (they have tests of their own, tests/reminders/test_nudges.py)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from programs.models import Completion, Enrolment, ProgramSession
from programs.reminders import outbox, services
from programs.reminders.kinds import outbox_send_batch
from programs.reminders.models import OutboxMessage
from programs.reminders.outbox import MAX_ATTEMPTS
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import CompletionFactory, build_program

from .conftest import make_enrolments

UTC = dt.UTC
Status = OutboxMessage.Status
# Wednesday 4 March 2026, 06:00 UTC = 07:00 in Berlin. The program has sessions
# on days 1, 3 and 5 of each week: Mon 2, Wed 4, Fri 6, Mon 9 … March.
NOW = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
AT_8_BERLIN_4_MARCH = dt.datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
AT_8_BERLIN_6_MARCH = dt.datetime(2026, 3, 6, 7, 0, tzinfo=UTC)


_clock = None


@pytest.fixture(autouse=True)
def clock():
    # Ticking, so every claim and token is a distinct instant, as in real life.
    global _clock
    with time_machine.travel(NOW, tick=True) as traveller:
        _clock = traveller
        yield traveller
    _clock = None


@pytest.fixture
def program(db):
    return build_program(weeks=2, days=(1, 3, 5))


@pytest.fixture
def enrolment(program):
    (enrolment,) = make_enrolments(1, program=program, nudge_emails=False)
    return enrolment


def refreshed(enrolment, *, now=NOW):
    reminder_schedule_refresh(enrolments=[enrolment], now=now)
    enrolment.refresh_from_db()
    return enrolment.next_reminder_at


def session_on(program, *, week, day):
    return ProgramSession.objects.get(program=program, week=week, day=day)


def dispatch_enrolment_messages(**kwargs):
    """The outbox's dispatch with the enrolment kinds alone (the program authors' digests are tested elsewhere)."""
    return outbox.dispatch(kinds=[services.ENROLMENT_MESSAGES], **kwargs)


class Collector:
    """Stands in for Celery's queue: records what the dispatcher hands over."""

    def __init__(self):
        self.batches: list[tuple[list[int], dt.datetime]] = []

    def __call__(self, ids, token):
        self.batches.append((list(ids), token))

    @property
    def ids(self):
        return [pk for ids, _ in self.batches for pk in ids]


def dispatch(at, **kwargs):
    """Run the dispatcher at `at`, moving the clock there: its tokens are clock readings."""
    if at > timezone.now():
        _clock.move_to(at)
    collector = Collector()
    result = dispatch_enrolment_messages(enqueue=collector, **kwargs)
    return result, collector


# --- reminder_schedule_refresh -------------------------------------------------


def test_it_schedules_todays_session_at_the_reminder_time_in_the_members_zone(enrolment):
    assert refreshed(enrolment) == AT_8_BERLIN_4_MARCH


def test_it_sets_the_new_value_on_the_objects_given(enrolment):
    reminder_schedule_refresh(enrolments=[enrolment], now=NOW)
    assert enrolment.next_reminder_at == AT_8_BERLIN_4_MARCH


def test_it_moves_to_the_next_session_once_todays_is_done(enrolment, program):
    CompletionFactory(enrolment=enrolment, program_session=session_on(program, week=1, day=3))
    assert refreshed(enrolment) == AT_8_BERLIN_6_MARCH


def test_it_sends_nothing_on_a_rest_day(enrolment):
    thursday = dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    assert refreshed(enrolment, now=thursday) == AT_8_BERLIN_6_MARCH


def test_it_follows_the_members_timezone(enrolment):
    enrolment.member.timezone = "America/New_York"
    enrolment.member.save()
    assert refreshed(enrolment) == dt.datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def _pause(e):
    e.status, e.paused_on = Enrolment.Status.PAUSED, dt.date(2026, 3, 3)


def _member(**fields):
    def change(e):
        for name, value in fields.items():
            setattr(e.member, name, value)
        e.member.save()

    return change


@pytest.mark.parametrize(
    "change",
    [
        _pause,
        lambda e: setattr(e, "status", Enrolment.Status.LEFT),
        lambda e: setattr(e, "status", Enrolment.Status.COMPLETED),
        lambda e: setattr(e, "reminders_enabled", False),
        lambda e: setattr(e, "member", None),
        _member(email_reminders=False),
        _member(email=""),
        _member(is_active=False),
    ],
    ids=["paused", "left", "completed", "off", "member-deleted", "member-switch-off", "no-email", "inactive"],
)
def test_it_clears_the_reminder_when_none_may_be_sent(enrolment, change):
    assert refreshed(enrolment) is not None
    change(enrolment)
    enrolment.save()
    assert refreshed(enrolment) is None


def test_it_clears_the_reminder_when_every_session_is_done(enrolment, program):
    for session in program.sessions.all():
        CompletionFactory(enrolment=enrolment, program_session=session)
    assert refreshed(enrolment) is None


def test_it_keeps_todays_passed_reminder_that_the_dispatcher_has_not_handled(enrolment):
    refreshed(enrolment)
    later = AT_8_BERLIN_4_MARCH + dt.timedelta(seconds=30)
    assert refreshed(enrolment, now=later) == AT_8_BERLIN_4_MARCH


def test_it_does_not_reschedule_a_day_already_handled(enrolment):
    refreshed(enrolment)
    dispatch(AT_8_BERLIN_4_MARCH)
    # The member moves their reminder later after today's went out.
    enrolment.reminder_time = dt.time(20, 0)
    enrolment.save()
    assert refreshed(enrolment, now=AT_8_BERLIN_4_MARCH + dt.timedelta(minutes=5)) == dt.datetime(
        2026, 3, 6, 19, 0, tzinfo=UTC
    )


def test_it_refreshes_many_enrolments_in_a_fixed_number_of_queries(program, django_assert_num_queries):
    enrolments = make_enrolments(30, program=program, nudge_emails=False, timezones=("Europe/Berlin", "Asia/Tokyo"))
    # enrolments + members, sessions, completions, deliveries, then one UPDATE per
    # distinct new value (two zones: two values), never one per enrolment
    with django_assert_num_queries(6):
        reminder_schedule_refresh(enrolments=enrolments, now=NOW)
    assert all(e.next_reminder_at is not None for e in enrolments)


def test_it_bounds_the_updates_when_every_enrolment_moves_to_a_different_instant(program, django_assert_num_queries):
    enrolments = make_enrolments(15, program=program, nudge_emails=False)
    for minute, enrolment in enumerate(enrolments):
        enrolment.reminder_time = dt.time(9, minute)
        enrolment.save()
    # four reads, GROUPED_UPDATES single-value UPDATEs, one bulk_update for the rest
    with django_assert_num_queries(4 + outbox.GROUPED_UPDATES + 1):
        reminder_schedule_refresh(enrolments=enrolments, now=NOW)
    stored = dict(Enrolment.objects.values_list("pk", "next_reminder_at"))
    assert stored == {e.pk: dt.datetime(2026, 3, 4, 8, n, tzinfo=UTC) for n, e in enumerate(enrolments)}


# --- outbox_dispatch -------------------------------------------------------------


@pytest.fixture
def due_enrolments(program):
    enrolments = make_enrolments(7, program=program, nudge_emails=False)
    reminder_schedule_refresh(enrolments=enrolments, now=NOW)
    return enrolments


def test_it_claims_each_due_enrolment_once_whatever_the_number_of_dispatchers(due_enrolments):
    first, queued = dispatch(AT_8_BERLIN_4_MARCH)
    second, queued_again = dispatch(AT_8_BERLIN_4_MARCH)
    assert first.queued == 7 and len(queued.ids) == 7
    assert second.queued == 0 and queued_again.ids == []
    rows = OutboxMessage.objects.all()
    assert sorted(rows.values_list("enrolment_id", flat=True)) == sorted(e.pk for e in due_enrolments)
    assert set(rows.values_list("status", "local_date", "due_at")) == {
        (Status.CLAIMED, dt.date(2026, 3, 4), AT_8_BERLIN_4_MARCH)
    }


def test_it_advances_each_enrolment_to_its_next_reminder(due_enrolments):
    dispatch(AT_8_BERLIN_4_MARCH)
    assert set(Enrolment.objects.values_list("next_reminder_at", flat=True)) == {AT_8_BERLIN_6_MARCH}


def test_it_leaves_enrolments_not_yet_due_alone(due_enrolments):
    result, queued = dispatch(AT_8_BERLIN_4_MARCH - dt.timedelta(seconds=1))
    assert result.queued == 0 and not OutboxMessage.objects.exists()


def test_it_hands_over_batches_of_the_given_size(due_enrolments):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH, batch_size=3)
    assert [len(ids) for ids, _ in queued.batches] == [3, 3, 1]


def test_it_dispatches_in_a_fixed_number_of_queries(program, django_assert_num_queries):
    enrolments = make_enrolments(40, program=program, nudge_emails=False, timezones=("Europe/Berlin", "Europe/Paris"))
    reminder_schedule_refresh(enrolments=enrolments, now=NOW)
    # give up, take back (2) · chunk: enrolments, sessions, completions,
    # deliveries, insert, update · queued ids · their queued lease · the empty
    # next chunk · and the savepoints of the three transactions
    with django_assert_num_queries(17):
        result, _ = dispatch(AT_8_BERLIN_4_MARCH)
    assert result.queued == 40


def test_it_does_not_claim_a_day_whose_session_was_done_meanwhile(due_enrolments, program):
    # A stale next_reminder_at (nobody refreshed it): the dispatcher checks anyway.
    CompletionFactory(enrolment=due_enrolments[0], program_session=session_on(program, week=1, day=3))
    result, _ = dispatch(AT_8_BERLIN_4_MARCH)
    assert result.queued == 6
    assert not OutboxMessage.objects.filter(enrolment=due_enrolments[0]).exists()
    due_enrolments[0].refresh_from_db()
    assert due_enrolments[0].next_reminder_at == AT_8_BERLIN_6_MARCH


def test_it_records_a_reminder_dispatched_too_late_as_missed(due_enrolments):
    late = AT_8_BERLIN_4_MARCH + outbox.missed_after() + dt.timedelta(minutes=1)
    result, queued = dispatch(late)
    assert result.missed == 7 and queued.ids == []
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SKIPPED}
    assert "Missed" in OutboxMessage.objects.first().last_error


def test_it_sends_todays_reminder_after_missing_yesterdays(program):
    (enrolment,) = make_enrolments(1, program=program, nudge_emails=False)
    reminder_schedule_refresh(enrolments=[enrolment], now=dt.datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    # Workers were down from Monday morning until Wednesday 07:30 UTC.
    result, queued = dispatch(dt.datetime(2026, 3, 4, 7, 30, tzinfo=UTC))
    assert result.missed == 1 and result.queued == 1
    assert dict(OutboxMessage.objects.values_list("local_date", "status")) == {
        dt.date(2026, 3, 2): Status.SKIPPED,
        dt.date(2026, 3, 4): Status.CLAIMED,
    }


class BrokerDown(Collector):
    """Refuses every batch after the first `accepted`, as Celery does when the broker is unreachable."""

    def __init__(self, accepted=0):
        super().__init__()
        self.accepted = accepted
        self.refused = 0

    def __call__(self, ids, token):
        if len(self.batches) >= self.accepted:
            self.refused += 1
            raise ConnectionRefusedError("Error 111 connecting to the broker")
        super().__call__(ids, token)


def test_it_holds_back_what_the_broker_refused_and_stops_queueing(due_enrolments):
    _clock.move_to(AT_8_BERLIN_4_MARCH)
    broker = BrokerDown(accepted=1)

    result = dispatch_enrolment_messages(enqueue=broker, batch_size=3)

    assert (result.queued, result.batches, result.held) == (7, 1, 4)
    assert broker.refused == 1, "a broker that refused one batch is not asked again this round"
    assert OutboxMessage.objects.filter(status=Status.CLAIMED).count() == 7


def test_it_queues_what_the_broker_refused_at_the_next_dispatch(due_enrolments):
    _clock.move_to(AT_8_BERLIN_4_MARCH)
    broker = BrokerDown(accepted=1)
    dispatch_enrolment_messages(enqueue=broker, batch_size=3)
    sent_batch = broker.ids

    # At the next dispatch, a minute later: their lease was cut short, while
    # the batch the broker took keeps its queued lease.
    result, queued = dispatch(AT_8_BERLIN_4_MARCH + dt.timedelta(minutes=1))

    assert result.requeued == 4
    assert not set(queued.ids) & set(sent_batch), "the batch that was queued is not queued again"
    assert len(set(queued.ids) | set(sent_batch)) == 7


def test_a_dispatcher_killed_before_queueing_leaves_its_rows_to_the_next_dispatch(due_enrolments):
    _clock.move_to(AT_8_BERLIN_4_MARCH)
    token = timezone.now()
    # The rows are committed, then the dispatcher dies before any reaches the broker.
    with transaction.atomic():
        services.ENROLMENT_MESSAGES.dispatch_chunk(now=token, token=token, lease_until=token + outbox.sending_lease())
    assert OutboxMessage.objects.filter(status=Status.CLAIMED).count() == 7

    early, nothing = dispatch(token + outbox.sending_lease() - dt.timedelta(seconds=5))
    assert early.requeued == 0 and nothing.ids == []
    late, queued = dispatch(token + outbox.sending_lease() + dt.timedelta(seconds=1))
    assert late.requeued == 7 and len(queued.ids) == 7


def test_queued_rows_wait_for_a_sender_through_a_backlog_and_are_queued_again_only_after_the_queued_lease(
    due_enrolments,
):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    assert len(queued.ids) == 7
    # Still in the broker's hands minutes later (a long queue): left there.
    minutes_later, nothing = dispatch(AT_8_BERLIN_4_MARCH + dt.timedelta(minutes=3))
    assert minutes_later.requeued == 0 and nothing.ids == []
    # A message the broker lost: queued again once the queued lease is over, and the old one takes nothing.
    lost, again = dispatch(AT_8_BERLIN_4_MARCH + outbox.queued_lease() + dt.timedelta(seconds=5))
    assert lost.requeued == 7
    (stale,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert stale.not_taken == 7
    assert sum(r.sent for r in send_all(again, now=AT_8_BERLIN_4_MARCH)) == 7


def test_a_refused_batch_that_reached_the_broker_after_all_takes_nothing(due_enrolments):
    _clock.move_to(AT_8_BERLIN_4_MARCH)

    def enqueue_then_fail(ids, token):
        enqueue_then_fail.batch = (list(ids), token)
        raise TimeoutError("the broker did not confirm")

    dispatch_enrolment_messages(enqueue=enqueue_then_fail)
    ids, token = enqueue_then_fail.batch

    assert outbox_send_batch(ids=ids, token=token).not_taken == 7


# --- outbox_send_batch -------------------------------------------------------------


def send_all(collector, *, now=None):
    results = [outbox_send_batch(ids=ids, token=token, now=now) for ids, token in collector.batches]
    return results


def test_it_sends_each_batch_over_one_smtp_connection(due_enrolments, smtp_sink):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH, batch_size=4)
    results = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert [r.sent for r in results] == [4, 3]
    assert smtp_sink.recipients() == {e.member.email: 1 for e in due_enrolments}
    assert len(smtp_sink.peers) == 2
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_it_sends_nothing_for_a_duplicate_or_redelivered_task(due_enrolments, smtp_sink):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued, now=AT_8_BERLIN_4_MARCH)
    (again,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert again.sent == 0 and again.not_taken == 7
    assert smtp_sink.count == 7


def test_it_sends_a_batch_in_a_fixed_number_of_queries_plus_one_update_per_message(
    program, smtp_sink, django_assert_num_queries
):
    enrolments = make_enrolments(12, program=program, nudge_emails=False)
    reminder_schedule_refresh(enrolments=enrolments, now=NOW)
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    # claim (with its savepoints), deliveries, sessions, completions, session details (3: sessions,
    # items with stretches, the stretches' pictures), then one UPDATE per message: each is marked sent
    # as soon as the server took it. PostgreSQL adds two: asynchronous commit switched on and off around the sending.
    with django_assert_num_queries(9 + 12 + (2 if connection.vendor == "postgresql" else 0)):
        (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert result.sent == 12


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e, p: CompletionFactory(enrolment=e, program_session=session_on(p, week=1, day=3)), "done"),
        (lambda e, p: Enrolment.objects.filter(pk=e.pk).update(status="paused", paused_on=dt.date(2026, 3, 4)), "off"),
        (lambda e, p: Enrolment.objects.filter(pk=e.pk).update(reminders_enabled=False), "off"),
        (lambda e, p: Enrolment.objects.filter(pk=e.pk).update(status="left"), "off"),
    ],
    ids=["done-since", "paused-since", "switched-off-since", "left-since"],
)
def test_it_checks_again_just_before_sending(due_enrolments, program, smtp_sink, change, reason):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    change(due_enrolments[0], program)
    (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert (result.sent, result.skipped) == (6, 1)
    skipped = OutboxMessage.objects.get(enrolment=due_enrolments[0])
    assert skipped.status == Status.SKIPPED and reason in skipped.last_error
    assert due_enrolments[0].member.email not in smtp_sink.recipients()


def test_it_retries_a_451_after_a_backoff_and_then_sends(due_enrolments, smtp_sink):
    unlucky = due_enrolments[0].member.email
    smtp_sink.reply = lambda rcpt, attempt: "451 4.3.0 Try again later" if rcpt == unlucky and attempt == 1 else None
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert (result.sent, result.retrying) == (6, 1)
    row = OutboxMessage.objects.get(enrolment=due_enrolments[0])
    assert row.status == Status.RETRYING and "451" in row.last_error

    too_soon, nothing = dispatch(timezone.now() + dt.timedelta(seconds=30))
    assert too_soon.requeued == 0 and nothing.ids == []
    after_backoff, queued = dispatch(timezone.now() + outbox.retry_backoff(1) + dt.timedelta(seconds=1))
    assert after_backoff.requeued == 1 and queued.ids == [row.pk]
    send_all(queued, now=AT_8_BERLIN_4_MARCH)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
    assert smtp_sink.recipients()[unlucky] == 1


def test_it_records_a_permanent_failure_and_does_not_retry_it(due_enrolments, smtp_sink):
    unlucky = due_enrolments[0].member.email
    smtp_sink.reply = lambda rcpt, attempt: "550 5.7.1 Message rejected" if rcpt == unlucky else None
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert (result.sent, result.failed) == (6, 1)
    row = OutboxMessage.objects.get(enrolment=due_enrolments[0])
    assert row.status == Status.FAILED and "550" in row.last_error
    later, queued = dispatch(timezone.now() + dt.timedelta(days=1, hours=1))
    assert row.pk not in queued.ids


def test_it_records_a_refused_recipient_as_failed(due_enrolments, smtp_sink):
    unlucky = due_enrolments[0].member.email
    smtp_sink.refused_recipients = {unlucky}
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert (result.sent, result.failed) == (6, 1)
    row = OutboxMessage.objects.get(enrolment=due_enrolments[0])
    assert row.status == Status.FAILED and "SMTPRecipientsRefused" in row.last_error


def test_it_retries_the_whole_batch_when_the_server_refuses_the_connection(due_enrolments, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    (result,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert result.retrying == 7
    assert all("ConnectionRefusedError" in e for e in OutboxMessage.objects.values_list("last_error", flat=True))


def test_it_gives_up_after_the_last_attempt(due_enrolments, smtp_sink):
    smtp_sink.reply = lambda rcpt, attempt: "451 4.3.0 Try again later"
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    send_all(queued, now=AT_8_BERLIN_4_MARCH)
    moment = timezone.now()
    for _ in range(MAX_ATTEMPTS - 1):
        moment += dt.timedelta(hours=2)
        _, queued = dispatch(moment)
        send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.FAILED, MAX_ATTEMPTS)}
    assert "Gave up after" in OutboxMessage.objects.first().last_error
    _, queued = dispatch(moment + dt.timedelta(hours=2))
    assert queued.ids == []


def test_it_takes_back_a_claim_whose_sender_died_once_its_lease_runs_out(due_enrolments, smtp_sink):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    ((ids, token),) = queued.batches
    # A sender claims the batch and dies before sending anything.
    claimed = outbox._claim(ids, token=token, claim=timezone.now())
    assert sorted(claimed) == sorted(ids)

    early, nothing = dispatch(timezone.now() + outbox.sending_lease() - dt.timedelta(seconds=5))
    assert early.requeued == 0 and nothing.ids == []
    late, requeued = dispatch(timezone.now() + outbox.sending_lease() + dt.timedelta(seconds=1))
    assert late.requeued == 7
    # The dead sender's message, redelivered, can take nothing any more.
    (stale,) = send_all(queued, now=AT_8_BERLIN_4_MARCH)
    assert stale.not_taken == 7
    send_all(requeued, now=AT_8_BERLIN_4_MARCH)
    assert smtp_sink.recipients() == {e.member.email: 1 for e in due_enrolments}
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 2)}


def test_it_gives_up_on_a_row_whose_senders_keep_dying(due_enrolments, smtp_sink):
    _, queued = dispatch(AT_8_BERLIN_4_MARCH)
    ((ids, token),) = queued.batches
    outbox._claim(ids, token=token, claim=timezone.now())
    OutboxMessage.objects.filter(pk=ids[0]).update(attempts=MAX_ATTEMPTS)
    result, requeued = dispatch(timezone.now() + outbox.sending_lease() + dt.timedelta(seconds=1))
    assert result.requeued == 6 and ids[0] not in requeued.ids
    given_up = OutboxMessage.objects.get(pk=ids[0])
    assert given_up.status == Status.FAILED and "Gave up" in given_up.last_error


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_finds_due_enrolments_through_the_partial_index(due_enrolments):
    query = services.due_enrolments_query(now=AT_8_BERLIN_4_MARCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Seven rows would be read sequentially; ask whether the index is usable.
            cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "enrolment_next_reminder_idx" in plan


def test_it_counts_completions_made_through_the_tick_off_service(due_enrolments, program, clock):
    from programs.services import completion_record

    clock.move_to(AT_8_BERLIN_4_MARCH - dt.timedelta(minutes=30))
    completion_record(enrolment=due_enrolments[0], program_session=session_on(program, week=1, day=3))
    assert Completion.objects.filter(enrolment=due_enrolments[0]).exists()
    result, _ = dispatch(AT_8_BERLIN_4_MARCH)
    assert result.queued == 6
