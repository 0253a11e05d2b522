from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """The officials' side: figures of the day or a date range, on the page and through the API,
    and exports. The top of the apps: it reads every app below it, and nothing imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        # Connects the receivers (``@receiver``); models must be loaded first, so not earlier.
        from dashboards import receivers  # noqa: F401
