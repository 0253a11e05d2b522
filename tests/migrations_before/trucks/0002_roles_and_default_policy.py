from django.db import migrations

ROLES = ["driver", "dispatcher", "consignee", "staff", "official", "admin"]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Policy = apps.get_model("trucks", "Policy")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    Policy.objects.get_or_create(version=1, defaults={"note": "Default policy"})


class Migration(migrations.Migration):
    dependencies = [("trucks", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
