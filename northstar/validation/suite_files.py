"""The suite files in expectations/: one JSON file per suite, written one stable way.

No Great Expectations import here, so code that only reads or compares suite files
(the runner's up-to-date check, the generator's --check) stays light.
"""

from __future__ import annotations

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
