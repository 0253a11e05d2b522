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


def open_page(chromium: Any, live_server: Any, viewport: dict[str, int]) -> Any:
    """A fresh context and page that can reach the live server and nothing else: any request
    elsewhere (a CDN, a font service) is aborted, so the pages prove they need none."""
    context = chromium.new_context(
        viewport=viewport, device_scale_factor=2, locale="zh-CN", timezone_id="Asia/Shanghai"
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
