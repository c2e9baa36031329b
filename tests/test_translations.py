"""Every app's Estonian catalogue is complete, and its compiled `.mo` matches the `.po` (a fresh
machine has no gettext to compile it, so the `.mo` is committed)."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/et/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def _entries(po: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (plural entries by their msgid and first form); a fuzzy entry
    counts as untranslated. Parsed line by line, so entries need no blank line between them."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    fuzzy = False
    field = None

    def flush():
        key = current.get("msgid", "")
        if key:
            entries[key] = "" if fuzzy else current.get("msgstr", "")

    for line in po.read_text().splitlines():
        if line.startswith("#,"):
            if "msgid" in current:
                flush()
                current, field = {}, None
            fuzzy = "fuzzy" in line
        elif line.startswith(("msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ", "msgctxt ")):
            keyword, _, literal = line.partition(" ")
            keyword = {"msgstr[0]": "msgstr"}.get(keyword, keyword)
            if keyword in ("msgid", "msgctxt") and "msgstr" in current:
                flush()
                current, fuzzy = {}, fuzzy if keyword == "msgctxt" else False
            field = keyword if keyword in ("msgid", "msgstr") else None
            if field:
                current[field] = ast.literal_eval(literal)
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
        elif not line.strip() or line.startswith("#"):
            field = None if not line.startswith("#") else field
    flush()
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
