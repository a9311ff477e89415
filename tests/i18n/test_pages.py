"""Every page in German shows no English phrase of the catalogue, and in English no German one.

What counts as a phrase, and what is left out on purpose: tests/i18n/catalogue.py.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from programs import services
from programs.models import Program, ProgramSession
from programs.reminders import links
from tests.conftest import AxesAwareClient
from tests.factories import UserFactory

from .catalogue import foreign_phrases, visible_text

NOW = dt.datetime(2026, 3, 12, 11, 0, tzinfo=dt.UTC)  # Thursday, noon in Berlin
START = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def program(db):
    call_command("seed_demo", "--no-logins", stdout=StringIO())
    return Program.objects.get(slug="lower-back-relief")


def _member(program, *, language: str, username: str):
    member = UserFactory(username=username, display_name=username.title(), timezone="Europe/Berlin", language=language)
    enrolment = services.enrolment_create(member=member, program=program, start_date=START, today=START)
    first, second, *_ = program.sessions.order_by("week", "day")
    services.completion_record(enrolment=enrolment, program_session=first, pain_before=6, pain_after=4, note="Gut.")
    services.completion_record(enrolment=enrolment, program_session=second, pain_before=5, pain_after=3)
    return member, enrolment


def _member_pages(enrolment) -> dict[str, str]:
    sessions = list(ProgramSession.objects.filter(program=enrolment.program).order_by("week", "day"))
    done, open_session, later = sessions[0], sessions[2], sessions[-1]
    session = "programs:session"
    return {
        "today": reverse("programs:dashboard"),
        "progress": reverse("programs:enrolment", kwargs={"pk": enrolment.pk}),
        "session, ticked": reverse(session, kwargs={"pk": enrolment.pk, "session_pk": done.pk}),
        "session, open": reverse(session, kwargs={"pk": enrolment.pk, "session_pk": open_session.pk}),
        "session, not due": reverse(session, kwargs={"pk": enrolment.pk, "session_pk": later.pk}),
        "settings": reverse("accounts:settings"),
        "delete": reverse("accounts:delete"),
        "password change": reverse("accounts:password_change"),
        "home": reverse("home"),
        "catalogue": reverse("programs:catalogue"),
        "program": reverse("programs:detail", kwargs={"slug": "lower-back-relief"}),
    }


def _link_pages(enrolment) -> dict[str, str]:
    session = enrolment.program.sessions.order_by("week", "day")[2]
    done = links.done_token(enrolment_id=enrolment.pk, session_id=session.pk)
    unsubscribe = links.unsubscribe_token(enrolment_id=enrolment.pk)
    off = links.preference_off_token(user_id=enrolment.member_id, preference="weekly_summary_emails")
    return {
        "tick off from an email": reverse("reminders:done", kwargs={"token": done}),
        "unsubscribe": reverse("reminders:unsubscribe", kwargs={"token": unsubscribe}),
        "preference off": reverse("reminders:preference_off", kwargs={"token": off}),
        "broken link": reverse("reminders:done", kwargs={"token": "not-a-token"}),
    }


VISITOR_PAGES = {
    "home": "home",
    "catalogue": "programs:catalogue",
    "log in": "accounts:login",
    "sign up": "accounts:signup",
    "password reset": "accounts:password_reset",
    "password reset sent": "accounts:password_reset_done",
}


def _check(client, pages: dict[str, str], *, language: str, **headers) -> dict[str, list[str]]:
    found = {}
    for name, url in pages.items():
        response = client.get(url, **headers)
        assert response.status_code in (200, 400, 410), (name, response.status_code)
        assert response["Content-Language"] == language, name
        foreign = foreign_phrases(visible_text(response.content.decode()), language=language)
        if foreign:
            found[name] = foreign
    return found


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_members_pages_are_in_their_language_only(program, language):
    member, enrolment = _member(program, language=language, username="jonas")
    client = AxesAwareClient()
    client.force_login(member)
    assert _check(client, _member_pages(enrolment), language=language) == {}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_pages_behind_email_links_follow_the_browser(program, language):
    _member_obj, enrolment = _member(program, language="en", username="mia")
    pages = _link_pages(enrolment)
    assert _check(Client(), pages, language=language, HTTP_ACCEPT_LANGUAGE=f"{language};q=0.9") == {}


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_visitors_pages_follow_accept_language(program, language):
    pages = {name: reverse(url) for name, url in VISITOR_PAGES.items()}
    pages["program"] = reverse("programs:detail", kwargs={"slug": program.slug})
    header = "de-DE,de;q=0.9,en;q=0.5" if language == "de" else "en-GB,en;q=0.9"
    assert _check(Client(), pages, language=language, HTTP_ACCEPT_LANGUAGE=header) == {}


def test_a_form_with_errors_says_so_in_german(program):
    response = Client().post(
        reverse("accounts:signup"),
        {"email": "not an address", "display_name": "", "password1": "1", "password2": "2", "timezone": "Mars/Base"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    text = visible_text(response.content.decode())
    assert "Bitte korrigiere die markierten Felder." in text
    assert "„Mars/Base“ ist keine bekannte Zeitzone" in text
    assert foreign_phrases(text, language="de") == []


def test_the_program_content_is_german_with_english_where_no_german_is_written_yet(program, client):
    stretch = program.sessions.order_by("week", "day")[0].items.order_by("order")[0].stretch
    stretch.summary_de = None
    stretch.save()
    text = visible_text(client.get(program.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Entlastung für den unteren Rücken" in text and "Katze-Kuh" in text
    # The one field without German falls back to its English text; its neighbours stay German.
    assert stretch.summary_en in text
    assert "Im Vierfüßlerstand" in text


def test_the_check_finds_the_other_language(program):
    # The detector itself: an English page read as German is full of English phrases, and back.
    english = visible_text(Client().get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    german = visible_text(Client().get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Stretch a little, every day" in foreign_phrases(english, language="de")
    assert "Jeden Tag ein bisschen dehnen" in foreign_phrases(german, language="en")
