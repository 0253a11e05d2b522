"""Settings for the floor server: the product's settings with no middleware and the floor URLs."""

from passcode_portal.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.floor"
