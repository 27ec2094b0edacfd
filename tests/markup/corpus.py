"""Texts to convert, written by others where possible.

* Trac: the examples of Trac's own help pages (the ``{{{ }}}`` blocks in the
  "Wiki Markup" cells of WikiFormatting, TracLinks, WikiHtml... as installed
  with Trac), read from the Trac package at run time.
* Redmine Textile and CommonMark: the examples of Redmine's own help pages
  (``public/help/en/wiki_syntax_*.html`` of the installed Redmine).
* One case per construct of each syntax, in ``tests/mapping/samples/constructs``
  (written for these tests; Jira's follow the sections of Atlassian's text
  formatting notation help), each case after a ``%%%% name`` line.
* Whole texts, for the no-word-lost property: the sample pages and tickets.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "mapping" / "samples"
CONSTRUCTS = SAMPLES / "constructs"
REDMINE_HELP = Path("/usr/share/redmine/public/help/en")
TRAC_HELP_PAGES = (
    "WikiFormatting",
    "TracLinks",
    "WikiHtml",
    "WikiProcessors",
    "WikiPageNames",
    "CamelCase",
    "TracWiki",
    "InterWiki",
    "InterTrac",
    "WikiMacros",
    "TracSyntaxColoring",
)
SOURCES = ("trac", "textile", "markdown", "jira", "adf")


@dataclass(frozen=True)
class Case:
    syntax: str
    name: str
    text: str


# Macros and processors whose output Trac computes from its own database or
# plugins: no other tracker can show it, so they are kept as written (and
# counted apart by the bench).
TRAC_COMPUTED = re.compile(
    r"\[\[(?!(?:br|image|span)\b)[\w/+-]+\??(?:\(|\]\])|#!(?:td|th|tr|table)\b", re.I
)


def _trac_blocks(lines: list[str]) -> Iterator[tuple[str | None, list[str]]]:
    """(processor, body) of the top-level ``{{{ }}}`` blocks of Trac text."""
    start = re.compile(r"\s*\{\{\{(?:\s*#!([\w+-][\w+/-]*).*)?\s*$")
    i = 0
    while i < len(lines):
        m = start.match(lines[i]) if "}}}" not in lines[i] else None
        if not m:
            i += 1
            continue
        depth, j = 1, i + 1
        while j < len(lines):
            if "}}}" not in lines[j] and start.match(lines[j]):
                depth += 1
            elif lines[j].strip() == "}}}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        body = lines[i + 1 : j]
        processor = m.group(1)
        first = re.match(r"\s*#!([\w+-][\w+/-]*)", body[0]) if body else None
        if processor is None and first:
            processor = first.group(1)
            body = body[1:]
        yield processor, body
        i = j + 1


@cache
def trac_help() -> tuple[Case, ...]:
    """The wiki markup examples of the help pages Trac ships (the left cell of each pair)."""
    import trac

    pages = Path(trac.__file__).parent / "wiki" / "default-pages"
    cases: list[Case] = []
    for page in TRAC_HELP_PAGES:
        text = (pages / page).read_text(encoding="utf-8")
        # Inline examples: `markup` in the first cell of a "markup || display" row.
        for row in re.findall(
            r"^\|\| ((?:`[^`]+`|\{\{\{.+?\}\}\})(?:, .+?)?) \|\| \\$", text, re.M
        ):
            for k, example in enumerate(re.findall(r"`([^`]+)`|\{\{\{(.+?)\}\}\}", row)):
                snippet = example[0] or example[1]
                cases.append(Case("trac", f"{page}:row{len(cases)}.{k}", snippet))
        for processor, body in _trac_blocks(text.split("\n")):
            if processor != "td":
                continue
            for inner, example in _trac_blocks(body):
                if inner is None:
                    source = textwrap.dedent("\n".join(example)).strip("\n")
                    cases.append(Case("trac", f"{page}:{len(cases)}", source))
    return tuple(cases)


@cache
def redmine_help(kind: str) -> tuple[Case, ...]:
    """The examples of Redmine's help pages for ``textile`` or ``common_mark``."""
    syntax = "textile" if kind == "textile" else "markdown"
    cases: list[Case] = []
    seen: set[str] = set()

    def add(name: str, source: str) -> None:
        source = source.strip("\n")
        if source.strip() and source not in seen:
            seen.add(source)
            cases.append(Case(syntax, name, source))

    quick = (REDMINE_HELP / f"wiki_syntax_{kind}.html").read_text(encoding="utf-8")
    for k, row in enumerate(re.findall(r"<tr>(.*?)</tr>", quick, re.S)):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) >= 2:
            source = re.sub(r"<br\s*/?>", "\n", cells[0])
            source = re.sub(r"<[^>]+>", "", source)
            add(f"wiki_syntax_{kind}:{k}", html.unescape(source).replace("\xa0", " "))
    detailed = (REDMINE_HELP / f"wiki_syntax_detailed_{kind}.html").read_text(encoding="utf-8")
    for k, pre in enumerate(re.findall(r"<pre>(.*?)</pre>", detailed, re.S)):
        if "syntaxhl" in pre or pre.lstrip().startswith("<code"):
            continue  # a rendering shown for comparison, or HTML, not markup to type
        add(f"wiki_syntax_detailed_{kind}:{k}", html.unescape(pre))
    return tuple(cases)


@cache
def constructs(syntax: str) -> tuple[Case, ...]:
    """One case per construct, from ``samples/constructs/<syntax>.txt``."""
    path = CONSTRUCTS / f"{syntax}.txt"
    text = path.read_text(encoding="utf-8")
    cases: list[Case] = []
    for chunk in re.split(r"^%%%% ", text, flags=re.M)[1:]:
        name, _, body = chunk.partition("\n")
        cases.append(Case(syntax, f"constructs:{name.strip()}", body.rstrip("\n")))
    return tuple(cases)


@cache
def adf_cases() -> tuple[Case, ...]:
    """ADF written by Atlassian: its transformer's documents for the Jira cases."""
    from tests.markup.oracles import render_atlassian

    jira = constructs("jira")
    docs = render_atlassian([c.text for c in jira])
    return tuple(
        Case("adf", c.name.replace("constructs:", "atlassian:"), json.dumps(d, ensure_ascii=False))
        for c, d in zip(jira, docs, strict=True)
    )


def cases(syntax: str) -> tuple[Case, ...]:
    """Every construct case of a source syntax: help pages first, then our own."""
    if syntax == "adf":
        return adf_cases()
    helped: tuple[Case, ...] = ()
    if syntax == "trac":
        helped = trac_help()
    elif syntax == "textile":
        helped = redmine_help("textile")
    elif syntax == "markdown":
        helped = redmine_help("common_mark")
    return helped + constructs(syntax)


@cache
def long_texts(syntax: str) -> tuple[Case, ...]:
    """Whole pages and tickets: what real text looks like, for the no-word-lost property."""
    paths: list[Path] = []
    if syntax == "trac":
        paths = [*sorted((SAMPLES / "trac").glob("*.txt")), SAMPLES / "tickets" / "trac-ja.txt"]
    elif syntax == "textile":
        paths = [SAMPLES / "tickets" / "redmine.textile"]
    elif syntax == "markdown":
        paths = sorted((SAMPLES / "markdown").glob("*.md"))
    return tuple(Case(syntax, p.name, p.read_text(encoding="utf-8")) for p in paths)
