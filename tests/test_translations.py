"""Every app's Estonian catalogue is complete, and its compiled `.mo` matches the `.po` (a fresh
machine has no gettext to compile it, so the `.mo` is committed); and the Estonian guides in
docs/et/ are Estonian throughout."""

from __future__ import annotations

import ast
import gettext
import re
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


# ---- the Estonian guides -----------------------------------------------------------------------

GUIDES_ET = sorted((ROOT / "docs" / "et").glob("*.md"))
# Words of almost every English sentence and of no Estonian one ("on", "all" and "need" are
# Estonian words too, so they are left out).
ENGLISH = {
    *("a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "into", "for", "from", "with"),
    *("without", "by", "at", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this"),
    *("that", "these", "those", "there", "their", "they", "them", "you", "your", "we", "our", "which"),
    *("who", "what", "when", "where", "how", "not", "no", "do", "does", "can", "may", "must", "will"),
    *("would", "should", "has", "have", "had", "than", "then", "so", "such", "only", "also", "each"),
    *("every", "any", "some", "other", "more", "most", "about", "after", "before", "while", "until"),
}


def _paragraphs(text: str) -> list[str]:
    """The prose of a Markdown page, paragraph by paragraph (a list item, a heading and a table row
    each count as one). Left out: code blocks and spans, and what the page quotes from the screens
    in bold (a staff guide quotes the English admin as it is); a link keeps its text only."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\*\*[^*]+?\*\*", " ", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    blocks = re.split(r"\n\s*\n|\n(?=\s*(?:[-*] |\d+\. |#|\|))", text)
    return [" ".join(block.split()) for block in blocks if block.strip()]


def _english_paragraphs(text: str) -> list[str]:
    """Paragraphs of more than three words in which English's commonest words make up over 15%:
    English prose runs at 40% and more, Estonian at none (a company name or an English label in
    italics does not tip a paragraph)."""
    found = []
    for paragraph in _paragraphs(text):
        words = re.findall(r"[^\W\d_]+", paragraph.lower())
        if len(words) > 3 and sum(word in ENGLISH for word in words) / len(words) > 0.15:
            found.append(paragraph)
    return found


def test_the_english_paragraph_check_finds_english():
    """The check itself: every prose paragraph of an English guide is flagged."""
    english = (ROOT / "docs" / "agent-guide.md").read_text()
    long = [p for p in _paragraphs(english) if len(re.findall(r"[^\W\d_]+", p)) > 8]
    assert long
    assert set(_english_paragraphs(english)) >= set(long)


def test_there_are_estonian_guides():
    assert {path.name for path in GUIDES_ET} == {"agent-guide.md", "dpo-guide.md", "client-admin-guide.md"}


@pytest.mark.parametrize("guide", GUIDES_ET, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_english_paragraph_remains_in_an_estonian_guide(guide):
    assert _english_paragraphs(guide.read_text()) == []
