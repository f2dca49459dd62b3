"""Every macro in macros/ has a YAML entry in its folder, with its arguments.

dbt reads the entries (macros/<folder>/_<folder>__macros.yml) into the docs site and the
manifest but checks nothing against the Jinja unless `validate_macro_args` is on, so a
renamed argument or a new macro would leave the docs wrong without a word. The adapter
implementations of dispatched macros (`duckdb__name`, `spark__name`, `default__name`, ...)
are documented by their dispatching macro's entry and need none of their own.

Python only: the macros are read with Jinja's parser, no dbt run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
import yaml
from jinja2 import nodes

MACROS_DIR = Path(__file__).resolve().parents[2] / "macros"

# Prefixes dbt's adapter.dispatch looks up: `<prefix>__<macro>`.
ADAPTER_PREFIXES = {
    "default",
    "duckdb",
    "spark",
    "databricks",
    "bigquery",
    "postgres",
    "redshift",
    "snowflake",
    "trino",
}

# The argument type grammar dbt checks when validate_macro_args is on
# (dbt/parser/schemas.py, macro_types): a type name and its number of type parameters.
TYPE_ARITY = {
    "str": 0,
    "string": 0,
    "bool": 0,
    "int": 0,
    "integer": 0,
    "float": 0,
    "any": 0,
    "relation": 0,
    "column": 0,
    "list": 1,
    "optional": 1,
    "dict": 2,
}
TYPE_NAME = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Macro:
    name: str
    path: Path
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    raw: dict


def read_macros(macros_dir: Path) -> list[Macro]:
    """Every macro defined in the folder's .sql files, with its argument names in order."""
    # dbt's Jinja adds `do` and loop controls; a dbt-only block (materialization, test) in
    # macros/ would fail to parse here, loudly.
    env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    found = []
    for path in sorted(macros_dir.rglob("*.sql")):
        tree = env.parse(path.read_text(), name=str(path))
        for macro in tree.find_all(nodes.Macro):
            found.append(Macro(macro.name, path, tuple(arg.name for arg in macro.args)))
    return found


def read_entries(macros_dir: Path) -> list[Entry]:
    entries = []
    for path in sorted(macros_dir.rglob("*.yml")):
        for raw in (yaml.safe_load(path.read_text()) or {}).get("macros") or []:
            entries.append(Entry(str(raw.get("name")), path, raw))
    return entries


def is_adapter_implementation(name: str) -> bool:
    prefix, separator, _ = name.partition("__")
    return bool(separator) and prefix in ADAPTER_PREFIXES


def _type_end(text: str, pos: int) -> int | None:
    """Where the type starting at `pos` ends, or None when none starts there."""
    match = TYPE_NAME.match(text, pos)
    if match is None or match.group() not in TYPE_ARITY:
        return None
    arity, end = TYPE_ARITY[match.group()], match.end()
    for index in range(arity):
        if text[end : end + 1] != ("[" if index == 0 else ","):
            return None
        end = _type_end(text, end + 1)
        if end is None:
            return None
    if arity and text[end : end + 1] != "]":
        return None
    return end + 1 if arity else end


def is_dbt_type(text: object) -> bool:
    if not isinstance(text, str):
        return False
    compact = re.sub(r"\s", "", text)
    return _type_end(compact, 0) == len(compact)


def undocumented(macros: list[Macro], entries: list[Entry]) -> list[str]:
    documented = {entry.name for entry in entries}
    return [
        f"{macro.path.name}: {macro.name}({', '.join(macro.arguments)})"
        for macro in macros
        if macro.name not in documented and not is_adapter_implementation(macro.name)
    ]


def argument_mismatches(macros: list[Macro], entries: list[Entry]) -> list[str]:
    signatures = {macro.name: macro.arguments for macro in macros}
    problems = []
    for entry in entries:
        documented = tuple(str(arg.get("name")) for arg in entry.raw.get("arguments") or [])
        signature = signatures.get(entry.name)
        if signature is not None and documented != signature:
            problems.append(
                f"{entry.name}: signature ({', '.join(signature)}), YAML ({', '.join(documented)})"
            )
    return problems


def stale_entries(macros: list[Macro], entries: list[Entry]) -> list[str]:
    defined = {macro.name for macro in macros}
    return [f"{entry.path.name}: {entry.name}" for entry in entries if entry.name not in defined]


