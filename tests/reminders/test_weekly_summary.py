import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from programs import services as program_services
from programs.models import Enrolment
from programs.reminders import links
from programs.reminders.models import OutboxMessage
from programs.reminders.weekly_summary import (
    WeeklySummaryKind,
    next_summary_at,
    week_monday,
    weekly_summary_schedule_refresh,
)
from programs.selectors import enrolment_progress, member_enrolments
from tests.factories import CompletionFactory, EnrolmentFactory, UserFactory, build_program

from .conftest import EVERY_DAY, make_enrolments

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 4 May 2026, 06:00 in Berlin; the default summary is Sunday 10 May, 18:00 CEST (16:00 UTC).
MONDAY = dt.datetime(2026, 5, 4, 4, 0, tzinfo=dt.UTC)
SUNDAY_SUMMARY = dt.datetime(2026, 5, 10, 16, 0, tzinfo=dt.UTC)
KIND = WeeklySummaryKind()


def _dispatch(now: dt.datetime) -> list[OutboxMessage] | None:
    return KIND.dispatch_chunk(now=now, token=now, lease_until=now + dt.timedelta(minutes=10))


def _build(messages, now):
    skipped = []
    built = KIND.build(list(messages), now=now, skip=lambda row, reason: skipped.append((row, reason)))
    return built, skipped


def _rows():
    return OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEEKLY_SUMMARY)


@pytest.fixture
def enrolled(alice):
    """Alice (Berlin) on day 1 of a two-week, every-day program, her summary scheduled."""
    enrolment = EnrolmentFactory(
        member=alice, program=build_program(weeks=2, days=EVERY_DAY), start_date=dt.date(2026, 5, 4)
    )
    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)
    return enrolment


# --- When ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "now", "weekday", "at", "expected"),
    [
        # Berlin, Sunday 18:00: CET before the clocks go forward on 29 March, CEST on that very day.
        (
            BERLIN,
            dt.datetime(2026, 3, 16, 12, tzinfo=dt.UTC),
            6,
            dt.time(18),
            dt.datetime(2026, 3, 22, 17, tzinfo=dt.UTC),
        ),
        (
            BERLIN,
            dt.datetime(2026, 3, 23, 12, tzinfo=dt.UTC),
            6,
            dt.time(18),
            dt.datetime(2026, 3, 29, 16, tzinfo=dt.UTC),
        ),
        # 02:30 does not exist on 29 March in Berlin: the first instant after it, the jump (03:00 CEST).
        (
            BERLIN,
            dt.datetime(2026, 3, 23, 12, tzinfo=dt.UTC),
            6,
            dt.time(2, 30),
            dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
        ),
        # 02:30 happens twice on 25 October in Berlin: the first, in summer time.
        (
            BERLIN,
            dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC),
            6,
            dt.time(2, 30),
            dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        ),
        # New York goes forward on 8 March (02:00 → 03:00 EDT) and back on 1 November (02:00 → 01:00 EST).
        (
            NEW_YORK,
            dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC),
            6,
            dt.time(2, 30),
            dt.datetime(2026, 3, 8, 7, tzinfo=dt.UTC),
        ),
        (
            NEW_YORK,
            dt.datetime(2026, 10, 27, 12, tzinfo=dt.UTC),
            6,
            dt.time(1, 30),
            dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),
        ),
        (
            NEW_YORK,
            dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC),
            6,
            dt.time(18),
            dt.datetime(2026, 11, 8, 23, tzinfo=dt.UTC),
        ),
        # A Wednesday 07:00 later the same week; once passed, the next week's.
        (BERLIN, dt.datetime(2026, 5, 4, 4, tzinfo=dt.UTC), 2, dt.time(7), dt.datetime(2026, 5, 6, 5, tzinfo=dt.UTC)),
        (BERLIN, dt.datetime(2026, 5, 6, 6, tzinfo=dt.UTC), 2, dt.time(7), dt.datetime(2026, 5, 13, 5, tzinfo=dt.UTC)),
    ],
)
def test_it_finds_the_next_instant_of_the_chosen_day_and_time(tz, now, weekday, at, expected):
    assert next_summary_at(weekday=weekday, at=at, tz=tz, now=now) == expected


def test_it_keys_a_week_by_its_monday():
    assert {week_monday(dt.date(2026, 5, 4) + dt.timedelta(days=n)) for n in range(7)} == {dt.date(2026, 5, 4)}
    assert week_monday(dt.date(2026, 5, 11)) == dt.date(2026, 5, 11)


