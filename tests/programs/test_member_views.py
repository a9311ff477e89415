import datetime as dt
import re

import pytest
from django.urls import reverse

from programs import services
from programs.models import Completion, Enrolment, Program
from tests.factories import (
    EnrolmentFactory,
    ProgramFactory,
    ProgramSessionFactory,
    SessionItemFactory,
    StretchFactory,
    UserFactory,
    build_program,
)

D = dt.date
# Noon in Berlin (alice's time zone) on Tuesday 10 March 2026.
NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
TODAY = D(2026, 3, 10)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def program(db):
    # Two weeks, sessions on days 1, 3 and 5.
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=2, title="Loose back")


@pytest.fixture
def enrolment(alice, program):
    return services.enrolment_create(member=alice, program=program, start_date=TODAY)


@pytest.fixture
def member_client(client, alice):
    client.force_login(alice)
    return client


def _sessions(program):
    return list(program.sessions.order_by("week", "day"))


def _url(name, **kwargs):
    return reverse(f"programs:{name}", kwargs=kwargs)


def _session_url(enrolment, session, name="session"):
    return _url(name, pk=enrolment.pk, session_pk=session.pk)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Enrol ---------------------------------------------------------------------------------------


def test_it_asks_visitors_to_log_in_before_enrolling(client, program):
    response = client.get(_url("enrol", slug=program.slug))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_it_sends_unverified_members_to_confirm_their_email(client, program):
    member = UserFactory(email_verified_at=None)
    client.force_login(member)
    response = client.get(_url("enrol", slug=program.slug))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify_sent"))
    assert "next=" in response["Location"]
    assert not Enrolment.objects.exists()


def test_it_refuses_an_enrolment_posted_by_an_unverified_member(client, program):
    member = UserFactory(email_verified_at=None)
    client.force_login(member)
    response = client.post(
        _url("enrol", slug=program.slug), {"start_date": "2026-03-10", "reminder_time": "08:00"}, follow=True
    )
    assert response.redirect_chain[0][0].startswith(reverse("accounts:verify_sent"))
    assert "Confirm your email address first: then you can enrol." in _text(response)
    assert not Enrolment.objects.exists()


def test_the_enrol_form_defaults_to_today_and_the_profile_reminder_time(member_client, alice, program):
    alice.default_reminder_time = dt.time(7, 30)
    alice.save()
    response = member_client.get(_url("enrol", slug=program.slug))
    text = _text(response)
    assert response.status_code == 200
    assert 'type="date" name="start_date" value="2026-03-10"' in text
    assert 'type="time" name="reminder_time" value="07:30"' in text
    assert '<label for="id_start_date">Start date</label>' in text