def incomplete_entries(macros: list[Macro], entries: list[Entry]) -> list[str]:
    """Entries without a description, with an argument lacking a dbt type or a description,
    documented twice, or kept in another folder than their macro's."""
    folders = {macro.name: macro.path.parent for macro in macros}
    seen: set[str] = set()
    problems = []
    for entry in entries:
        if entry.name in seen:
            problems.append(f"{entry.name}: documented twice")
        seen.add(entry.name)
        if entry.name in folders and entry.path.parent != folders[entry.name]:
            problems.append(
                f"{entry.name}: documented in {entry.path.parent.name}/, "
                f"defined in {folders[entry.name].name}/"
            )
        if not str(entry.raw.get("description") or "").strip():
            problems.append(f"{entry.name}: no description")
        for arg in entry.raw.get("arguments") or []:
            if not is_dbt_type(arg.get("type")):
                problems.append(f"{entry.name}.{arg.get('name')}: type {arg.get('type')!r}")
            if not str(arg.get("description") or "").strip():
                problems.append(f"{entry.name}.{arg.get('name')}: no description")
    return problems


@pytest.fixture(scope="module")
def project() -> tuple[list[Macro], list[Entry]]:
    return read_macros(MACROS_DIR), read_entries(MACROS_DIR)


def report(title: str, problems: list[str]) -> str:
    return title + ":\n" + "\n".join(problems)


def test_every_macro_is_documented(project):
    missing = undocumented(*project)
    assert not missing, report("macros without an entry in macros/<folder>/_*__macros.yml", missing)


def test_documented_arguments_match_the_signatures(project):
    mismatches = argument_mismatches(*project)
    assert not mismatches, report("documented arguments differ (names, in order)", mismatches)


def test_every_entry_names_a_macro(project):
    stale = stale_entries(*project)
    assert not stale, report("YAML entries for macros that do not exist", stale)


def test_entries_are_complete(project):
    problems = incomplete_entries(*project)
    assert not problems, report("incomplete macro entries", problems)


def test_the_checks_report_each_kind_of_problem(tmp_path):
    """The checks above pass on the project; this shows that they would not on a broken one."""
    folder = tmp_path / "utils"
    folder.mkdir()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "b.sql").write_text("{% macro elsewhere(a) %}{% endmacro %}\n")
    (folder / "a.sql").write_text(
        "{% macro kept(x, y=none) -%}{%- do [].append(x) -%}{%- endmacro %}\n"
        "{% macro new_one(z) %}{% endmacro %}\n"
        "{% macro duckdb__kept(x, y=none) %}{% endmacro %}\n"
    )
    (folder / "_utils__macros.yml").write_text(
        yaml.safe_dump(
            {
                "version": 2,
                "macros": [
                    {
                        "name": "kept",
                        "description": "",
                        "arguments": [
                            {"name": "y", "type": "list", "description": "swapped"},
                            {"name": "x", "type": "string", "description": "swapped"},
                        ],
                    },
                    {"name": "gone", "description": "a macro that was removed"},
                    {"name": "elsewhere", "description": "in the wrong folder's file"},
                    {"name": "elsewhere", "description": "and twice"},
                ],
            }
        )
    )
    macros, entries = read_macros(tmp_path), read_entries(tmp_path)

    assert [macro.name for macro in macros] == ["elsewhere", "kept", "new_one", "duckdb__kept"]
    assert undocumented(macros, entries) == ["a.sql: new_one(z)"]
    assert argument_mismatches(macros, entries) == [
        "kept: signature (x, y), YAML (y, x)",
        "elsewhere: signature (a), YAML ()",
        "elsewhere: signature (a), YAML ()",
    ]
    assert stale_entries(macros, entries) == ["_utils__macros.yml: gone"]
    assert incomplete_entries(macros, entries) == [
        "kept: no description",
        "kept.y: type 'list'",
        "elsewhere: documented in utils/, defined in metrics/",
        "elsewhere: documented twice",
        "elsewhere: documented in utils/, defined in metrics/",
    ]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("string", True),
        ("relation", True),
        ("list[string]", True),
        ("optional[list[string]]", True),
        ("dict[string, any]", True),
        ("list[dict[string, string]]", True),
        ("list", False),
        ("dict[string]", False),
        ("string[any]", False),
        ("list[string", False),
        ("sql", False),
        (None, False),
    ],
)
def test_type_grammar(text, valid):
    assert is_dbt_type(text) is valid
