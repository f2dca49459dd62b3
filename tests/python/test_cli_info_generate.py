"""`northstar --help`, `northstar info` and `northstar generate` through the real command
line (Click's CliRunner): the commands are listed, every location honours its environment
variable, and generate writes a complete data set or refuses a bad argument plainly."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from northstar import exit_codes
from northstar.cli import COMMANDS, cli

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCATION_VARS = (
    "NORTHSTAR_PROJECT_DIR",
    "NORTHSTAR_DUCKDB_PATH",
    "NORTHSTAR_RAW_DIR",
    "NORTHSTAR_SNAPSHOTS_DIR",
    "DBT_PROFILES_DIR",
    "DBT_TARGET_PATH",
)


@pytest.fixture
def clean_env(monkeypatch):
    """No location variable set: every path is the project's default."""
    for name in LOCATION_VARS:
        monkeypatch.delenv(name, raising=False)


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_help_lists_every_command():
    result = run("--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")
    listed = result.stdout.split("Commands:", 1)[1]
    names = [line.split()[0] for line in listed.splitlines() if line.strip()]
    assert names == sorted(COMMANDS)
    assert {"build", "publish", "validate", "info", "generate", "query", "alerts"} <= set(names)
    # each command's first docstring line is its help, so none is listed without one
    assert all(len(line.split()) > 1 for line in listed.splitlines() if line.strip())


def test_info_json_defaults_are_under_the_project(clean_env):
    result = run("info", "--json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert set(info) == {
        "project_dir",
        "raw_dir",
        "warehouse",
        "snapshots_dir",
        "profiles_dir",
        "target_dir",
    }
    project = Path(info["project_dir"])
    assert project == PROJECT_DIR
    assert Path(info["warehouse"]) == project / "warehouse" / "northstar.duckdb"
    assert Path(info["raw_dir"]) == project / "data" / "raw"
    assert Path(info["snapshots_dir"]) == project / "warehouse" / "snapshots"
    assert Path(info["profiles_dir"]) == project
    assert Path(info["target_dir"]) == project / "target"


def test_info_json_honours_every_environment_variable(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("NORTHSTAR_DUCKDB_PATH", str(tmp_path / "elsewhere" / "wh.duckdb"))
    monkeypatch.setenv("NORTHSTAR_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("NORTHSTAR_SNAPSHOTS_DIR", str(tmp_path / "snaps"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "profiles"))
    monkeypatch.setenv("DBT_TARGET_PATH", "build/target")  # relative: under the project
    info = json.loads(run("info", "--json").stdout)
    assert info["warehouse"] == str(tmp_path / "elsewhere" / "wh.duckdb")
    assert info["raw_dir"] == str(tmp_path / "raw")
    assert info["snapshots_dir"] == str(tmp_path / "snaps")
    assert info["profiles_dir"] == str(tmp_path / "profiles")
    assert info["target_dir"] == str(PROJECT_DIR / "build" / "target")
    # the text view shows the same locations, one per line
    text = run("info").stdout.splitlines()
    assert len(text) == len(info)
    for line, (key, value) in zip(text, info.items(), strict=True):
        assert line.split() == [key, value]


def test_generate_writes_events_accounts_users_and_a_manifest(tmp_path):
    out = tmp_path / "tmp"
    result = run("generate", "--accounts", "5", "--days", "30", "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"demo data written to {out}")
    assert "5 accounts, 30 days" in result.stdout
    events = sorted((out / "events").glob("*.parquet"))
    assert events, "no events parquet written"
    assert {p.name for p in out.iterdir()} == {
        "events",
        "accounts.parquet",
        "users.parquet",
        "_manifest.json",
    }
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["generator"] == "northstar.demo"
    assert manifest["params"]["accounts"] == 5
    assert manifest["params"]["days"] == 30
    assert manifest["params"]["seed"] == 3
    # The data's own clock, which dbt reads as the reference time: midnight after day 30.
    assert manifest["as_of"] == "2026-04-01T00:00:00Z"
    con = duckdb.connect()
    try:
        accounts = con.execute(
            f"select count(*) from read_parquet('{out / 'accounts.parquet'}')"
        ).fetchone()[0]
        users = con.execute(
            f"select count(*) from read_parquet('{out / 'users.parquet'}')"
        ).fetchone()[0]
        rows = con.execute(
            f"select count(*) from read_parquet('{out / 'events'}/*.parquet')"
        ).fetchone()[0]
    finally:
        con.close()
    assert accounts == 5
    assert users > 0
    assert rows > 0


def test_generate_defaults_to_the_raw_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("NORTHSTAR_RAW_DIR", str(tmp_path / "raw"))
    result = run("generate", "--accounts", "3", "--days", "10")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "raw" / "_manifest.json").is_file()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--accounts", "0"], "--accounts"),
        (["--accounts", "-3"], "--accounts"),
        (["--accounts", "many"], "--accounts"),
        (["--days", "-1"], "--days"),
        (["--days", "0"], "--days"),
        (["--days", "100000"], "--days"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_generate_refuses_a_bad_argument_as_a_usage_error(tmp_path, args, option):
    out = tmp_path / "out"
    result = run("generate", *args, "--out", str(out))
    assert result.exit_code == exit_codes.USAGE
    assert "Usage: " in result.stderr
    assert f"Invalid value for '{option}'" in result.stderr
    assert result.stdout == ""
    assert not out.exists()  # refused before anything was written


def test_generate_refuses_to_replace_a_directory_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = run("generate", "--accounts", "3", "--days", "10", "--out", str(out))
    assert result.exit_code == exit_codes.USAGE
    assert result.stderr.startswith("error: --out: ")
    assert "not a generated demo data set" in result.stderr
    assert result.stderr.count("\n") == 1
    assert (out / "notes.txt").read_text() == "keep me"
