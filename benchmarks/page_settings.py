"""Settings for the scan page's benchmark (benchmarks/scanpage.py): the product's settings, its
static files served from the finders (no ``collectstatic`` into the checkout), and the floor's
views beside the product's URLs, so the page can time a bare round trip to the same server."""

from passcode_portal.settings import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
ROOT_URLCONF = "benchmarks.page_urls"
