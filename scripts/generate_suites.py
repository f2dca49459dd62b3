"""Regenerate expectations/ (the Great Expectations suites) from the spec in dbt_project.yml.

The spec is read as dbt normalizes it (northstar/spec.py: one `dbt run-operation`, no
warehouse needed); --vars-file is passed to dbt as `--vars`.

    .venv/bin/python scripts/generate_suites.py            # write expectations/*.json
    .venv/bin/python scripts/generate_suites.py --check    # exit 1 if they are out of date

CI (scripts/test.sh) runs `--check`: when the committed files differ from what the spec
generates, it names them on stderr, prints a unified diff of each on stdout (committed
-> generated; also a patch `patch -p1` applies from the project directory) and exits 1.
So a change to a metric definition or a validation band reaches review as a change to a
suite file, and a forgotten regeneration fails CI showing what it would change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from northstar.errors import SpecError
from northstar.paths import find_project_dir
from northstar.project_vars import load_vars
from northstar.spec import load_spec
from northstar.validation.settings import ValidationSettings
from northstar.validation.suite_files import differences, unified_diffs, write_suites
from northstar.validation.suites import build_suites

GENERATE = ".venv/bin/python scripts/generate_suites.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=None, help="dbt project directory")
    parser.add_argument(
        "--vars-file",
        type=Path,
        default=None,
        help="YAML whose top-level keys replace dbt_project.yml vars (as `dbt --vars`)",
    )
    parser.add_argument("--out", type=Path, default=None, help="default: <project>/expectations")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)

    project = args.project_dir or find_project_dir()
    variables = load_vars(project, args.vars_file)
    try:
        spec = load_spec(project, args.vars_file)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        if err.details:
            print(err.details, file=sys.stderr)
        return 1
    suites = build_suites(spec, ValidationSettings.from_vars(variables))
    out = args.out or project / "expectations"
    if args.check:
        stale = differences(out, suites) if out.is_dir() else [f"{out} (missing)"]
        if stale:
            print(
                f"out of date: {', '.join(stale)}; run scripts/generate_suites.py", file=sys.stderr
            )
            if out.is_dir():
                for diff in unified_diffs(out, suites, _label(out, project)).values():
                    sys.stdout.write(diff)
            return 1
        print(f"{out}: {len(suites)} suites up to date")
        return 0
    written = write_suites(out, suites)
    count = sum(len(suite["expectations"]) for suite in suites)
    print(f"wrote {len(written)} suites ({count} expectations) to {out}")
    return 0


def _label(directory: Path, project: Path) -> str:
    """The suites directory as the diff names it: relative to the project when inside."""
    try:
        return directory.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return directory.resolve().as_posix().lstrip("/")


if __name__ == "__main__":
    sys.exit(main())
