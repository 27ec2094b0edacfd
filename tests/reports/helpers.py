"""Shared by the report tests: hostile ticket text, and reading back every report file."""

from __future__ import annotations

import base64
import copy
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from migrator.config import load_config
from migrator.reports import FORMATS, build, write_reports
from migrator.staging import Staging

# Text that would run, break out of a table, or inject markup if a report did not escape it.
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CLOSE = "</td></table>"
HOSTILE = (SCRIPT, IMG, CLOSE)
# Cells that Excel would evaluate.
FORMULA = '=HYPERLINK("http://example.invalid/","click")'
FORMULAS = (FORMULA, "+1+1", "-2+3", "@SUM(1+1)")
MARKDOWN = "a | b\n| c | d |\n`code` *bold* _it_ [link](javascript:alert(1)) ~~x~~"


def hostile_dataset(dataset: dict[str, Any], tickets: int = 12) -> dict[str, Any]:
    """The fixture dataset's first tickets with hostile titles, comments and file names."""
    ds = copy.deepcopy(dataset)
    chosen = ds["tickets"][:tickets]
    talkative = [
        t for t in chosen if any(c["field"] == "comment" and c["newvalue"] for c in t["changes"])
    ]
    titles = [f"{SCRIPT} 日本語の件名", IMG, f"{CLOSE} | pipe", *FORMULAS]
    for ticket, title in zip(chosen, titles, strict=False):
        ticket["summary"] = title
    for ticket, text in zip(talkative, [*HOSTILE, MARKDOWN, *FORMULAS], strict=False):
        comment = next(c for c in ticket["changes"] if c["field"] == "comment" and c["newvalue"])
        comment["newvalue"] = f"{text}\nコメント本文"
    first = chosen[0]
    first["attachments"] = [
        *first.get("attachments", []),
        *(
            {
                "filename": name,
                "time": first["time"] + 1_000_000 * (i + 1),
                "author": "alice",
                "description": CLOSE,
                "content_b64": base64.b64encode(f"file {i}".encode()).decode(),
            }
            for i, name in enumerate([f"{IMG}.png", f"{SCRIPT}.txt", f"{FORMULA}.csv"])
        ),
    ]
    ds["tickets"] = chosen
    return ds


def write_all(config: Path, out: Path, **build_args: Any) -> dict[str, list[Path]]:
    """Every format in both languages, from the migration's staging; paths by language."""
    cfg = load_config(config)
    staging = Staging(cfg.staging_url)
    try:
        url = build_args.pop("target_url", cfg.target.get("url"))
        data = build(staging, url, **build_args)
    finally:
        staging.close()
    return {lang: write_reports(data, out / lang, FORMATS, lang) for lang in ("en", "ja")}


def file_text(path: Path) -> str:
    """A report file as text; for a workbook, every part of the zip concatenated."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    return path.read_text(encoding="utf-8-sig")


class Elements(HTMLParser):
    """Every element and attribute of an HTML document, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_html_safe(html: str) -> None:
    """Only the report's own elements, no event handler, and the hostile text shown as text."""
    doc = Elements(html)
    allowed = {
        "html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2", "h3",
        "p", "main", "nav", "ol", "li", "a", "section", "span", "table", "thead", "tbody",
        "tr", "th", "td", "figure", "figcaption", "svg", "rect", "text", "g", "footer", "code",
    }  # fmt: skip
    assert set(doc.tags) <= allowed, set(doc.tags) - allowed
    assert not [name for name, _ in doc.attrs if name.startswith("on")]
    hrefs = [value or "" for name, value in doc.attrs if name == "href"]
    assert all(h.startswith(("http://", "https://", "#")) for h in hrefs), hrefs
    text = "".join(doc.text)
    for payload in HOSTILE:
        assert payload in text


def md_rows(md: str) -> list[list[str]]:
    """Table rows of a Markdown document, split on unescaped pipes."""
    rows = []
    for line in md.splitlines():
        if not line.startswith("|"):
            continue
        cells, cell, escaped = [], "", False
        for ch in line[1:]:
            if escaped:
                cell, escaped = cell + ch, False
            elif ch == "\\":
                cell, escaped = cell + ch, True
            elif ch == "|":
                cells.append(cell.strip())
                cell = ""
            else:
                cell += ch
        rows.append(cells)
    return rows
