"""What the dashboards' services tell their task layer: an export was queued (sent inside the
transaction that wrote it; ``dashboards.receivers`` enqueues its build once that commits)."""

from django.dispatch import Signal

# Sent with ``export``, the row just written.
export_queued = Signal()
