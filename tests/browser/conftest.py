"""Browser tests drive Debian's Chromium through Playwright against pytest-django's live server.
No browser is ever downloaded: Playwright launches /usr/bin/chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1280, "height": 800}
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture(autouse=True)
def allow_orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an asyncio event loop in the test's thread, so Django sees the
    test body's ORM calls (creating users, reading the trip back) as made from async code and
    refuses them. They are plain synchronous calls made while the browser waits; allow them.

    Set per test rather than for the whole process: other tests run ``manage.py check
    --deploy`` in a subprocess, which rightly fails when it inherits this variable."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(allow_orm_beside_playwright: None) -> Iterator[Any]:
    """A browser per test. Not per session: Playwright's event loop must not be running while
    the session's fixtures (test database, live server) are set up and torn down."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test writes its screenshots; docs/img also gets the ones the README shows when
    SAVE_SCREENSHOTS=1 is set."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def save_for_docs(source: Path, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        (DOCS_IMG / name).write_bytes(source.read_bytes())


def open_page(
    chromium: Any,
    live_server: Any,
    viewport: dict[str, int],
    *,
    timezone_id: str = "Asia/Shanghai",
    locale: str = "zh-CN",
    has_touch: bool = False,
) -> Any:
    """A fresh context and page that can reach the live server and nothing else: any request
    elsewhere (a CDN, a font service) is aborted, so the pages prove they need none. The
    device's clock zone and language are the city's unless a test sets others; ``has_touch``
    gives a touch screen, for taps."""
    context = chromium.new_context(
        viewport=viewport,
        device_scale_factor=2,
        locale=locale,
        timezone_id=timezone_id,
        has_touch=has_touch,
    )
    outside: list[str] = []

    def route(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.outside_requests = outside
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_default_timeout(15_000)
    return page


# ---------------------------------------------------------------------------------------------
# A fake camera for the scan page: Chromium plays a .y4m video as its camera
# (--use-file-for-fake-video-capture), so the page's QR decoder reads a real pass. The video is a
# launch flag, so each video gets a browser of its own.

FAKE_CAMERA_ARGS = [
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def qr_video(png: bytes, folder: Path) -> Path:
    """A 3-second video of the QR image, centred on white, as Chromium's fake camera plays it
    (looped). Nearest-neighbour scaling keeps the modules sharp."""
    import subprocess

    image = folder / "qr.png"
    video = folder / "qr.y4m"
    image.write_bytes(png)
    subprocess.run(  # noqa: S603 - fixed arguments, files made by the test
        [  # noqa: S607 - Debian's ffmpeg, installed by `make browser`
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-loop",
            "1",
            "-i",
            str(image),
            "-t",
            "3",
            "-r",
            "10",
            "-vf",
            "scale=400:400:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
            str(video),
        ],
        check=True,
        timeout=60,
    )
    return video


@pytest.fixture
def camera_chromium(allow_orm_beside_playwright: None) -> Iterator[Any]:
    """Launches Chromium with a fake camera playing the given video: ``camera_chromium(video)``.
    Used instead of the ``chromium`` fixture (one Playwright per test)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browsers: list[Any] = []

        def launch(video: Path) -> Any:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    *CHROMIUM_ARGS,
                    *FAKE_CAMERA_ARGS,
                    f"--use-file-for-fake-video-capture={video}",
                ],
            )
            browsers.append(browser)
            return browser

        yield launch
        for browser in browsers:
            browser.close()
