from django.contrib.auth.management import create_permissions
from django.db import migrations

TRAINER_PERMISSIONS = {
    "stretch": ["add", "change", "view"],
    "bodyarea": ["view"],
    # Object-level limits (own programs only) are applied in the admin.
    "program": ["add", "change", "view", "delete"],
    "programsession": ["add", "change", "view", "delete"],
    "sessionitem": ["add", "change", "view", "delete"],
    "enrolment": ["view"],
    "completion": ["view"],
}

BODY_AREAS = [
    ("Lower back", "lower-back"),
    ("Upper back", "upper-back"),
    ("Neck", "neck"),
    ("Shoulders", "shoulders"),
    ("Chest", "chest"),
    ("Hips", "hips"),
    ("Glutes", "glutes"),
    ("Hamstrings", "hamstrings"),
    ("Quadriceps", "quadriceps"),
    ("Calves", "calves"),
    ("Core", "core"),
]


def forwards(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so the
    # group can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    trainers, _ = Group.objects.get_or_create(name="Trainers")
    codenames = [f"{action}_{model}" for model, actions in TRAINER_PERMISSIONS.items() for action in actions]
    trainers.permissions.set(Permission.objects.filter(content_type__app_label="programs", codename__in=codenames))

    BodyArea = apps.get_model("programs", "BodyArea")
    for name, slug in BODY_AREAS:
        BodyArea.objects.get_or_create(slug=slug, defaults={"name": name})


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Trainers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
