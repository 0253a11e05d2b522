"""Celery tasks of the registration side. Each lives beside the code it drives; importing them
here lets Celery's autodiscovery (which imports ``<app>.tasks``) register them all."""

from trucks.lifecycle_tasks import *  # noqa: F403
from trucks.notify_tasks import *  # noqa: F403
from trucks.webhook_tasks import *  # noqa: F403
