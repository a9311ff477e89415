import datetime as dt

import pytest

from programs import selectors, services
from programs.api.serializers import ProgramDetailSerializer
from programs.models import BodyArea, Program, Stretch
from tests.factories import (
    BodyAreaFactory,
    ProgramFactory,
    ProgramSessionFactory,
    SessionItemFactory,
    StretchFactory,
    StretchImageFactory,
    TrainerFactory,
    build_program,
)

pytestmark = pytest.mark.django_db


def _slugs(response):
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_it_lists_only_published_programs(api, program):
    ProgramFactory(slug="draft", status=Program.Status.DRAFT)
    ProgramFactory(slug="old", status=Program.Status.ARCHIVED)

    response = api.get("/api/v1/programs/")

    assert _slugs(response) == ["back"]
    card = response.json()["results"][0]
    assert card["weeks"] == 2
    assert card["session_count"] == 6
    assert card["body_areas"] == [{"slug": "lower-back", "name": "Lower back"}]


def test_it_filters_programs_by_body_area_level_equipment_and_difficulty(api, program):
    hips = BodyAreaFactory(name="Hips", slug="hips")
    bar = StretchFactory(body_areas=[hips], equipment=Stretch.Equipment.PULL_UP_BAR, difficulty=3)
    hard = ProgramFactory(slug="hang", level=Program.Level.ADVANCED)
    SessionItemFactory(session=ProgramSessionFactory(program=hard, week=1, day=1), stretch=bar)

    assert _slugs(api.get("/api/v1/programs/?body_area=hips")) == ["hang"]
    assert _slugs(api.get("/api/v1/programs/?body_area=nowhere")) == []
    assert _slugs(api.get("/api/v1/programs/?level=advanced")) == ["hang"]
    assert _slugs(api.get("/api/v1/programs/?equipment=pull_up_bar")) == ["hang"]
    assert _slugs(api.get("/api/v1/programs/?max_difficulty=1")) == ["back"]
    assert _slugs(api.get("/api/v1/programs/?length=1-2")) == ["back", "hang"]


def test_it_searches_and_orders_programs(api, program):
    ProgramSessionFactory(program=ProgramFactory(slug="neck", title="Neck ease"), week=3, day=1)

    assert _slugs(api.get("/api/v1/programs/?search=neck")) == ["neck"]
    assert _slugs(api.get("/api/v1/programs/?ordering=-weeks")) == ["neck", "back"]
    assert _slugs(api.get("/api/v1/programs/?ordering=title")) == ["back", "neck"]


