from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "passcode_portal"
    verbose_name = _("Pass-code portal")

    def ready(self) -> None:
        # WhiteNoise warns on every start when STATIC_ROOT is missing, as it is before the first
        # collectstatic (development, tests); an empty folder is the truth it expects.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        # kombu's filesystem transport does not create its folders; the embedded broker must
        # work on a fresh checkout, for the web process and the worker alike.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
                if folder:
                    Path(str(folder)).mkdir(parents=True, exist_ok=True)
