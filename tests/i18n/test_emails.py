"""Emails speak their recipient's language: a German member's reminder, nudge and weekly summary are
German, while the digest about them goes to the program's trainer in English, all from one outbox run."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from programs import services
from programs.models import Program
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from tests.factories import UserFactory

from .catalogue import foreign_phrases, visible_text

UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _run_outbox(at: dt.datetime) -> list:
    before = len(mail.outbox)
    with time_machine.travel(at, tick=False):
        batches = []
        outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
        for ids, token in batches:
            outbox_send_batch(ids=ids, token=token)
    return mail.outbox[before:]


def _texts(message) -> list[str]:
    ((html, _mimetype),) = message.alternatives
    return [message.subject, visible_text(message.body), visible_text(html)]


@pytest.fixture
def world(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    trainer = UserFactory(username="tom", display_name="Tom", is_staff=True, timezone="Europe/London", language="en")
    with time_machine.travel(_at(1, 12), tick=False):
        call_command("seed_demo", "--no-logins", stdout=StringIO())
        program = Program.objects.get(slug="lower-back-relief")
        Program.objects.filter(pk=program.pk).update(author=trainer)
        member = UserFactory(username="jonas", display_name="Jonas", timezone="Europe/Berlin", language="de")
        enrolment = services.enrolment_create(
            member=member, program=program, start_date=MONDAY, reminder_time=dt.time(8, 0), today=dt.date(2026, 3, 1)
        )
    return {"trainer": trainer, "member": member, "enrolment": enrolment, "program": program}


def test_the_member_reads_german_and_the_trainer_english(world):
    member, trainer, enrolment = world["member"], world["trainer"], world["enrolment"]
    first = enrolment.program.sessions.get(week=1, day=1)

    # Monday 08:00 in Berlin: the day's reminder.
    (reminder,) = _run_outbox(_at(2, 7, 1))
    assert reminder.to == [member.email]
    assert reminder.subject == "Zeit zum Dehnen: Der Einstieg: Atem und Hüften (Entlastung für den unteren Rücken)"
    assert "Katze-Kuh — 5 Wiederholungen" in reminder.body
    assert "Hallo Jonas, hier ist deine Einheit für Montag, 2. März." in _texts(reminder)[2]

    # Done on Monday with a pain score of 8 after; Tuesday's session is missed.
    with time_machine.travel(_at(2, 18), tick=False):
        services.completion_record(enrolment=enrolment, program_session=first, pain_before=6, pain_after=8)
    # Tuesday 08:00 London: the trainer's digest about Jonas, in English, the program's English title.
    sent = _run_outbox(_at(3, 8, 1))
    digest = next(m for m in sent if m.to == [trainer.email])
    assert digest.subject == "Jonas needs a look: your StretchHub digest for Tuesday 3 March"
    assert "Jonas — Lower back relief" in digest.body
    assert "Pain 8/10 after the session on 2 March" in digest.body
    assert "at 8:00 your time" in digest.body

    # Wednesday, a rest day after the missed Tuesday: the catch-up nudge.
    (nudge,) = [m for m in _run_outbox(_at(4, 7, 1)) if m.to == [member.email]]
    assert nudge.subject == "Nachholen, wann es dir passt: Oberschenkelrückseite, ganz sanft vom Dienstag, 3. März"

    # Sunday 18:00 in Berlin: the weekly summary, decimal comma and all.
    (summary,) = [m for m in _run_outbox(_at(8, 17, 1)) if m.to == [member.email]]
    assert summary.subject == "Deine Woche bei StretchHub: 1 von 4 Einheiten erledigt"
    assert "Schmerz diese Woche (0–10) im Schnitt: 6,0 vor, 8,0 nach einer Einheit" in summary.body

    # Kept for a look in a browser (test-artifacts/de-*.html).
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, message in (("reminder", reminder), ("weekly-summary", summary), ("digest-en", digest)):
        (artifacts / f"de-email-{name}.html").write_text(message.alternatives[0][0])
    for message in (reminder, nudge, summary):
        for text in _texts(message):
            assert foreign_phrases(text, language="de") == [], message.subject
    for text in _texts(digest):
        assert foreign_phrases(text, language="en") == []
    # Headers and links are the same in every language.
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_email_is_in_the_recipients_language_not_the_requests(world, settings):
    member = world["member"]
    member.email_verified_at = None
    member.save()
    client = Client()
    client.force_login(member)
    mail.outbox.clear()
    # An English page asks for the German member's confirmation link: the email is German all the same.
    with time_machine.travel(_at(2, 12), tick=False):
        client.post(reverse("accounts:verify_resend"), HTTP_ACCEPT_LANGUAGE="en")
    (message,) = mail.outbox
    assert message.subject == "Bestätige deine E-Mail-Adresse für StretchHub"
    for text in _texts(message):
        assert foreign_phrases(text, language="de") == []


def test_the_password_reset_email_follows_the_account_not_the_browser(world):
    member = world["member"]
    mail.outbox.clear()
    Client().post(reverse("accounts:password_reset"), {"email": member.email}, HTTP_ACCEPT_LANGUAGE="en-GB")
    (message,) = mail.outbox
    assert message.subject == "Setze dein StretchHub-Passwort zurück"
    assert re.search(r"Hallo Jonas,", message.body)
    for text in _texts(message):
        assert foreign_phrases(text, language="de") == []


def test_the_calendar_feed_is_in_the_members_language(world, client):
    member = world["member"]
    feed = client.get(reverse("calendar:feed", kwargs={"token": member.calendar_token}), HTTP_ACCEPT_LANGUAGE="en")
    text = feed.content.decode()
    assert "X-WR-CALNAME:StretchHub-Einheiten" in text
    assert "Woche 1\\, Tag 1 von Entlastung für den unteren Rücken." in text
    assert "Katze-Kuh: 5 Wiederholungen" in text
