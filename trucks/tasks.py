"""Celery tasks of the registration side. Each lives beside the code it drives; importing them
here lets Celery's autodiscovery (which imports ``<app>.tasks``) register them all."""
