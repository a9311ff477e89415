"""The pages behind the links in a reminder: one-click done and unsubscribe.

The signed link is the credential: these pages work logged out, and whoever is
logged in changes nothing without a valid link.
"""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from programs.models import Completion, Enrolment, ProgramSession
from programs.reminders import links
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import build_program

from .conftest import make_enrolments

UTC = dt.UTC
DUE = dt.datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # Wednesday 08:00 in Berlin; day 3 is due


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(DUE, tick=True) as traveller:
        yield traveller


@pytest.fixture
def enrolment(db):
    program = build_program(weeks=1, days=(1, 3, 5))
    (enrolment,) = make_enrolments(1, program=program)
    reminder_schedule_refresh(enrolments=[enrolment], now=DUE - dt.timedelta(hours=1))
    return enrolment


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def session(enrolment, day):
    return ProgramSession.objects.get(program=enrolment.program, day=day)


def done_path(enrolment, day=3):
    token = links.done_token(enrolment_id=enrolment.pk, session_id=session(enrolment, day).pk)
    return reverse("reminders:done", kwargs={"token": token})


def unsubscribe_path(enrolment):
    return reverse("reminders:unsubscribe", kwargs={"token": links.unsubscribe_token(enrolment_id=enrolment.pk)})


def tampered(path):
    # Change one character of the signature.
    head, _, tail = path.rstrip("/").rpartition(":")
    return f"{head}:{'A' if tail[0] != 'A' else 'B'}{tail[1:]}/"


# --- one-click done -----------------------------------------------------------------


def test_it_only_asks_for_confirmation_on_get(client, enrolment, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(done_path(enrolment))
    assert response.status_code == 200
    assert b"Yes, I did it" in response.content and b'method="post"' in response.content
    assert not Completion.objects.exists()


def test_it_records_the_completion_on_post(client, enrolment):
    path = done_path(enrolment)
    client.get(path)  # sets the CSRF cookie, as the confirmation page does in a browser
    response = client.post(path)
    assert response.status_code == 200
    assert b"Nicely done" in response.content
    completion = Completion.objects.get()
    assert (completion.enrolment, completion.program_session) == (enrolment, session(enrolment, 3))


def test_it_stops_todays_reminder_once_done(client, enrolment):
    client.post(done_path(enrolment))
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 6, 7, 0, tzinfo=UTC)


def test_it_treats_a_replayed_done_link_as_harmless(client, enrolment):
    path = done_path(enrolment)
    first = client.post(path)
    again = client.post(path)
    later = client.get(path)
    assert first.status_code == again.status_code == later.status_code == 200
    assert Completion.objects.count() == 1
    assert b"Nicely done" in first.content
    assert b"Already ticked off" in again.content
    assert b"Already ticked off" in later.content


def test_it_requires_the_csrf_token_on_the_done_form(csrf_client, enrolment):
    path = done_path(enrolment)
    assert csrf_client.post(path).status_code == 403
    page = csrf_client.get(path)
    token = page.context["csrf_token"]
    assert csrf_client.post(path, {"csrfmiddlewaretoken": token}).status_code == 200
    assert Completion.objects.count() == 1


def test_it_shows_a_clear_page_for_a_tampered_done_link(client, enrolment):
    for method in (client.get, client.post):
        response = method(tampered(done_path(enrolment)))
        assert response.status_code == 400
        assert b"This link does not work" in response.content
    assert not Completion.objects.exists()


def test_it_shows_a_clear_page_for_an_expired_done_link(client, enrolment, clock):
    path = done_path(enrolment)
    clock.shift(links.DONE_MAX_AGE + dt.timedelta(minutes=1))
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 410
        assert b"This link has expired" in response.content
    assert not Completion.objects.exists()


def test_it_refuses_a_session_not_due_yet_with_a_message(client, enrolment):
    response = client.post(done_path(enrolment, day=5))
    assert response.status_code == 400
    assert b"not due yet" in response.content
    assert not Completion.objects.exists()


def test_it_shows_a_clear_page_when_the_enrolment_is_gone(client, enrolment):
    path = done_path(enrolment)
    Enrolment.objects.all().delete()
    response = client.get(path)
    assert response.status_code == 404
    assert b"no longer exists" in response.content


def test_it_does_not_accept_an_unsubscribe_link_as_a_done_link(client, enrolment):
    token = links.unsubscribe_token(enrolment_id=enrolment.pk)
    assert client.post(reverse("reminders:done", kwargs={"token": token})).status_code == 400
    assert not Completion.objects.exists()


# --- unsubscribe ----------------------------------------------------------------------


def test_it_unsubscribes_with_a_one_click_post_without_login_or_csrf_token(csrf_client, enrolment):
    response = csrf_client.post(
        unsubscribe_path(enrolment),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    enrolment.refresh_from_db()
    assert enrolment.reminders_enabled is False
    assert enrolment.next_reminder_at is None


def test_it_asks_for_confirmation_from_the_footer_link(client, enrolment, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get(unsubscribe_path(enrolment))
    assert response.status_code == 200
    assert b"Stop these reminders" in response.content
    enrolment.refresh_from_db()
    assert enrolment.reminders_enabled is True


def test_it_confirms_and_links_to_the_settings_to_switch_back_on(client, enrolment):
    response = client.post(unsubscribe_path(enrolment))
    assert b"Reminders stopped" in response.content
    assert b'/accounts/settings/">reminder settings</a>' in response.content


def test_it_treats_a_replayed_unsubscribe_link_as_harmless(client, enrolment):
    path = unsubscribe_path(enrolment)
    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200
    assert b"already off" in client.get(path).content
    enrolment.refresh_from_db()
    assert enrolment.reminders_enabled is False


def test_it_shows_a_clear_page_for_a_tampered_unsubscribe_link(client, enrolment):
    response = client.post(tampered(unsubscribe_path(enrolment)))
    assert response.status_code == 400
    assert b"This link does not work" in response.content
    enrolment.refresh_from_db()
    assert enrolment.reminders_enabled is True


def test_it_shows_a_clear_page_for_an_expired_unsubscribe_link(client, enrolment, clock):
    path = unsubscribe_path(enrolment)
    clock.shift(links.UNSUBSCRIBE_MAX_AGE + dt.timedelta(minutes=1))
    response = client.post(path)
    assert response.status_code == 410
    assert b"reminder settings" in response.content
    enrolment.refresh_from_db()
    assert enrolment.reminders_enabled is True


def test_it_does_not_accept_a_done_link_as_an_unsubscribe_link(client, enrolment):
    token = links.done_token(enrolment_id=enrolment.pk, session_id=session(enrolment, 3).pk)
    assert client.post(reverse("reminders:unsubscribe", kwargs={"token": token})).status_code == 400


def test_it_changes_only_the_enrolment_in_the_link_whoever_is_logged_in(client, enrolment):
    (other,) = make_enrolments(1, program=enrolment.program)
    client.force_login(other.member)
    client.post(unsubscribe_path(enrolment))
    other.refresh_from_db()
    enrolment.refresh_from_db()
    assert (enrolment.reminders_enabled, other.reminders_enabled) == (False, True)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_it_allows_only_get_and_post(client, enrolment, method):
    assert getattr(client, method)(unsubscribe_path(enrolment)).status_code == 405
    assert getattr(client, method)(done_path(enrolment)).status_code == 405
