"""Fast settings for the test suite: same database choice as base (SQLite, or DATABASE_URL)."""

import base64
import os
from typing import cast

from django.core.management.utils import get_random_secret_key

from passcode_portal.settings.base import *  # noqa: F403
from passcode_portal.settings.base import VAR_DIR
from passcode_portal.settings.exports import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Fresh keys per test process: tests never depend on a key on disk.
SECRET_KEY = get_random_secret_key()
PASS_SIGNING_KEY = "1:" + base64.b64encode(os.urandom(32)).decode()
PASS_DEV_KEY_PATH = VAR_DIR / "keys" / "pass-signing-test.key"
CELERY_TASK_ALWAYS_EAGER = False
EXPORTS_DIR = str(VAR_DIR / "exports-test")
DEBUG = False

# Connections opened by threads in tests (the live server, concurrency tests) must close when the
# thread ends, or the test database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Nothing is kept between requests in tests unless a test asks for it.
API_AUTH_CACHE_SECONDS = 0
HOT_CACHE_SECONDS = 0

# Text messages go to a list the tests read (notifications.sms.outbox), as e-mail does.
SMS_BACKEND = "notifications.sms.LocmemBackend"
# Tasks that tests enqueue (registration, regrading) go to a broker folder of their own, never to
# the development worker's queue.
if CELERY_BROKER_URL.startswith("filesystem"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        key: cast(object, str(VAR_DIR / "celery-test" / folder))
        for key, folder in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("processed_folder", "processed"),
            ("control_folder", "control"),
        )
    }

# On SQLite, the test database is a file rather than shared-cache memory: tests that run a
# Celery worker or a live server use it from several threads at once, and an in-memory database
# shared between connections locks whole tables without waiting (SQLITE_LOCKED), where a file
# database waits for its busy time-out like the real thing.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