def test_it_enrols_and_shows_today(member_client, alice, program):
    response = member_client.post(
        _url("enrol", slug=program.slug),
        {"start_date": "2026-03-10", "reminder_time": "18:15", "reminders_enabled": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == _url("dashboard")
    enrolment = Enrolment.objects.get(member=alice)
    assert (enrolment.start_date, enrolment.reminder_time, enrolment.reminders_enabled) == (
        TODAY,
        dt.time(18, 15),
        True,
    )


def test_it_refuses_a_start_date_in_the_distant_past_with_a_form_error(member_client, program):
    response = member_client.post(
        _url("enrol", slug=program.slug), {"start_date": "2025-01-01", "reminder_time": "08:00"}
    )
    assert response.status_code == 400
    assert "The start date can be at most 14 days ago." in _text(response)
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("date", ["", "31/02/2026", "not a date"])
def test_it_refuses_a_missing_or_malformed_start_date(member_client, program, date):
    response = member_client.post(_url("enrol", slug=program.slug), {"start_date": date, "reminder_time": "08:00"})
    assert response.status_code == 400
    assert not Enrolment.objects.exists()


def test_re_enrolling_shows_the_existing_enrolment(member_client, enrolment, program):
    response = member_client.post(
        _url("enrol", slug=program.slug), {"start_date": "2026-03-10", "reminder_time": "08:00"}
    )
    assert response.status_code == 302
    assert response["Location"] == _url("enrolment", pk=enrolment.pk)
    assert Enrolment.objects.count() == 1


def test_a_draft_program_cannot_be_enrolled_in(member_client):
    draft = ProgramFactory(status=Program.Status.DRAFT)
    assert member_client.get(_url("enrol", slug=draft.slug)).status_code == 404


def test_the_program_page_shows_the_members_enrolment(member_client, enrolment, program):
    text = _text(member_client.get(program.get_absolute_url()))
    assert "You are enrolled" in text
    assert _url("enrolment", pk=enrolment.pk) in text


def test_the_program_page_offers_enrolment(member_client, program):
    text = _text(member_client.get(program.get_absolute_url()))
    assert _url("enrol", slug=program.slug) in text


# --- Today ---------------------------------------------------------------------------------------


def test_today_shows_todays_session(member_client, enrolment, program):
    text = _text(member_client.get(_url("dashboard")))
    first = _sessions(program)[0]
    assert "Today&#x27;s session" in text or "Today's session" in text
    assert first.title in text
    assert _session_url(enrolment, first) in text


def test_today_shows_a_rest_day_with_the_next_session(member_client, alice, program, time_machine):
    services.enrolment_create(member=alice, program=program, start_date=D(2026, 3, 9))
    text = _text(member_client.get(_url("dashboard")))
    # Day 1 was 9 March, day 3 is 11 March: today (10 March) is a rest day.
    assert "Rest day — next session on" in text
    assert "Wednesday 11 March" in text


def test_today_lists_the_next_few_days_with_their_state(member_client, enrolment):
    text = _text(member_client.get(_url("dashboard")))
    # Started today (day 1, 10 March): sessions on days 3 and 5, rest days between.
    days = re.findall(r'coming-day--(\w+)">.*?datetime="([\d-]+)".*?coming-day__what">(\w+)<', text)
    assert days == [
        ("rest", "2026-03-11", "Rest"),
        ("upcoming", "2026-03-12", "Session"),
        ("rest", "2026-03-13", "Rest"),
        ("upcoming", "2026-03-14", "Session"),
        ("rest", "2026-03-15", "Rest"),
    ]


def test_today_lists_overdue_sessions_to_catch_up(member_client, alice, program):
    services.enrolment_create(member=alice, program=program, start_date=D(2026, 3, 2))
    text = _text(member_client.get(_url("dashboard")))
    # Days 1, 3, 5 (2, 4, 6 March) and day 8 (9 March) are open.
    assert "To catch up (4)" in text


def test_today_offers_resume_for_a_paused_enrolment(member_client, enrolment):
    services.enrolment_pause(enrolment=enrolment)
    text = _text(member_client.get(_url("dashboard")))
    assert "Paused since" in text
    assert _url("enrolment_resume", pk=enrolment.pk) in text


def test_today_is_recomputed_on_the_members_next_day(member_client, enrolment, time_machine):
    member_client.get(_url("dashboard"))
    time_machine.move_to(NOW + dt.timedelta(days=1), tick=False)
    text = _text(member_client.get(_url("dashboard")))
    assert "Wednesday 11 March" in text
    assert "To catch up (1)" in text


def test_today_gives_each_response_a_working_csrf_token(alice, enrolment):
    from django.test import Client

    services.enrolment_pause(enrolment=enrolment)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get(_url("dashboard"))
    text = _text(client.get(_url("dashboard")))
    assert "placeholder" not in text
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    assert len(tokens) == 3  # resume, log out and the language switcher
    resume = _url("enrolment_resume", pk=enrolment.pk)
    assert client.post(resume, {"next": _url("dashboard")}).status_code == 403
    response = client.post(resume, {"csrfmiddlewaretoken": tokens[0], "next": _url("dashboard")})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_today_shows_a_flash_message_once(member_client, enrolment):
    member_client.get(_url("dashboard"))
    response = member_client.post(_url("enrolment_pause", pk=enrolment.pk), {"next": _url("dashboard")}, follow=True)
    assert "Loose back is paused" in _text(response)
    assert "Paused since" in _text(response)
    text = _text(member_client.get(_url("dashboard")))
    assert "Loose back is paused" not in text
    assert "Paused since" in text


def test_today_shows_a_trainers_edit_at_once(member_client, enrolment, program, django_capture_on_commit_callbacks):
    first = _sessions(program)[0]
    assert first.title in _text(member_client.get(_url("dashboard")))
    with django_capture_on_commit_callbacks(execute=True):
        first.title = "Gentle hips, renamed"
        first.save(update_fields=["title"])

    assert "Gentle hips, renamed" in _text(member_client.get(_url("dashboard")))


def test_today_never_shows_one_members_page_to_another(member_client, bob, enrolment, program):
    from django.test import Client

    assert "Hello, Alice" in _text(member_client.get(_url("dashboard")))
    other = Client()
    other.force_login(bob)

    text = _text(other.get(_url("dashboard")))

    assert "Hello, Bob" in text
    assert "Hello, Alice" not in text and program.title not in text


def test_today_follows_the_trainer_admin_link(member_client, alice, enrolment):
    assert "Trainer admin" not in _text(member_client.get(_url("dashboard")))
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    assert "Trainer admin" in _text(member_client.get(_url("dashboard")))


def test_today_follows_a_new_timezone_and_display_name(member_client, alice, enrolment, program):
    services.completion_record(enrolment=enrolment, program_session=_sessions(program)[0])
    assert "Ticked off at 12:00" in _text(member_client.get(_url("dashboard")))  # Berlin
    # Written directly, as an admin would: no service tells the dashboard about it.
    alice.timezone = "Europe/London"
    alice.display_name = "Alice Renamed"
    alice.save(update_fields=["timezone", "display_name"])
    text = _text(member_client.get(_url("dashboard")))
    assert "Ticked off at 11:00" in text
    assert "Hello, Alice Renamed" in text


def test_today_without_enrolments_points_to_the_catalogue(member_client):
    text = _text(member_client.get(_url("dashboard")))
    assert "You are not following a program yet" in text


def test_today_shows_only_the_members_own_enrolments(member_client, program, bob):
    services.enrolment_create(member=bob, program=program, start_date=TODAY)
    assert "Loose back" not in _text(member_client.get(_url("dashboard")))


# --- Session page and player ---------------------------------------------------------------------


def test_the_session_page_lists_every_stretch_in_order_with_its_instructions(member_client, alice):
    program = ProgramFactory()
    session = ProgramSessionFactory(program=program, week=1, day=1, title="Easy start")
    first = StretchFactory(name="Cat–cow", steps="Kneel on all fours.\nArch slowly.", cautions="Go gently.")
    second = StretchFactory(name="Seated hip stretch", cues="Breathe out as you lean.")
    SessionItemFactory(session=session, stretch=second, order=2, hold_seconds=20, per_side=True)
    SessionItemFactory(session=session, stretch=first, order=1, hold_seconds=None, reps=8)
    enrolment = services.enrolment_create(member=alice, program=program, start_date=TODAY)

    text = _text(member_client.get(_session_url(enrolment, session)))
    assert text.index("Cat–cow") < text.index("Seated hip stretch")
    assert "Kneel on all fours." in text and "Arch slowly." in text
    assert "Go gently." in text and "Breathe out as you lean." in text
    assert "8 reps" in text and "20 s hold per side" in text
    assert 'data-reps="8"' in text and 'data-per-side="1"' in text
    assert 'id="player"' in text and 'aria-live="assertive"' in text
    assert "js/player.js" in text


def test_the_player_speed_parameter_is_ignored_unless_allowed(member_client, enrolment, program, settings):
    url = _session_url(enrolment, _sessions(program)[0]) + "?speed=20"
    settings.PLAYER_SPEED_PARAM = False
    assert 'data-speed="1"' in _text(member_client.get(url))
    settings.PLAYER_SPEED_PARAM = True
    assert 'data-speed="20"' in _text(member_client.get(url))
    assert 'data-speed="1"' in _text(member_client.get(url.replace("speed=20", "speed=fast")))


def test_a_future_session_says_when_it_is_due(member_client, enrolment, program):
    text = _text(member_client.get(_session_url(enrolment, _sessions(program)[1])))
    assert "Not due yet" in text
    assert "Thursday 12 March" in text


def test_another_members_session_is_not_found(client, bob, enrolment, program):
    client.force_login(bob)
    assert client.get(_session_url(enrolment, _sessions(program)[0])).status_code == 404


def test_a_session_of_another_program_is_not_found(member_client, enrolment):
    other = build_program(weeks=1, days=(1,), items_per_session=1)
    assert member_client.get(_session_url(enrolment, other.sessions.get())).status_code == 404


# --- Tick-off ------------------------------------------------------------------------------------


def test_it_ticks_off_with_pain_scores_and_a_note(member_client, enrolment, program):
    session = _sessions(program)[0]
    response = member_client.post(
        _session_url(enrolment, session, "session_tick"), {"pain_before": "6", "pain_after": "3", "note": "Better."}
    )
    assert response.status_code == 302
    assert response["Location"] == _session_url(enrolment, session)
    completion = Completion.objects.get()
    assert (completion.pain_before, completion.pain_after, completion.note) == (6, 3, "Better.")
    text = _text(member_client.get(response["Location"]))
    assert "Undo this tick" in text
    assert "Ticked off Tuesday 10 March, 12:00" in text  # Berlin time


def test_ticking_returns_a_fragment_for_the_page_to_swap_in(member_client, enrolment, program):
    response = member_client.post(
        _session_url(enrolment, _sessions(program)[0], "session_tick"), {"pain_after": "2"}, HTTP_X_FRAGMENT="1"
    )
    text = _text(response)
    assert response.status_code == 200
    assert text.lstrip().startswith('<section class="card tick-box tick-box--done"')
    assert "<html" not in text
    assert Completion.objects.count() == 1


def test_ticking_twice_records_one_completion(member_client, enrolment, program):
    url = _session_url(enrolment, _sessions(program)[0], "session_tick")
    member_client.post(url, {"pain_after": "2"})
    member_client.post(url, {"pain_after": "5"})
    assert Completion.objects.get().pain_after == 2


def test_ticking_again_says_it_was_already_ticked(member_client, enrolment, program):
    url = _session_url(enrolment, _sessions(program)[0], "session_tick")
    assert "Session ticked off. Nice work." in _text(member_client.post(url, {}, follow=True))
    again = _text(member_client.post(url, {}, follow=True))
    assert "This session was already ticked off." in again
    assert "Nice work" not in again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pain_before": "11"}, "Pain is a number from 0 (none) to 10 (worst)."),
        ({"pain_after": "-1"}, "Pain is a number from 0 (none) to 10 (worst)."),
        ({"pain_after": "lots"}, "Pain is a number from 0 (none) to 10 (worst)."),
        ({"note": "x" * 100_000}, "The note is too long: keep it to 2000 characters (it has 100000)."),
    ],
)
def test_bad_tick_input_gets_a_clear_error_and_saves_nothing(member_client, enrolment, program, data, message):
    url = _session_url(enrolment, _sessions(program)[0], "session_tick")
    for headers in ({}, {"HTTP_X_FRAGMENT": "1"}):
        response = member_client.post(url, data, **headers)
        assert response.status_code == 400
        assert message in _text(response)
    assert not Completion.objects.exists()


