"""Every reader sees a write at once, whatever wrote it (docs/caching.md).

The pages compute from the database; the API program detail is kept in the
cache under a key made from its data. These tests write the way each writer
really does — the admin, its bulk actions, `QuerySet.update()` (which sends
no signal), `save(update_fields=...)`, the web, the API — and read straight
after through every reader that shows the changed data, each read once
before the write so a cached copy exists. In CI's second run the cache is
the shared Redis.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from programs import services
from programs.models import BodyArea, Completion, Program, SessionItem, Stretch
from tests.api.conftest import as_member
from tests.factories import EnrolmentFactory, TrainerFactory, build_program

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
DETAIL = "/api/v1/programs/back/"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def author(db):
    return TrainerFactory(username="tom", display_name="Tom Trainer")


@pytest.fixture
def program(author):
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=2, slug="back", author=author)


@pytest.fixture
def enrolment(alice, program):
    return EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))


@pytest.fixture
def member_client(client, alice):
    client.force_login(alice)
    return client


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_renamed_trainer_shows_at_once_on_the_api_and_the_program_page(api, client, program, author):
    assert api.get(DETAIL).json()["author"] == "Tom Trainer"
    assert "Written by Tom Trainer" in _text(client.get(program.get_absolute_url()))

    User.objects.filter(pk=author.pk).update(display_name="Tomasz Trainer")

    assert api.get(DETAIL).json()["author"] == "Tomasz Trainer"
    assert "Written by Tomasz Trainer" in _text(client.get(program.get_absolute_url()))


def test_a_deleted_trainers_name_is_gone_at_once(api, client, program, author):
    assert api.get(DETAIL).json()["author"] == "Tom Trainer"

    author.delete()  # the program keeps going without an author (SET_NULL)

    assert api.get(DETAIL).json()["author"] is None
    assert "Tom Trainer" not in _text(client.get(program.get_absolute_url()))


def test_an_admin_bulk_action_shows_at_once(admin_client, api, client, program):
    assert api.get(DETAIL).status_code == 200
    assert "back" in [p["slug"] for p in api.get("/api/v1/programs/").json()["results"]]

    response = admin_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "unpublish_programs", "_selected_action": [program.pk]},
    )

    assert response.status_code == 302
    assert api.get(DETAIL).status_code == 404
    assert "back" not in [p["slug"] for p in api.get("/api/v1/programs/").json()["results"]]
    assert client.get(program.get_absolute_url()).status_code == 404


def test_a_stretch_set_back_to_draft_by_bulk_action_leaves_the_api_at_once(admin_client, api):
    stretch = build_program(weeks=1, days=(1,), items_per_session=1, status=Program.Status.DRAFT).sessions.get()
    stretch = stretch.items.get().stretch
    assert api.get(f"/api/v1/stretches/{stretch.slug}/").status_code == 200

    admin_client.post(
        reverse("admin:programs_stretch_changelist"),
        {"action": "draft_stretches", "_selected_action": [stretch.pk]},
    )

    assert api.get(f"/api/v1/stretches/{stretch.slug}/").status_code == 404


def test_a_stretchs_new_caution_shows_at_once_everywhere(api, member_client, program, enrolment):
    stretch = Stretch.objects.filter(session_items__session__program=program).first()
    session = program.sessions.get(week=1, day=1)
    session_url = reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk})
    member_client.get(session_url)
    api.get(DETAIL)

    Stretch.objects.filter(pk=stretch.pk).update(cautions="Stop at once if your knee twinges.")

    cautions = [c for s in api.get(DETAIL).json()["stretches"] if s["id"] == stretch.pk for c in s["cautions"]]
    assert cautions == ["Stop at once if your knee twinges."]
    assert "Stop at once if your knee twinges." in _text(member_client.get(program.get_absolute_url()))
    assert "Stop at once if your knee twinges." in _text(member_client.get(session_url))


def test_an_items_new_hold_shows_at_once_everywhere(api, member_client, program, enrolment):
    session = program.sessions.get(week=2, day=1)  # Monday 9 March: due, open
    item = session.items.order_by("order").first()
    session_url = reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk})
    member_client.get(session_url)
    etag = api.get(DETAIL)["ETag"]

    SessionItem.objects.filter(pk=item.pk).update(hold_seconds=75, reps=None)

    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    holds = [
        i["prescription"]["hold_seconds"] for w in response.json()["weeks"] for d in w["sessions"] for i in d["items"]
    ]
    assert 75 in holds
    assert "75 s" in _text(member_client.get(session_url))


def test_a_zone_changed_outside_the_settings_page_shows_at_once(member_client, alice, program, enrolment, time_machine):
    time_machine.move_to(NOW + dt.timedelta(days=1), tick=False)  # Wednesday: a session day
    services.completion_record(enrolment=enrolment, program_session=program.sessions.get(week=2, day=3))
    assert "Ticked off at 13:00" in _text(member_client.get(reverse("programs:dashboard")))  # Berlin

    User.objects.filter(pk=alice.pk).update(timezone="America/New_York")

    assert "Ticked off at 8:00" in _text(member_client.get(reverse("programs:dashboard")))


def test_a_tick_on_the_web_undone_through_the_api_is_seen_by_both(member_client, alice, program, enrolment):
    api = as_member(alice)
    session = program.sessions.get(week=2, day=1)
    tick = reverse("programs:session_tick", kwargs={"pk": enrolment.pk, "session_pk": session.pk})
    progress_url = reverse("programs:enrolment", kwargs={"pk": enrolment.pk})
    api_progress = f"/api/v1/enrolments/{enrolment.pk}/progress/"
    assert api.get(api_progress).json()["done"] == 0

    assert member_client.post(tick, {}).status_code == 302
    assert api.get(api_progress).json()["done"] == 1
    assert '1<span class="stat__of">/6</span>' in _text(member_client.get(progress_url))

    assert api.delete(f"/api/v1/enrolments/{enrolment.pk}/completions/{session.pk}/").status_code == 204
    assert not Completion.objects.filter(enrolment=enrolment).exists()
    assert '0<span class="stat__of">/6</span>' in _text(member_client.get(progress_url))


def test_a_tick_through_the_api_undone_on_the_web_is_seen_by_both(member_client, alice, program, enrolment):
    api = as_member(alice)
    session = program.sessions.get(week=2, day=1)
    undo = reverse("programs:session_undo", kwargs={"pk": enrolment.pk, "session_pk": session.pk})
    progress_url = reverse("programs:enrolment", kwargs={"pk": enrolment.pk})
    api_progress = f"/api/v1/enrolments/{enrolment.pk}/progress/"
    member_client.get(progress_url)

    response = api.post(f"/api/v1/enrolments/{enrolment.pk}/completions/", {"session": session.pk}, format="json")
    assert response.status_code == 201
    assert '1<span class="stat__of">/6</span>' in _text(member_client.get(progress_url))

    assert member_client.post(undo, {}).status_code == 302
    assert api.get(api_progress).json()["done"] == 0
    assert '0<span class="stat__of">/6</span>' in _text(member_client.get(progress_url))


def _detail_items(api) -> list[tuple[int, str, int | None]]:
    body = api.get(DETAIL).json()
    return [
        (item["order"], item["stretch"]["slug"], item["prescription"]["hold_seconds"])
        for week in body["weeks"]
        for session in week["sessions"]
        for item in session["items"]
    ]


def test_a_session_renamed_by_a_partial_save_shows_at_once_on_the_api(api, program):
    session = program.sessions.get(week=1, day=1)
    api.get(DETAIL)

    session.title = "Gentle start, renamed"
    session.save(update_fields=["title"])

    titles = [s["title"] for w in api.get(DETAIL).json()["weeks"] for s in w["sessions"]]
    assert "Gentle start, renamed" in titles


def test_reordered_items_show_at_once_on_the_api(api, program):
    session = program.sessions.get(week=1, day=1)
    first, second = session.items.order_by("order")
    before = api.get(DETAIL).json()["weeks"][0]["sessions"][0]["items"]
    assert [i["stretch"]["slug"] for i in before] == [first.stretch.slug, second.stretch.slug]

    services.session_items_reorder(session=session, item_ids=[second.pk, first.pk])

    after = api.get(DETAIL).json()["weeks"][0]["sessions"][0]["items"]
    assert [i["stretch"]["slug"] for i in after] == [second.stretch.slug, first.stretch.slug]


def test_a_deleted_item_and_a_deleted_session_are_gone_at_once_from_the_api(api, program):
    items = len(_detail_items(api))
    program.sessions.get(week=1, day=1).items.order_by("order").last().delete()
    assert len(_detail_items(api)) == items - 1

    program.sessions.filter(week=2, day=5).delete()
    sessions = [(w["week"], s["day"]) for w in api.get(DETAIL).json()["weeks"] for s in w["sessions"]]
    assert (2, 5) not in sessions


def test_a_body_area_renamed_or_linked_shows_at_once_on_the_api(api, program):
    stretch = Stretch.objects.filter(session_items__session__program=program).first()
    area = BodyArea.objects.create(name="Inner thigh", slug="inner-thigh")
    assert "inner-thigh" not in [a["slug"] for a in api.get(DETAIL).json()["body_areas"]]

    stretch.body_areas.add(area)
    assert {"slug": "inner-thigh", "name": "Inner thigh"} in api.get(DETAIL).json()["body_areas"]

    BodyArea.objects.filter(pk=area.pk).update(name="Inner thigh, renamed")
    assert {"slug": "inner-thigh", "name": "Inner thigh, renamed"} in api.get(DETAIL).json()["body_areas"]

    stretch.body_areas.remove(area)
    assert "inner-thigh" not in [a["slug"] for a in api.get(DETAIL).json()["body_areas"]]


def test_a_new_release_renders_afresh_instead_of_reading_an_old_releases_copy(
    api, program, monkeypatch, django_assert_num_queries
):
    api.get(DETAIL)
    with django_assert_num_queries(1):  # the stamp; the body comes from the cache
        api.get(DETAIL)

    monkeypatch.setattr("programs.api.program_detail.release", lambda: "the-next-release")

    with django_assert_num_queries(6):  # the stamp, then the detail's five queries
        api.get(DETAIL)
