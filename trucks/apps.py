from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrucksConfig(AppConfig):
    name = "trucks"
    verbose_name = _("Trucks and passes")
