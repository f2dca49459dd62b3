"""The lists conftest.py schedules the suite by must describe the suite as it is: a file
missing from DEMO_FILES would build the demo once more on another worker, a name there that
reads no demo would tie a file to the demo's worker, and a name in LONGEST_FIRST that is no
test file would order nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import DEMO_FILES, LONGEST_FIRST

TESTS_DIR = Path(__file__).parent


# a plugin for a collect-only run: the test files with a test that reads the demo build
PLUGIN = """
import json, os


def pytest_collection_finish(session):
    files = sorted({i.path.name for i in session.items if "demo" in getattr(i, "fixturenames", ())})
    with open(os.environ["DEMO_FILES_OUT"], "w") as out:
        json.dump(files, out)
"""


PLUGINS = ("-p", "demo_files_plugin", "-p", "no:cacheprovider")


def test_the_demo_group_lists_every_file_that_reads_the_demo_build(tmp_path: Path) -> None:
    (tmp_path / "demo_files_plugin.py").write_text(PLUGIN)
    out = tmp_path / "files.json"
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-n",
            "0",
            *PLUGINS,
            str(TESTS_DIR),
        ],
        cwd=TESTS_DIR.parents[1],
        env=dict(os.environ, PYTHONPATH=str(tmp_path), DEMO_FILES_OUT=str(out)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert set(json.loads(out.read_text())) == DEMO_FILES


def test_the_longest_files_are_test_files() -> None:
    files = {path.name for path in TESTS_DIR.glob("test_*.py")}
    assert set(LONGEST_FIRST) <= files
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
