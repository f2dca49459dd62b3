"""`northstar build`: dbt build -> validation -> publish, one exit code, a lock against
concurrent builds, and clear messages for a broken profiles.yml."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from snapshot_helpers import FakeValidator, make_warehouse, publish_ok, setup_env, tree_digest

from northstar.build import run_build
from northstar.cli import cli
from northstar.dbt_profile import check_profile
from northstar.dbt_runner import DbtError, run_dbt
from northstar.errors import (
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

    def __call__(self, args, paths, *, target=None, **_kwargs):
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
            # where dbt's YAML reader says (it reads the file)
            "is not valid YAML (line 2, column 1): did not find expected ',' or ']'",
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
        (
            # dbt itself fails on 0 threads with a Python traceback
            "northstar: {target: d, outputs: {d: {type: duckdb, path: w.duckdb, threads: 0}}}",
            None,
            NorthstarError,
            1,
            "northstar.outputs.d.threads is 0: dbt needs a whole number of models",
        ),
        (
            "northstar: {target: d, outputs: {d: {type: duckdb, path: w.duckdb, "
            "threads: \"{{ env_var('NORTHSTAR_TEST_NEVER_SET') }}\"}}}",
            None,
            NorthstarError,
            1,
            "northstar.outputs.d.threads = \"{{ env_var('NORTHSTAR_TEST_NEVER_SET') }}\": "
            "Env var required but not provided: 'NORTHSTAR_TEST_NEVER_SET'",
        ),
        (
            # Only type, path and threads are rendered: a password is dbt's business.
            "northstar: {target: pg, outputs: {pg: {type: postgres, "
            "password: \"{{ env_var('NORTHSTAR_TEST_NEVER_SET') }}\"}}}",
            None,
            NorthstarError,
            1,
            "is a postgres warehouse",
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


def test_the_shipped_profile_resolves_to_the_warehouse_dbt_writes(env, tmp_path):
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
    # Rendered with the environment dbt gets (Paths.dbt_env), not this process's.
    elsewhere = tmp_path / "elsewhere.duckdb"
    assert check_profile(replace(env, warehouse=elsewhere), None).path == elsewhere


@pytest.mark.parametrize("threads", ["0", "-1", "1.5", "two"])
def test_the_shipped_profile_refuses_a_bad_thread_count(env, monkeypatch, threads):
    monkeypatch.setenv("NORTHSTAR_DBT_THREADS", threads)
    dbt = FakeDbt()
    with pytest.raises(
        NorthstarError, match=re.escape("northstar.outputs.duckdb.threads")
    ) as caught:
        run_build(env, dbt=dbt, validator=FakeValidator())
    assert caught.value.exit_code == 1
    assert dbt.calls == []


@pytest.mark.parametrize(
    "path",
    [
        "{{ env_var('MY_NORTHSTAR_DB') }}",
        "{{ env_var('MY_NORTHSTAR_DB', 'warehouse/northstar.duckdb') }}",
        "{{ env_var('MY_NORTHSTAR_DIR') }}/mine.duckdb",
        "{{ env_var('MY_NORTHSTAR_DIR') ~ '/mine.duckdb' }}",
        "{{ env_var('NOT_SET_ANYWHERE', env_var('MY_NORTHSTAR_DIR')) }}/mine.duckdb",
        # dbt's own Jinja (a filter only dbt defines): dbt's renderer, not a look-alike
        "{{ env_var('MY_NORTHSTAR_DB') | as_text }}",
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


@pytest.mark.dbt
def test_the_file_named_is_the_one_real_dbt_opens(env, tmp_path, monkeypatch):
    """dbt run as a build runs it (`dbt debug` connects): the DuckDB file it creates is the
    one check_profile names, for a relative path from an env_var default."""
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    project = tmp_path / "project"
    (project / "build").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\nprofile: northstar\nconfig-version: 2\n")
    profiles = write_profiles(
        tmp_path / "p",
        """
        northstar:
          target: dev
          outputs:
            dev: {type: duckdb, path: "{{ env_var('NOT_SET_ANYWHERE', 'build/dev.duckdb') }}"}
        """,
    )
    paths = replace(env, project_dir=project, profiles_dir=profiles)
    target = check_profile(paths, None)
    assert target.path == project / "build" / "dev.duckdb"
    assert not target.path.exists()
    run_dbt(["debug"], paths, capture=True)
    assert [p.name for p in (project / "build").iterdir()] == ["dev.duckdb"]


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
            "dbt cannot render it: Required var 'db_path' not found in config",
        ),
        (
            '{target: dev, outputs: {dev: {type: duckdb, path: "{{ target.name }}.duckdb"}}}',
            "northstar.outputs.dev.path",
            "dbt cannot render it: 'target' is undefined",
        ),
        (
            "{target: dev, outputs: {dev: {type: duckdb, "
            "path: \"{{ env_var('NOT_SET_ANYWHERE') }}\"}}}",
            "northstar.outputs.dev.path",
            "dbt cannot render it: Env var required but not provided: 'NOT_SET_ANYWHERE'",
        ),
        (
            '{target: dev, outputs: {dev: {type: duckdb, path: "{{ env_var( }}"}}}',
            "northstar.outputs.dev.path",
            "dbt cannot render it: unexpected '}', expected ')'",
        ),
        (
            "{target: \"{{ var('t') }}\", outputs: {dev: {type: duckdb, path: x.duckdb}}}",
            "northstar.target",
            "dbt cannot render it: Required var 't' not found in config",
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


# --- dbt's failures, told apart; a held warehouse; no orphan dbt ---------------------

SPEC_ERROR_OUTPUT = [
    "\x1b[0m17:51:09  Encountered an error:\n",
    "Compilation Error in model int_entity_segments "
    "(models/intermediate/int_entity_segments.sql)\n",
    "  northstar spec: northstar.inputs: expected 3 to 5 input metrics, got 1 "
    '(got: ["new_teams"])\n',
    "  \n",
    "  > in macro northstar_spec_error (macros/spec/northstar_spec.sql)\n",
]


class FailingDbt(FakeDbt):
    def __init__(self, output: list[str], returncode: int = 2):
        super().__init__()
        self.output, self.returncode = output, returncode

    def __call__(self, args, paths, **kwargs):
        super().__call__(args, paths, **kwargs)
        raise DbtError(args, self.returncode, self.output)


def test_a_spec_error_is_a_configuration_error_exit_1(env, warehouse, monkeypatch):
    """dbt exits 2 for a spec the macros refuse: northstar says which field, exit 1."""
    import northstar.build

    monkeypatch.setattr(northstar.build, "run_dbt", FailingDbt(SPEC_ERROR_OUTPUT))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: the North Star spec (vars.northstar) is invalid: northstar.inputs: expected "
        '3 to 5 input metrics, got 1 (got: ["new_teams"]); nothing was built or published'
    )


def test_a_model_failure_is_still_exit_3(env, warehouse, monkeypatch):
    import northstar.build

    output = ["Runtime Error in model fct_metric_values\n", "  Binder Error: no column x\n"]
    monkeypatch.setattr(northstar.build, "run_dbt", FailingDbt(output, returncode=1))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 3
    assert "dbt build failed (dbt exit code 1" in result.stderr


HOLD_WAREHOUSE = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "reader")
    print("open", flush=True)
    time.sleep(float(sys.argv[3]))
    """
)


