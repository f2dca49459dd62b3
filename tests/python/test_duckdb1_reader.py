"""The published snapshot opens in DuckDB 1.x, as BI tools that bundle an older DuckDB
read it: each reader runs in its own venv with only that duckdb
(scripts/check_duckdb1_reader.sh, which CI also runs on the demo's snapshot), opens the
file read-only and reads every row of every table.

The venvs live in .venv-duckdb1/<version>/ and are created once (a stamp, as
scripts/bootstrap.sh does), so only the first run downloads anything.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from snapshot_helpers import FakeValidator, make_warehouse, publish_ok, setup_env, tree_digest

from northstar.build import run_build
from northstar.errors import NorthstarError
from northstar.publish.publisher import publish, verify
from northstar.publish.targets import DEFAULT_STORAGE_VERSION, STORAGE_VERSION_ENV

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_DIR / "scripts" / "check_duckdb1_reader.sh"
# An old 1.1 (storage version 64 only) and the newest 1.x (64 to 68): the two ends of
# what BI drivers bundle today.
VERSIONS = ("1.1.3", "1.5.6")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv(STORAGE_VERSION_ENV, raising=False)
    return setup_env(tmp_path, monkeypatch)


def read_with_duckdb1(snapshot: Path, versions: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), str(snapshot)],
        env=dict(os.environ, NORTHSTAR_DUCKDB1_VERSIONS=" ".join(versions)),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_published_snapshot_opens_in_duckdb_1x(env):
    make_warehouse(env)
    snapshot = publish_ok(env).path
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["duckdb_storage_version"] == DEFAULT_STORAGE_VERSION
    before = tree_digest(snapshot)

    result = read_with_duckdb1(snapshot, VERSIONS)

    assert result.returncode == 0, result.stdout + result.stderr
    for version in VERSIONS:
        assert f"duckdb {version}: read {snapshot / 'northstar.duckdb'}" in result.stdout
    for table, entry in manifest["tables"].items():
        assert f"{entry['rows']:>10,} rows" in result.stdout, table
        assert f"  {table} " in result.stdout
    # Readers held the file read-only: every checksum in the manifest still matches.
    assert tree_digest(snapshot) == before
    assert verify(snapshot) == []


def test_the_duckdb_2_format_is_what_duckdb_1x_refuses(env):
    """The check can fail: DuckDB 2.0's own format (storage version 69) is refused."""
    make_warehouse(env)
    snapshot = publish_ok(env, storage_version="latest").path
    assert json.loads((snapshot / "manifest.json").read_text())["duckdb_storage_version"] == (
        "latest"
    )

    result = read_with_duckdb1(snapshot, VERSIONS[-1:])

    assert result.returncode == 1
    assert "FAILED to read" in result.stderr
    assert "version number" in result.stderr


def test_storage_version_comes_from_the_environment(env, monkeypatch):
    make_warehouse(env)
    monkeypatch.setenv(STORAGE_VERSION_ENV, "v1.2.0")
    manifest = publish_ok(env).manifest
    assert manifest["duckdb_storage_version"] == "v1.2.0"
    assert verify(publish_ok(env).path) == []


@pytest.mark.parametrize("value", ["v9.9.9", "1.0.0", "v1.0'; drop table x; --", "latest\n"])
def test_a_bad_storage_version_fails_before_anything_runs(env, monkeypatch, value):
    make_warehouse(env)
    monkeypatch.setenv(STORAGE_VERSION_ENV, value)
    validator = FakeValidator()
    if value.strip() == "latest":  # surrounding blanks are forgiven
        assert publish(env, validator=validator).manifest["duckdb_storage_version"] == "latest"
        return
    with pytest.raises(NorthstarError) as raised:
        publish(env, validator=validator)
    assert raised.value.exit_code == 1
    message = str(raised.value)
    assert STORAGE_VERSION_ENV in message and "\n" not in message
    assert validator.calls == []  # refused before the gate, nothing written
    assert not env.snapshots_dir.exists() or not any(env.snapshots_dir.iterdir())


def test_build_refuses_a_bad_storage_version_before_dbt_starts(env, monkeypatch):
    make_warehouse(env)
    monkeypatch.setenv(STORAGE_VERSION_ENV, "v0.0.0-typo")
    dbt_calls = []
    with pytest.raises(NorthstarError, match=STORAGE_VERSION_ENV):
        run_build(
            env, dbt=lambda *args, **kwargs: dbt_calls.append(args), validator=FakeValidator()
        )
    assert dbt_calls == []