def test_it_schedules_a_member_with_a_current_enrolment(enrolled, alice):
    alice.refresh_from_db()
    assert alice.next_weekly_summary_at == SUNDAY_SUMMARY


def test_it_schedules_nothing_without_a_current_enrolment(alice):
    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    assert User.objects.get(pk=alice.pk).next_weekly_summary_at is None


def test_it_schedules_on_enrolling_and_clears_on_leaving(alice, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    program = build_program(weeks=1, days=EVERY_DAY)

    enrolment = program_services.enrolment_create(member=alice, program=program, start_date=dt.date(2026, 5, 4))
    assert User.objects.get(pk=alice.pk).next_weekly_summary_at == SUNDAY_SUMMARY

    program_services.enrolment_leave(enrolment=Enrolment.objects.get(pk=enrolment.pk))
    assert User.objects.get(pk=alice.pk).next_weekly_summary_at is None


def test_it_clears_the_schedule_when_switched_off(enrolled, alice):
    User.objects.filter(pk=alice.pk).update(weekly_summary_emails=False)

    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    assert User.objects.get(pk=alice.pk).next_weekly_summary_at is None


def test_choosing_a_later_day_in_a_week_already_summarised_waits_for_next_week(enrolled, alice):
    _dispatch(SUNDAY_SUMMARY)  # the week of Monday 4 May is summarised
    # Back to the Monday after the summary, choose Sunday again an hour later: next week's.
    User.objects.filter(pk=alice.pk).update(weekly_summary_day=6, weekly_summary_time=dt.time(19))

    weekly_summary_schedule_refresh(users=[alice], now=SUNDAY_SUMMARY + dt.timedelta(minutes=5))

    assert User.objects.get(pk=alice.pk).next_weekly_summary_at == dt.datetime(2026, 5, 17, 17, tzinfo=dt.UTC)


def test_choosing_a_later_day_in_a_week_not_yet_summarised_takes_it(enrolled, alice):
    User.objects.filter(pk=alice.pk).update(weekly_summary_day=2, weekly_summary_time=dt.time(7))

    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    assert User.objects.get(pk=alice.pk).next_weekly_summary_at == dt.datetime(2026, 5, 6, 5, tzinfo=dt.UTC)


# --- Dispatch --------------------------------------------------------------------------------------


def test_dispatch_returns_none_when_nobody_is_due(enrolled):
    assert _dispatch(SUNDAY_SUMMARY - dt.timedelta(seconds=1)) is None
    assert not _rows().exists()


def test_dispatch_queues_one_row_per_member_and_week_and_moves_on(enrolled, alice):
    rows = _dispatch(SUNDAY_SUMMARY + dt.timedelta(seconds=20))

    assert [(r.recipient_id, r.local_date, r.due_at) for r in rows] == [(alice.pk, dt.date(2026, 5, 4), SUNDAY_SUMMARY)]
    assert _rows().count() == 1
    assert User.objects.get(pk=alice.pk).next_weekly_summary_at == SUNDAY_SUMMARY + dt.timedelta(days=7)


def test_a_duplicate_dispatch_inserts_nothing(enrolled, alice):
    _dispatch(SUNDAY_SUMMARY)
    # A second dispatcher that read the member before the first moved her on.
    User.objects.filter(pk=alice.pk).update(next_weekly_summary_at=SUNDAY_SUMMARY)

    _dispatch(SUNDAY_SUMMARY + dt.timedelta(seconds=30))

    assert _rows().count() == 1


def test_dispatch_queues_nothing_for_a_week_with_nothing_due(alice):
    # The program starts after the week the summary covers.
    EnrolmentFactory(member=alice, program=build_program(weeks=1, days=EVERY_DAY), start_date=dt.date(2026, 5, 11))
    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    rows = _dispatch(SUNDAY_SUMMARY)

    assert rows == []
    assert not _rows().exists()
    assert User.objects.get(pk=alice.pk).next_weekly_summary_at == SUNDAY_SUMMARY + dt.timedelta(days=7)


def test_dispatch_drops_a_member_who_switched_off(enrolled, alice):
    User.objects.filter(pk=alice.pk).update(weekly_summary_emails=False)

    assert _dispatch(SUNDAY_SUMMARY) == []
    assert User.objects.get(pk=alice.pk).next_weekly_summary_at is None


@pytest.mark.parametrize("members", [3, 10])
def test_dispatch_runs_a_fixed_number_of_queries(members, django_assert_num_queries):
    enrolments = make_enrolments(members, start_date=dt.date(2026, 5, 4))
    weekly_summary_schedule_refresh(users=[e.member for e in enrolments], now=MONDAY)

    # Members, current enrolments, their sessions, the insert, the move-on.
    with django_assert_num_queries(5):
        rows = _dispatch(SUNDAY_SUMMARY)

    assert len(rows) == members


# --- Build and content -----------------------------------------------------------------------------


def _tick(enrolment, *, day: int, before=None, after=None, at: dt.datetime):
    session = enrolment.program.sessions.get(week=1, day=day)
    return CompletionFactory(
        enrolment=enrolment, program_session=session, completed_at=at, pain_before=before, pain_after=after
    )


@pytest.fixture
def week_of_ticks(enrolled):
    """Days 1, 2, 3 and 5 done (pain on three of them), day 4 missed, 6 and 7 open on Sunday evening."""
    ticks = [(1, 6, 3), (2, 5, None), (3, 4, 2), (5, None, None)]
    for day, before, after in ticks:
        at = dt.datetime(2026, 5, 3 + day, 17, 0, tzinfo=dt.UTC)
        _tick(enrolled, day=day, before=before, after=after, at=at)
    return enrolled


def _queued_row():
    _dispatch(SUNDAY_SUMMARY)
    return _rows().get()


def test_build_skips_a_member_who_switched_off_meanwhile(week_of_ticks, alice):
    row = _queued_row()
    User.objects.filter(pk=alice.pk).update(weekly_summary_emails=False)

    built, skipped = _build([row], SUNDAY_SUMMARY)

    assert built == []
    assert [(r.pk, "switched off" in reason) for r, reason in skipped] == [(row.pk, True)]


def test_build_skips_a_week_that_became_empty(enrolled, alice):
    row = _queued_row()
    enrolled.status = Enrolment.Status.LEFT
    enrolled.save(update_fields=["status"])

    built, skipped = _build([row], SUNDAY_SUMMARY)

    assert built == []
    assert [reason for _row, reason in skipped] == ["Nothing was due this week."]


def _text_and_html(email):
    return email.body, email.alternatives[0][0]


def test_the_numbers_are_the_ones_the_enrolment_page_shows(week_of_ticks, alice):
    row = _queued_row()
    web = enrolment_progress(
        enrolment=member_enrolments(member=alice).get(pk=week_of_ticks.pk), today=dt.date(2026, 5, 10)
    ).progress

    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]
    text, html = _text_and_html(email)

    week = web.adherence_7_days
    assert f"Sessions done: {week.done} of {week.due} due this week" in text
    assert f"Adherence: {week.percent}% this week, {web.adherence.percent}% since you started" in text
    assert f"Streak: {web.current_streak} session{'s' if web.current_streak != 1 else ''} in a row" in text
    assert f"(best: {web.best_streak})" in text
    assert f">{week.done} of {week.due}</p>" in html
    assert email.subject == f"Your week in StretchHub: {week.done} of {week.due} sessions done"


