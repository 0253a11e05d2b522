"""Settings entry point: development defaults, or production when DJANGO_ENV=production."""

from passcode_portal.env import envstr
from passcode_portal.settings.base import *  # noqa: F403
from passcode_portal.settings.exports import *  # noqa: F403

if envstr("DJANGO_ENV", "development") == "production":
    from passcode_portal.settings.production import *  # noqa: F403
