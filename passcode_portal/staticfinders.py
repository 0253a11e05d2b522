"""Single files of npm packages served as static files, never copied into the tree.

A package's folder would bring everything in it (ECharts' ``dist`` holds 51 MB of builds, maps
and sources, for the one 1 MB file the dashboard loads), and ``collectstatic`` would copy and
hash all of it. ``NPM_STATIC_FILES`` names each file a page loads, by the static path it is
served at; this finder serves those and nothing else of the package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage
from django.core.checks import Error as CheckError
from django.core.files.storage import FileSystemStorage


class NpmFileFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files: dict[str, Path] = {
            name: Path(source) for name, source in settings.NPM_STATIC_FILES.items()
        }

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        return [
            CheckError(
                f"{source} is missing; run `npm ci` (it serves {name}).",
                id="passcode_portal.E001",
            )
            for name, source in self.files.items()
            if not source.is_file()
        ]

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        find_all = find_all or bool(kwargs.get("all"))
        source = self.files.get(path)
        if source is None or not source.is_file():
            return []  # as Django's own finders answer a path they do not hold
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for name, source in self.files.items():
            storage = FileSystemStorage(location=str(source.parent))
            storage.prefix = os.path.dirname(name)  # type: ignore[attr-defined]
            yield source.name, storage
