"""The trackers' own renderers, and one normal form to compare what they show.

A conversion is right when the target tracker shows what the source tracker
showed.  So the input is rendered by the source's real renderer and the output
by the target's, and both renderings are reduced to one normal form, the
visible text and structure: blocks (paragraphs, headings, code, rules, images)
inside containers (lists with their start number, items, quotes, tables,
rows, cells), and inline runs of text with the styles a reader sees (strong,
emphasis, code, deleted, inserted, superscript, subscript, link target).

The renderers, each batched so one process serves a whole test session:

* Trac: Trac 1.6's ``format_to_html``, as a ticket is shown (newlines kept).
* Redmine Textile and CommonMark: Redmine 5's own formatter classes, run by
  Ruby from the installed Redmine (one process for any number of texts).
  Redmine's CommonMark is cmark-gfm with hard breaks, as GitHub shows issues.
* Jira: Atlassian's wiki-markup transformer (what Jira Cloud turns wiki markup
  into ADF with), run by Node from the pinned packages of
  :mod:`fixtures.apis.adf`; ADF is normalised directly.

What the normal form leaves out, on both sides alike: typography (curly quotes
and dashes), colours, alignment, CSS classes, code-block languages, image alt
texts and sizes, link titles, in-page anchors, and links to Trac resources that
do not exist (Trac shows them as "missing" text).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

# --------------------------------------------------------------------------- the normal form

Run = tuple[str, frozenset[str]]  # text and the marks on it


@dataclass(frozen=True)
class Leaf:
    kind: str  # p, h1..h6, pre, hr, img, file
    runs: tuple[Run, ...] = ()
    text: str = ""  # pre: the code; img, file: the file name


@dataclass(frozen=True)
class Node:
    tag: str  # ul, ol@N, li, quote, table, tr, th, td, th*N, td*N
    children: tuple[Leaf | Node, ...]


Normal = tuple[Leaf | Node, ...]

ATTACHMENTS = "https://files.invalid/"
"""Where the bench's attachment hook says migrated attachments are: links there are files."""

_TYPO = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u2032": "'",
        "\u2033": '"',
        "\u2014": "-",
        "\u2013": "-",
        "\u2026": "...",
        "\u00d7": "x",
        "\u00a9": "(c)",
        "\u00ae": "(r)",
        "\u2122": "(tm)",
        "\u00a0": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)


_REDMINE_ESCAPE = re.compile(
    r"(?:^|(?<=[\s(,\-\[>]))!(?=##?\d|r\d|\[\[|(?:attachment|commit|source|export|document"
    r"|version|forum|news|message|project|user|wiki):)"
)


def _typography(s: str) -> str:
    return re.sub(r"-{2,}", "-", s.translate(_TYPO))


def _runs(chars: list[tuple[str, frozenset[str]]]) -> tuple[Run, ...]:
    """Inline characters with their marks, as runs; whitespace as its neighbours see it."""
    text = "".join(c for c, _ in chars)
    marks = [m for _, m in chars]
    # One space for any run of white space; none at the ends of the block or of a line.
    out: list[tuple[str, frozenset[str]]] = []
    for i, c in enumerate(text):
        if c == "\n":
            while out and out[-1][0] == " ":
                out.pop()
            out.append(("\n", frozenset()))
        elif c.isspace():
            if out and out[-1][0] not in " \n":
                out.append((" ", marks[i]))
        else:
            out.append((c, marks[i]))
    while out and out[-1][0] in " \n":
        out.pop()
    while out and out[0][0] in " \n":
        out.pop(0)
    # A space shows the marks on both sides of it, whichever side of a mark it was
    # written on: "**a** **b**" is "**a b**", "*a *b" is "*a* b".
    for i, (c, _m) in enumerate(out):
        if c in " \n":
            left = out[i - 1][1] if i else frozenset()
            right = out[i + 1][1] if i + 1 < len(out) else frozenset()
            out[i] = (c, left & right if c == " " else frozenset())
    runs: list[Run] = []
    for c, m in out:
        if runs and runs[-1][1] == m:
            runs[-1] = (runs[-1][0] + c, m)
        else:
            runs.append((c, m))
    return tuple(runs)