@pytest.mark.parametrize("mode", ["reader", "writer"])
def test_a_held_warehouse_is_one_clear_line_before_dbt_starts(env, warehouse, monkeypatch, mode):
    """A BI tool (reader) or an orphaned dbt (writer) holding the warehouse file: one line
    naming the process, exit 3, and dbt (150 lines of traceback) never starts."""
    import northstar.build

    dbt = FakeDbt()
    monkeypatch.setattr(northstar.build, "run_dbt", dbt)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WAREHOUSE, str(warehouse), mode, "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = CliRunner().invoke(cli, ["build"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3, result.output
    assert dbt.calls == []
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: the warehouse {warehouse} is open in another process")
    assert f"PID {holder.pid}" in errors[0]
    assert result.stderr.splitlines()[-1] == errors[0]


def test_dbt_failing_on_the_warehouse_lock_is_one_clear_line(env, warehouse, monkeypatch):
    """The holder came after the check: dbt's traceback is already out, then one line."""
    import northstar.build

    output = [
        "Runtime Error\n",
        '  IO Error: Could not set lock on file "/x/wh.duckdb": Conflicting lock is held in '
        "/usr/bin/python3 (PID 4242) by user root. See also https://duckdb.org/docs/x\n",
    ]
    monkeypatch.setattr(northstar.build, "run_dbt", FailingDbt(output))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 3
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: the warehouse {warehouse} is open in another process")
    assert "PID 4242" in last


