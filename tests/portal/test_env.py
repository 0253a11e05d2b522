"""passcode_portal.env.generated_secret: a secret of this installation, created once, privately,
and the same for every process that starts at the same moment."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from passcode_portal.env import generated_secret


def test_it_creates_a_private_file_on_first_use_and_reads_it_after(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys" / "secret-key"

    first = generated_secret(path, lambda: "first")
    again = generated_secret(path, lambda: "second")

    assert (first, again) == ("first", "first")
    assert path.read_text() == "first\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert list(path.parent.iterdir()) == [path]


def test_processes_that_start_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret-key"
    count = 8
    # Every caller makes its own secret before any of them writes: all of them race to the file.
    all_made = threading.Barrier(count)
    results: list[str] = []

    def make(n: int) -> str:
        all_made.wait()
        return f"secret-{n}"

    def start(n: int) -> None:
        results.append(generated_secret(path, lambda: make(n)))

    threads = [threading.Thread(target=start, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == count
    assert set(results) == {path.read_text().strip()}
    assert list(path.parent.iterdir()) == [path]