class _Builder:
    """Collects blocks into containers; inline content is gathered into paragraphs."""

    def __init__(self, redmine: bool = False) -> None:
        self.redmine = redmine
        self.stack: list[tuple[str, list[Leaf | Node]]] = [("", [])]
        self.inline: list[tuple[str, frozenset[str]]] = []
        self.inline_kind = "p"

    def text(self, s: str, marks: frozenset[str]) -> None:
        """Text as HTML shows it: a newline is white space (only ``<br>`` breaks a line)."""
        s = _typography(s).replace("\n", " ")
        if self.redmine and "code" not in marks:
            s = _REDMINE_ESCAPE.sub("", s)
        self.inline.extend((c, marks) for c in s)

    def flush(self) -> None:
        if self.inline:
            runs = _runs(self.inline)
            if runs:
                self.stack[-1][1].append(Leaf(self.inline_kind, runs))
            self.inline = []
        self.inline_kind = "p"

    def leaf(self, leaf: Leaf) -> None:
        self.flush()
        self.stack[-1][1].append(leaf)

    def open(self, tag: str) -> None:
        self.flush()
        self.stack.append((tag, []))

    def close(self) -> None:
        self.flush()
        tag, children = self.stack.pop()
        if tag == "tr" and all(_empty(c) for c in children):
            return  # an empty row (GFM's header row for a table without one) shows nothing
        if children or tag in ("ul", "ol", "li") or tag.startswith(("ol@", "td", "th")):
            self.stack[-1][1].append(Node(tag, tuple(children)))

    def result(self) -> Normal:
        self.flush()
        while len(self.stack) > 1:
            self.close()
        return tuple(self.stack[0][1])


def _empty(node: Leaf | Node) -> bool:
    return isinstance(node, Node) and node.tag[:2] in ("td", "th") and not node.children


def _file_name(src: str) -> str:
    path = urlsplit(src).path or src
    return unquote(PurePosixPath(path).name) or src


# --------------------------------------------------------------------------- HTML


class _Element:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Element | str] = []