@pytest.mark.parametrize(
    "query",
    ["level=expert", "ordering=password", "ordering=title,slug", "limit=0", "limit=101", "offset=-1", "limit=x"],
)
def test_it_refuses_bad_list_parameters_with_a_400(api, program, query):
    response = api.get(f"/api/v1/programs/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]


def test_it_filters_stretches(api):
    hips = BodyAreaFactory(name="Hips", slug="hips")
    StretchFactory(slug="cat-cow", name="Cat–cow", position=Stretch.Position.ALL_FOURS, difficulty=1)
    StretchFactory(slug="hang", name="Hang", body_areas=[hips], equipment="pull_up_bar", difficulty=2)
    StretchFactory(slug="secret", status=Stretch.Status.DRAFT)

    assert _slugs(api.get("/api/v1/stretches/")) == ["cat-cow", "hang"]
    assert _slugs(api.get("/api/v1/stretches/?body_area=hips")) == ["hang"]
    assert _slugs(api.get("/api/v1/stretches/?equipment=pull_up_bar")) == ["hang"]
    assert _slugs(api.get("/api/v1/stretches/?position=all_fours")) == ["cat-cow"]
    assert _slugs(api.get("/api/v1/stretches/?difficulty=2")) == ["hang"]
    assert _slugs(api.get("/api/v1/stretches/?search=cat")) == ["cat-cow"]
    assert _slugs(api.get("/api/v1/stretches/?ordering=-difficulty")) == ["hang", "cat-cow"]
    assert api.get("/api/v1/stretches/secret/").status_code == 404


def test_it_shows_a_stretch_with_its_steps_and_cautions(api):
    StretchFactory(slug="cat-cow", cautions="Move slowly.\nStop if it hurts.")

    body = api.get("/api/v1/stretches/cat-cow/").json()

    assert body["steps"] == ["Stand tall.", "Reach up slowly.", "Breathe out and relax."]
    assert body["cautions"] == ["Move slowly.", "Stop if it hurts."]
    assert body["default_prescription"] == {
        "sets": 1,
        "reps": None,
        "hold_seconds": 20,
        "per_side": False,
        "text": "20 s hold",
    }


def test_it_returns_a_programs_whole_structure(api, program):
    body = api.get("/api/v1/programs/back/").json()

    assert body["slug"] == "back"
    assert [w["week"] for w in body["weeks"]] == [1, 2]
    first = body["weeks"][0]["sessions"][0]
    assert (first["day"], first["day_number"]) == (1, 1)
    assert [d["day"] for d in body["weeks"][1]["sessions"]] == [1, 3, 5]
    item = first["items"][0]
    assert set(item["stretch"]) == {"id", "slug", "name"}
    assert item["prescription"]["hold_seconds"] == 20
    assert item["prescription"]["text"] == "20 s hold"
    assert len(body["stretches"]) == 2
    assert body["stretches"][0]["steps"]


def test_it_hides_draft_and_unknown_programs(api):
    ProgramFactory(slug="draft", status=Program.Status.DRAFT)

    assert api.get("/api/v1/programs/draft/").status_code == 404
    response = api.get("/api/v1/programs/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_answers_unknown_api_addresses_in_json(api):
    response = api.get("/api/v1/programs/bad.slug/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("weeks", [1, 4])
def test_it_builds_program_detail_in_constant_queries(api, django_assert_num_queries, weeks):
    build_program(weeks=weeks, days=(1, 2, 3, 4, 5), items_per_session=4, slug="big")

    # the stamp, then program, sessions, items with stretches, stretches' body areas and pictures
    with django_assert_num_queries(6):
        assert api.get("/api/v1/programs/big/").status_code == 200
    # then the stamp alone: the body is kept under a key made from it
    with django_assert_num_queries(1):
        assert api.get("/api/v1/programs/big/").status_code == 200


@pytest.mark.parametrize("published", [True, False])
def test_the_hand_written_program_detail_matches_its_declared_fields(published):
    hips, back = BodyAreaFactory(name="Hips", slug="hips"), BodyAreaFactory(name="Back", slug="back")
    program = ProgramFactory(
        slug="mixed",
        author=None if not published else TrainerFactory(display_name="Ana"),
        published_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC) if published else None,
    )
    reps = StretchFactory(
        body_areas=[hips, back], default_hold_seconds=None, default_reps=8, media_url="https://example.com/a.mp4"
    )
    hold = StretchFactory(cues="", cautions="Slowly.\n\nNever bounce.")
    StretchImageFactory(stretch=reps, alt="Arms up.", caption="Start here.", side="left", size=(700, 500))
    services.stretch_video_embed(stretch=hold, url="https://vimeo.com/76979871")
    first = ProgramSessionFactory(program=program, week=1, day=2, notes="Go gently.")
    SessionItemFactory(session=first, stretch=reps, order=0, hold_seconds=None, reps=10, sets=2, per_side=True)
    SessionItemFactory(session=first, stretch=hold, order=1, notes="Left side first.")
    SessionItemFactory(session=ProgramSessionFactory(program=program, week=3, day=7), stretch=hold, order=0)
    page = selectors.program_page(slug="mixed", include_unpublished=True)
    serializer = ProgramDetailSerializer(page)

    assert serializer.data == super(ProgramDetailSerializer, serializer).to_representation(page)


@pytest.mark.parametrize("count", [2, 12])
def test_it_lists_programs_and_stretches_in_constant_queries(api, django_assert_num_queries, count):
    for _ in range(count):
        build_program(weeks=1, days=(1,), items_per_session=1)

    with django_assert_num_queries(3):  # count, page, body areas of the page
        assert len(api.get("/api/v1/programs/").json()["results"]) == count
    with django_assert_num_queries(4):  # count, page, body areas, pictures
        assert len(api.get("/api/v1/stretches/").json()["results"]) == count


def test_it_shows_a_catalogue_change_at_once(api, program, django_capture_on_commit_callbacks):
    assert api.get("/api/v1/programs/back/").json()["title"] == "Lower back relief"

    with django_capture_on_commit_callbacks(execute=True):
        program.title = "Back at ease"
        program.save()
    assert api.get("/api/v1/programs/back/").json()["title"] == "Back at ease"

    stretch = Stretch.objects.filter(session_items__session__program=program).first()
    with django_capture_on_commit_callbacks(execute=True):
        stretch.name = "Cat and cow"
        stretch.save()
    names = [s["name"] for s in api.get("/api/v1/programs/back/").json()["stretches"]]
    assert "Cat and cow" in names

    with django_capture_on_commit_callbacks(execute=True):
        program.status = Program.Status.ARCHIVED
        program.save()
    assert api.get("/api/v1/programs/back/").status_code == 404


def test_it_shows_a_stretchs_new_body_area_at_once(api, program, django_capture_on_commit_callbacks):
    api.get("/api/v1/programs/back/")
    hips = BodyArea.objects.get(slug="hips")
    stretch = Stretch.objects.filter(session_items__session__program=program).first()

    with django_capture_on_commit_callbacks(execute=True):
        stretch.body_areas.add(hips)

    assert {"slug": "hips", "name": "Hips"} in api.get("/api/v1/programs/back/").json()["body_areas"]


def test_it_answers_a_conditional_request_for_an_unchanged_detail_with_304(api, program):
    first = api.get("/api/v1/programs/back/")
    etag = first["ETag"]

    again = api.get("/api/v1/programs/back/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_it_gives_a_changed_detail_a_new_etag(api, program):
    etag = api.get("/api/v1/programs/back/")["ETag"]
    item = program.sessions.first().items.first()
    item.hold_seconds, item.reps = 45, None
    item.save()

    response = api.get("/api/v1/programs/back/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
