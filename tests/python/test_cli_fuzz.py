"""Every command and every option of the CLI, fed hostile values, through Click's CliRunner.

The commands and their parameters are read from `northstar.cli.COMMANDS` (Click's own
objects), so a new command or option is fuzzed without touching this file. Each value
goes to each option (and argument, and each option's environment variable) of each
command; each flag is run alone. For every case:

- the exit code is a documented one (docs/cli.md#exit-codes: 0-6);
- no exception escapes and no "Traceback" is printed;
- stderr is Click's usage block for exit 2, else at most ONE `error:` line, the last one
  (progress lines may come before it; a failed validation lists its expectations after);
- no value was executed (the `$(touch ...)` and `;rm` values leave their canary alone),
  and nothing was written outside the scratch directory.

Fast, and no real dbt: the readers read a tiny published snapshot (the contract warehouse),
the warehouse file itself is absent (publish and validate stop at "no warehouse"), dbt is
a stub that fails (exit 3), and `generate`/`demo` make one team for one day. The number of
cases is printed and checked against a floor, so a broken introspection cannot pass by
fuzzing nothing.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from snapshot_helpers import FakeValidator, isolated_env, make_warehouse, publish_ok

from northstar.cli import COMMANDS, cli
from northstar.dbt_runner import DbtError
from northstar.paths import Paths

DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6}
PROJECT_DIR = Path(__file__).resolve().parents[2]
PROJECT_ENTRIES = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"]
PROJECT_ENTRIES += ["expectations"]

HOSTILE = [
    "",
    " ",
    "\t",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e400",
    "-1",
    "9" * 400,
    "x" * 300,  # one path component over NAME_MAX
    "a/" + "y" * 300 + "/b",
    "a\nb",
    "a\r\nb",
    "a\x00b",
    "\x1b[31mred",
    "../..",
    "../../../../../../etc/passwd",
    "/proc/1/x",
    "/dev/null/x",
    "ünïcødé-✓-名前",
    "%00",
    "%2e%2e%2f",
    "L" * 100_000,
    "; rm -rf fuzz-canary",
    "$(touch pwned)",
    "`touch pwned`",
    "' or 1=1 --",
    "2026-13-45",
    "1,2",
    ",",
    "--help",
    "-",
]
# A path option does real work (writes a digest, generates data) with every value it
# accepts, so it gets the values that matter to a file system, not every odd number.
PATH_HOSTILE = [
    value
    for value in HOSTILE
    if value not in {"NaN", "inf", "-inf", "1e308", "1e400", "-1", "9" * 400, "2026-13-45"}
    and value not in {"' or 1=1 --", "`touch pwned`", "1,2", ",", "--help", "a\r\nb", "\t"}
]
# More values for options that take a date or a name from the catalog, on every command
# that has them: well-formed but impossible dates, dates far outside any snapshot, and a
# real owner with a control character or padding (never trimmed into a match).
OPTION_HOSTILE: dict[str, list[str]] = {
    "--period": ["2026-02-30", "0000-01-01", "9999-12-31", "2026-09-21\n", "2026-9-1"],
    "--owner": ["lifecycle\n", " lifecycle", "LIFECYCLE", "lifecycle%", "*"],
}
# Values an environment variable cannot hold (execve refuses a NUL byte).
ENV_UNSAFE = {"a\x00b"}

# Keep runs small where a command would do real work with an accepted value.
BASELINE: dict[str, list[str]] = {
    "generate": ["--accounts", "1", "--days", "1"],
    "demo": ["--accounts", "1", "--days", "1"],
    "serve": ["--port", "0"],  # any free port: never one a real server holds
}
REQUIRED_ARGUMENTS: dict[str, list[str]] = {
    "query": ["messages_sent"],
    "init": [str(PROJECT_DIR / "tests" / "fixtures" / "examples" / "airbnb" / "events.csv")],
}
# Variables read from the environment (northstar.paths...), with commands that use them.
LOCATIONS = {
    "NORTHSTAR_SNAPSHOTS_DIR": ["snapshots", "metrics", "rollback", "serve"],
    "NORTHSTAR_DUCKDB_PATH": ["publish", "build"],
    "NORTHSTAR_RAW_DIR": ["info"],
    "DBT_PROFILES_DIR": ["build"],
    "DBT_TARGET_PATH": ["publish"],
    # not a location, but read from the environment by the same commands
    "NORTHSTAR_SNAPSHOT_STORAGE_VERSION": ["publish", "build"],
}


def load_commands() -> dict[str, click.Command]:
    commands = {}
    for name, target in COMMANDS.items():
        module, attribute = target.split(":")
        commands[name] = getattr(importlib.import_module(module), attribute)
    return commands


def _without(args: list[str], option: str) -> list[str]:
    """BASELINE minus the option being fuzzed (and its value)."""
    if option not in args:
        return args
    at = args.index(option)
    return args[:at] + args[at + 2 :]


def build_cases() -> list[tuple[str, list[str], dict[str, str]]]:
    """(id, argv, extra environment) for every command x parameter x hostile value."""
    cases = []
    for name, command in load_commands().items():
        baseline = BASELINE.get(name, [])
        required = REQUIRED_ARGUMENTS.get(name, [])
        cases.append((f"{name} --help", [name, "--help"], {}))
        for param in command.params:
            if isinstance(param, click.Argument):
                for i, value in enumerate(HOSTILE):
                    # `--` so a value like "-1" reaches the argument, not the option parser.
                    cases.append((f"{name} {param.name}#{i}", [name, *baseline, "--", value], {}))
                continue
            option = param.opts[0]
            if getattr(param, "is_flag", False):
                cases.append((f"{name} {option}", [name, *baseline, *required, option], {}))
                continue
            values = PATH_HOSTILE if isinstance(param.type, click.Path) else HOSTILE
            values = values + OPTION_HOSTILE.get(option, [])
            for i, value in enumerate(values):
                argv = [name, *_without(baseline, option), *required, option, value]
                cases.append((f"{name} {option}#{i}", argv, {}))
            if param.envvar:
                for i, value in enumerate(v for v in HOSTILE if v not in ENV_UNSAFE):
                    argv = [name, *baseline, *required]
                    cases.append((f"{name} ${param.envvar}#{i}", argv, {param.envvar: value}))
    # Locations from the environment, for the commands that use them.
    for variable, commands in LOCATIONS.items():
        for command in commands:
            for i, value in enumerate(v for v in HOSTILE if v not in ENV_UNSAFE):
                cases.append((f"{command} ${variable}#{i}", [command], {variable: value}))
    for i, value in enumerate(HOSTILE):
        cases.append((f"<command>#{i}", ["--", value], {}))
    return cases


CASES = build_cases()


def worktree_files() -> set[str]:
    """Every file git sees in the real project, untracked and ignored ones too: the fuzz
    writes only in its scratch directory."""
    listing = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listing.stdout.splitlines())


def stub_dbt(args, paths, **_kwargs):
    raise DbtError(args, 2, ["(the fuzz test's stub: no real dbt)"])


def no_server(app, sock, log_level):
    """`serve` gets as far as a bound socket, and never serves forever."""
    sock.close()


def refuse_semantic_write(*_args, **_kwargs):
    raise AssertionError("the fuzz test must never regenerate the semantic layer")


def refuse_generated_write(*_args, **_kwargs):
    raise AssertionError("the fuzz test must never rewrite the generated files")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A project copy (symlinks) four levels down, so relative hostile paths ("../..")
    land inside the scratch directory; a published snapshot and no warehouse."""
    root = tmp_path_factory.mktemp("fuzz")
    cwd = root / "a" / "b" / "c" / "cwd"
    project = root / "a" / "b" / "c" / "project"
    cwd.mkdir(parents=True)
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    env = isolated_env(root / "a" / "b" / "c" / "state")
    env.update(NORTHSTAR_PROJECT_DIR=str(project), DBT_PROFILES_DIR=str(project))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        paths = Paths.discover()
        make_warehouse(paths)
        publish_ok(paths, validator=FakeValidator(), exports=["duckdb"])
        paths.warehouse.unlink()  # publish/validate/build stop early: no real work
    (cwd / "fuzz-canary").write_text("still here")
    return {"root": root, "cwd": cwd, "env": env, "project": project}