_VOID = {"br", "img", "hr", "input", "meta", "link", "col", "wbr", "source"}
_CLOSES_P = {"p", "ul", "ol", "pre", "table", "blockquote", "div", "hr", "h1", "h2", "h3", "h4"}
_CLOSES_P |= {"h5", "h6", "dl", "section"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _CLOSES_P and any(e.tag == "p" for e in self.stack):
            self._close("p")
        if tag == "li":
            self._close_item("li", ("ul", "ol"))
        if tag in ("td", "th"):
            self._close_item("td", ("tr",))
            self._close_item("th", ("tr",))
        if tag in ("dt", "dd"):
            self._close_item("dt", ("dl",))
            self._close_item("dd", ("dl",))
        el = _Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in _VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def _close_item(self, tag: str, parents: tuple[str, ...]) -> None:
        for k in range(len(self.stack) - 1, 0, -1):
            t = self.stack[k].tag
            if t in parents:
                return
            if t == tag:
                del self.stack[k:]
                return

    def _close(self, tag: str) -> None:
        for k in range(len(self.stack) - 1, 0, -1):
            if self.stack[k].tag == tag:
                del self.stack[k:]
                return

    def handle_endtag(self, tag: str) -> None:
        self._close(tag)

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


_INLINE_MARKS = {
    "strong": "strong",
    "b": "strong",
    "em": "em",
    "i": "em",
    "cite": "em",
    "dfn": "em",
    "var": "em",
    "code": "code",
    "tt": "code",
    "kbd": "code",
    "samp": "code",
    "del": "del",
    "s": "del",
    "strike": "del",
    "ins": "ins",
    "u": "ins",
    "sup": "sup",
    "sub": "sub",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_CAMEL_CASE = r"(?:[A-Z][a-z]+/?){2,}"
_SKIPPED_CLASSES = ("wiki-toc", "system-message", "trac-macrolist", "footnote-backref")


def _classes(el: _Element) -> str:
    return el.attrs.get("class", "")


def from_html(html: str, *, trac_base: str = "", redmine: bool = False) -> Normal:
    """The normal form of rendered HTML.

    ``trac_base`` is the base URL Trac rendered relative links against; it is
    made absolute, as a migrated link to the old tracker must be.  ``redmine``
    says the HTML is a Redmine formatter's: Redmine then removes the ``!`` that
    keeps ``!#12`` from becoming a link (a step after the formatter).
    """
    parser = _Tree()
    parser.feed(html)
    parser.close()
    b = _Builder(redmine)
    _walk_html(parser.root, b, frozenset(), trac_base, pre=False)
    return b.result()


def _walk_html(el: _Element, b: _Builder, marks: frozenset[str], base: str, pre: bool) -> None:
    for child in el.children:
        if isinstance(child, str):
            if pre:
                b.inline.extend((c, marks) for c in child)
            else:
                b.text(child, marks)
            continue
        _html_element(child, b, marks, base)


def _html_element(el: _Element, b: _Builder, marks: frozenset[str], base: str) -> None:
    tag = el.tag
    cls = _classes(el)
    if any(c in cls for c in _SKIPPED_CLASSES) or tag in ("script", "style", "head", "title"):
        return
    if tag == "pre":
        text = "".join(_all_text(el))
        text = text[1:] if text.startswith("\n") else text
        lines = [line.rstrip() for line in text.expandtabs(4).split("\n")]
        b.leaf(Leaf("pre", text="\n".join(lines).strip("\n")))
        return
    if tag == "hr":
        b.leaf(Leaf("hr"))
        return
    if tag == "br":
        b.inline.append(("\n", frozenset()))
        return
    if tag == "input" and el.attrs.get("type") == "checkbox":
        b.text("☑ " if "checked" in el.attrs else "☐ ", marks)  # a task's box shows
        return
    if tag == "img":
        src = el.attrs.get("src", "")
        missing = re.match(r'No image "(.+?)" attached', el.attrs.get("alt", ""))
        b.leaf(Leaf("img", text=missing.group(1) if missing else _file_name(src)))
        return
    if tag in _HEADINGS:
        b.flush()
        b.inline_kind = tag
        _walk_html(el, b, marks, base, pre=False)
        b.flush()
        return
    if tag == "p":
        b.flush()
        _walk_html(el, b, marks, base, pre=False)
        b.flush()
        return
    container = _container(el)
    if container is not None:
        b.open(container)
        # A header cell shows its text bold: the same as a bold cell.
        _walk_html(el, b, marks | {"strong"} if tag == "th" else marks, base, pre=False)
        b.close()
        return
    if tag == "dt":  # a term shows as a strong line of its own
        b.flush()
        _walk_html(el, b, marks | {"strong"}, base, pre=False)
        b.flush()
        return
    if tag in ("dd", "dl", "div", "section", "thead", "tbody", "tfoot", "center"):
        b.flush()
        _walk_html(el, b, marks, base, pre=False)
        b.flush()
        return
    if tag == "a":
        href = el.attrs.get("href", "")
        if href.startswith("#fnref") or "data-footnote-backref" in el.attrs:
            return  # a footnote's way back up: an arrow, not text
        if href.startswith(ATTACHMENTS):
            b.leaf(Leaf("file", text=_file_name(href)))
            return
        text = "".join(_all_text(el))
        if "wiki" in cls and re.fullmatch(_CAMEL_CASE, text) and href.endswith("/" + text):
            href = ""  # Trac's automatic link of a page name: shown as the word, not migrated
        if href and not href.startswith("#"):
            if href.startswith("/") and base:
                href = base.rstrip("/") + href[len(urlsplit(base).path.rstrip("/")) :]
            marks = marks | {"link:" + _href(href)}
        _walk_html(el, b, marks, base, pre=False)
        return
    mark = _INLINE_MARKS.get(tag)
    if mark:
        marks = marks | {mark}
    if tag == "span" and "underline" in cls:
        marks = marks | {"ins"}
    if "footnote" in cls and tag == "sup":
        marks = marks | {"sup"}
    _walk_html(el, b, marks, base, pre=False)


def _href(href: str) -> str:
    return unquote(href).rstrip("/")


def _container(el: _Element) -> str | None:
    tag = el.tag
    if tag == "ul":
        return "ul"
    if tag == "ol":
        start = el.attrs.get("start", "1") or "1"
        return "ol" if start == "1" else f"ol@{start}"
    if tag in ("li", "table", "tr"):
        return tag
    if tag == "blockquote":
        return "quote"
    if tag in ("td", "th"):
        span = el.attrs.get("colspan", "1") or "1"
        return "td" if span == "1" else f"td*{span}"
    return None


def _all_text(el: _Element) -> Iterator[str]:
    for child in el.children:
        if isinstance(child, str):
            yield child
        elif child.tag == "br":
            yield "\n"
        else:
            yield from _all_text(child)


# --------------------------------------------------------------------------- ADF


def from_adf(doc: dict[str, Any]) -> Normal:
    """The normal form of an ADF document (Atlassian's rendering of Jira text, or ours)."""
    b = _Builder()
    _walk_adf(doc.get("content", []), b)
    return b.result()


_ADF_MARKS = {"strong": "strong", "em": "em", "code": "code", "strike": "del", "underline": "ins"}
_ADF_CONTAINERS = {
    "bulletList": "ul",
    "listItem": "li",
    "blockquote": "quote",
    "table": "table",
    "tableRow": "tr",
    "taskList": "ul",
    "decisionList": "ul",
    "decisionItem": "li",
}


def _walk_adf(nodes: Sequence[dict[str, Any]], b: _Builder, bold: bool = False) -> None:
    for node in nodes:
        typ = node.get("type", "")
        attrs = node.get("attrs") or {}
        content = node.get("content", [])
        if typ == "paragraph":
            b.flush()
            _walk_adf(content, b, bold)
            b.flush()
        elif typ == "heading":
            b.flush()
            b.inline_kind = f"h{attrs.get('level', 1)}"
            _walk_adf(content, b, bold)
            b.flush()
        elif typ == "codeBlock":
            text = "".join(n.get("text", "") for n in content)
            lines = [line.rstrip() for line in text.expandtabs(4).split("\n")]
            b.leaf(Leaf("pre", text="\n".join(lines).strip("\n")))
        elif typ == "rule":
            b.leaf(Leaf("hr"))
        elif typ == "orderedList":
            order = attrs.get("order", 1)
            b.open("ol" if order in (1, None) else f"ol@{order}")
            _walk_adf(content, b, bold)
            b.close()
        elif typ == "taskItem":
            b.open("li")
            b.text("☑ " if attrs.get("state") == "DONE" else "☐ ", frozenset())
            _walk_adf(content, b, bold)
            b.close()
        elif typ in _ADF_CONTAINERS:
            b.open(_ADF_CONTAINERS[typ])
            _walk_adf(content, b, bold)
            b.close()
        elif typ in ("tableHeader", "tableCell"):
            span = attrs.get("colspan", 1) or 1
            b.open("td" if span == 1 else f"td*{span}")
            _walk_adf(content, b, bold or typ == "tableHeader")
            b.close()
        elif typ in ("mediaSingle", "mediaGroup", "mediaInline"):
            for media in content or [node]:
                a = media.get("attrs") or {}
                name = _file_name(str(a.get("url") or a.get("id") or ""))
                kind = "file" if typ == "mediaGroup" and a.get("type") == "file" else "img"
                b.leaf(Leaf(kind, text=name))
        elif typ == "text":
            marks = _adf_marks(node.get("marks", []))
            b.text(node.get("text", ""), marks | {"strong"} if bold else marks)
        elif typ == "hardBreak":
            b.inline.append(("\n", frozenset()))
        elif typ == "mention":
            login = str(attrs.get("id", "")).removeprefix("accountid:")
            b.text("@" + login, frozenset())
        elif typ == "emoji":
            b.text(str(attrs.get("text") or attrs.get("shortName", "")), frozenset())
        elif typ == "inlineCard":
            url = str(attrs.get("url", ""))
            b.text(url, frozenset({"link:" + _href(url)}))
        elif typ in ("status", "date", "placeholder"):
            b.text(str(attrs.get("text", "")), frozenset())
        else:  # panel, expand, layouts...: their content shows
            b.flush()
            _walk_adf(content, b, bold)
            b.flush()


def _adf_marks(marks: Sequence[dict[str, Any]]) -> frozenset[str]:
    out: set[str] = set()
    for m in marks:
        typ = m.get("type", "")
        attrs = m.get("attrs") or {}
        if typ in _ADF_MARKS:
            out.add(_ADF_MARKS[typ])
        elif typ == "subsup":
            out.add(str(attrs.get("type", "sup")))
        elif typ == "link":
            href = str(attrs.get("href", ""))
            if not href.startswith("#"):  # an anchor in the page: not migrated
                out.add("link:" + _href(href))
    return frozenset(out)


def show(normal: Normal) -> str:
    """One line per block with its containers: for failure messages and the bench's samples."""
    lines: list[str] = []

    def runs(rs: tuple[Run, ...]) -> str:
        return "".join(f"[{','.join(sorted(m))}]{t!r}" if m else repr(t) for t, m in rs).replace(
            "''", ""
        )

    def walk(nodes: Sequence[Leaf | Node], path: str) -> None:
        for n in nodes:
            if isinstance(n, Node):
                walk(n.children, f"{path}/{n.tag}")
            else:
                extra = repr(n.text) if n.text else ""
                lines.append(f"{path or '/'} {n.kind} {runs(n.runs)}{extra}")
            if isinstance(n, Node) and not n.children:
                lines.append(f"{path}/{n.tag} (empty)")

    walk(normal, "")
    return "\n".join(lines)


# --------------------------------------------------------------------------- renderers

_REDMINE = r"""
require 'cgi'
require 'json'
require 'active_support/all'
require 'action_view'
$: << ARGV[0]
module Redmine
  module SyntaxHighlighting
    def self.language_supported?(language) false end
    def self.filename_supported?(name) false end
  end
  module Configuration
    # Redmine 5's default: a newline in a paragraph is a line break, as in GitHub issues.
    def self.[](key) key == 'common_mark_enable_hardbreaks' end
  end
  module WikiFormatting; module Markdown; class Formatter
    def initialize(text) @text = text end
  end; end; end
end
require 'redmine/helpers/url'
require 'redmine/wiki_formatting/textile/redcloth3'
require 'redmine/wiki_formatting/links_helper'
require 'redmine/wiki_formatting/textile/formatter'
require 'commonmarker'
require 'html/pipeline'
%w[markdown_filter sanitization_filter syntax_highlight_filter fixup_auto_links_filter
   external_links_filter formatter].each { |f| require "redmine/wiki_formatting/common_mark/#{f}" }
texts = JSON.parse(STDIN.read)
puts JSON.generate(texts.map { |kind, text|
  formatter = kind == 'textile' ? Redmine::WikiFormatting::Textile::Formatter
                                : Redmine::WikiFormatting::CommonMark::Formatter
  begin
    formatter.new(text).to_html
  rescue StandardError => e
    "<pre>formatter error: #{CGI.escapeHTML(e.message)}</pre>"
  end
})
"""

_ATLASSIAN = r"""
const { WikiMarkupTransformer } = require('@atlaskit/editor-wikimarkup-transformer');
const { JSONTransformer } = require('@atlaskit/editor-json-transformer');
const { defaultSchema } = require('@atlaskit/adf-schema/schema-default');
const wiki = new WikiMarkupTransformer(defaultSchema);
const json = new JSONTransformer();
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((t) => {
    try { return json.encode(wiki.parse(t)); }
    catch (e) { return { version: 1, type: 'doc', content: [], error: String(e) }; }
  });
  process.stdout.write(JSON.stringify(out));
});
"""

TRAC_BASE = "http://example.org/trac.cgi"
"""The URL Trac's test environment renders links against (``env.abs_href``)."""


@cache
def _trac_renderer() -> Any:
    from trac.resource import Resource
    from trac.test import EnvironmentStub, MockRequest
    from trac.web.chrome import web_context
    from trac.wiki.formatter import format_to_html

    env = EnvironmentStub(default_data=True, enable=["trac.*"])
    context = web_context(MockRequest(env), Resource("ticket", 1))

    def render(text: str) -> str:
        return str(format_to_html(env, context, text, escape_newlines=True))

    return render


def render_trac(texts: Sequence[str]) -> list[str]:
    """Trac 1.6's own formatter, as a ticket description is shown."""
    render = _trac_renderer()
    return [render(t) for t in texts]


def render_redmine(items: Sequence[tuple[str, str]]) -> list[str]:
    """Redmine's formatters, ``(kind, text)`` with kind ``textile`` or ``common_mark``."""
    if not items:
        return []
    from fixtures.trackers import redmine as redmine_server

    redmine_server.install()
    proc = subprocess.run(
        ["ruby", "-e", _REDMINE, str(redmine_server.REDMINE_ROOT / "lib")],
        input=json.dumps(list(items)),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: list[str] = json.loads(proc.stdout)
    return result


def render_atlassian(texts: Sequence[str]) -> list[dict[str, Any]]:
    """Jira wiki markup as Jira Cloud reads it: Atlassian's transformer, to ADF."""
    if not texts:
        return []
    from fixtures.apis import adf

    proc = subprocess.run(
        ["node", "-e", _ATLASSIAN],
        input=json.dumps(list(texts)),
        cwd=adf.transformer_dir(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    return result


RENDERED = ("trac", "textile", "markdown", "jira", "adf")


def normal_forms(items: Sequence[tuple[str, str]]) -> list[Normal]:
    """Each ``(syntax, text)`` rendered by its tracker and normalised; one process per renderer.

    ``adf`` texts are ADF documents as JSON, normalised directly.
    """
    out: list[Normal | None] = [None] * len(items)
    by_syntax: dict[str, list[int]] = {}
    for k, (syntax, _) in enumerate(items):
        by_syntax.setdefault(syntax, []).append(k)
    redmine_idx = by_syntax.get("textile", []) + by_syntax.get("markdown", [])
    redmine_items = [
        ("textile" if items[k][0] == "textile" else "common_mark", items[k][1]) for k in redmine_idx
    ]
    for k, html in zip(redmine_idx, render_redmine(redmine_items), strict=True):
        out[k] = from_html(html, redmine=True)
    trac_idx = by_syntax.get("trac", [])
    for k, html in zip(trac_idx, render_trac([items[k][1] for k in trac_idx]), strict=True):
        out[k] = from_html(html, trac_base=TRAC_BASE)
    jira_idx = by_syntax.get("jira", [])
    for k, doc in zip(jira_idx, render_atlassian([items[k][1] for k in jira_idx]), strict=True):
        out[k] = from_adf(doc)
    for k in by_syntax.get("adf", []):
        out[k] = from_adf(json.loads(items[k][1]))
    unknown = set(by_syntax) - set(RENDERED)
    if unknown:
        raise ValueError(f"no renderer for {sorted(unknown)}")
    return [n for n in out if n is not None]
