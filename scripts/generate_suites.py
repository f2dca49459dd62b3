"""Regenerate expectations/ (the Great Expectations suites) from the spec in dbt_project.yml.

    .venv/bin/python scripts/generate_suites.py            # write expectations/*.json
    .venv/bin/python scripts/generate_suites.py --check    # exit 1 if they are out of date

CI runs the first and then `git diff --exit-code expectations/`, so a change to a metric
definition or a validation band reaches review as a change to a suite file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from northstar.paths import find_project_dir
from northstar.spec import load_spec, load_vars
from northstar.validation.settings import ValidationSettings
from northstar.validation.suite_files import differences, write_suites
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
    suites = build_suites(
        load_spec(project, args.vars_file), ValidationSettings.from_vars(variables)
    )
    out = args.out or project / "expectations"
    if args.check:
        stale = differences(out, suites) if out.is_dir() else [f"{out} (missing)"]
        if stale:
            print(
                f"out of date: {', '.join(stale)}; run scripts/generate_suites.py", file=sys.stderr
            )
            return 1
        print(f"{out}: {len(suites)} suites up to date")
        return 0
    written = write_suites(out, suites)
    count = sum(len(suite["expectations"]) for suite in suites)
    print(f"wrote {len(written)} suites ({count} expectations) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
