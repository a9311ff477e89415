import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from programs.models import ProgramSession, SessionItem
from programs.reminders import links
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import CompletionFactory, ProgramFactory, ProgramSessionFactory, SessionItemFactory, StretchFactory

from .conftest import make_enrolments

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
DUE = dt.datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


@pytest.fixture
def program(db):
    program = ProgramFactory(title="Easy <Back> & Hips")
    hang = StretchFactory(name="Hang from a bar")
    cat_cow = StretchFactory(name="Cat–cow", default_hold_seconds=None, default_reps=8)
    hamstring = StretchFactory(name="Hamstring stretch")
    for day in (1, 3):
        session = ProgramSessionFactory(program=program, week=1, day=day, title=f"Loosen up, day {day}")
        SessionItemFactory(session=session, stretch=hang, order=0, hold_seconds=20)
        SessionItemFactory(session=session, stretch=cat_cow, order=1, hold_seconds=None, reps=10)
        SessionItemFactory(session=session, stretch=hamstring, order=2, hold_seconds=30, sets=2, per_side=True)
    return program


@pytest.fixture
def reminder(program, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://stretch.example"
    (enrolment,) = make_enrolments(1, program=program)
    enrolment.member.display_name = "Alice <the bold>"
    enrolment.member.save()

    def send(*, done_day_1=False):
        if done_day_1:
            CompletionFactory(enrolment=enrolment, program_session=ProgramSession.objects.get(program=program, day=1))
        with time_machine.travel(NOW, tick=True) as clock:
            reminder_schedule_refresh(enrolments=[enrolment], now=NOW)
            clock.move_to(DUE)
            batches = []
            outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
            for ids, token in batches:
                outbox_send_batch(ids=ids, token=token)
        (message,) = mail.outbox
        return enrolment, message

    return send


def html_of(message):
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def test_it_writes_to_the_member_with_a_subject_naming_the_session(reminder):
    enrolment, message = reminder()
    assert message.to == [enrolment.member.email]
    assert message.subject == "Time to stretch: Loosen up, day 3 (Easy <Back> & Hips)"


def test_it_lists_the_days_stretches_with_holds_reps_and_per_side_marks(reminder):
    _, message = reminder()
    text, html = message.body, html_of(message)
    assert "1. Hang from a bar — 20 s hold" in text
    assert "2. Cat–cow — 10 reps" in text
    assert "3. Hamstring stretch — 2 × 30 s hold per side [each side: left and right]" in text
    assert html.count("each side · L + R") == 1
    for name in ("Hang from a bar", "Cat–cow", "Hamstring stretch"):
        assert name in html


def test_it_escapes_member_and_trainer_text_in_html_only(reminder):
    _, message = reminder()
    assert "Hi Alice <the bold>," in message.body
    html = html_of(message)
    assert "Alice &lt;the bold&gt;" in html and "Easy &lt;Back&gt; &amp; Hips" in html
    assert "<the bold>" not in html


def test_it_mentions_an_open_session_from_an_earlier_day(reminder):
    enrolment, message = reminder()
    assert 'You also have an open session from earlier days — the oldest is "Loosen up, day 1"' in message.body
    day_1 = ProgramSession.objects.get(program=enrolment.program, day=1)
    assert f"/enrolments/{enrolment.pk}/sessions/{day_1.pk}/" in message.body
    assert "open session" in html_of(message)


def test_it_mentions_nothing_when_earlier_sessions_are_done(reminder):
    _, message = reminder(done_day_1=True)
    assert "open session" not in message.body
    assert "open session" not in html_of(message)


def test_it_links_to_the_session_the_done_page_and_the_unsubscribe_page(reminder):
    enrolment, message = reminder()
    day_3 = ProgramSession.objects.get(program=enrolment.program, day=3)
    session_url = f"https://stretch.example/enrolments/{enrolment.pk}/sessions/{day_3.pk}/"
    html = html_of(message)
    for part in (message.body, html):
        assert session_url in part
        assert "https://stretch.example/accounts/settings/" in part
        done = re.search(r"https://stretch\.example/r/done/([^/\s\"]+)/", part).group(1)
        unsubscribe = re.search(r"https://stretch\.example/r/unsubscribe/([^/\s\"]+)/", part).group(1)
        with time_machine.travel(DUE):  # links are signed with the time they were made
            assert links.done_token_read(done) == (enrolment.pk, day_3.pk)
            assert links.unsubscribe_token_read(unsubscribe) == enrolment.pk
    assert re.search(r'<a href="' + re.escape(session_url) + r'"[^>]*>Open the session</a>', html)


def test_it_carries_one_click_unsubscribe_headers(reminder):
    enrolment, message = reminder()
    headers = message.message()
    assert re.fullmatch(r"<https://stretch\.example/r/unsubscribe/[^>]+/>", headers["List-Unsubscribe"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<reminder\.\d+\.20260304@stretch\.example>", headers["Message-ID"])


def test_it_sends_html_that_needs_nothing_from_outside_but_the_stretches_pictures(reminder):
    _, message = reminder()
    html = html_of(message)
    assert "<script" not in html and "<link" not in html
    assert "<style" not in html and "url(" not in html
    assert 'style="' in html
    # These stretches have no pictures; a stretch's picture is the one thing fetched (tests/media/test_shown.py).
    assert "<img" not in html


def test_it_renders_the_message_with_a_fixed_number_of_queries(program, settings, django_assert_num_queries):
    """The sender loads sessions and items once per batch, never per message."""
    from programs.reminders import emails

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ids = list(ProgramSession.objects.filter(program=program).values_list("pk", flat=True))
    with django_assert_num_queries(3):  # sessions, items with stretches, the stretches' pictures
        sessions = emails.load_sessions(ids)
    assert all(isinstance(item, SessionItem) for s in sessions.values() for item in s.items.all())
