"""The spec has one reader: the normalizer macro (macros/spec/northstar_spec.sql).

Models and macros call northstar_spec(); Python takes the normalized spec from dbt
(northstar/spec.py). A model reading `var('northstar')` itself, or Python re-reading the
spec from dbt_project.yml, would re-apply defaults the normalizer fills and drift from it.
The scan covers the package, scripts/, models/ and macros/; tests may read the raw spec.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from northstar.project_vars import load_vars

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCANNED = ("northstar", "scripts", "models", "macros")
RAW_SPEC_VAR = re.compile(r"""\bvar\(\s*['"]northstar['"]""")
# The one reader of var('northstar').
SPEC_READER = "macros/spec/northstar_spec.sql"
# Python that opens dbt_project.yml, and why; none of them for the spec.
PROJECT_FILE_READERS = {
    "northstar/paths.py": "finds the project directory by the file's presence",
    "northstar/project_vars.py": "the vars other than the spec (northstar__validation)",
}


def violations(relative: str, text: str) -> list[str]:
    """What in this file reads the spec outside its reader (empty when nothing does)."""
    found = []
    if relative != SPEC_READER:
        for number, line in enumerate(text.splitlines(), 1):
            if RAW_SPEC_VAR.search(line):
                found.append(f"{relative}:{number}: reads var('northstar'): use northstar_spec()")
    if relative.endswith(".py") and relative not in PROJECT_FILE_READERS:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and node.value == "dbt_project.yml":
                found.append(
                    f"{relative}:{node.lineno}: opens dbt_project.yml: read the spec with "
                    "northstar.spec.load_spec (or settings with northstar.project_vars)"
                )
    return found


def scanned_files() -> list[Path]:
    files = []
    for top in SCANNED:
        files += [
            path
            for path in (PROJECT_DIR / top).rglob("*")
            if path.is_file() and path.suffix in (".py", ".sql", ".yml", ".sh")
        ]
    return sorted(files)


def test_nothing_outside_the_spec_reader_reads_the_spec() -> None:
    files = scanned_files()
    assert len(files) > 100  # the scan sees the project, not an empty directory
    found = [
        problem
        for path in files
        for problem in violations(path.relative_to(PROJECT_DIR).as_posix(), path.read_text())
    ]
    assert found == []


def test_the_spec_reader_and_the_allowed_readers_exist() -> None:
    # a renamed file would leave a stale exemption behind
    assert RAW_SPEC_VAR.search((PROJECT_DIR / SPEC_READER).read_text())
    for relative in PROJECT_FILE_READERS:
        assert "dbt_project.yml" in (PROJECT_DIR / relative).read_text(), relative


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("models/marts/x.sql", "select '{{ var('northstar').entity }}' as entity"),
        ("macros/x.sql", '{%- set spec = var( "northstar", {}) -%}'),
        ("models/x.yml", "description: whichever var('northstar').entity names"),
        ("scripts/x.sh", "dbt compile --inline \"{{ var('northstar') }}\""),
        ("northstar/x.py", "SQL = \"{{ tojson(var('northstar')) }}\""),
        (
            "northstar/x.py",
            'import yaml\nspec = yaml.safe_load(open("dbt_project.yml"))["vars"]["northstar"]',
        ),
        ("scripts/x.py", 'path = project / "dbt_project.yml"'),
    ],
)
def test_a_forbidden_read_is_found(relative: str, text: str) -> None:
    assert violations(relative, text)


def test_allowed_reads_are_not_flagged() -> None:
    assert violations(SPEC_READER, "{%- set raw = var('northstar', none) -%}") == []
    assert violations("northstar/project_vars.py", 'open(project / "dbt_project.yml")') == []
    # other vars of the northstar__ family are settings, not the spec
    assert violations("macros/x.sql", "{{ var('northstar__lookback_days', 3) }}") == []


def test_project_vars_leave_the_spec_out(tmp_path: Path) -> None:
    assert "northstar" in (PROJECT_DIR / "dbt_project.yml").read_text()
    variables = load_vars(PROJECT_DIR)
    assert "northstar__validation" in variables
    assert "northstar" not in variables
    override = tmp_path / "spec.yml"
    override.write_text("northstar: {entity: user}\nnorthstar__lookback_days: 5\n")
    variables = load_vars(PROJECT_DIR, override)
    assert variables["northstar__lookback_days"] == 5
    assert "northstar" not in variables