def check_stderr(case_id: str, code: int, stderr: str) -> None:
    lines = stderr.splitlines()
    if code == 2 and any(line.startswith("Usage:") for line in lines):
        errors = [line for line in lines if line.startswith("Error:")]
        assert len(errors) == 1, (case_id, stderr[:2000])
        return
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if code == 0:
        assert not errors, (case_id, stderr[:2000])
        return
    if code == 5:  # a breach: the report is on stdout; a failed webhook warns
        assert not errors, (case_id, stderr[:2000])
        return
    assert len(errors) == 1, (case_id, code, stderr[:2000])
    if code != 4:  # exit 4 lists the failed expectations after its error line
        assert errors[0] == len(lines) - 1, (case_id, stderr[:2000])
    assert len(lines[errors[0]]) < 1000, (case_id, lines[errors[0]][:300])


def check_result(case_id: str, result) -> None:
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in output, output[-3000:]
    assert result.exit_code in DOCUMENTED_EXIT_CODES, (result.exit_code, output[-2000:])
    check_stderr(case_id, result.exit_code, result.stderr)


def test_every_command_and_option_survives_hostile_values(scratch, monkeypatch, record_property):
    import northstar.build
    import northstar.generated
    import northstar.semantic

    monkeypatch.setattr(northstar.build, "run_dbt", stub_dbt)
    monkeypatch.setattr(northstar.semantic, "write", refuse_semantic_write)
    monkeypatch.setattr("northstar.serve.server.run", no_server)
    monkeypatch.setattr(northstar.generated.GeneratedFiles, "write", refuse_generated_write)
    monkeypatch.chdir(scratch["cwd"])
    for key, value in scratch["env"].items():
        monkeypatch.setenv(key, value)
    before = worktree_files()
    runner = CliRunner()
    codes: dict[int, int] = {}
    failures: list[str] = []
    timing: dict[str, float] = {}
    in_cwd = set(scratch["cwd"].iterdir())
    for case_id, argv, extra_env in CASES:
        started = time.monotonic()
        result = runner.invoke(cli, argv, env=extra_env or None, catch_exceptions=True)
        if argv[0] == "init":
            # init writes its vars file (named by a hostile --out, too) into the scratch
            # cwd; a later command must not find it there as an existing input file.
            for written in set(scratch["cwd"].iterdir()) - in_cwd:
                shutil.rmtree(written) if written.is_dir() else written.unlink()
        key = case_id.split("#")[0]
        timing[key] = timing.get(key, 0.0) + time.monotonic() - started
        try:
            check_result(case_id, result)
        except AssertionError as err:
            failures.append(f"{case_id}: {str(err)[:600]}")
        codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
    assert not failures, f"{len(failures)} failing cases:\n" + "\n".join(failures[:25])
    # nothing a value said was executed, nothing written beside the project's files
    assert (scratch["cwd"] / "fuzz-canary").read_text() == "still here"
    assert not list(scratch["root"].rglob("pwned"))
    assert worktree_files() == before
    record_property("cli_fuzz_cases", len(CASES))
    print(f"\nCLI fuzz: {len(CASES)} cases; exit codes {dict(sorted(codes.items()))}")
    slowest = sorted(timing.items(), key=lambda item: -item[1])[:8]
    print("slowest: " + ", ".join(f"{key} {seconds:.1f}s" for key, seconds in slowest))
    assert len(CASES) >= 1000
    # the snapshot was read: readers got past option parsing
    assert codes.get(0, 0) > 0 and codes.get(6, 0) > 0 and codes.get(2, 0) > 0


def test_every_argument_is_fuzzed():
    """Positional arguments (query METRIC, metrics NAME, explain METRIC) get every hostile
    value too: introspection found them."""
    arguments = {
        case_id.split("#")[0] for case_id, argv, _ in CASES if "--" in argv and argv[0] != "--"
    }
    assert {"query metric", "metrics name", "explain metric"} <= arguments, sorted(arguments)
