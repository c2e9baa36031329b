"""README.md and docs/ match the code: every environment variable is documented, Quick start has two
lines, the README stays a map, and every link, anchor, path and dotted name they give resolves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# The README and every Markdown file in docs/ (the guides and their translations in docs/et/
# included): the pages the checks below read.
PAGES = ["README.md", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))]
# Folders and files at the top of the checkout that a path named in the docs may start with.
TOP_LEVEL = {path.name for path in ROOT.iterdir() if not path.name.startswith(".") or path.name == ".ci"}
ROOMS = {path.parent.name for path in ROOT.glob("*/__init__.py")}


def _read(page: str) -> str:
    return (ROOT / page).read_text()


def _section(title: str, text: str = README) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no '## {title}' section"
    return match.group(1)


def _without_code(text: str) -> str:
    """The prose of a page: fenced blocks and code spans removed, so their text is not read as links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def _anchors(text: str) -> set[str]:
    """The #anchors of a page's headings, made the way GitHub makes them (a repeated one gets -1, -2)."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


def _settings_variables() -> set[str]:
    settings_src = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_src))
    read |= set(re.findall(r'"([A-Z_]+)"', re.search(r"for name in \((.*?)\):", settings_src, re.S).group(1)))
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= read  # the scan itself works
    return read


def test_every_environment_variable_read_by_the_settings_is_documented():
    read = _settings_variables()
    full = set(re.findall(r"^\| `([A-Z_]+)` \|", _read("docs/configuration.md"), re.M))
    assert read - full == set(), "variables docs/configuration.md does not document"
    assert full - read == set(), "variables docs/configuration.md documents that the settings never read"
    table = [line for line in _section("Configuration").splitlines() if line.startswith("| ")]
    listed = set(re.findall(r"`([A-Z][A-Z_]+)`", "\n".join(table)))
    assert read - listed == set(), "variables missing from the README's configuration table"
    assert listed - read == set(), "variables in the README's configuration table that the settings never read"


def test_quick_start_is_exactly_two_commands():
    block = re.search(r"```\n(.*?)```", _section("Quick start"), re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("manage.py run_demo")
    assert "pytest" in commands[1]


def test_the_readme_is_a_map_of_at_most_250_lines():
    assert len(README.splitlines()) <= 250, "the README is a map: move the depth to docs/"


def test_the_readme_lists_every_room_with_its_rule():
    rooms = _section("Architecture")
    rows = dict(re.findall(r"^\| `(\w+)/`[^|]*\|[^|]+\| ([^|]+) \|$", rooms, re.M))
    top_level_packages = {name for name in ROOMS if name != "tests"}
    assert top_level_packages - set(rows) == set(), "rooms the README's architecture overview does not list"
    assert set(rows) - top_level_packages == set(), "rooms the README lists that the checkout does not have"
    assert all(rule.strip() for rule in rows.values())


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_and_anchor_resolves(page):
    text = _read(page)
    links = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", _without_code(text))
    for target in links:
        if re.match(r"^[a-z]+:", target):  # http://, https://, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (ROOT / page).parent / path if path else ROOT / page
        assert file.exists(), f"{page} links to a missing file: {target}"
        if anchor:
            assert file.suffix == ".md", f"{page} links to an anchor in a file that has none: {target}"
            assert anchor in _anchors(file.read_text()), f"{page} links to a missing anchor: {target}"


@pytest.mark.parametrize("page", PAGES)
def test_every_path_a_page_names_exists(page):
    """A path in a code span whose first folder is one of the checkout's (`gates/engine.py`,
    `operations/backups/`, `tests/test_portal_*.py`) names a file or folder that is there."""
    for span in _code_spans(_read(page)):
        path = span.split(" ")[0].rstrip(",.:;")
        if "/" not in path or "<" in path or path.split("/")[0] not in TOP_LEVEL:
            continue
        if "*" in path:
            assert list(ROOT.glob(path)), f"{page} names files that do not exist: {path}"
        else:
            assert (ROOT / path).exists(), f"{page} names a path that does not exist: {path}"


@pytest.mark.parametrize("page", PAGES)
def test_every_dotted_name_a_page_gives_in_a_room_can_be_imported(page):
    """`gates.middleware.TenantGateMiddleware`, `tenants.errors.ApplicationError`: the module exists and
    has the name. (Two-part names are task names and app labels, such as `audit.retention_purge`.)"""
    for span in _code_spans(_read(page)):
        name = span.split("(")[0].split(" ")[0].replace(":", ".")
        parts = name.split(".")
        if len(parts) < 3 or parts[0] not in ROOMS or not all(part.isidentifier() for part in parts):
            continue
        for split in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[split:]:
                assert hasattr(found, attribute), f"{page} names {name}, which does not exist"
                found = getattr(found, attribute)
            break
        else:
            pytest.fail(f"{page} names {name}, whose module does not exist")


def test_every_test_file_is_collected_by_the_test_command():
    """A test folder outside pyproject's testpaths would silently never run."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    roots = {Path(path).parts[0] for path in config["testpaths"]}
    found = {p.relative_to(ROOT).parts[0] for p in ROOT.rglob("test_*.py") if ".venv" not in p.parts}
    assert found - roots == set()
