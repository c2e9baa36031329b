"""Every way past the gate layer is named, has a reason, and is in the README (issue 13).

An AST walk of the code (the house, bench/, and the suite's own plugins; not the test modules,
which exercise the helpers themselves) finds each call of `system_context(...)` and of a
`dangerously_*(...)` helper, as a context manager or a decorator alike. Each must give its reason as
a non-empty literal string, so that a reviewer reads it where it stands; and the README's table
under "The three gates" must list exactly those (file, reason) pairs, no more and no fewer (a row
may name several files that share a reason).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".vastaja", "node_modules", "migrations"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def hatches_in(source: str, path: str) -> list[tuple[str, str]]:
    """(path, reason) for each escape hatch in `source`; ValueError for one whose reason is not a
    non-empty literal string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name != "system_context" and not name.startswith("dangerously_"):
            continue
        reason = next((kw.value for kw in node.keywords if kw.arg == "reason"), None)
        if not (isinstance(reason, ast.Constant) and isinstance(reason.value, str) and reason.value.strip()):
            raise ValueError(f"{path}:{node.lineno}: {name}(...) needs reason= as a non-empty literal string")
        found.append((path, reason.value))
    return found


def code_files() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not SKIP & set(path.relative_to(ROOT).parts) and not path.name.startswith("test_")
    ]


def hatches() -> set[tuple[str, str]]:
    found = set()
    for path in code_files():
        found.update(hatches_in(path.read_text(), str(path.relative_to(ROOT))))
    return found


def readme_table() -> set[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## The three gates", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+?) \|$", section, flags=re.MULTILINE)
    return {(path, reason) for paths, reason in rows for path in re.findall(r"`([^`]+)`", paths)}


# ---- the walker's own tests: it cannot pass by finding nothing


def test_the_walker_finds_context_managers_decorators_and_helpers():
    source = """
@system_context(reason="retention purge")
def purge(): ...

def deliver():
    with gates.context.system_context(reason="deliver a message"):
        pass
    with dangerously_unlogged_test_context(reason="test assertions"):
        pass
"""
    assert sorted(hatches_in(source, "x.py")) == [
        ("x.py", "deliver a message"),
        ("x.py", "retention purge"),
        ("x.py", "test assertions"),
    ]


@pytest.mark.parametrize(
    "call",
    [
        "system_context()",
        'system_context(reason="")',
        'system_context(reason="  ")',
        "system_context(reason=why)",
        'system_context(reason=f"purge {slug}")',
        'system_context(reason="retention " + kind)',
        "dangerously_read_all()",
    ],
)
def test_a_reason_that_is_not_a_literal_fails(call):
    with pytest.raises(ValueError, match="reason"):
        hatches_in(f"with {call}:\n    pass\n", "x.py")


# ---- the code and the README


def test_every_escape_hatch_has_a_literal_reason_and_is_in_the_readme():
    found = hatches()
    assert ("answering/telephony_views.py", "telephony webhook") in found  # the walk reaches the code
    listed = readme_table()
    missing = sorted(found - listed)
    extra = sorted(listed - found)
    assert not missing, "escape hatches missing from the README's table:\n" + "\n".join(map(str, missing))
    assert not extra, "rows of the README's table with no such escape hatch in the code:\n" + "\n".join(map(str, extra))


def test_the_unlogged_test_context_is_used_by_the_suites_plugin_only():
    users = {path for path, _ in hatches() if path != "gates/context.py"}
    unlogged = {
        path
        for path in users
        if "dangerously_unlogged_test_context" in (ROOT / path).read_text() and not path.startswith("gates/")
    }
    assert unlogged == {"tests/fixtures.py"}
