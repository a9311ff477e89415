import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from programs import selectors
from programs.models import Completion, Enrolment, Program, ProgramSession
from programs.reminders.services import reminder_schedule_refresh
from tests.api.conftest import as_member
from tests.factories import CompletionFactory, EnrolmentFactory, ProgramFactory, build_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice, now):
    client = as_member(alice)
    client.get("/api/v1/me/")  # the token's first use records last_used_at: keep that write out of counts
    return client


@pytest.fixture
def enrolment(alice, program):
    # Started Monday 2 March: by Tuesday 10 March four sessions were due (2, 4, 6 and 9 March).
    return EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))


def _session(program, week, day) -> ProgramSession:
    return program.sessions.get(week=week, day=day)


# --- me ----------------------------------------------------------------------------------------------


def test_it_shows_the_members_profile(alice_api, alice):
    body = alice_api.get("/api/v1/me/").json()

    assert body["username"] == "alice"
    assert body["timezone"] == "Europe/Berlin"
    assert body["default_reminder_time"] == "08:00"
    assert body["email_verified"] is True
    assert body["calendar_url"] == f"http://127.0.0.1:8000/calendar/{alice.calendar_token}.ics"


def test_it_changes_profile_and_reminder_settings(alice_api, alice, enrolment):
    response = alice_api.patch(
        "/api/v1/me/",
        {"display_name": "Ali", "timezone": "Asia/Tokyo", "default_reminder_time": "07:30", "email_reminders": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert (alice.display_name, alice.timezone, alice.default_reminder_time, alice.email_reminders) == (
        "Ali",
        "Asia/Tokyo",
        dt.time(7, 30),
        False,
    )
    enrolment.refresh_from_db()
    # Reminders are off and follow the settings service: what is left is the
    # catch-up nudge after Wednesday's session, at the enrolment's time in Tokyo.
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 12, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_new_timezone_moves_the_next_reminder_to_its_local_time(alice_api, alice, enrolment):
    # Without catch-up nudges, which would fall on the rest day between (they follow the zone too).
    type(alice).objects.filter(pk=alice.pk).update(nudge_emails=False)
    reminder_schedule_refresh(enrolments=[enrolment])
    enrolment.refresh_from_db()
    # Tuesday 10 March, 13:00 in Berlin: the next session day is Wednesday, at 08:00 local.
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    response = alice_api.patch("/api/v1/me/", {"timezone": "America/New_York"}, format="json")

    assert response.status_code == 200, response.content
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"default_reminder_time": "25:00"}, "default_reminder_time"),
        ({"default_reminder_time": "08:00+02:00"}, "default_reminder_time"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"display_name": "nul\x00"}, "display_name"),
        ({"username": "root"}, "username"),
        ({"email_verified": True}, "email_verified"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_it_refuses_bad_or_read_only_profile_fields(alice_api, alice, body, field):
    before = User.objects.values().get(pk=alice.pk)

    response = alice_api.patch("/api/v1/me/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert User.objects.values().get(pk=alice.pk) == before


def test_it_refuses_a_body_that_is_not_an_object(alice_api):
    response = alice_api.patch("/api/v1/me/", ["timezone"], format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_it_refuses_malformed_json(alice_api):
    response = alice_api.generic("PATCH", "/api/v1/me/", "{nope", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_it_refuses_form_encoded_bodies(alice_api):
    response = alice_api.patch("/api/v1/me/", "display_name=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_it_rotates_the_calendar_token(alice_api, alice):
    old = alice.calendar_token

    response = alice_api.post("/api/v1/me/calendar-token/")

    alice.refresh_from_db()
    assert response.status_code == 200
    assert alice.calendar_token != old
    assert response.json()["calendar_url"].endswith(f"/calendar/{alice.calendar_token}.ics")


# --- enrolments ------------------------------------------------------------------------------------


def test_it_enrols_with_defaults_from_the_profile(alice_api, alice, program):
    response = alice_api.post("/api/v1/enrolments/", {"program": "back"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["program"] == {"id": program.pk, "slug": "back", "title": "Lower back relief"}
    assert body["start_date"] == "2026-03-10"
    assert body["reminder_time"] == "08:00"
    assert body["status"] == "active"
    enrolment = Enrolment.objects.get(member=alice)
    assert enrolment.next_reminder_at is not None  # created through the service: reminders scheduled


def test_it_enrols_with_a_start_date_and_reminder_time(alice_api, program):
    response = alice_api.post(
        "/api/v1/enrolments/",
        {"program": "back", "start_date": "2026-03-16", "reminder_time": "18:15", "reminders_enabled": False},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["start_date"] == "2026-03-16"
    assert Enrolment.objects.get().reminder_time == dt.time(18, 15)
    assert Enrolment.objects.get().reminders_enabled is False


def test_it_refuses_a_start_date_the_web_refuses(alice_api, program):
    response = alice_api.post("/api/v1/enrolments/", {"program": "back", "start_date": "2025-01-01"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"start_date": ["The start date can be at most 14 days ago."]}
    assert not Enrolment.objects.exists()


def test_it_answers_a_second_enrolment_with_a_409(alice_api, enrolment):
    response = alice_api.post("/api/v1/enrolments/", {"program": "back"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_enrolled"
    assert Enrolment.objects.count() == 1


def test_it_refuses_to_enrol_in_a_draft_program_with_a_404(alice_api):
    ProgramFactory(slug="draft", status=Program.Status.DRAFT)

    response = alice_api.post("/api/v1/enrolments/", {"program": "draft"}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"] == {"program": ["No published program has this slug."]}
    assert not Enrolment.objects.exists()


def test_it_asks_for_a_confirmed_email_before_enrolling(program, now):
    unverified = User.objects.create_user("newbie", "new@example.com", "pw-pw-pw-pw-1", email_verified_at=None)

    response = as_member(unverified).post("/api/v1/enrolments/", {"program": "back"}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == "Confirm your email address first: then you can enrol."
    assert not Enrolment.objects.exists()


def test_it_lists_only_the_members_enrolments(alice_api, alice, bob, enrolment):
    EnrolmentFactory(member=bob, program=enrolment.program)

    results = alice_api.get("/api/v1/enrolments/").json()["results"]

    assert [e["id"] for e in results] == [enrolment.pk]


@pytest.mark.parametrize("count", [1, 8])
def test_it_lists_enrolments_in_constant_queries(alice_api, alice, django_assert_num_queries, count):
    for _ in range(count):
        EnrolmentFactory(member=alice, program=build_program(weeks=1, days=(1,), items_per_session=1))

    with django_assert_num_queries(3):  # token, count, page with programs
        assert len(alice_api.get("/api/v1/enrolments/").json()["results"]) == count


def test_it_pauses_resumes_and_leaves(alice_api, enrolment, time_machine, now):
    url = f"/api/v1/enrolments/{enrolment.pk}"

    assert alice_api.post(f"{url}/pause/").json()["status"] == "paused"
    assert alice_api.post(f"{url}/pause/").status_code == 409
    time_machine.move_to(now + dt.timedelta(days=3), tick=False)
    body = alice_api.post(f"{url}/resume/").json()
    assert (body["status"], body["paused_days"]) == ("active", 3)
    assert alice_api.post(f"{url}/leave/").json()["status"] == "left"
    response = alice_api.post(f"{url}/resume/")
    assert response.status_code == 409
    assert response.json()["message"] == "Only a paused enrolment can be resumed."


def test_it_refuses_a_body_on_actions_that_take_none(alice_api, enrolment):
    response = alice_api.post(f"/api/v1/enrolments/{enrolment.pk}/pause/", {"status": "left"}, format="json")

    assert response.status_code == 400
    enrolment.refresh_from_db()
    assert enrolment.status == "active"


def test_it_changes_the_reminder_time(alice_api, enrolment):
    response = alice_api.patch(f"/api/v1/enrolments/{enrolment.pk}/", {"reminder_time": "06:45"}, format="json")

    assert response.status_code == 200
    enrolment.refresh_from_db()
    assert enrolment.reminder_time == dt.time(6, 45)
    assert enrolment.reminders_enabled is True


@pytest.mark.parametrize("field", ["status", "start_date", "program", "member"])
def test_it_cannot_mass_assign_enrolment_fields(alice_api, enrolment, field):
    before = Enrolment.objects.values().get(pk=enrolment.pk)

    response = alice_api.patch(f"/api/v1/enrolments/{enrolment.pk}/", {field: "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][field] == ["Unknown or read-only field."]
    assert Enrolment.objects.values().get(pk=enrolment.pk) == before


# --- completions and progress --------------------------------------------------------------------------


def test_it_ticks_a_session_with_pain_scores_and_a_note(alice_api, enrolment, program):
    session = _session(program, 1, 3)

    response = alice_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/",
        {"session": session.pk, "pain_before": 6, "pain_after": 3, "note": "Stiff  "},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["session"] == session.pk
    completion = Completion.objects.get()
    assert (completion.pain_before, completion.pain_after, completion.note) == (6, 3, "Stiff")


def test_it_returns_the_first_tick_when_ticking_twice(alice_api, enrolment, program):
    session = _session(program, 1, 1)
    url = f"/api/v1/enrolments/{enrolment.pk}/completions/"
    alice_api.post(url, {"session": session.pk, "pain_after": 2}, format="json")

    response = alice_api.post(url, {"session": session.pk, "pain_after": 9}, format="json")

    assert response.status_code == 200
    assert response.json()["pain_after"] == 2
    assert Completion.objects.count() == 1


def test_it_refuses_to_tick_a_session_not_due_yet(alice_api, enrolment, program):
    response = alice_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/", {"session": _session(program, 2, 5).pk}, format="json"
    )

    assert response.status_code == 409
    assert "not due yet" in response.json()["message"]
    assert not Completion.objects.exists()


@pytest.mark.parametrize("pain", [-1, 11, "x", 2.5, True])
def test_it_refuses_pain_outside_0_to_10(alice_api, enrolment, program, pain):
    response = alice_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/",
        {"session": _session(program, 1, 1).pk, "pain_before": pain},
        format="json",
    )

    assert response.status_code == 400
    assert "pain_before" in response.json()["errors"]
    assert not Completion.objects.exists()


def test_it_refuses_a_100_kb_note(alice_api, enrolment, program):
    response = alice_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/",
        {"session": _session(program, 1, 1).pk, "note": "x" * 100_000},
        format="json",
    )

    assert response.status_code == 400
    assert not Completion.objects.exists()


def test_it_answers_a_session_of_another_program_with_a_404(alice_api, enrolment):
    other = build_program(weeks=1, days=(1,), items_per_session=1)

    response = alice_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/", {"session": other.sessions.get().pk}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["errors"] == {"session": ["The enrolment's program has no session with this id."]}
    assert not Completion.objects.exists()


def test_it_undoes_a_tick(alice_api, enrolment, program):
    session = _session(program, 1, 1)
    CompletionFactory(enrolment=enrolment, program_session=session)
    url = f"/api/v1/enrolments/{enrolment.pk}/completions/{session.pk}/"

    assert alice_api.get(url).status_code == 200
    assert alice_api.delete(url).status_code == 204
    assert not Completion.objects.exists()
    assert alice_api.get(url).status_code == 404
    assert alice_api.delete(url).status_code == 404


def test_it_lists_ticks_oldest_first(alice_api, enrolment, program):
    for day, hour in ((3, 9), (1, 8)):
        CompletionFactory(
            enrolment=enrolment,
            program_session=_session(program, 1, day),
            completed_at=dt.datetime(2026, 3, 5, hour, tzinfo=dt.UTC),
        )

    results = alice_api.get(f"/api/v1/enrolments/{enrolment.pk}/completions/").json()["results"]

    assert [c["day_number"] for c in results] == [1, 3]


def test_it_reports_the_same_progress_as_the_web(alice_api, alice, enrolment, program):
    for week, day in ((1, 1), (1, 3), (2, 1)):
        CompletionFactory(enrolment=enrolment, program_session=_session(program, week, day))

    body = alice_api.get(f"/api/v1/enrolments/{enrolment.pk}/progress/").json()

    web = selectors.enrolment_progress(
        enrolment=selectors.member_enrolments(member=alice).get(pk=enrolment.pk),
        today=selectors.member_local_today(alice),
    )
    assert body["today"] == "2026-03-10"
    assert (body["done"], body["total"]) == (web.progress.done, web.progress.total) == (3, 6)
    assert body["adherence"] == {"done": 3, "due": 4, "percent": 75}
    assert body["adherence"]["percent"] == web.progress.adherence.percent
    assert body["adherence_7_days"]["due"] == web.progress.adherence_7_days.due
    assert (body["current_streak"], body["best_streak"]) == (1, 2)
    assert [d["state"] for d in body["calendar"][:9]] == [
        "done",
        "rest",
        "done",
        "rest",
        "missed",
        "rest",
        "rest",
        "done",
        "rest",
    ]
    assert len(body["calendar"]) == len(web.calendar)
    assert body["sessions"][0] == {
        "session": _session(program, 1, 1).pk,
        "week": 1,
        "day": 1,
        "day_number": 1,
        "title": "Week 1 day 1",
        "date": "2026-03-02",
        "done": True,
        "completed_at": body["sessions"][0]["completed_at"],
    }


@pytest.mark.parametrize("weeks", [1, 8])
def test_it_reports_progress_in_constant_queries(alice_api, alice, django_assert_num_queries, weeks):
    program = build_program(weeks=weeks, days=(1, 3, 5), items_per_session=1)
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))
    for session in program.sessions.all()[:3]:
        CompletionFactory(enrolment=enrolment, program_session=session)

    with django_assert_num_queries(4):  # token, enrolment with program and member, sessions, completions
        assert alice_api.get(f"/api/v1/enrolments/{enrolment.pk}/progress/").status_code == 200


def test_it_shows_an_enrolment_in_constant_queries(alice_api, enrolment, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert alice_api.get(f"/api/v1/enrolments/{enrolment.pk}/").status_code == 200