def test_a_future_session_cannot_be_ticked(member_client, enrolment, program):
    response = member_client.post(_session_url(enrolment, _sessions(program)[1], "session_tick"), {})
    assert response.status_code == 400
    assert "not due yet" in _text(response)
    assert not Completion.objects.exists()


def test_a_forged_tick_for_another_members_session_changes_nothing(client, bob, enrolment, program):
    client.force_login(bob)
    response = client.post(_session_url(enrolment, _sessions(program)[0], "session_tick"), {"pain_after": "1"})
    assert response.status_code == 404
    assert not Completion.objects.exists()


def test_a_forged_undo_for_another_members_session_changes_nothing(client, bob, enrolment, program):
    session = _sessions(program)[0]
    services.completion_record(enrolment=enrolment, program_session=session)
    client.force_login(bob)
    assert client.post(_session_url(enrolment, session, "session_undo")).status_code == 404
    assert Completion.objects.count() == 1


def test_undo_removes_the_tick(member_client, enrolment, program):
    session = _sessions(program)[0]
    services.completion_record(enrolment=enrolment, program_session=session)
    response = member_client.post(_session_url(enrolment, session, "session_undo"), HTTP_X_FRAGMENT="1")
    assert response.status_code == 200
    assert "Tick it off" in _text(response)
    assert not Completion.objects.exists()


