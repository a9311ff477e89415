"""Every write to a catalogue row adds one to its version, however it is made (CatalogueModel)."""

import pytest

from programs.models import Program, SessionItem, Stretch
from tests.factories import StretchFactory, build_program

pytestmark = pytest.mark.django_db


def _version(model, pk) -> int:
    return model.objects.values_list("version", flat=True).get(pk=pk)


def test_a_new_row_starts_at_version_one():
    assert StretchFactory().version == 1


def test_save_adds_one_and_reads_the_new_version_back():
    stretch = StretchFactory()
    stretch.name = "Cat and cow"
    stretch.save()
    stretch.save()

    assert stretch.version == 3 == _version(Stretch, stretch.pk)


def test_a_partial_save_adds_one_too():
    stretch = StretchFactory()
    stretch.cautions = "Stop if it hurts."
    stretch.save(update_fields=["cautions"])

    assert _version(Stretch, stretch.pk) == 2


def test_a_bulk_update_adds_one_to_each_row_it_changes():
    program = build_program(weeks=1, days=(1, 3), items_per_session=2)
    other = build_program(weeks=1, days=(1,))

    Program.objects.filter(pk=program.pk).update(title="Renamed")
    SessionItem.objects.filter(session__program=program).update(hold_seconds=40, reps=None)

    assert _version(Program, program.pk) == 2 and _version(Program, other.pk) == 1
    assert set(SessionItem.objects.filter(session__program=program).values_list("version", flat=True)) == {2}


def test_bulk_update_adds_one_to_each_row():
    items = list(build_program(weeks=1, days=(1,), items_per_session=3).sessions.get().items.all())
    for n, item in enumerate(reversed(items)):
        item.order = 10 + n

    SessionItem.objects.bulk_update(items, ["order"])

    assert [_version(SessionItem, item.pk) for item in items] == [2, 2, 2]


def test_two_writers_of_one_row_count_twice():
    first, second = StretchFactory(), None
    second = Stretch.objects.get(pk=first.pk)  # both loaded at version 1
    first.name, second.name = "One", "Two"

    first.save()
    second.save()

    assert _version(Stretch, first.pk) == 3
