"""Celery tasks of the registration side. Each lives beside the code it drives; importing them
here lets Celery's autodiscovery (which imports ``<app>.tasks``) register them all."""

from handover.tasks import *  # noqa: F403
from notifications.tasks import *  # noqa: F403
from trucks.lifecycle_tasks import *  # noqa: F403
