"""The Trainers group's permissions and the standard body areas.

Migration 0002 made both with its own frozen copy of these lists; these
functions make them again where a database lost them (a flushed test
database, an old dump) so seed_demo and the test factories never depend on
migration rows still being there.
"""

from django.contrib.auth.models import Group, Permission

from .models import BodyArea

TRAINERS_GROUP = "Trainers"

TRAINER_PERMISSIONS = {
    "stretch": ["add", "change", "view"],
    "stretchimage": ["add", "change", "view", "delete"],
    "bodyarea": ["view"],
    # Object-level limits (own programs only) are applied in the admin.
    "program": ["add", "change", "view", "delete"],
    "programsession": ["add", "change", "view", "delete"],
    "sessionitem": ["add", "change", "view", "delete"],
    "enrolment": ["view"],
    "completion": ["view"],
}

BODY_AREAS = {
    "lower-back": "Lower back",
    "upper-back": "Upper back",
    "neck": "Neck",
    "shoulders": "Shoulders",
    "chest": "Chest",
    "hips": "Hips",
    "glutes": "Glutes",
    "hamstrings": "Hamstrings",
    "quadriceps": "Quadriceps",
    "calves": "Calves",
    "core": "Core",
}


def trainers_group() -> Group:
    group, created = Group.objects.get_or_create(name=TRAINERS_GROUP)
    if created or not group.permissions.exists():
        codenames = [f"{action}_{model}" for model, actions in TRAINER_PERMISSIONS.items() for action in actions]
        group.permissions.set(Permission.objects.filter(content_type__app_label="programs", codename__in=codenames))
    return group


def body_areas() -> dict[str, BodyArea]:
    areas = {area.slug: area for area in BodyArea.objects.all()}
    for slug, name in BODY_AREAS.items():
        if slug not in areas:
            areas[slug] = BodyArea.objects.create(slug=slug, name=name)
    return areas