def test_ticking_needs_a_post(member_client, enrolment, program):
    assert member_client.get(_session_url(enrolment, _sessions(program)[0], "session_tick")).status_code == 405


# --- Progress page and actions -------------------------------------------------------------------


def test_the_progress_page_escapes_session_titles_in_its_lists_and_pain_table(member_client, alice, program):
    enrolment = services.enrolment_create(member=alice, program=program, start_date=D(2026, 3, 2))
    first = _sessions(program)[0]
    first.title = "<b>Hips</b> & back"
    first.save()
    services.completion_record(enrolment=enrolment, program_session=first, pain_before=4, pain_after=2)

    text = _text(member_client.get(_url("enrolment", pk=enrolment.pk)))

    assert "<b>Hips</b>" not in text
    assert text.count("&lt;b&gt;Hips&lt;/b&gt; &amp; back") == 2  # the session list and the pain table


def test_the_progress_page_shows_counts_adherence_streaks_calendar_and_pain(member_client, alice, program):
    enrolment = services.enrolment_create(member=alice, program=program, start_date=D(2026, 3, 2))
    sessions = _sessions(program)
    # 2, 4, 6 and 9 March are due; three of them done.
    for session, pain in zip(sessions[:2] + sessions[3:4], (6, 5, 3), strict=True):
        services.completion_record(enrolment=enrolment, program_session=session, pain_before=pain, pain_after=pain - 1)
    text = _text(member_client.get(_url("enrolment", pk=enrolment.pk)))
    assert '3<span class="stat__of">/6</span>' in text
    assert "75%" in text and "(3 of 4 due)" in text
    assert "cal-day cal-day--done" in text and "cal-day cal-day--missed" in text and "cal-day--rest" in text
    assert "6 March: missed, still open" in text
    assert "<svg" in text and 'role="img"' in text
    assert "Pain before went from 6 to 3 out of 10 (down) over 3 sessions" in text
    assert "Pain scores as a table" in text


