"""A BRIN index on the scan time, on PostgreSQL: a period's scans (the officials' figures and
exports, ``dashboards.selectors.scans_in``) are found by block ranges instead of reading the whole
log. Scans are written in time order, so a range of table blocks holds a range of times; the index
is some kilobytes where a B-tree takes a hundred megabytes at five million scans, and a scan's
insert barely touches it (new ranges are summarised by autovacuum). SQLite has no BRIN: there the
log is small and nothing is made."""

from django.db import migrations

INDEX = "scan_scanned_at_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON checkpoints_scanevent "
            "USING brin (scanned_at) WITH (autosummarize = on)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("checkpoints", "0003_counted_in_the_figures")]

    operations = [migrations.RunPython(create, drop)]
