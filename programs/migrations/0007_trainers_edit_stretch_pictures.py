from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["add_stretchimage", "change_stretchimage", "view_stretchimage", "delete_stretchimage"]


def forwards(apps, schema_editor):
    # Permissions are normally made after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Trainers"):
        group.permissions.add(*Permission.objects.filter(content_type__app_label="programs", codename__in=CODENAMES))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Trainers"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="programs", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [("programs", "0006_stretch_pictures_and_video")]

    operations = [migrations.RunPython(forwards, backwards)]
