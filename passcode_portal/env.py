"""Typed readers for settings that come from the environment (twelve-factor).

Every reader also accepts ``<NAME>_FILE``: a path whose contents are the value, so secrets can be
mounted as files (Docker secrets, Kubernetes) instead of living in the environment.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def envstr(name: str, default: str = "") -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = envstr(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = envstr(name, "")
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def generated_secret(path: Path, make: Callable[[], str]) -> str:
    """Read, or create on first use with ``make()``, a secret of this installation kept in a
    private file (development keys under VAR_DIR, never committed): each installation has its
    own, the same across restarts."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    # The secret is written whole to a private (0600) temporary file and then linked into place.
    # link() fails when the name exists, so when two processes start at once exactly one secret
    # wins and the loser reads it; nobody can read a half-written file, as a reader could
    # between open(O_CREAT | O_EXCL) and write().
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value
