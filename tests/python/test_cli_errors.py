"""Every command's failure paths through the real command line (Click's CliRunner): one
clear message on stderr, a documented exit code, never a traceback."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from snapshot_helpers import FakeValidator, make_warehouse, publish_ok, setup_env

import northstar.publish.publisher
from northstar.cli import cli


@pytest.fixture
def env(tmp_path, monkeypatch):
    return setup_env(tmp_path, monkeypatch)


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


NO_SNAPSHOT = "no snapshot published yet"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["publish"], 6, "no warehouse at"),
        (["publish", "--skip-validation"], 6, "no warehouse at"),
        (["build", "--profiles-dir", "/nonexistent/profiles"], 6, "does not exist"),
        (["rollback"], 6, "no snapshots in"),
        (["rollback", "../../etc"], 2, "not a snapshot id"),
        (["metrics"], 6, NO_SNAPSHOT),
        (["metrics", "messages_sent"], 6, NO_SNAPSHOT),
        (["query", "messages_sent"], 6, NO_SNAPSHOT),
        (["digest"], 6, NO_SNAPSHOT),
        (["alerts"], 6, NO_SNAPSHOT),
        (["alerts", "--format", "json"], 6, NO_SNAPSHOT),
        (["query", "messages_sent", "--snapshot", "20990101T000000Z-abcdef"], 6, "no snapshot"),
        (["metrics", "--snapshot", "../x"], 2, "not a snapshot id"),
        (["publish", "--export", "xlsx"], 2, "unknown export format 'xlsx'"),
    ],
)
def test_nothing_built_yet(env, args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1  # one line


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "--keep", "0"],
        ["publish", "--wait", "-1"],
        ["query"],
        ["query", "m", "--format", "xml"],
        ["digest", "--grain", "year"],
        ["alerts", "--format", "yaml"],
        ["metrics", "--format", "csv"],
        ["alerts", "--webhook", "file:///etc/passwd"],
    ],
)
def test_malformed_command_lines_are_usage_errors(env, args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr


def test_snapshots_on_an_empty_directory(env):
    result = run("snapshots")
    assert result.exit_code == 0
    assert "no snapshots in" in result.stdout
    assert run("snapshots", "--json").stdout.strip() == "[]"


def test_a_dangling_current_pointer(env):
    make_warehouse(env)
    published = publish_ok(env)
    (published.path / "manifest.json").unlink()  # the snapshot is no longer complete
    result = run("query", "messages_sent")
    assert result.exit_code == 6
    assert "is missing or incomplete" in result.stderr
    assert "northstar rollback" in result.stderr


def test_a_corrupt_snapshot_database(env):
    make_warehouse(env)
    published = publish_ok(env)
    database = published.path / "northstar.duckdb"
    os.chmod(database, 0o644)
    database.write_bytes(b"this is not a duckdb file" * 100)
    for args in (["query", "messages_sent"], ["metrics"], ["digest"], ["alerts"]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("error: cannot open snapshot database")


def test_snapshots_and_rollback_through_the_cli(env):
    make_warehouse(env)
    first = publish_ok(env)
    second = publish_ok(env)
    listing = run("snapshots").stdout.splitlines()
    assert listing[0].startswith(f"  {first.run_id}")
    assert listing[1].startswith(f"* {second.run_id}")
    result = run("rollback")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"current snapshot: {first.run_id} (was {second.run_id})"
    assert run("snapshots").stdout.splitlines()[0].startswith(f"* {first.run_id}")
    result = run("rollback")
    assert result.exit_code == 6
    assert "is the oldest snapshot" in result.stderr


def test_publish_through_the_cli(env, monkeypatch):
    make_warehouse(env)
    monkeypatch.setattr(northstar.publish.publisher, "default_validator", FakeValidator())
    result = run("publish")
    assert result.exit_code == 0
    assert result.stdout.startswith("published snapshot ")
    assert "validation passed" in result.stdout
    result = run("publish", "--skip-validation", "--json", "--export", "csv")
    assert result.exit_code == 0
    assert "WARNING: publishing WITHOUT validation" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["validation"] == "skipped"
    assert summary["tables"]["fct_metric_values"] == 12 + 8 + 4  # + plan rows, error_rate
    monkeypatch.setattr(northstar.publish.publisher, "default_validator", FakeValidator(False))
    result = run("publish")
    assert result.exit_code == 4
    assert "validation failed: nothing was published" in result.stderr
    # the one multi-line error: the failed expectations, under the error line, unescaped
    assert result.stderr.splitlines()[-2:] == [
        "error: validation failed: nothing was published and the current snapshot is unchanged",
        "FAIL fct_metric_values: rate 1.5 > 1",
    ]


FLOAT_OPTIONS = [
    ["publish", "--wait"],
    ["build", "--wait"],
    ["rollback", "--wait"],
    ["alerts", "--webhook-timeout"],
]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "infinity", "1e400"])
@pytest.mark.parametrize("option", FLOAT_OPTIONS, ids=" ".join)
def test_float_options_refuse_nan_and_infinity(env, option, value):
    """`--wait nan` used to wait forever (every comparison with NaN is false)."""
    result = run(*option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option[1]}'" in result.stderr
    assert "finite" in result.stderr


def test_every_float_option_uses_the_shared_finite_type():
    """A new float option cannot forget to refuse NaN: every one is a FiniteFloatRange."""
    import importlib

    import click

    from northstar.cli import COMMANDS
    from northstar.commands.params import FiniteFloatRange

    floats = []
    for target in COMMANDS.values():
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        for param in command.params:
            if isinstance(param.type, click.types.FloatParamType):
                floats.append(f"{command.name} {param.opts[0]}")
                assert isinstance(param.type, FiniteFloatRange), floats[-1]
    assert len(floats) >= 4, floats


LONG = "x" * 300  # one component over NAME_MAX (255): ENAMETOOLONG


def _path_cases(tmp):
    return [
        (["validate", "--warehouse", f"{tmp}/{LONG}/wh.duckdb"], f"{tmp}/{LONG[:40]}"),
        (["validate", "--suites", f"{tmp}/{LONG}"], f"{tmp}/{LONG[:40]}"),
        (["validate", "--out", f"{tmp}/{LONG}"], f"{tmp}/{LONG[:40]}"),
        (["build", "--profiles-dir", f"{tmp}/{LONG}"], f"{tmp}/{LONG[:40]}"),
        (["digest", "--out", f"{tmp}/{LONG}"], f"{tmp}/{LONG[:40]}"),
        (["generate", "--out", f"{tmp}/{LONG}"], f"{tmp}/{LONG[:40]}"),
        (["digest", "--out", "/proc/1/x"], "/proc/1/x"),
        (["semantic", "--vars-file", f"{tmp}/{LONG}.yml"], None),
    ]


@pytest.mark.parametrize("case", range(8))
def test_unusable_paths_are_one_line_errors_naming_the_path(env, tmp_path, case):
    """An OS error on a path (name too long, permission, no such directory) is one line
    naming the path and a documented exit code, never a traceback."""
    make_warehouse(env)
    publish_ok(env, exports=["duckdb"])
    args, named = _path_cases(tmp_path)[case]
    result = run(*args)
    assert "Traceback" not in result.output
    if named is None:  # Click checks this one itself: a usage error
        assert result.exit_code == 2
        return
    assert result.exit_code in (1, 6), result.output
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert named in result.stderr


def test_an_os_error_on_an_environment_path_is_one_line(env, monkeypatch, tmp_path):
    monkeypatch.setenv("NORTHSTAR_SNAPSHOTS_DIR", f"{tmp_path}/{LONG}")
    for args in (["snapshots"], ["query", "messages_sent"], ["rollback"], ["digest"]):
        result = run(*args)
        assert result.exit_code in (1, 6), (args, result.output)
        assert result.stderr.count("\n") == 1, (args, result.stderr)
        assert f"{tmp_path}/{LONG[:40]}" in result.stderr


def test_an_unwritable_directory_is_one_line(env, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    # root writes anywhere but in sysfs (EPERM); anyone else cannot write in `locked` (EACCES)
    out = "/sys/northstar-digest" if os.geteuid() == 0 else str(locked / "d")
    make_warehouse(env)
    publish_ok(env, exports=["duckdb"])
    result = run("digest", "--out", out)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {out}: ")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--warehouse", "/tmp/a\nb.duckdb"],
        ["build", "--profiles-dir", "/nonexistent/a\nb"],
        ["digest", "--out", "/proc/1/a\nb"],
        ["generate", "--out", "/proc/1/a\nb"],
        ["validate", "--suites", "/nonexistent/a\nb"],
    ],
)
def test_a_newline_in_a_path_gives_a_one_line_error(env, args):
    make_warehouse(env)
    publish_ok(env, exports=["duckdb"])
    result = run(*args)
    assert result.exit_code in (1, 6), result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert "a\\nb" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--warehouse", ""],
        ["validate", "--suites", ""],
        ["validate", "--out", ""],
        ["build", "--profiles-dir", ""],
        ["digest", "--out", ""],
        ["generate", "--out", ""],
        ["digest", "--out", "a\x00b"],
        ["validate", "--warehouse", "a\x00b"],
    ],
)
def test_empty_or_nul_paths_are_usage_errors(env, args):
    """An empty path (an unset "$DIR") would silently mean the current directory."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr


