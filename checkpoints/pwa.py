"""The scan page as an app the tablet installs, which opens with the network off
(docs/architecture.md, "Scanning at the checkpoint"): a web app manifest per checkpoint, and the
service worker that keeps the page and every file it loads.

The worker's code is static/js/scan-sw.js, a plain file. This view puts before it what only the
server knows: the URLs of the files to keep, as ``static()`` names them (hashed names in
production, ManifestStaticFilesStorage), and a cache version that changes whenever one of those
files, or the worker, changes, so a tablet throws away what it kept and takes the new files."""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from checkpoints.views import scan_checkpoint

# The site's colours (static/css/app.css): the header's --brand, which base.html's theme-color
# names too, and the page's --page behind the splash screen.
BRAND_COLOUR = "#12355b"
BACKGROUND_COLOUR = "#f3f4f6"


@dataclass(frozen=True)
class Icon:
    name: str  # the static file, drawn by `manage.py draw_app_icons`
    size: int
    maskable: bool = False


ICONS = (
    Icon("img/icons/icon-192.png", 192),
    Icon("img/icons/icon-512.png", 512),
    Icon("img/icons/icon-maskable-512.png", 512, maskable=True),
)

# Every static file the scan page loads, kept by the worker at install and then served from
# the tablet: its styles and scripts, the QR decoder and its WebAssembly (which scan-camera.js
# loads when the camera starts), the favicon and the app's icons. The CSS loads no fonts or
# images. A file added to the page goes here too (a test compares the page with this list); so
# does one a script loads on demand, which the page does not name (the noble-ed25519 fallback
# of js/scan-offline.js).
PRECACHE: tuple[str, ...] = (
    "css/app.css",
    "css/scan.css",
    "js/app.js",
    "js/scan-camera.js",
    "js/scan-store.js",
    "js/scan-offline.js",
    "js/scan.js",
    "js/scan-install.js",
    "img/favicon.svg",
    *(icon.name for icon in ICONS),
    "vendor/barcode-detector/ponyfill.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
    # Loaded by js/scan-offline.js on first need, where the browser has no Ed25519 of its own.
    "vendor/noble-ed25519/index.js",
)

# Files an ES module above imports by a relative path: (the module, the path it imports). The
# browser asks for them under their own name next to the module's URL, which the manifest
# storage leaves unhashed (Django rewrites no JavaScript imports unless
# support_js_module_import_aggregation is set), so they are kept under that URL.
MODULE_IMPORTS: tuple[tuple[str, str], ...] = (
    ("vendor/barcode-detector/ponyfill.js", "./zxing-exported.js"),
)

WORKER_SOURCE = "js/scan-sw.js"


def imported_name(module: str, relative: str) -> str:
    """The static name of a file ``module`` imports as ``relative``."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(module), relative))


def precache_urls() -> list[str]:
    urls = [static(name) for name in PRECACHE]
    urls += [urljoin(static(module), relative) for module, relative in MODULE_IMPORTS]
    return urls


def source_path(name: str) -> Path | None:
    found = finders.find(name)
    return Path(found) if isinstance(found, str) else None


# A file's SHA-256 by (path, size, modification time): hashed once per process and change.
_digests: dict[tuple[str, int, int], str] = {}


def file_digest(name: str) -> str:
    """What a file holds, in brief: ``static()`` hashes names only in production, and a
    development tablet must take a changed file too. A file the finders do not hold (a
    deployment without sources) is left to its hashed name."""
    path = source_path(name)
    if path is None:
        return ""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        _digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _digests[key]


def cache_version(urls: list[str], worker: str) -> str:
    names = [*PRECACHE, *(imported_name(module, path) for module, path in MODULE_IMPORTS)]
    parts = [*urls, *(file_digest(name) for name in names), worker]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def worker_script() -> str:
    """scan-sw.js with ``self.SCAN_APP`` set before it: what the worker keeps, under which
    version, and which pages it keeps for the network's failures (every checkpoint's scan page,
    and only those)."""
    source = source_path(WORKER_SOURCE)
    if source is None:  # pragma: no cover - the file is in the repository
        raise ImproperlyConfigured(f"{WORKER_SOURCE} is missing from the static files.")
    worker = source.read_text(encoding="utf-8")
    urls = precache_urls()
    prefix, _code, suffix = reverse("checkpoints:scan", args=["__code__"]).partition("__code__")
    config = {
        "version": cache_version(urls, hashlib.sha256(worker.encode()).hexdigest()),
        "precache": urls,
        "scanPage": {"prefix": prefix, "suffix": suffix},
    }
    return (
        "// Made by checkpoints.pwa for this deployment: the cache version and the files to\n"
        f"// keep. The worker's code, static/{WORKER_SOURCE}, follows.\n"
        f"self.SCAN_APP = {json.dumps(config, indent=2)};\n\n{worker}"
    )


def service_worker(request: HttpRequest) -> HttpResponse:
    """GET /checkpoints/sw.js, for anyone: it holds no data, only static URLs, and a worker
    script behind a sign-in would fail its update checks (a redirect) once a session ends."""
    response = HttpResponse(worker_script(), content_type="text/javascript")
    # The browser asks the server for a new worker every time it looks.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("checkpoints:index")
    return response


@login_required
def manifest(request: HttpRequest, code: str) -> HttpResponse:
    """GET /checkpoints/<code>/manifest.webmanifest: the checkpoint's scan page as an app, for
    its staff only, as the page itself (the scan page links it with credentials)."""
    checkpoint, _supervisor = scan_checkpoint(request, code)
    start = reverse("checkpoints:scan", args=[checkpoint.code])
    data = {
        "id": start,
        "name": f"{_('Scan passes')} · {checkpoint.name}",
        "short_name": _("Scan passes"),
        "lang": get_language(),
        "dir": "ltr",
        "start_url": start,
        "scope": reverse("checkpoints:index"),
        "display": "standalone",
        "theme_color": BRAND_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": static(icon.name),
                "sizes": f"{icon.size}x{icon.size}",
                "type": "image/png",
                "purpose": "maskable" if icon.maskable else "any",
            }
            for icon in ICONS
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "private, no-cache"
    return response
