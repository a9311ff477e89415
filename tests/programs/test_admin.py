"""The trainers' admin, driven through the test client as a trainer would click it."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.models import BodyArea, Program, ProgramSession, SessionItem, Stretch
from tests.factories import (
    CompletionFactory,
    EnrolmentFactory,
    ProgramFactory,
    SessionItemFactory,
    StretchFactory,
    TrainerFactory,
    UserFactory,
    build_program,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every factory user hashes a password; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def program_form(program=None, *, sessions=None, delete=(), **fields):
    """POST data for the program page: its fields plus the sessions inline.

    `sessions` lists new sessions as (week, day, title); existing ones are sent unchanged.
    """
    data = {
        "title_en": program.title if program else "Two weeks of hips",
        "slug": program.slug if program else "two-weeks-of-hips",
        "summary_en": program.summary if program else "Short daily work for stiff hips.",
        "goal_en": program.goal if program else "Sit and stand with less stiffness.",
        "level": program.level if program else "beginner",
        **fields,
    }
    existing = list(program.sessions.order_by("week", "day")) if program else []
    new = sessions or []
    data.update(_management("sessions", len(existing) + len(new), len(existing)))
    for i, session in enumerate(existing):
        data.update(
            {
                f"sessions-{i}-id": str(session.pk),
                f"sessions-{i}-program": str(program.pk),
                f"sessions-{i}-week": str(session.week),
                f"sessions-{i}-day": str(session.day),
                f"sessions-{i}-title_en": session.title,
            }
        )
        if session in delete:
            data[f"sessions-{i}-DELETE"] = "on"
    for j, (week, day, title) in enumerate(new, start=len(existing)):
        data.update({f"sessions-{j}-week": str(week), f"sessions-{j}-day": str(day), f"sessions-{j}-title_en": title})
    return data


def session_form(session, *, items=(), **fields):
    """POST data for a session page; `items` are dicts (with "id" for existing ones), in page order."""
    data = {"week": str(session.week), "day": str(session.day), "title_en": session.title, "notes_en": "", **fields}
    initial = sum(1 for item in items if "id" in item)
    data.update(_management("items", len(items), initial))
    for i, item in enumerate(items):
        row = {"sets": 1, "rest_seconds": 15, "notes_en": "", "reps": "", "hold_seconds": "", "order": i + 1, **item}
        if "id" in row:
            row["session"] = session.pk
        if row.pop("per_side", False):
            row["per_side"] = "on"
        if row.pop("DELETE", False):
            row["DELETE"] = "on"
        data.update({f"items-{i}-{key}": str(value) for key, value in row.items()})
    return data


def existing_items(session, **changes_by_pk):
    return [
        {
            "id": item.pk,
            "stretch": item.stretch_id,
            "sets": item.sets,
            "reps": item.reps or "",
            "hold_seconds": item.hold_seconds or "",
            "per_side": item.per_side,
            "rest_seconds": item.rest_seconds,
            "order": item.order,
            **changes_by_pk.get(item.pk, {}),
        }
        for item in session.items.order_by("order")
    ]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(program):
    return reverse("admin:programs_program_change", args=[program.pk])


def session_url(session):
    return reverse("admin:programs_programsession_change", args=[session.pk])


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


@pytest.fixture
def stretches(db):
    return [
        StretchFactory(name="Cat–cow", default_reps=5, default_hold_seconds=None),
        StretchFactory(name="Seated hip stretch", default_hold_seconds=20, per_side=True),
        StretchFactory(name="Bar hang", default_hold_seconds=20),
    ]


@pytest.fixture
def own_program(trainer, stretches):
    program = build_program(weeks=1, days=(1, 3), items_per_session=0, author=trainer, status=Program.Status.DRAFT)
    for session in program.sessions.all():
        for order, stretch in enumerate(stretches, start=1):
            SessionItemFactory(session=session, stretch=stretch, order=order, hold_seconds=20)
    return program


# --- Building a program --------------------------------------------------------------------------


def test_it_lets_a_trainer_build_a_two_week_program_in_the_admin(trainer_client, trainer, stretches):
    slots = [(week, day, f"Week {week} day {day}") for week in (1, 2) for day in (1, 3, 5)]
    response = trainer_client.post(reverse("admin:programs_program_add"), program_form(sessions=slots))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""

    program = Program.objects.get(slug="two-weeks-of-hips")
    assert (program.author, program.status) == (trainer, Program.Status.DRAFT)
    assert sorted(program.sessions.values_list("week", "day")) == [(w, d) for w in (1, 2) for d in (1, 3, 5)]

    cat_cow, hip, _ = stretches
    for session in program.sessions.all():
        response = trainer_client.post(
            session_url(session),
            session_form(
                session,
                items=[
                    {"stretch": cat_cow.pk},  # no amount: the stretch's default
                    {"stretch": hip.pk, "hold_seconds": 30, "sets": 2, "per_side": True},
                ],
                _save="Save",
            ),
        )
        # "Save" goes back to the program page.
        assert response.status_code == 302
        assert response.url == change_url(program)

    items = SessionItem.objects.filter(session__program=program)
    assert items.count() == 12
    first = program.sessions.get(week=1, day=1).items.order_by("order")
    assert [(i.stretch, i.order, i.reps, i.hold_seconds) for i in first] == [
        (cat_cow, 1, 5, None),
        (hip, 2, None, 30),
    ]
    assert first[1].prescription_text == "2 × 30 s hold per side"
    assert max(program.sessions.values_list("week", flat=True)) == 2


def test_it_shows_clear_errors_for_a_bad_session_and_saves_nothing(trainer_client, own_program):
    data = program_form(own_program, sessions=[(1, 1, "Clash"), (1, 9, "No such day")])
    response = trainer_client.post(change_url(own_program), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "duplicate data for week and day" in content
    assert "less than or equal to 7" in content
    assert own_program.sessions.count() == 2


def test_it_explains_an_item_with_both_reps_and_hold(trainer_client, own_program, stretches):
    session = own_program.sessions.first()
    items = existing_items(session)
    items[0]["reps"] = 5
    response = trainer_client.post(session_url(session), session_form(session, items=items))
    assert response.status_code == 200
    assert "exactly one" in response.content.decode()


def test_it_reorders_items_by_drag_and_drop(trainer_client, own_program):
    session = own_program.sessions.first()
    a, b, c = session.items.order_by("order")
    # The sortable inline posts the new positions: C first, then A, then B.
    items = existing_items(session)
    new_order = {c.pk: 1, a.pk: 2, b.pk: 3}
    for item in items:
        item["order"] = new_order[item["id"]]
    response = trainer_client.post(session_url(session), session_form(session, items=items, _continue="1"))
    assert response.status_code == 302
    assert list(session.items.order_by("order").values_list("pk", "order")) == [(c.pk, 1), (a.pk, 2), (b.pk, 3)]


def test_it_adds_and_removes_items_while_reordering(trainer_client, own_program, stretches):
    session = own_program.sessions.first()
    a, b, c = session.items.order_by("order")
    items = existing_items(session)
    items[0].update(order=3)  # a goes last
    items[1].update(DELETE=True)  # b goes
    items[2].update(order=1)  # c first
    items.append({"stretch": stretches[0].pk, "reps": 8, "order": 2})  # new one dragged between
    response = trainer_client.post(session_url(session), session_form(session, items=items, _continue="1"))
    assert response.status_code == 302
    rows = list(session.items.order_by("order").values_list("stretch_id", "order", "reps"))
    assert rows == [(c.stretch_id, 1, None), (stretches[0].pk, 2, 8), (a.stretch_id, 3, None)]


# --- Publishing ----------------------------------------------------------------------------------


def test_it_refuses_to_publish_a_program_with_an_empty_session(trainer_client, own_program):
    empty = ProgramSession.objects.create(program=own_program, week=2, day=4, title="Nothing here yet")
    response = trainer_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "publish_programs", "_selected_action": [own_program.pk]},
    )
    assert response.status_code == 302
    [message] = messages_of(response)
    assert "cannot be published" in message
    assert f"week 2 day 4 ({empty.title})" in message
    own_program.refresh_from_db()
    assert own_program.status == Program.Status.DRAFT


def test_it_refuses_to_publish_a_program_without_sessions(trainer_client, trainer):
    program = ProgramFactory(author=trainer, status=Program.Status.DRAFT)
    response = trainer_client.post(change_url(program), {**program_form(program), "_publish": "1"})
    assert response.status_code == 302
    assert any("no sessions yet" in m for m in messages_of(response))
    program.refresh_from_db()
    assert program.status == Program.Status.DRAFT


def test_it_shows_what_blocks_publishing_on_the_program_page(trainer_client, own_program, stretches):
    Stretch.objects.filter(pk=stretches[2].pk).update(status=Stretch.Status.DRAFT)
    content = trainer_client.get(change_url(own_program)).content.decode()
    assert "Before it can be published" in content
    assert "still drafts" in content and "Bar hang" in content


def test_it_publishes_unpublishes_and_archives_from_the_program_page(trainer_client, own_program):
    response = trainer_client.post(change_url(own_program), {**program_form(own_program), "_publish": "1"})
    assert response.status_code == 302
    own_program.refresh_from_db()
    assert own_program.status == Program.Status.PUBLISHED
    assert own_program.published_at is not None

    trainer_client.post(change_url(own_program), {**program_form(own_program), "_unpublish": "1"})
    own_program.refresh_from_db()
    assert own_program.status == Program.Status.DRAFT

    trainer_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "archive_programs", "_selected_action": [own_program.pk]},
    )
    own_program.refresh_from_db()
    assert own_program.status == Program.Status.ARCHIVED


def test_it_keeps_a_published_session_from_losing_all_its_stretches(trainer_client, own_program):
    own_program.status = Program.Status.PUBLISHED
    own_program.save()
    session = own_program.sessions.first()
    items = [{**item, "DELETE": True} for item in existing_items(session)]
    response = trainer_client.post(session_url(session), session_form(session, items=items))
    assert response.status_code == 200
    assert "needs at least one stretch" in response.content.decode()
    assert session.items.count() == 3


# --- Duplicating ---------------------------------------------------------------------------------


def test_it_duplicates_a_program_as_a_draft_copy(trainer_client, trainer, own_program):
    own_program.status = Program.Status.PUBLISHED
    own_program.save()
    response = trainer_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "duplicate_programs", "_selected_action": [own_program.pk]},
    )
    assert response.status_code == 302
    copy = Program.objects.get(slug=f"{own_program.slug}-copy")
    assert (copy.status, copy.author) == (Program.Status.DRAFT, trainer)

    def shape(program):
        return list(
            SessionItem.objects.filter(session__program=program)
            .order_by("session__week", "session__day", "order")
            .values_list("session__week", "session__day", "session__title", "stretch", "order", "hold_seconds")
        )

    assert shape(copy) == shape(own_program)
    assert shape(copy) and SessionItem.objects.count() == 2 * len(shape(own_program))


# --- Who may change what -------------------------------------------------------------------------


@pytest.fixture
def other_client(client, db):
    client.force_login(TrainerFactory(username="olga"))
    return client


def test_it_shows_another_trainers_program_read_only(other_client, own_program):
    response = other_client.get(change_url(own_program))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="_save"' not in content
    assert 'name="_publish"' not in content
    assert 'name="_duplicate"' in content
    assert "duplicate it to make your own version" in content


def test_it_refuses_changes_to_another_trainers_program(other_client, own_program):
    before = own_program.title
    response = other_client.post(change_url(own_program), program_form(own_program, title_en="Taken over"))
    assert response.status_code == 403
    session = own_program.sessions.first()
    response = other_client.post(session_url(session), session_form(session, items=existing_items(session)))
    assert response.status_code == 403
    own_program.refresh_from_db()
    assert own_program.title == before


def test_it_refuses_to_let_another_trainer_delete_the_program(other_client, own_program):
    assert other_client.get(reverse("admin:programs_program_delete", args=[own_program.pk])).status_code == 403
    response = other_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "delete_selected", "_selected_action": [own_program.pk], "post": "yes"},
    )
    assert response.status_code == 403
    session = own_program.sessions.first()
    assert other_client.post(reverse("admin:programs_programsession_delete", args=[session.pk])).status_code == 403
    assert Program.objects.filter(pk=own_program.pk).exists()
    assert own_program.sessions.count() == 2


def test_it_skips_another_trainers_program_in_bulk_actions(other_client, own_program):
    response = other_client.post(
        reverse("admin:programs_program_changelist"),
        {"action": "archive_programs", "_selected_action": [own_program.pk]},
    )
    assert any("did not write" in m for m in messages_of(response))
    own_program.refresh_from_db()
    assert own_program.status == Program.Status.DRAFT


def test_it_refuses_a_session_added_to_another_trainers_program(other_client, own_program):
    data = {"program": own_program.pk, "week": 3, "day": 1, "title_en": "Sneaky", **_management("items", 0, 0)}
    response = other_client.post(reverse("admin:programs_programsession_add"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not own_program.sessions.filter(week=3).exists()


def test_it_lets_another_trainer_duplicate_to_make_their_own(other_client, own_program):
    response = other_client.post(change_url(own_program), {"_duplicate": "1"})
    copy = Program.objects.get(slug=f"{own_program.slug}-copy")
    assert response.status_code == 302 and response.url == change_url(copy)
    assert copy.author.username == "olga"
    assert other_client.post(change_url(copy), program_form(copy, title_en="Mine now")).status_code == 302


def test_it_lets_a_superuser_change_any_program(client, own_program):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    data = program_form(own_program, title_en="Edited by admin", author=own_program.author_id)
    assert client.post(change_url(own_program), data).status_code == 302
    own_program.refresh_from_db()
    assert own_program.title == "Edited by admin"


def test_it_sets_the_author_of_a_new_program(trainer_client, trainer):
    trainer_client.post(reverse("admin:programs_program_add"), program_form(sessions=[]))
    assert Program.objects.get().author == trainer


def test_it_keeps_members_out_of_the_admin(client, own_program):
    client.force_login(UserFactory())
    assert client.get(change_url(own_program)).status_code == 302


# --- Deleting what members used ------------------------------------------------------------------


def test_it_refuses_to_delete_a_session_members_have_done(trainer_client, own_program):
    session = own_program.sessions.order_by("day").first()
    CompletionFactory(enrolment=EnrolmentFactory(program=own_program), program_session=session)
    response = trainer_client.post(change_url(own_program), program_form(own_program, delete=[session]))
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert ProgramSession.objects.filter(pk=session.pk).exists()


def test_it_refuses_to_delete_a_stretch_used_in_a_session(client, own_program, stretches):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:programs_stretch_delete", args=[stretches[0].pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "protected" in response.content.decode()
    assert Stretch.objects.filter(pk=stretches[0].pk).exists()


# --- Changelists and helpers ---------------------------------------------------------------------


def _add_listed_programs(count, start=0):
    stretch = StretchFactory(body_areas=[BodyArea.objects.get(slug="hips")])
    for n in range(start, start + count):
        program = build_program(weeks=2, days=(1, 4), items_per_session=0, slug=f"bulk-{n}")
        SessionItemFactory(session=program.sessions.first(), stretch=stretch, order=1)
        EnrolmentFactory(program=program)


def _changelist_queries(client, expected_rows):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:programs_program_changelist"), {"body_area": "hips"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected_rows
    return len(queries)


def test_it_lists_programs_with_a_constant_number_of_queries(trainer_client):
    _add_listed_programs(5)
    few = _changelist_queries(trainer_client, 5)
    _add_listed_programs(45, start=5)
    many = _changelist_queries(trainer_client, 50)
    assert few == many


def test_it_shows_weeks_sessions_and_enrolled_members_in_the_changelist(trainer_client, own_program):
    EnrolmentFactory.create_batch(2, program=own_program)
    EnrolmentFactory(program=own_program, status="left")
    response = trainer_client.get(reverse("admin:programs_program_changelist"))
    row = next(r for r in response.context["cl"].result_list if r.pk == own_program.pk)
    assert (row.weeks, row.session_count, row.enrolled_count) == (1, 2, 2)


def test_it_filters_the_changelist_by_status_level_author_and_body_area(trainer_client, own_program, trainer):
    build_program(weeks=1, days=(1,), slug="elsewhere", level="advanced")
    url = reverse("admin:programs_program_changelist")
    assert trainer_client.get(url, {"status__exact": "draft"}).context["cl"].result_count == 1
    assert trainer_client.get(url, {"level__exact": "advanced"}).context["cl"].result_count == 1
    assert trainer_client.get(url, {"author__id__exact": trainer.pk}).context["cl"].result_count == 1
    assert trainer_client.get(url, {"body_area": "lower-back"}).context["cl"].result_count == 2
    assert trainer_client.get(url, {"body_area": "neck"}).context["cl"].result_count == 0
    assert trainer_client.get(url, {"q": own_program.title}).context["cl"].result_count == 1


def test_it_links_the_program_page_to_the_member_preview(trainer_client, own_program):
    content = trainer_client.get(change_url(own_program)).content.decode()
    preview = reverse("programs:preview", kwargs={"slug": own_program.slug})
    assert f'href="{preview}"' in content
    assert trainer_client.get(preview).status_code == 200


def test_it_finds_stretches_by_autocomplete(trainer_client, stretches):
    response = trainer_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "programs", "model_name": "sessionitem", "field_name": "stretch", "term": "hip"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Seated hip stretch"]


def test_it_lets_a_trainer_add_a_stretch(trainer_client):
    hips = BodyArea.objects.get(slug="hips")
    data = {
        "name_en": "Figure four",
        "slug": "figure-four",
        "status": "draft",
        "summary_en": "Lying hip opener.",
        "steps_en": "Lie on your back.\nCross one ankle over the other knee.",
        "body_areas": [hips.pk],
        "position": "lying",
        "equipment": "mat",
        "difficulty": 1,
        "default_sets": 1,
        "default_hold_seconds": 30,
        "default_reps": "",
        # The pictures inline, empty.
        "images-TOTAL_FORMS": 0,
        "images-INITIAL_FORMS": 0,
    }
    response = trainer_client.post(reverse("admin:programs_stretch_add"), data)
    assert response.status_code == 302
    assert list(Stretch.objects.get(slug="figure-four").body_areas.all()) == [hips]
    assert trainer_client.get(reverse("admin:programs_stretch_changelist")).status_code == 200


def test_it_keeps_a_stretch_of_a_published_program_published(trainer_client, own_program, stretches):
    own_program.status = Program.Status.PUBLISHED
    own_program.save()
    trainer_client.post(
        reverse("admin:programs_stretch_changelist"),
        {"action": "draft_stretches", "_selected_action": [s.pk for s in stretches]},
    )
    assert set(Stretch.objects.values_list("status", flat=True)) == {"published"}


def test_the_stretch_page_refuses_draft_for_a_stretch_of_a_published_program(trainer_client, own_program, stretches):
    own_program.status = Program.Status.PUBLISHED
    own_program.save()
    stretch = stretches[0]
    form = trainer_client.get(reverse("admin:programs_stretch_change", args=[stretch.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(status="draft", body_areas=[a.pk for a in stretch.body_areas.all()], default_hold_seconds="")

    response = trainer_client.post(reverse("admin:programs_stretch_change", args=[stretch.pk]), data)

    assert response.status_code == 200
    assert "part of a published program, so it cannot go back to draft" in response.content.decode()
    assert Stretch.objects.get(pk=stretch.pk).status == Stretch.Status.PUBLISHED


def test_it_suggests_the_next_free_day_when_adding_a_session(trainer_client, own_program):
    response = trainer_client.get(reverse("admin:programs_programsession_add"), {"program": own_program.pk})
    form = response.context["adminform"].form
    assert (form.initial["week"], form.initial["day"]) == (1, 5)
