from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "handover"
    verbose_name = _("Hand-over")

    def ready(self) -> None:
        # Connects the receivers (``@receiver``); models must be loaded first, so not earlier.
        from handover import receivers  # noqa: F401