@pytest.mark.parametrize(
    "command", [["metrics"], ["query", "messages_sent"], ["digest"], ["alerts"]]
)
def test_an_empty_snapshot_id_is_refused_not_read_as_current(env, command):
    make_warehouse(env)
    publish_ok(env, exports=["duckdb"])
    result = run(*command, "--snapshot", "")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "not a snapshot id: ''" in result.stderr


def no_dbt(*_args, **_kwargs):
    raise AssertionError("dbt must not run")


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("", "no export format"),
        (",", "empty export format"),
        ("duckdb,,csv", "empty export format"),
        ("DUCKDB", "unknown export format 'DUCKDB'"),
        ("duckdb,Parquet", "unknown export format 'Parquet'"),
        ("json", "unknown export format 'json'"),
    ],
)
@pytest.mark.parametrize("command", ["publish", "build"])
def test_export_lists_are_validated(env, monkeypatch, command, value, named):
    """Names are matched exactly, as every other choice on the command line is
    (`--format JSON` is refused too); an empty list is not 'duckdb only'."""
    monkeypatch.setattr("northstar.build.run_dbt", no_dbt)
    result = run(command, "--export", value)
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert result.stderr.count("\n") == 1


def test_export_lists_allow_spaces_after_commas():
    from northstar.publish.targets import parse_exports

    assert parse_exports(" csv , parquet ") == ["duckdb", "parquet", "csv"]


@pytest.mark.parametrize("target", ["", "   "])
def test_an_empty_build_target_is_refused_not_the_default(env, target, monkeypatch):
    monkeypatch.setattr("northstar.build.run_dbt", no_dbt)
    result = run("build", "--target", target)
    assert result.exit_code == 2, result.output
    assert "--target" in result.stderr
    assert result.stderr.count("\n") == 1