FAKE_DBT = textwrap.dedent(
    """
    import os, sys, time
    out = os.environ["FAKE_DBT_OUT"]
    with open(out + ".pid", "w") as f:
        f.write(str(os.getpid()))
    for i in range(600):
        with open(out, "a") as f:
            f.write(f"{i}\\n")
        time.sleep(0.05)
    """
)

HARNESS = textwrap.dedent(
    """
    import sys
    import northstar.dbt_runner
    from northstar.build import run_build
    northstar.dbt_runner.dbt_executable = lambda: sys.argv[1]
    run_build(publish_snapshot=False)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_killed_build_leaves_no_orphan_dbt_writing(env, tmp_path):
    """kill -9 of `northstar build` while dbt runs: dbt dies with it, and the warehouse
    lock is free only once dbt is gone (no orphan writing without the lock)."""
    import fcntl
    import os
    import signal

    fake = tmp_path / "fake_dbt"
    fake.write_text(f"#!{sys.executable}\n{FAKE_DBT}")
    fake.chmod(0o755)
    out = tmp_path / "dbt_writes"
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(fake)],
        env={**os.environ, "FAKE_DBT_OUT": str(out)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_file = Path(str(out) + ".pid")
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    dbt_pid = int(pid_file.read_text())
    os.kill(harness.pid, signal.SIGKILL)
    harness.wait()
    deadline = time.monotonic() + 5
    while _alive(dbt_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not _alive(dbt_pid), "dbt outlived the build that started it"
        written = out.read_text()
        time.sleep(0.3)
        assert out.read_text() == written  # nobody writes any more
        fd = os.open(warehouse_lock_path(env.warehouse), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: dbt is gone
        finally:
            os.close(fd)
    finally:
        if _alive(dbt_pid):
            os.kill(dbt_pid, signal.SIGKILL)


@pytest.mark.dbt
def test_a_real_spec_error_exits_1_naming_the_field(tmp_path):
    """The real dbt, a spec with one input: dbt fails to parse (its exit 2), northstar says
    it is the spec, names the field, and exits 1 as docs/cli.md says."""
    import os

    import yaml

    project_dir = Path(__file__).resolve().parents[2]
    project = tmp_path / "project"
    project.mkdir()
    for entry in ["profiles.yml", "models", "macros", "seeds", "tests", "expectations"]:
        (project / entry).symlink_to(project_dir / entry)
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    config["vars"]["northstar"]["inputs"] = config["vars"]["northstar"]["inputs"][:1]
    (project / "dbt_project.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        NORTHSTAR_DUCKDB_PATH=str(tmp_path / "wh.duckdb"),
        NORTHSTAR_RAW_DIR=str(tmp_path / "raw"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("northstar")), "build"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stderr.splitlines()[-1].startswith(
        "error: the North Star spec (vars.northstar) is invalid: northstar.inputs: "
        "expected 3 to 5 input metrics, got 1"
    )
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("flags", "dbt_args"),
    [
        ([], ["build"]),
        (["--full-refresh"], ["build", "--full-refresh"]),
        (["--skip-unit-tests"], ["build", "--exclude-resource-type", "unit_test"]),
        (
            ["--skip-unit-tests", "--full-refresh"],
            ["build", "--full-refresh", "--exclude-resource-type", "unit_test"],
        ),
    ],
)
def test_cli_build_passes_full_refresh_and_skip_unit_tests_to_dbt(
    env, warehouse, monkeypatch, flags, dbt_args
):
    import northstar.build

    dbt = FakeDbt()
    monkeypatch.setattr(northstar.build, "run_dbt", dbt)
    result = CliRunner().invoke(cli, ["build", "--no-publish", *flags])
    assert result.exit_code == 0, result.output
    assert [call[0] for call in dbt.calls] == [dbt_args]
