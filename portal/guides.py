"""The guides in `docs/`, shown inside the product: staff read theirs from the admin's Help link,
client admins theirs from the portal. The Markdown files are the single source; the README links
to the same files. Each guide has an Estonian translation in `docs/et/`, shown while the active
language is Estonian."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import markdown
from django.conf import settings
from django.http import FileResponse, Http404
from django.utils import translation
from django.utils.safestring import mark_safe

DOCS = Path(settings.BASE_DIR) / "docs"
GUIDES = {
    "agent": "agent-guide.md",
    "dpo": "dpo-guide.md",
    "client-admin": "client-admin-guide.md",
}
# The translations, by language: the same file names in a folder of docs/ (they share its screenshots).
TRANSLATED = {"et": DOCS / "et"}
STAFF_GUIDES = ("agent", "dpo")
SCREENSHOT = re.compile(r"^[a-z0-9-]+\.png$")


def _markdown(text: str) -> tuple[str, list[str]]:
    """HTML, and the ids of its headings in order."""
    md = markdown.Markdown(extensions=["tables", "toc", "fenced_code"], output_format="html")
    html = md.convert(text)

    def ids(tokens) -> list[str]:
        return [found for token in tokens for found in [token["id"], *ids(token["children"])]]

    return html, ids(md.toc_tokens)


@lru_cache(maxsize=16)
def _render(path: Path, mtime: float) -> tuple[str, str]:
    text = path.read_text()
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path.stem)
    html, ids = _markdown(text)
    english = DOCS / path.name
    if path != english:
        # A translation's headings keep the English guide's anchors (same sections, in the same
        # order), so a link such as /admin/help/agent/#training-and-confidentiality works in both.
        _html, english_ids = _markdown(english.read_text())
        renamed = dict(zip(ids, english_ids, strict=False))
        html = re.sub(r'(id|href)="(#?)([^"]+)"', lambda m: _anchor(m, renamed), html)
    return title, html


def _anchor(match: re.Match, renamed: dict[str, str]) -> str:
    """A heading's id, or a link to a heading of the same page, renamed; anything else as it was."""
    attribute, hash_, target = match.groups()
    same_page = (attribute == "id" and not hash_) or (attribute == "href" and hash_)
    return f'{attribute}="{hash_}{renamed.get(target, target) if same_page else target}"'


def guide_path(name: str, language: str | None = None) -> Path:
    """The guide's file in `language` (the active one by default), or the English one."""
    language = (language or translation.get_language() or "en").split("-")[0]
    folder = TRANSLATED.get(language, DOCS)
    path = folder / GUIDES[name]
    return path if path.is_file() else DOCS / GUIDES[name]


def guide(name: str, *, screenshot_base: str) -> tuple[str, str]:
    """(title, HTML) of a guide in the active language, with its screenshots pointed at
    `screenshot_base`."""
    if name not in GUIDES:
        raise Http404
    path = guide_path(name)
    title, html = _render(path, path.stat().st_mtime)
    html = re.sub(r'src="(?:\.\./)?screenshots/', f'src="{screenshot_base}', html)
    html = re.sub(r'href="([a-z-]+)-guide\.md(#[\w-]+)?"', lambda m: f'href="../{m.group(1)}/{m.group(2) or ""}"', html)
    return title, mark_safe(html)  # rendered from the repository's own Markdown files, not from input


def screenshot_response(name: str) -> FileResponse:
    if not SCREENSHOT.match(name) or not (DOCS / "screenshots" / name).is_file():
        raise Http404
    return FileResponse(open(DOCS / "screenshots" / name, "rb"), content_type="image/png")


def staff_guide_view(request, name: str):
    """/admin/help/<guide>/: the agent's and the DPO's guides, for signed-in provider staff."""
    from django.contrib import admin
    from django.template.response import TemplateResponse

    if name not in STAFF_GUIDES or not getattr(request.user, "is_provider_staff", False):
        raise Http404
    title, html = guide(name, screenshot_base="/admin/help/screenshots/")
    context = {**admin.site.each_context(request), "title": title, "guide_html": html}
    return TemplateResponse(request, "admin/help.html", context)


def staff_screenshot_view(request, name: str):
    if not getattr(request.user, "is_provider_staff", False):
        raise Http404
    return screenshot_response(name)
