from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrucksConfig(AppConfig):
    name = "trucks"
    verbose_name = _("Trucks and passes")

    def ready(self) -> None:
        # Connects the receivers (``@receiver``); models must be loaded first, so not earlier.
        from trucks import receivers  # noqa: F401
