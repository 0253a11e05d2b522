from django.db import migrations

from passcode_portal.migrating import content_types_moved


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_apps_by_purpose"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        content_types_moved(
            "places",
            [
                ("trucks", "region"),
                ("trucks", "historicalregion"),
                ("checkpoints", "checkpoint"),
                ("checkpoints", "historicalcheckpoint"),
                ("checkpoints", "staffassignment"),
                ("checkpoints", "historicalstaffassignment"),
            ],
        )
    ]
