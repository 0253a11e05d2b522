"""The scan page as an installable app (checkpoints.pwa): the manifest per checkpoint, for its
staff only; the service worker's script with its generated head; the list of files the worker
keeps, against what the page really loads; the icons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client, override_settings
from django.urls import resolve, reverse
from PIL import Image, ImageChops, ImageStat

from checkpoints import pwa
from checkpoints.management.commands.draw_app_icons import draw_icons
from places.models import StaffAssignment
from tests.factories import CheckpointFactory, UserFactory, driver_user, staff_user

ROOT = Path(__file__).resolve().parents[2]


def client_for(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def manifest_url(checkpoint: Any) -> str:
    return reverse("checkpoints:manifest", args=[checkpoint.code])


def worker_app(body: str) -> dict[str, Any]:
    """The ``self.SCAN_APP`` the view puts before the worker's code."""
    found = re.match(r"(?:// [^\n]*\n)+self\.SCAN_APP = (\{.*?\n\});\n\n", body, re.S)
    assert found, body[:500]
    app: dict[str, Any] = json.loads(found[1])
    return app


# --- The manifest ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_manifest_makes_the_checkpoints_scan_page_an_app(checkpoint: Any) -> None:
    r = client_for(staff_user(checkpoint)).get(manifest_url(checkpoint))

    assert r.status_code == 200
    assert r["Content-Type"] == "application/manifest+json"
    assert "private" in r["Cache-Control"]
    manifest = json.loads(r.content)
    scan = reverse("checkpoints:scan", args=[checkpoint.code])
    assert manifest["start_url"] == manifest["id"] == scan == "/checkpoints/JZ-G55-N/scan/"
    assert manifest["scope"] == "/checkpoints/"
    assert manifest["display"] in ("standalone", "fullscreen")
    assert manifest["name"] == "Scan passes · 二广高速焦作北站"
    assert manifest["short_name"] == "Scan passes"
    assert manifest["lang"] == "en"
    assert manifest["theme_color"] == "#12355b"
    assert manifest["background_color"] == "#f3f4f6"
    assert manifest["icons"] == [
        {
            "src": "/static/img/icons/icon-192.png",
            "sizes": "192x192",
            "type": "image/png",
            "purpose": "any",
        },
        {
            "src": "/static/img/icons/icon-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "any",
        },
        {
            "src": "/static/img/icons/icon-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]


@pytest.mark.django_db
def test_the_manifest_speaks_the_users_language(checkpoint: Any) -> None:
    r = client_for(staff_user(checkpoint), language="zh-hans").get(manifest_url(checkpoint))

    manifest = json.loads(r.content.decode("utf-8"))
    assert manifest["name"] == "扫码核验 · 二广高速焦作北站"
    assert manifest["short_name"] == "扫码核验"
    assert manifest["lang"] == "zh-hans"


@pytest.mark.django_db
def test_each_icon_of_the_manifest_is_a_png_of_its_size(checkpoint: Any) -> None:
    manifest = json.loads(client_for(staff_user(checkpoint)).get(manifest_url(checkpoint)).content)

    for icon in manifest["icons"]:
        name = icon["src"].removeprefix("/static/")
        with Image.open(finders.find(name)) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
            assert image.mode == "RGBA"


@pytest.mark.django_db
def test_the_manifest_is_refused_to_another_checkpoints_staff(checkpoint: Any) -> None:
    other = staff_user(CheckpointFactory())

    assert client_for(other).get(manifest_url(checkpoint)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["driver", "official", "dispatcher"])
def test_the_manifest_is_refused_to_anyone_not_posted_there(checkpoint: Any, role: str) -> None:
    user = driver_user() if role == "driver" else UserFactory(role=role)

    assert client_for(user).get(manifest_url(checkpoint)).status_code == 403


@pytest.mark.django_db
def test_the_manifest_sends_anonymous_users_to_sign_in(checkpoint: Any) -> None:
    r = Client().get(manifest_url(checkpoint))

    assert r.status_code == 302
    assert r["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_unknown_or_closed_checkpoint_has_no_manifest(checkpoint: Any) -> None:
    closed = CheckpointFactory(active=False)
    client = client_for(staff_user(checkpoint, closed))

    assert client.get("/checkpoints/NO-SUCH/manifest.webmanifest").status_code == 404
    assert client.get(manifest_url(closed)).status_code == 404


def test_the_colours_are_the_sites() -> None:
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", css))
    assert variables["brand"] == pwa.BRAND_COLOUR
    assert variables["page"] == pwa.BACKGROUND_COLOUR
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert f'<meta name="theme-color" content="{pwa.BRAND_COLOUR}">' in base


# --- The scan page links the app -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_scan_page_links_its_manifest_and_installs_the_worker(checkpoint: Any) -> None:
    r = client_for(staff_user(checkpoint)).get(reverse("checkpoints:scan", args=[checkpoint.code]))

    body = r.content.decode()
    head = body.split("</head>")[0]
    # The manifest is for the checkpoint's staff: fetched with the session, or refused.
    assert (
        f'<link rel="manifest" href="{manifest_url(checkpoint)}" crossorigin="use-credentials">'
        in head
    )
    assert '<meta name="theme-color" content="#12355b">' in head
    assert (
        '<script src="/static/js/scan-install.js" data-worker="/checkpoints/sw.js"'
        ' data-scope="/checkpoints/" defer></script>'
    ) in body
    policy = dict(part.partition(" ")[::2] for part in r["Content-Security-Policy"].split("; "))
    assert policy["worker-src"] == "'self'"
    assert policy["manifest-src"] == "'self'"


def page_assets(body: str) -> set[str]:
    """Every static URL the page names: scripts, style sheets, icons, images and the data
    attributes the scripts load files from."""
    urls = set(re.findall(r'<script[^>]* src="([^"]+)"', body))
    urls |= set(re.findall(r'<link[^>]* href="([^"]+)"', body))
    urls |= set(re.findall(r'<img[^>]* src="([^"]+)"', body))
    urls |= set(re.findall(r' data-[a-z-]+-url="([^"]+)"', body))
    return {url for url in urls if url.startswith("/static/")}


@pytest.mark.django_db
@pytest.mark.parametrize("supervisor", [False, True])
def test_the_worker_keeps_every_file_the_scan_page_loads(checkpoint: Any, supervisor: bool) -> None:
    user = staff_user(checkpoint)
    StaffAssignment.objects.filter(user=user).update(supervisor=supervisor)
    body = client_for(user).get(reverse("checkpoints:scan", args=[checkpoint.code])).content

    assets = page_assets(body.decode())
    # The page loads the app's styles and scripts and the decoder at least: the parse works.
    assert {static("js/scan.js"), static("vendor/zxing-wasm/zxing_reader.wasm")} <= assets
    assert assets - set(pwa.precache_urls()) == set()


# --- The list of files kept ------------------------------------------------------------------


def test_every_file_kept_is_a_static_file() -> None:
    names = [*pwa.PRECACHE, *(pwa.imported_name(*pair) for pair in pwa.MODULE_IMPORTS)]
    assert len(set(names)) == len(names)
    for name in names:
        assert finders.find(name), name
    urls = pwa.precache_urls()
    assert len(set(urls)) == len(urls) == len(names)
    assert "/static/vendor/barcode-detector/zxing-exported.js" in urls


RELATIVE_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""",
)


def test_what_the_kept_modules_import_is_kept_too() -> None:
    """barcode-detector's ponyfill imports its glue by a relative path; a release that splits
    the glue further must not leave a file behind, or the camera fails offline."""
    declared = set(pwa.MODULE_IMPORTS)
    found: set[tuple[str, str]] = set()
    todo = [name for name in pwa.PRECACHE if name.endswith(".js")]
    while todo:
        name = todo.pop()
        source = Path(finders.find(name)).read_text(encoding="utf-8")
        for relative in RELATIVE_IMPORT.findall(source):
            if (name, relative) not in found:
                found.add((name, relative))
                todo.append(pwa.imported_name(name, relative))
    assert found == declared
    assert ("vendor/barcode-detector/ponyfill.js", "./zxing-exported.js") in found


# --- The service worker's script ---------------------------------------------------------------


def test_the_worker_lives_above_every_checkpoint() -> None:
    assert reverse("checkpoints:service-worker") == "/checkpoints/sw.js"
    assert resolve("/checkpoints/sw.js").url_name == "service-worker"
    assert resolve("/checkpoints/JZ-G55-N/manifest.webmanifest").url_name == "manifest"


@pytest.mark.django_db
def test_the_worker_is_served_to_anyone_as_a_script_never_cached() -> None:
    """Anonymous too: the script holds static URLs only, and a browser checking for a new
    worker after a session ended must get the worker, not the sign-in page."""
    r = Client().get("/checkpoints/sw.js")

    assert r.status_code == 200
    assert r["Content-Type"] == "text/javascript"
    assert r["Cache-Control"] == "no-cache"
    assert r["Service-Worker-Allowed"] == "/checkpoints/"
    body = r.content.decode()
    app = worker_app(body)
    assert re.fullmatch(r"[0-9a-f]{16}", app["version"])
    assert app["precache"] == pwa.precache_urls()
    assert app["scanPage"] == {"prefix": "/checkpoints/", "suffix": "/scan/"}
    worker = (ROOT / "static" / "js" / "scan-sw.js").read_text(encoding="utf-8")
    assert body.endswith("\n\n" + worker)
    assert "{%" not in worker and "{{" not in worker  # a plain file, no template


@pytest.mark.django_db
def test_a_signed_in_user_gets_the_same_worker(checkpoint: Any) -> None:
    anonymous = Client().get("/checkpoints/sw.js").content
    assert client_for(staff_user(checkpoint)).get("/checkpoints/sw.js").content == anonymous


def version_with(tmp_path: Path, name: str, content: bytes) -> str:
    """The worker's cache version with ``name`` replaced by ``content`` (a static folder of the
    test's own, searched first)."""
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    from django.conf import settings

    with override_settings(STATICFILES_DIRS=[tmp_path, *settings.STATICFILES_DIRS]):
        assert finders.find(name) == str(target)
        return str(worker_app(pwa.worker_script())["version"])


@pytest.mark.parametrize("name", ["css/app.css", "vendor/zxing-wasm/zxing_reader.wasm"])
def test_the_version_changes_with_a_kept_file(tmp_path: Path, name: str) -> None:
    """Development names are not hashed: a tablet must still drop a changed file."""
    original = Path(finders.find(name)).read_bytes()
    same = version_with(tmp_path, name, original)

    changed = version_with(tmp_path, name, original + b"\n")

    assert same == worker_app(pwa.worker_script())["version"]
    assert changed != same


def test_the_version_changes_with_the_worker(tmp_path: Path) -> None:
    original = Path(finders.find("js/scan-sw.js")).read_bytes()

    changed = version_with(tmp_path, "js/scan-sw.js", original + b"// changed\n")

    assert changed != worker_app(pwa.worker_script())["version"]


def test_the_version_changes_with_a_files_url(monkeypatch: pytest.MonkeyPatch) -> None:
    before = worker_app(pwa.worker_script())["version"]
    monkeypatch.setattr(pwa, "PRECACHE", (*pwa.PRECACHE, "js/arrivals.js"))

    after = worker_app(pwa.worker_script())

    assert "/static/js/arrivals.js" in after["precache"]
    assert after["version"] != before


# --- The icons ---------------------------------------------------------------------------------


def test_the_committed_icons_are_what_the_command_draws(tmp_path: Path) -> None:
    """Run `manage.py draw_app_icons` after changing the mark or its colours."""
    drawn_all = draw_icons(tmp_path)
    assert [path.name for path in drawn_all] == [Path(icon.name).name for icon in pwa.ICONS]
    for drawn in drawn_all:
        committed = finders.find(f"img/icons/{drawn.name}")
        with Image.open(drawn) as fresh, Image.open(committed) as kept:
            assert kept.size == fresh.size
            difference = ImageChops.difference(kept.convert("RGBA"), fresh.convert("RGBA"))
            # Alike to the eye (a later Pillow may smooth an edge a little otherwise).
            assert max(ImageStat.Stat(difference).mean) < 1, drawn.name


def test_the_maskable_icon_keeps_its_mark_in_the_safe_zone() -> None:
    """A launcher may cut the icon down to a circle of 80 % of its width: everything outside it
    is the brand colour, edge to edge, and the white tile reaches close to it."""
    [icon] = [icon for icon in pwa.ICONS if icon.maskable]
    brand = (*(int(pwa.BRAND_COLOUR[i : i + 2], 16) for i in (1, 3, 5)), 255)
    with Image.open(finders.find(icon.name)) as image:
        pixels = image.convert("RGBA").load()
        size = image.width
        centre = size / 2
        safe = 0.4 * size
        farthest_mark = 0.0
        for y in range(size):
            for x in range(size):
                distance = ((x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2) ** 0.5
                if pixels[x, y] != brand:
                    farthest_mark = max(farthest_mark, distance)
    assert farthest_mark <= safe
    assert farthest_mark > 0.9 * safe  # the mark is as large as the zone allows, near enough


def test_the_plain_icons_are_the_favicon_tile_edge_to_edge() -> None:
    for icon in pwa.ICONS:
        if icon.maskable:
            continue
        with Image.open(finders.find(icon.name)) as image:
            rgba = image.convert("RGBA")
            assert rgba.getpixel((0, 0))[3] == 0  # a rounded corner, transparent
            middle_of_top = rgba.getpixel((icon.size // 2, 1))
            assert middle_of_top == (255, 255, 255, 255)