def test_the_progress_page_follows_ticks_pauses_and_the_next_day(
    member_client, enrolment, program, settings, time_machine
):
    url = _url("enrolment", pk=enrolment.pk)
    first = _sessions(program)[0]
    assert '0<span class="stat__of">/6</span>' in _text(member_client.get(url))
    assert '0<span class="stat__of">/6</span>' in _text(member_client.get(url))
    services.completion_record(enrolment=enrolment, program_session=first, pain_before=4, pain_after=2)
    text = _text(member_client.get(url))
    assert '1<span class="stat__of">/6</span>' in text
    assert "<svg" in text
    services.enrolment_pause(enrolment=enrolment)
    assert "cal-day--paused" in _text(member_client.get(url))
    services.enrolment_resume(enrolment=enrolment)
    time_machine.move_to(NOW + dt.timedelta(days=1), tick=False)
    assert "11 March: rest day (today)" in _text(member_client.get(url))


def test_another_members_progress_page_is_not_found(client, bob, enrolment):
    client.force_login(bob)
    assert client.get(_url("enrolment", pk=enrolment.pk)).status_code == 404


def test_pause_and_resume_from_the_progress_page(member_client, enrolment):
    assert member_client.post(_url("enrolment_pause", pk=enrolment.pk)).status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.PAUSED
    member_client.post(_url("enrolment_resume", pk=enrolment.pk))
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_an_action_that_does_not_apply_shows_a_message(member_client, enrolment):
    response = member_client.post(_url("enrolment_resume", pk=enrolment.pk), follow=True)
    assert "Only a paused enrolment can be resumed." in _text(response)


@pytest.mark.parametrize("action", ["enrolment_pause", "enrolment_leave", "enrolment_finish"])
def test_a_forged_action_on_another_members_enrolment_changes_nothing(client, bob, enrolment, action):
    client.force_login(bob)
    assert client.post(_url(action, pk=enrolment.pk)).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_actions_need_a_post(member_client, enrolment):
    assert member_client.get(_url("enrolment_pause", pk=enrolment.pk)).status_code == 405


def test_leave_then_restart_as_a_new_enrolment(member_client, enrolment):
    member_client.post(_url("enrolment_leave", pk=enrolment.pk))
    response = member_client.post(_url("enrolment_restart", pk=enrolment.pk), {"restart-start_date": "2026-03-11"})
    new = Enrolment.objects.exclude(pk=enrolment.pk).get()
    assert response["Location"] == _url("enrolment", pk=new.pk)
    assert new.start_date == D(2026, 3, 11)
    text = _text(member_client.get(response["Location"]))
    assert "Other runs of this program" in text


