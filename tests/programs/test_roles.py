import pytest
from django.contrib.auth.models import Group

from programs.models import BodyArea
from programs.roles import body_areas, trainers_group

pytestmark = pytest.mark.django_db


def _codenames(group):
    return set(group.permissions.values_list("codename", flat=True))


def test_it_matches_what_the_migration_made():
    made_by_migration = _codenames(Group.objects.get(name="Trainers"))
    assert made_by_migration
    assert _codenames(trainers_group()) == made_by_migration
    assert {a.slug for a in BodyArea.objects.all()} == set(body_areas())


def test_it_makes_the_group_and_areas_again_when_a_database_lost_them():
    Group.objects.filter(name="Trainers").delete()
    BodyArea.objects.all().delete()

    group = trainers_group()

    assert {"add_program", "change_program", "add_stretch", "view_enrolment"} <= _codenames(group)
    assert body_areas()["lower-back"].name == "Lower back"
