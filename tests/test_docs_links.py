"""The docs stand on their own: every relative link in README.md, CHANGELOG.md and docs/ resolves to a file of the
repository, and no page sends the reader to a folder beside the clone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Markdown links and images: ``[text](target)``; the target ends at a space (a title) or the parenthesis.
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def relative_links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every link of ``page`` outside code blocks that is not a URL or an anchor in the page."""
    found, in_code = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            found.append((number, target.split("#", 1)[0]))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for number, target in relative_links(page):
        resolved = (page.parent / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{page.relative_to(ROOT)}:{number}: {target}")
    assert not broken, "links that leave the repository or lead nowhere:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_no_page_points_at_files_beside_the_clone(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    outside = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if re.search(r"\.\./shared\b|\bDESIGN(\.md)?\b", line)
    ]
    assert not outside, "pages that cite documents outside the repository:\n" + "\n".join(outside)