def test_it_reports_the_weeks_pain_averages_and_bars(week_of_ticks):
    row = _queued_row()
    before = [c.pain_before for c in week_of_ticks.completions.all() if c.pain_before is not None]
    after = [c.pain_after for c in week_of_ticks.completions.all() if c.pain_after is not None]

    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]
    text, html = _text_and_html(email)

    average_before, average_after = sum(before) / len(before), sum(after) / len(after)
    assert f"on average: {average_before:.1f} before, {average_after:.1f} after" in text
    assert "Mon 4 May: before 6, after 3" in text
    assert "<caption" in html
    assert '<th scope="row"' in html
    # One bar per score, as wide as the score in tenths.
    assert html.count('bgcolor="#d9734f"') == len(before)
    assert html.count('bgcolor="#2f8a66"') == len(after)
    assert 'width="60%"' in html


def test_the_email_has_no_images_scripts_or_svg_and_only_absolute_links(week_of_ticks):
    row = _queued_row()

    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]
    text, html = _text_and_html(email)

    for tag in ("<img", "<script", "<svg"):
        assert tag not in html.lower()
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith(settings.SITE_URL + "/") for h in hrefs)
    assert 'role="presentation"' in html


def test_it_lists_next_weeks_sessions_with_dates(week_of_ticks):
    row = _queued_row()

    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]
    text, _html = _text_and_html(email)

    next_week = text.split("Next week:")[1].split("Your progress:")[0]
    assert "Monday 11 May: Week 2 day 1" in next_week
    assert "Sunday 17 May: Week 2 day 7" in next_week
    assert "Sunday 10 May" not in next_week
    session = week_of_ticks.program.sessions.get(week=2, day=1)
    assert links.session_url(enrolment_id=week_of_ticks.pk, session_id=session.pk) in next_week


