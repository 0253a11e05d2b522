"""Production overrides (DJANGO_ENV=production): refuses to start without its secrets and passes
`manage.py check --deploy` with no warnings."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from passcode_portal.env import envbool, envint, envstr

DEBUG = False

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
PASS_SIGNING_KEY = envstr("PASS_SIGNING_KEY")
if not PASS_SIGNING_KEY:
    raise ImproperlyConfigured("PASS_SIGNING_KEY must be set when DJANGO_ENV=production.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