def test_a_restart_with_a_bad_date_gets_a_form_error(member_client, enrolment):
    services.enrolment_finish(enrolment=enrolment)
    response = member_client.post(_url("enrolment_restart", pk=enrolment.pk), {"restart-start_date": "2020-01-01"})
    assert response.status_code == 400
    assert "at most 14 days ago" in _text(response)
    assert Enrolment.objects.count() == 1


def test_the_reminder_can_be_changed_and_bad_times_are_refused(member_client, enrolment):
    url = _url("enrolment_reminder", pk=enrolment.pk)
    assert member_client.post(url, {"reminder_time": "06:45"}).status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.reminder_time, enrolment.reminders_enabled) == (dt.time(6, 45), False)
    response = member_client.post(url, {"reminder_time": "25:99", "reminders_enabled": "on"})
    assert response.status_code == 400
    assert "Enter a time, for example 07:30." in _text(response)


def test_next_only_redirects_within_the_site(member_client, enrolment):
    response = member_client.post(_url("enrolment_pause", pk=enrolment.pk), {"next": "https://evil.example/"})
    assert response["Location"] == _url("enrolment", pk=enrolment.pk)


# --- Query counts do not grow with history -------------------------------------------------------


def _history(member, *, long: bool):
    """A 12-week program (3 sessions a week) with a current run started 11 weeks ago, all due done.

    The long history adds four earlier completed runs: a year of completions.
    """
    program = build_program(weeks=12, days=(1, 3, 5), items_per_session=4, title="Twelve weeks")
    sessions = _sessions(program)
    runs = 4 if long else 0
    for run in range(runs):
        start = TODAY - dt.timedelta(days=7 * 12 * (runs - run) + 80)
        past = EnrolmentFactory(
            member=member, program=program, start_date=start, status=Enrolment.Status.COMPLETED, ended_at=NOW
        )
        Completion.objects.bulk_create(
            Completion(
                enrolment=past,
                program_session=s,
                completed_at=dt.datetime.combine(past.date_of_session(s), dt.time(9), tzinfo=dt.UTC),
                pain_before=5,
                pain_after=3,
                note="Steady.",
            )
            for s in sessions
        )
    current = EnrolmentFactory(member=member, program=program, start_date=TODAY - dt.timedelta(days=76))
    due = [s for s in sessions if current.date_of_session(s) < TODAY] if long else sessions[:1]
    Completion.objects.bulk_create(
        Completion(
            enrolment=current,
            program_session=s,
            completed_at=dt.datetime.combine(current.date_of_session(s), dt.time(9), tzinfo=dt.UTC),
            pain_before=4,
            pain_after=2,
        )
        for s in due
    )
    return current


@pytest.mark.parametrize("long", [False, True])
def test_today_costs_the_same_queries_whatever_the_history(member_client, alice, django_assert_num_queries, long):
    _history(alice, long=long)
    # The session, the user, the member's enrolments, then sessions and ticks of the current ones.
    with django_assert_num_queries(5):
        response = member_client.get(_url("dashboard"))
    assert response.status_code == 200


@pytest.mark.parametrize("long", [False, True])
def test_progress_costs_the_same_queries_whatever_the_history(member_client, alice, django_assert_num_queries, long):
    current = _history(alice, long=long)
    with django_assert_num_queries(6):
        response = member_client.get(_url("enrolment", pk=current.pk))
    assert response.status_code == 200
    assert ("33" if long else "1") + '<span class="stat__of">/36</span>' in _text(response)


def test_the_session_page_has_a_fixed_query_count(member_client, alice, django_assert_num_queries):
    current = _history(alice, long=True)
    session = _sessions(current.program)[-1]
    # 8: the stretches' pictures are prefetched with their body areas, one query for all of them.
    with django_assert_num_queries(8):
        assert member_client.get(_session_url(current, session)).status_code == 200


def test_it_ignores_a_next_that_is_not_a_path(member_client, enrolment):
    # redirect() reads "a:b" as a URL name; reversing an unknown one was a 500.
    response = member_client.post(_url("enrolment_pause", pk=enrolment.pk), {"next": "08:00"})

    assert response.status_code == 302
    assert response["Location"] == _url("enrolment", pk=enrolment.pk)
