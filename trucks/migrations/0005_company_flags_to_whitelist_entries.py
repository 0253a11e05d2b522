"""Each company whitelisted by the old flag (``whitelisted``, ``whitelist_until``,
``whitelist_reason``) becomes one whitelist entry of the same reach: every plate, every cargo
category, valid from the company's creation (the flag may have been set any time since; so the
entry is in force at every instant the flag was known to be) until ``whitelist_until``, or with no
end. The old flag knew no priority lane, so none is given: officials grant it on the page. Each
entry gets a first history row, by the system, so its audit starts here. (No vehicle carried a
flag of its own.)"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

CHANGE_REASON = "Migrated from the company's whitelist flag"


def forward(apps, schema_editor):
    Company = apps.get_model("trucks", "Company")
    WhitelistEntry = apps.get_model("trucks", "WhitelistEntry")
    HistoricalWhitelistEntry = apps.get_model("trucks", "HistoricalWhitelistEntry")
    now = timezone.now()
    for company in Company.objects.filter(whitelisted=True).order_by("pk").iterator():
        until = company.whitelist_until
        start = company.created_at
        if until is not None and until <= start:
            # An end before the company existed (a typing slip): keep the entry, ended at once.
            start = until - timedelta(seconds=1)
        entry = WhitelistEntry.objects.create(
            company_id=company.pk,
            plates=[],
            cargo_categories=[],
            valid_from=start,
            valid_until=until,
            priority_lane=False,
            reason=company.whitelist_reason,
            created_by=None,
            created_at=now,
        )
        HistoricalWhitelistEntry.objects.create(
            id=entry.pk,
            company_id=company.pk,
            plates=[],
            cargo_categories=[],
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            priority_lane=False,
            reason=entry.reason,
            created_by=None,
            created_at=now,
            revoked_at=None,
            revoked_by=None,
            revoke_reason="",
            history_date=now,
            history_type="+",
            history_user=None,
            history_change_reason=CHANGE_REASON,
        )


def backward(apps, schema_editor):
    """The entries the flag made go back to the flag; entries officials made since have no
    flag to go back to and are left for the reverse of the previous migration to drop."""
    Company = apps.get_model("trucks", "Company")
    WhitelistEntry = apps.get_model("trucks", "WhitelistEntry")
    for entry in WhitelistEntry.objects.filter(revoked_at__isnull=True).order_by("valid_from"):
        if entry.plates or entry.cargo_categories:
            continue
        Company.objects.filter(pk=entry.company_id).update(
            whitelisted=True, whitelist_until=entry.valid_until, whitelist_reason=entry.reason
        )


class Migration(migrations.Migration):
    dependencies = [("trucks", "0004_whitelist_entries")]

    operations = [migrations.RunPython(forward, backward)]