def test_it_carries_the_one_click_unsubscribe_headers(week_of_ticks, alice):
    row = _queued_row()

    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]

    url = links.preference_unsubscribe_url(user_id=alice.pk, preference="weekly_summary_emails")
    assert email.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.to == [alice.email]


@pytest.mark.parametrize("members", [3, 10])
def test_build_runs_a_fixed_number_of_queries(members, django_assert_num_queries):
    enrolments = make_enrolments(members, start_date=dt.date(2026, 5, 4))
    for enrolment in enrolments:
        _tick(enrolment, day=1, before=5, after=3, at=dt.datetime(2026, 5, 4, 17, tzinfo=dt.UTC))
    weekly_summary_schedule_refresh(users=[e.member for e in enrolments], now=MONDAY)
    rows = list(_rows()) if _dispatch(SUNDAY_SUMMARY) else []

    # Members, active enrolments with their programs, sessions, completions.
    with django_assert_num_queries(4):
        built, skipped = _build(rows, SUNDAY_SUMMARY)

    assert (len(built), skipped) == (members, [])


def test_refresh_runs_a_fixed_number_of_queries():
    counts = []
    for members in (3, 10):
        enrolments = make_enrolments(members, start_date=dt.date(2026, 5, 4))
        with CaptureQueriesContext(connection) as queries:
            weekly_summary_schedule_refresh(users=[e.member for e in enrolments], now=MONDAY)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_member_with_two_programs_gets_one_email_covering_both(alice):
    for _ in range(2):
        EnrolmentFactory(member=alice, program=build_program(weeks=1, days=(1, 3)), start_date=dt.date(2026, 5, 4))
    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    rows = _dispatch(SUNDAY_SUMMARY)
    [(_row, email)] = _build(list(_rows()), SUNDAY_SUMMARY)[0]

    assert len(rows) == 1
    assert email.body.count("== Program") == 2


def test_a_paused_enrolment_is_left_out(alice):
    active = EnrolmentFactory(member=alice, program=build_program(weeks=1, days=(1,)), start_date=dt.date(2026, 5, 4))
    EnrolmentFactory(
        member=alice,
        program=build_program(weeks=1, days=(1,)),
        start_date=dt.date(2026, 5, 4),
        status=Enrolment.Status.PAUSED,
        paused_on=dt.date(2026, 5, 5),
    )
    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)
    _dispatch(SUNDAY_SUMMARY)

    [(_row, email)] = _build(list(_rows()), SUNDAY_SUMMARY)[0]

    assert email.body.count("== Program") == 1
    assert f"== {active.program.title} ==" in email.body


# --- Through a real SMTP server --------------------------------------------------------------------


def test_it_goes_through_smtp_as_a_proper_multipart_email(week_of_ticks, alice, smtp_sink):
    row = _queued_row()
    [(_row, email)] = _build([row], SUNDAY_SUMMARY)[0]

    with get_connection() as smtp:
        assert smtp.send_messages([email]) == 1

    [received] = smtp_sink.received
    message = received.message
    assert received.rcpt_tos == [alice.email]
    assert message["Message-ID"] == email.extra_headers["Message-ID"]
    # Long headers are folded on the wire: compare what is left once unfolded.
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe == email.extra_headers["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Sessions done:" in text
    assert "<caption" in html
    urls = re.findall(r"https?://\S+", text)
    assert urls and all(u.startswith(settings.SITE_URL + "/") for u in urls)
    assert unsubscribe.strip("<>") in text and unsubscribe.strip("<>") in html


def test_a_member_without_email_is_not_scheduled(enrolled, alice):
    User.objects.filter(pk=alice.pk).update(email="")

    weekly_summary_schedule_refresh(users=[alice], now=MONDAY)

    assert User.objects.get(pk=alice.pk).next_weekly_summary_at is None


def test_other_members_are_left_alone(enrolled, alice, bob):
    weekly_summary_schedule_refresh(users=[bob], now=MONDAY)
    UserFactory(username="carol")

    _dispatch(SUNDAY_SUMMARY)

    assert set(_rows().values_list("recipient_id", flat=True)) == {alice.pk}
