"""The suite files in expectations/: one JSON file per suite, written one stable way.

No Great Expectations import here, so code that only reads or compares suite files
(the runner's up-to-date check, the generator's --check) stays light.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any


def suite_text(suite: dict[str, Any]) -> str:
    """The one way a suite is written, so regeneration is byte-for-byte stable."""
    return json.dumps(suite, indent=2, sort_keys=True) + "\n"


def write_suites(directory: Path, suites: list[dict[str, Any]]) -> list[Path]:
    """Write one <suite name>.json per suite; remove suite files no longer generated."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for suite in suites:
        path = directory / f"{suite['name']}.json"
        path.write_text(suite_text(suite))
        written.append(path)
    for stale in sorted(set(directory.glob("*.json")) - set(written)):
        stale.unlink()
    return written


def load_suites(directory: Path) -> list[dict[str, Any]]:
    """The suite files in `directory`, in name order."""
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


def differences(directory: Path, suites: list[dict[str, Any]]) -> list[str]:
    """File names in `directory` that differ from the freshly generated `suites`."""
    expected = {f"{suite['name']}.json": suite_text(suite) for suite in suites}
    present = {path.name: path.read_text() for path in directory.glob("*.json")}
    return sorted(
        name for name in set(expected) | set(present) if expected.get(name) != present.get(name)
    )


def unified_diffs(directory: Path, suites: list[dict[str, Any]], label: str) -> dict[str, str]:
    """File name -> unified diff from the file in `directory` to the freshly generated
    suite, for every file `differences` names: what a regeneration would change.

    Paths read `a/<label>/<name>` and `b/<label>/<name>` (`/dev/null` for a suite not
    written yet or a file no longer generated), so the output is also a patch that
    `patch -p1` or `git apply` can apply from the directory holding `label`.
    """
    expected = {f"{suite['name']}.json": suite_text(suite) for suite in suites}
    diffs = {}
    for name in differences(directory, suites):
        path = directory / name
        old = path.read_text() if path.is_file() else None
        new = expected.get(name)
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"a/{label}/{name}" if old is not None else "/dev/null",
            tofile=f"b/{label}/{name}" if new is not None else "/dev/null",
        )
        diffs[name] = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
    return diffs
