"""Every app's Estonian catalogue is complete, and its compiled `.mo` matches the `.po` (a fresh
machine has no gettext to compile it, so the `.mo` is committed)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/et/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def _entries(po: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (singular entries; plural entries by their msgid)."""
    text = po.read_text()
    entries = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block:
            entries[f"<fuzzy {block!r}>"] = ""
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r"^msgstr(?:\[0\])? ((?:\".*\"\n?)+)", block, re.M)
        if msgid and msgstr:
            key = "".join(ast.literal_eval(part) for part in msgid.group(1).split("\n") if part)
            value = "".join(ast.literal_eval(part) for part in msgstr.group(1).split("\n") if part)
            if key:
                entries[key] = value
    return entries


def test_there_are_catalogues():
    assert any(p.parent.parent.parent.parent.name == "portal" for p in CATALOGUES)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_is_translated_and_compiled(po):
    entries = _entries(po)
    untranslated = [key for key, value in entries.items() if not value]
    assert untranslated == [], f"untranslated or fuzzy in {po}"
    with open(po.with_suffix(".mo"), "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [key for key, value in entries.items() if catalogue.gettext(key) != value]
    assert stale == [], f"{po.with_suffix('.mo')} is out of date: run compilemessages"
