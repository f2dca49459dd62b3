"""`northstar build`: dbt build -> validation -> publish, one exit code, a lock against
concurrent builds, and clear messages for a broken profiles.yml."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from snapshot_helpers import FakeValidator, make_warehouse, publish_ok, setup_env, tree_digest

from northstar.build import check_profile, run_build
from northstar.cli import cli
from northstar.dbt_runner import DbtError
from northstar.publish.errors import (
    BusyError,
    NorthstarError,
    NotFoundError,
    PipelineError,
    ValidationFailedError,
)
from northstar.publish.locks import warehouse_lock_path
from northstar.publish.store import SnapshotStore


@pytest.fixture
def env(tmp_path, monkeypatch):
    return setup_env(tmp_path, monkeypatch)


@pytest.fixture
def warehouse(env):
    return make_warehouse(env)


class FakeDbt:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls: list[tuple[list[str], str | None, str]] = []

    def __call__(self, args, paths, *, target=None):
        self.calls.append((list(args), target, str(paths.profiles_dir)))
        if self.fail:
            raise DbtError(args, 1)


def write_profiles(directory, text: str):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.yml").write_text(textwrap.dedent(text))
    return directory


def test_build_runs_dbt_then_validation_then_publish(env, warehouse):
    dbt, validator, messages = FakeDbt(), FakeValidator(), []
    result = run_build(env, dbt=dbt, validator=validator, progress=messages.append)
    assert dbt.calls == [(["build"], None, str(env.profiles_dir))]
    assert validator.calls == [env.warehouse]
    assert result.published is not None
    assert SnapshotStore(env.snapshots_dir).current().run_id == result.published.run_id
    assert messages[0].startswith("==> [1/2] dbt build (profile northstar, target duckdb)")
    assert "==> [2/2] validate and publish" in messages
    assert set(result.seconds) == {"dbt_build", "validate_publish"}


def test_failed_dbt_build_validates_and_publishes_nothing(env, warehouse):
    first = publish_ok(env)
    before = tree_digest(env.snapshots_dir)
    validator = FakeValidator()
    with pytest.raises(PipelineError, match="dbt build failed") as caught:
        run_build(env, dbt=FakeDbt(fail=True), validator=validator)
    assert caught.value.exit_code == 3
    assert validator.calls == []
    assert tree_digest(env.snapshots_dir) == before
    assert SnapshotStore(env.snapshots_dir).current().run_id == first.run_id


def test_failed_validation_exits_4_and_keeps_the_current_snapshot(env, warehouse):
    first = publish_ok(env)
    with pytest.raises(ValidationFailedError) as caught:
        run_build(env, dbt=FakeDbt(), validator=FakeValidator(success=False))
    assert caught.value.exit_code == 4
    assert SnapshotStore(env.snapshots_dir).current().run_id == first.run_id


def test_no_publish_only_runs_dbt(env, warehouse):
    validator = FakeValidator()
    result = run_build(env, dbt=FakeDbt(), validator=validator, publish_snapshot=False)
    assert result.published is None
    assert validator.calls == []
    assert not env.snapshots_dir.exists()


def test_target_and_profiles_dir_reach_dbt_and_the_profile_path_is_used(env, tmp_path):
    other = tmp_path / "elsewhere" / "mine.duckdb"
    other.parent.mkdir()
    profiles = write_profiles(
        tmp_path / "my_profiles",
        f"""
        northstar:
          target: dev
          outputs:
            dev: {{type: duckdb, path: "{tmp_path / "unused.duckdb"}"}}
            prod: {{type: duckdb, path: "{other}"}}
        """,
    )
    from snapshot_helpers import make_contract_warehouse

    make_contract_warehouse(other)
    dbt = FakeDbt()
    result = run_build(
        env, target="prod", profiles_dir=profiles, dbt=dbt, validator=FakeValidator()
    )
    assert dbt.calls == [(["build"], "prod", str(profiles.resolve()))]
    assert result.target.path == other
    assert result.published.manifest["source"]["warehouse"] == str(other.resolve())


@pytest.mark.parametrize(
    ("content", "target", "error", "code", "message"),
    [
        (None, None, NotFoundError, 6, "no profiles.yml in"),
        (
            "northstar: [unclosed",
            None,
            NorthstarError,
            1,
            "is not valid YAML (line 1, column 21): expected ',' or ']'",
        ),
        (b"\xff\xfe\x00 not text", None, NorthstarError, 1, "cannot read"),
        (
            "other_profile: {outputs: {a: {type: duckdb}}}",
            None,
            NorthstarError,
            1,
            "has no profile 'northstar'",
        ),
        ("northstar: {target: dev}", None, NorthstarError, 1, "has no outputs"),
        (
            "northstar: {target: dev, outputs: {dev: {type: duckdb}}}",
            "prod",
            NorthstarError,
            1,
            "has no target 'prod'; targets: dev",
        ),
        (
            "northstar: {target: s, outputs: {s: {type: spark}}}",
            None,
            NorthstarError,
            1,
            "is a spark warehouse",
        ),
    ],
)
def test_profile_problems_are_explained_before_dbt_runs(
    env, tmp_path, content, target, error, code, message
):
    directory = tmp_path / "profiles"
    directory.mkdir()
    if isinstance(content, bytes):
        (directory / "profiles.yml").write_bytes(content)
    elif content is not None:
        (directory / "profiles.yml").write_text(content)
    dbt = FakeDbt()
    with pytest.raises(error, match=re.escape(message)) as caught:
        run_build(env, target=target, profiles_dir=directory, dbt=dbt, validator=FakeValidator())
    assert caught.value.exit_code == code
    assert dbt.calls == []


def test_a_non_duckdb_target_can_still_build_with_no_publish(env, tmp_path):
    profiles = write_profiles(tmp_path / "p", "northstar: {target: s, outputs: {s: {type: spark}}}")
    dbt = FakeDbt()
    result = run_build(env, profiles_dir=profiles, dbt=dbt, publish_snapshot=False)
    assert result.target.type == "spark"
    assert len(dbt.calls) == 1


def test_the_shipped_profile_resolves_to_the_warehouse_dbt_writes(env):
    # The shipped profiles.yml: path from env_var('NORTHSTAR_DUCKDB_PATH', ...), which
    # dbt sees set to the warehouse northstar publishes from.
    target = check_profile(env, None)
    assert (target.profile, target.target, target.type, target.path, target.unresolved) == (
        "northstar",
        "duckdb",
        "duckdb",
        env.warehouse,
        None,
    )


@pytest.mark.parametrize(
    "path",
    [
        "{{ env_var('MY_NORTHSTAR_DB') }}",
        "{{ env_var('MY_NORTHSTAR_DB', 'warehouse/northstar.duckdb') }}",
        "{{ env_var('MY_NORTHSTAR_DIR') }}/mine.duckdb",
        "{{ env_var('MY_NORTHSTAR_DIR') ~ '/mine.duckdb' }}",
        "{{ env_var('NOT_SET_ANYWHERE', env_var('MY_NORTHSTAR_DIR')) }}/mine.duckdb",
    ],
)
def test_a_profile_path_from_any_env_var_is_the_file_published(env, tmp_path, monkeypatch, path):
    """Not only NORTHSTAR_DUCKDB_PATH: the file dbt writes is the one published, never the
    default warehouse (which holds other data here, as it would on a real machine)."""
    make_warehouse(env)  # the default warehouse: must not be what is published
    mine = tmp_path / "elsewhere" / "mine.duckdb"
    mine.parent.mkdir()
    from snapshot_helpers import make_contract_warehouse

    make_contract_warehouse(mine)
    monkeypatch.setenv("MY_NORTHSTAR_DB", str(mine))
    monkeypatch.setenv("MY_NORTHSTAR_DIR", str(mine.parent))
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    profiles = write_profiles(
        tmp_path / "p",
        f"""
        northstar:
          target: mine
          outputs:
            mine: {{type: duckdb, path: "{path}"}}
        """,
    )
    result = run_build(env, profiles_dir=profiles, dbt=FakeDbt(), validator=FakeValidator())
    assert result.target.path == mine
    assert result.published.manifest["source"]["warehouse"] == str(mine)
    assert result.published.manifest["tables"]["fct_metric_values"]["rows"] == 12  # no plan rows


def test_a_relative_profile_path_from_a_default_is_under_the_project(env, tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    profiles = write_profiles(
        tmp_path / "p",
        """
        northstar:
          target: dev
          outputs:
            dev: {type: duckdb, path: "{{ env_var('NOT_SET_ANYWHERE', 'build/dev.duckdb') }}"}
        """,
    )
    target = check_profile(replace(env, profiles_dir=profiles), None)
    assert target.path == env.project_dir / "build" / "dev.duckdb"


def test_a_jinja_target_name_is_resolved_too(env, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_NORTHSTAR_TARGET", "prod")
    profiles = write_profiles(
        tmp_path / "p",
        f"""
        northstar:
          target: "{{{{ env_var('MY_NORTHSTAR_TARGET', 'dev') }}}}"
          outputs:
            dev: {{type: duckdb, path: "{tmp_path / "dev.duckdb"}"}}
            prod: {{type: duckdb, path: "{tmp_path / "prod.duckdb"}"}}
        """,
    )
    target = check_profile(replace(env, profiles_dir=profiles), None)
    assert (target.target, target.path) == ("prod", tmp_path / "prod.duckdb")


@pytest.mark.parametrize(
    ("profile", "field", "reason"),
    [
        (
            "{target: dev, outputs: {dev: {type: duckdb, path: \"{{ var('db_path') }}\"}}}",
            "northstar.outputs.dev.path",
            "'var' is undefined",
        ),
        (
            '{target: dev, outputs: {dev: {type: duckdb, path: "{{ target.name }}.duckdb"}}}',
            "northstar.outputs.dev.path",
            "'target' is undefined",
        ),
        (
            "{target: dev, outputs: {dev: {type: duckdb, "
            "path: \"{{ env_var('NOT_SET_ANYWHERE') }}\"}}}",
            "northstar.outputs.dev.path",
            "environment variable 'NOT_SET_ANYWHERE' is not set and has no default",
        ),
        (
            '{target: dev, outputs: {dev: {type: duckdb, path: "{{ env_var( }}"}}}',
            "northstar.outputs.dev.path",
            "not valid Jinja",
        ),
        (
            "{target: \"{{ var('t') }}\", outputs: {dev: {type: duckdb, path: x.duckdb}}}",
            "northstar.target",
            "'var' is undefined",
        ),
        (
            "{target: dev, outputs: {dev: {type: duckdb}}}",
            "northstar.outputs.dev.path",
            "dbt-duckdb then builds an in-memory database",
        ),
        (
            "{target: dev, outputs: {dev: {type: duckdb, path: ':memory:'}}}",
            "northstar.outputs.dev.path",
            "dbt-duckdb then builds an in-memory database",
        ),
    ],
)
def test_a_profile_path_northstar_cannot_resolve_is_refused_naming_the_field(
    env, tmp_path, monkeypatch, profile, field, reason
):
    """Publishing would otherwise read the default warehouse: a file dbt never wrote."""
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    make_warehouse(env)
    profiles = write_profiles(tmp_path / "p", f"northstar: {profile}\n")
    dbt, validator = FakeDbt(), FakeValidator()
    with pytest.raises(NorthstarError) as caught:
        run_build(env, profiles_dir=profiles, dbt=dbt, validator=validator)
    message = str(caught.value)
    assert caught.value.exit_code == 1
    assert message.startswith(f"{profiles / 'profiles.yml'}: {field} ")
    assert reason in message
    assert "--no-publish" in message
    assert dbt.calls == [] and validator.calls == []
    assert not env.snapshots_dir.exists()
    # without publishing there is no file to find: dbt decides, as it always does
    result = run_build(env, profiles_dir=profiles, dbt=dbt, publish_snapshot=False)
    assert result.published is None
    assert len(dbt.calls) == 1


def test_cli_build_refuses_an_unresolvable_profile_path_in_one_line(env, tmp_path, monkeypatch):
    import northstar.build

    dbt = FakeDbt()
    monkeypatch.setattr(northstar.build, "run_dbt", dbt)  # never a real dbt run here
    profiles = write_profiles(
        tmp_path / "p",
        """
        northstar:
          target: dev
          outputs:
            dev: {type: duckdb, path: "{{ var('db_path') }}"}
        """,
    )
    result = CliRunner().invoke(cli, ["build", "--profiles-dir", str(profiles)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        f"error: {profiles / 'profiles.yml'}: northstar.outputs.dev.path "
    )
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert dbt.calls == []


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from northstar.publish.locks import file_lock
    with file_lock(Path(sys.argv[1]), what="build"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_lock(env, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse_lock_path(env.warehouse)), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_build_exits_with_a_clear_message(env, warehouse):
    holder = hold_lock(env, 30)
    try:
        dbt = FakeDbt()
        with pytest.raises(
            BusyError, match=r"another build is running \(held by pid \d+"
        ) as caught:
            run_build(env, dbt=dbt, validator=FakeValidator())
        assert caught.value.exit_code == 3
        assert dbt.calls == []
        started = time.monotonic()
        with pytest.raises(BusyError, match="after waiting 1s"):
            run_build(env, dbt=dbt, validator=FakeValidator(), wait=1)
        assert time.monotonic() - started >= 1
        assert dbt.calls == []
    finally:
        holder.kill()
        holder.wait()


def test_a_second_build_can_wait_for_the_first(env, warehouse):
    holder = hold_lock(env, 1.0)
    try:
        dbt = FakeDbt()
        result = run_build(env, dbt=dbt, validator=FakeValidator(), wait=30)
        assert result.published is not None
        assert holder.poll() is not None  # it only ran after the holder finished
    finally:
        holder.kill()
        holder.wait()


def test_cli_build_reports_profile_errors_without_traceback(env, tmp_path):
    bad = write_profiles(tmp_path / "bad", "northstar:\n  outputs: [\n")
    result = CliRunner().invoke(cli, ["build", "--profiles-dir", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "is not valid YAML" in result.stderr
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["build", "--profiles-dir", str(tmp_path / "missing")])
    assert result.exit_code == 6
    assert "profiles directory" in result.stderr and "does not exist" in result.stderr


def test_cli_build_exit_codes_with_a_stubbed_dbt(env, warehouse, monkeypatch):
    import northstar.build
    import northstar.publish.publisher

    monkeypatch.setattr(northstar.build, "run_dbt", FakeDbt())
    monkeypatch.setattr(northstar.publish.publisher, "default_validator", FakeValidator())
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("published snapshot ")
    monkeypatch.setattr(northstar.publish.publisher, "default_validator", FakeValidator(False))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 4
    assert "validation failed: nothing was published" in result.stderr
    monkeypatch.setattr(northstar.build, "run_dbt", FakeDbt(fail=True))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 3
    assert "dbt build failed" in result.stderr


@pytest.mark.dbt
def test_real_dbt_failure_is_exit_3_not_a_traceback(env, tmp_path):
    """dbt itself cannot start (unknown adapter): the message is ours, the code is 3."""
    profiles = write_profiles(
        tmp_path / "p", "northstar: {target: x, outputs: {x: {type: nosuchdb, threads: 1}}}"
    )
    result = CliRunner().invoke(cli, ["build", "--profiles-dir", str(profiles), "--no-publish"])
    assert result.exit_code == 3, result.output
    assert "dbt build failed (dbt exit code 2" in result.stderr
    assert "Traceback" not in result.output
