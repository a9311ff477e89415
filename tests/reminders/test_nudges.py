"""Catch-up nudges: the day after a missed session, when that day has no session of its own."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client

from programs.models import Completion, Enrolment, ProgramSession
from programs.reminders import due
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.models import OutboxMessage
from programs.reminders.services import reminder_schedule_refresh
from programs.schedule import ScheduledSession
from programs.services import enrolment_pause
from tests.factories import CompletionFactory, build_program

from .conftest import make_enrolments

UTC = dt.UTC
Kind, Status = OutboxMessage.Kind, OutboxMessage.Status
# Sessions on days 1, 3 and 5 of each week from Monday 2 March 2026: Mon 2,
# Wed 4, Fri 6, Mon 9 … Thursday 5 and Saturday 7 are rest days.
NOW = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # Wednesday 07:00 in Berlin


def berlin_8am(day: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, 7, 0, tzinfo=UTC)


_clock = None


@pytest.fixture(autouse=True)
def clock():
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
    (enrolment,) = make_enrolments(1, program=program)
    # Monday's session was done: only Wednesday's can be missed in these tests.
    CompletionFactory(enrolment=enrolment, program_session=session_on(program, day=1))
    reminder_schedule_refresh(enrolments=[enrolment], now=NOW)
    return enrolment


def session_on(program, *, day, week=1):
    return ProgramSession.objects.get(program=program, week=week, day=day)


def run_day(at, smtp_sink=None):
    """The dispatcher at `at`, then the senders; the rows it made."""
    _clock.move_to(at)
    batches = []
    outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
    for ids, token in batches:
        outbox_send_batch(ids=ids, token=token)
    return [pk for ids, _ in batches for pk in ids]


def rows(enrolment):
    return list(
        OutboxMessage.objects.filter(enrolment=enrolment).order_by("local_date").values_list("kind", "local_date")
    )


# --- The rule, as pure maths ---------------------------------------------------------------------------


def sessions(*days, done=()):
    return [ScheduledSession(day_number=n, date=dt.date(2026, 3, d), done=d in done) for n, d in enumerate(days, 1)]


def test_the_day_after_a_missed_session_with_no_session_of_its_own_earns_a_nudge():
    schedule = sessions(2, 4, 6)
    assert due.nudge_missed_session(schedule, dt.date(2026, 3, 5)).date == dt.date(2026, 3, 4)
    # Friday has its own session: its reminder mentions Wednesday instead.
    assert due.nudge_missed_session(sessions(4, 5), dt.date(2026, 3, 5)) is None
    # Two days after: no second nudge for the same session.
    assert due.nudge_missed_session(schedule, dt.date(2026, 3, 8)) is None


def test_a_session_done_earns_no_nudge_and_a_done_session_on_the_day_still_counts_as_its_own():
    assert due.nudge_missed_session(sessions(2, 4, 6, done=(4,)), dt.date(2026, 3, 5)) is None
    assert due.nudge_missed_session(sessions(4, 5, done=(5,)), dt.date(2026, 3, 5)) is None


def test_the_next_instant_includes_nudge_days_only_when_nudges_are_wanted():
    tz = due.ZoneInfo("Europe/Berlin")
    thursday_9am = dt.datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    common = dict(sessions=sessions(2, 4, 6, done=(2,)), reminder_time=dt.time(8, 0), tz=tz)
    assert due.next_reminder_at(**common, now=NOW + dt.timedelta(hours=2), nudges=True) == berlin_8am(5)
    assert due.next_reminder_at(**common, now=NOW + dt.timedelta(hours=2), nudges=False) == berlin_8am(6)
    assert due.next_reminder_at(**common, now=thursday_9am, reminders=False, nudges=True) == dt.datetime(
        2026, 3, 7, 7, 0, tzinfo=UTC
    )
    assert due.next_reminder_at(**common, now=NOW, reminders=False, nudges=False) is None


# --- Dispatch and sending ------------------------------------------------------------------------------


def test_a_missed_session_gets_one_nudge_on_the_rest_day_after_it(enrolment, smtp_sink):
    run_day(berlin_8am(4), smtp_sink)  # Wednesday's reminder, not acted on
    assert Enrolment.objects.get(pk=enrolment.pk).next_reminder_at == berlin_8am(5)
    run_day(berlin_8am(5), smtp_sink)  # Thursday: the nudge
    run_day(berlin_8am(5) + dt.timedelta(minutes=1), smtp_sink)  # a second beat: nothing more
    run_day(berlin_8am(6), smtp_sink)  # Friday's reminder

    assert rows(enrolment) == [
        (Kind.REMINDER, dt.date(2026, 3, 4)),
        (Kind.NUDGE, dt.date(2026, 3, 5)),
        (Kind.REMINDER, dt.date(2026, 3, 6)),
    ]
    assert smtp_sink.recipients() == {enrolment.member.email: 3}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_member_who_caught_up_gets_no_nudge(enrolment, program, smtp_sink):
    run_day(berlin_8am(4), smtp_sink)
    _clock.move_to(berlin_8am(4) + dt.timedelta(hours=12))
    from programs.services import completion_record

    completion_record(enrolment=enrolment, program_session=session_on(program, day=3))
    assert Enrolment.objects.get(pk=enrolment.pk).next_reminder_at == berlin_8am(6)
    run_day(berlin_8am(5), smtp_sink)
    assert rows(enrolment) == [(Kind.REMINDER, dt.date(2026, 3, 4))]


def test_a_member_who_catches_up_after_dispatch_gets_the_nudge_skipped(enrolment, program, smtp_sink):
    run_day(berlin_8am(4), smtp_sink)
    _clock.move_to(berlin_8am(5))
    queued = []
    outbox_dispatch(enqueue=lambda ids, token: queued.append((ids, token)))
    # Ticked in the seconds between dispatch and sending.
    Completion.objects.create(enrolment=enrolment, program_session=session_on(program, day=3))
    for ids, token in queued:
        outbox_send_batch(ids=ids, token=token)
    nudge = OutboxMessage.objects.get(kind=Kind.NUDGE)
    assert nudge.status == Status.SKIPPED and "caught up" in nudge.last_error
    assert smtp_sink.recipients() == {enrolment.member.email: 1}


def test_the_next_days_own_session_gets_a_reminder_not_a_nudge(db, smtp_sink):
    program = build_program(weeks=1, days=(1, 2, 3))
    (enrolment,) = make_enrolments(1, program=program)
    reminder_schedule_refresh(enrolments=[enrolment], now=NOW - dt.timedelta(days=2))
    for day in (2, 3, 4, 5, 6):
        run_day(berlin_8am(day), smtp_sink)
    # Every session missed: a reminder each session day, one nudge the day after the last.
    assert rows(enrolment) == [
        (Kind.REMINDER, dt.date(2026, 3, 2)),
        (Kind.REMINDER, dt.date(2026, 3, 3)),
        (Kind.REMINDER, dt.date(2026, 3, 4)),
        (Kind.NUDGE, dt.date(2026, 3, 5)),
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.member.__class__.objects.filter(pk=e.member_id).update(nudge_emails=False),
        lambda e: Enrolment.objects.filter(pk=e.pk).update(reminders_enabled=False),
        lambda e: enrolment_pause(enrolment=e),
    ],
    ids=["nudges-off", "unsubscribed-from-the-program", "paused"],
)
def test_no_nudge_when_switched_off_unsubscribed_or_paused(enrolment, smtp_sink, change):
    run_day(berlin_8am(4), smtp_sink)
    _clock.move_to(berlin_8am(4) + dt.timedelta(hours=1))
    change(enrolment)
    reminder_schedule_refresh(enrolments=[enrolment])
    run_day(berlin_8am(5), smtp_sink)
    assert Kind.NUDGE not in {kind for kind, _ in rows(enrolment)}


def test_nudges_still_come_with_reminders_switched_off_account_wide(enrolment, smtp_sink):
    enrolment.member.__class__.objects.filter(pk=enrolment.member_id).update(email_reminders=False)
    reminder_schedule_refresh(enrolments=[enrolment], now=NOW)
    for day in (4, 5, 6, 7):
        run_day(berlin_8am(day), smtp_sink)
    # No reminders; a nudge after each missed session (Thursday, Saturday).
    assert rows(enrolment) == [(Kind.NUDGE, dt.date(2026, 3, 5)), (Kind.NUDGE, dt.date(2026, 3, 7))]


def test_the_nudge_email_links_the_missed_session_and_its_one_click_done(enrolment, program, smtp_sink, settings):
    run_day(berlin_8am(4), smtp_sink)
    run_day(berlin_8am(5), smtp_sink)
    message = smtp_sink.received[-1].message
    missed = session_on(program, day=3)
    site = settings.SITE_URL

    assert message["Subject"] == f"Catch up when it suits you: {missed.title} from Wednesday 4 March"
    assert message["Message-ID"].startswith("<nudge.")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"].strip())[1]
    assert unsubscribe.startswith(f"{site}/r/off/")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert f"{site}/enrolments/{enrolment.pk}/sessions/{missed.pk}/" in part
        assert f"{site}/r/done/" in part and unsubscribe in part
    assert "<script" not in html and "<img" not in html

    client = Client()
    done_path = urlsplit(re.search(rf"{re.escape(site)}(/r/done/\S+/)", text)[0]).path
    assert b"Yes, I did it" in client.get(done_path).content
    assert client.post(done_path).status_code == 200
    assert Completion.objects.filter(enrolment=enrolment, program_session=missed).exists()

    # List-Unsubscribe-Post: the provider's one-click POST, no cookie, no CSRF token.
    assert (
        Client(enforce_csrf_checks=True).post(urlsplit(unsubscribe).path, {"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    enrolment.member.refresh_from_db()
    assert not enrolment.member.nudge_emails and enrolment.member.email_reminders
    enrolment.refresh_from_db()
    # Still enrolled with reminders on; the next email is Friday's reminder, not Saturday's nudge.
    assert enrolment.reminders_enabled and enrolment.next_reminder_at == berlin_8am(6)


def test_nudges_and_reminders_dispatch_in_a_fixed_number_of_queries(program, django_assert_num_queries):
    def dispatch_count(count):
        enrolments = make_enrolments(count, program=program, timezones=("Europe/Berlin", "Europe/Paris"))
        reminder_schedule_refresh(enrolments=enrolments, now=NOW + dt.timedelta(days=1))
        _clock.move_to(berlin_8am(5))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            result = outbox_dispatch(enqueue=lambda ids, token: None)
        OutboxMessage.objects.all().delete()
        return len(queries), result.queued

    few, queued_few = dispatch_count(3)
    many, queued_many = dispatch_count(12)
    assert (queued_few, queued_many) == (3, 12)
    assert few == many


def test_a_nudge_built_for_many_members_takes_a_fixed_number_of_queries(program, smtp_sink):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def send_count(count):
        enrolments = make_enrolments(count, program=program)
        reminder_schedule_refresh(enrolments=enrolments, now=NOW + dt.timedelta(days=1))
        _clock.move_to(berlin_8am(5))
        batches = []
        outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
        ((ids, token),) = batches
        with CaptureQueriesContext(connection) as queries:
            result = outbox_send_batch(ids=ids, token=token)
        assert result.sent == count
        OutboxMessage.objects.all().delete()
        # One UPDATE per message marks it sent; everything else is per batch.
        return len(queries) - count

    assert send_count(2) == send_count(9)
