"""Trainer-side program services: publish, unpublish, archive, duplicate, item order."""

import pytest

from programs import services
from programs.models import Program, SessionItem, Stretch
from tests.factories import ProgramFactory, ProgramSessionFactory, SessionItemFactory, StretchFactory, build_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _draft(**kwargs):
    return build_program(status=Program.Status.DRAFT, **kwargs)


def test_it_publishes_a_complete_program():
    program = _draft()
    services.program_publish(program=program)
    program.refresh_from_db()
    assert program.status == Program.Status.PUBLISHED
    assert program.published_at is not None


def test_it_refuses_to_publish_a_program_without_sessions():
    program = ProgramFactory(status=Program.Status.DRAFT)
    with pytest.raises(services.ProgramError, match="no sessions yet"):
        services.program_publish(program=program)
    program.refresh_from_db()
    assert program.status == Program.Status.DRAFT


def test_it_names_the_empty_sessions_when_refusing_to_publish():
    program = _draft(weeks=1, days=(1,))
    ProgramSessionFactory(program=program, week=2, day=3, title="Forgotten")
    with pytest.raises(services.ProgramError, match=r"week 2 day 3 \(Forgotten\)"):
        services.program_publish(program=program)
    assert Program.objects.get(pk=program.pk).published_at is None


def test_it_refuses_to_publish_with_a_draft_stretch():
    program = _draft(weeks=1, days=(1,), items_per_session=1)
    Stretch.objects.update(status=Stretch.Status.DRAFT, name="Unfinished")
    with pytest.raises(services.ProgramError, match="still drafts.*Unfinished"):
        services.program_publish(program=program)


def test_it_keeps_the_first_publication_date_when_published_again():
    program = _draft()
    services.program_publish(program=program)
    first = Program.objects.get(pk=program.pk).published_at
    services.program_publish(program=program)
    assert Program.objects.get(pk=program.pk).published_at == first


def test_it_unpublishes_and_archives():
    program = build_program()
    services.program_unpublish(program=program)
    assert Program.objects.get(pk=program.pk).status == Program.Status.DRAFT
    services.program_archive(program=program)
    assert Program.objects.get(pk=program.pk).status == Program.Status.ARCHIVED


def test_it_publishes_stretches():
    drafts = [StretchFactory(status=Stretch.Status.DRAFT) for _ in range(2)]
    assert services.stretch_publish(stretches=Stretch.objects.filter(pk__in=[s.pk for s in drafts])) == 2
    assert set(Stretch.objects.values_list("status", flat=True)) == {Stretch.Status.PUBLISHED}


def test_it_sets_stretches_back_to_draft_but_keeps_those_a_published_program_uses():
    program = build_program(weeks=1, days=(1,), items_per_session=1)
    used = program.sessions.get().items.get().stretch
    used.name = "In use"
    used.save()
    spare = StretchFactory()

    result = services.stretch_draft(stretches=Stretch.objects.all())

    assert result == services.StretchDraftResult(drafted=1, kept=["In use"])
    assert Stretch.objects.get(pk=spare.pk).status == Stretch.Status.DRAFT
    assert Stretch.objects.get(pk=used.pk).status == Stretch.Status.PUBLISHED


def test_a_draft_programs_stretch_may_go_back_to_draft():
    program = _draft(weeks=1, days=(1,), items_per_session=1)
    stretch = program.sessions.get().items.get().stretch
    services.stretch_draft_check(stretch=stretch)
    assert services.stretch_draft(stretches=Stretch.objects.all()).drafted == 1


def test_it_refuses_to_draft_one_stretch_a_published_program_uses():
    program = build_program(weeks=1, days=(1,), items_per_session=1)
    stretch = program.sessions.get().items.get().stretch
    with pytest.raises(services.ProgramError, match="part of a published program"):
        services.stretch_draft_check(stretch=stretch)


def test_it_duplicates_deeply_as_a_draft_of_the_new_author(trainer):
    program = build_program(weeks=2, days=(1, 4), items_per_session=3, slug="hips")
    copy = services.program_duplicate(program=program, author=trainer)
    assert (copy.slug, copy.status, copy.author, copy.published_at) == ("hips-copy", "draft", trainer, None)
    assert copy.title == f"{program.title} (copy)"

    def rows(p):
        return list(
            SessionItem.objects.filter(session__program=p)
            .order_by("session__week", "session__day", "order")
            .values_list("session__week", "session__day", "stretch_id", "order", "hold_seconds", "per_side")
        )

    assert rows(copy) == rows(program) and len(rows(copy)) == 12
    # The original is untouched and keeps its own rows.
    assert SessionItem.objects.filter(session__program=program).count() == 12


def test_it_numbers_further_copies():
    program = build_program(slug="hips")
    slugs = [services.program_duplicate(program=program, author=None).slug for _ in range(3)]
    assert slugs == ["hips-copy", "hips-copy-2", "hips-copy-3"]


def test_it_keeps_a_long_slug_within_its_limit():
    program = build_program(slug="x" * 140)
    copy = services.program_duplicate(program=program, author=None)
    assert len(copy.slug) == 140 and copy.slug.endswith("-copy")


def test_it_duplicates_with_a_fixed_number_of_queries(django_assert_max_num_queries):
    small = build_program(weeks=1, days=(1,), items_per_session=1)
    big = build_program(weeks=8, days=(1, 3, 5), items_per_session=4)
    counts = []
    for program in (small, big):
        with django_assert_max_num_queries(12) as captured:
            services.program_duplicate(program=program, author=None)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_it_swaps_items_without_breaking_the_unique_order():
    session = ProgramSessionFactory()
    a, b, c = (SessionItemFactory(session=session, order=n) for n in (1, 2, 3))
    services.session_items_reorder(session=session, item_ids=[c.pk, b.pk, a.pk])
    assert list(session.items.order_by("order").values_list("pk", "order")) == [(c.pk, 1), (b.pk, 2), (a.pk, 3)]


def test_it_closes_gaps_when_arranging_items():
    session = ProgramSessionFactory()
    a, b = SessionItemFactory(session=session, order=7), SessionItemFactory(session=session, order=40)
    new = SessionItem(stretch=a.stretch, reps=5)
    services.session_items_arrange(session=session, items=[b, new])
    assert list(session.items.order_by("order").values_list("pk", "order")) == [(b.pk, 1), (new.pk, 2), (a.pk, 3)]


def test_it_refuses_a_reorder_that_does_not_name_every_item_once():
    session = ProgramSessionFactory()
    a, b = SessionItemFactory(session=session, order=1), SessionItemFactory(session=session, order=2)
    other = SessionItemFactory()
    for ids in ([a.pk], [a.pk, a.pk], [a.pk, b.pk, other.pk]):
        with pytest.raises(services.ProgramError, match="exactly once"):
            services.session_items_reorder(session=session, item_ids=ids)
    assert list(session.items.order_by("order").values_list("pk", flat=True)) == [a.pk, b.pk]
