"""The README matches the code: every environment variable is documented, Quick start has two lines."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_every_environment_variable_read_by_the_settings_is_documented():
    settings_src = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_src))
    read |= set(re.findall(r'"([A-Z_]+)"', re.search(r"for name in \((.*?)\):", settings_src).group(1)))
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= read  # the scan itself works
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", _section("Configuration"), re.M))
    assert read - documented == set(), "undocumented variables"
    assert documented - read == set(), "documented variables the settings never read"


def test_quick_start_is_exactly_two_commands():
    block = re.search(r"```\n(.*?)```", _section("Quick start"), re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("manage.py run_demo")
    assert "pytest" in commands[1]


def test_every_test_file_is_collected_by_the_test_command():
    """A test folder outside pyproject's testpaths would silently never run."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    roots = {Path(path).parts[0] for path in config["testpaths"]}
    found = {p.relative_to(ROOT).parts[0] for p in ROOT.rglob("test_*.py") if ".venv" not in p.parts}
    assert found - roots == set()
