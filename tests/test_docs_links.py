"""Every relative link in the README and ``docs/`` resolves, to a file and to a heading (issue 22, item 10).

The README once pointed at a contract outside the repository and at a section that did not exist.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
OUTSIDE = ".." + "/shared"  # the session's companion folder, not part of the product (split: this file is checked)
CODE = re.compile(r"(`+)(?:(?!\1).)+\1", re.DOTALL)


def prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are not links."""
    return CODE.sub("", FENCE.sub("", text))


def anchors(page: Path) -> set[str]:
    """The heading anchors GitHub makes: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen: Counter[str] = Counter()
    out = set()
    for line in FENCE.sub("", page.read_text()).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))  # a link in a heading: its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        out.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return out


def links(page: Path) -> list[str]:
    return [t for t in LINK.findall(prose(page.read_text())) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def broken(page: Path, root: Path = ROOT) -> list[str]:
    out = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_relative_to(root):
            out.append(f"{target}: outside the repository")
        elif not dest.exists():
            out.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            out.append(f"{target}: no heading #{anchor} in {dest.relative_to(root)}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken(page) == []


def test_the_readme_leads_to_the_interfaces() -> None:
    assert "docs/interfaces.md" in links(ROOT / "README.md")
    assert {"command-line", "event-messages", "topics-wallctl-publishes", "commands"} <= anchors(
        ROOT / "docs" / "interfaces.md"
    )


def test_nothing_points_outside_the_repository() -> None:
    hits = [
        str(f.relative_to(ROOT))
        for folder in ("docs", "config", "layouts", "wallctl", "tests", "tools", "topology", "sounds")
        for f in (ROOT / folder).rglob("*")
        if f.is_file()
        and f.suffix in {".md", ".py", ".yaml", ".yml", ".json", ".toml", ".txt"}
        and OUTSIDE in f.read_text(errors="replace")
    ]
    hits += [n for n in ("README.md", "Makefile", "pyproject.toml") if OUTSIDE in (ROOT / n).read_text()]
    assert hits == []


def test_the_checker_catches_what_it_is_for(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    (tmp_path / "docs" / "there.md").write_text("# There\n\n## Editing layouts\n\n## Editing layouts\n")
    page.write_text(
        "# Title: *one*\n\nSee [a](there.md#editing-layouts-1), [b](#title-one), [web](https://example.org/x),\n"
        f"[c](../{OUTSIDE}/CONTRACT.md), [d](there.md#editing-configuration), ![e](missing.png), `[f](no.md)`,\n"
        "[g](../README.md).\n```\n[h](ignored-too.md)\n```\n"
    )
    assert broken(page, root=tmp_path) == [
        f"../{OUTSIDE}/CONTRACT.md: outside the repository",
        "there.md#editing-configuration: no heading #editing-configuration in docs/there.md",
        "missing.png: no such file",
        "../README.md: no such file",
    ]
