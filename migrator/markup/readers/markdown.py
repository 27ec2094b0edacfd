"""Markdown as GitHub and Redmine show it: CommonMark read with markdown-it-py, plus GFM.

markdown-it-py reads CommonMark with GFM's tables and strikethrough; what
GFM (cmark-gfm, which GitHub and Redmine run) adds besides is done here on
its tokens: task-list items, autolinks of bare ``www.`` and ``http`` URLs and
e-mail addresses, and footnotes.  HTML is read as the trackers show it,
sanitised (``readers/html.py``).

markdown-it-py is imported on first use, so that starting the tool (and every
migration that reads no Markdown) does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING, Final

from migrator.markup.readers.html import CODE_TAGS, read_html
from migrator.markup.tree import (
    BREAK,
    RULE,
    Abbr,
    Block,
    Cell,
    Code,
    CodeBlock,
    Comment,
    Context,
    Heading,
    Image,
    Inline,
    Link,
    ListBlock,
    Para,
    Quote,
    Styled,
    Table,
    add_text,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough; imported on first use."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    if "[^" in text:
        text = _mark_footnotes(text)
    tokens = _markdown_parser().parse(text)
    reader = _MarkdownTokens(tokens, warnings)
    blocks = reader.blocks(0, len(tokens))
    return blocks + reader.footnotes()


_HTML_STYLE_TAGS: Final = {
    "b": "strong",
    "strong": "strong",
    "i": "em",
    "em": "em",
    "u": "u",
    "ins": "u",
    "del": "del",
    "s": "del",
    "strike": "del",
    "sup": "sup",
    "sub": "sub",
}
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*?)(/?)>$")
_TASK = re.compile(r"\[([ xX])\]\s+")
TASK_BOXES: Final = {" ": "☐", "x": "☑", "X": "☑"}
# GFM's extended autolinks (www., http(s)://, e-mail addresses), found in text.
_AUTOLINK = re.compile(
    r"(?<![\w@./:-])(?P<url>(?:https?://|www\.)[^\s<]*[^\s<?!.,:*_~'\")\]])"
    r"|(?<![\w.+/-])(?P<mail>[\w.+-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+)(?![\w@]|\.\w)"
)
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_FOOTNOTE_LINE = re.compile(r"((?: {0,3}(?:>|[-*+]|\d{1,9}[.)]))*\s{0,3})\[\^([^\]\s]+)\]:")
_FOOTNOTE_DEF = re.compile(r"\x1a([^\x1a]+)\x1a\s*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _mark_footnotes(text: str) -> str:
    """Footnote definitions marked, so that CommonMark does not read them as link references.

    Fenced code is left as written.
    """
    lines = text.split("\n")
    fence = ""
    for k, line in enumerate(lines):
        m = _FENCE.match(line)
        if m and (not fence or m.group(1).startswith(fence)):
            fence = "" if fence else m.group(1)[0] * 3
            continue
        if not fence:
            d = _FOOTNOTE_LINE.match(line)
            if d:
                lines[k] = f"{d.group(1)}\x1a{d.group(2)}\x1a{line[d.end() :]}"
    return "\n".join(lines)


class _MarkdownTokens:
    """markdown-it-py's token stream to our tree."""

    def __init__(self, tokens: Sequence[Token], warnings: list[str]) -> None:
        self.tokens = tokens
        self.warnings = warnings
        self.notes: dict[str, list[Block]] = {}  # footnote label -> its text
        self.note_order: list[str] = []  # labels, in the order first referred to

    def close_of(self, i: int) -> int:
        """Index of the token closing the one opened at i."""
        level = 0
        for j in range(i, len(self.tokens)):
            level += self.tokens[j].nesting
            if level == 0:
                return j
        return len(self.tokens) - 1

    def blocks(self, i: int, end: int) -> list[Block]:
        out: list[Block] = []
        while i < end:
            t = self.tokens[i]
            typ = t.type
            if typ == "heading_open":
                out.append(Heading(int(t.tag[1]), self.inline(self.tokens[i + 1])))
                i += 3
            elif typ == "paragraph_open":
                inline = self.tokens[i + 1]
                note = _FOOTNOTE_DEF.match(inline.content)
                if note:
                    self.footnote(note, inline)
                else:
                    out.append(Para(self.inline(inline)))
                i += 3
            elif typ == "fence":
                # Only a language name is kept; renderers show nothing of the info string.
                info = t.info.split()
                lang = info[0] if info and re.fullmatch(r"[\w+#.-]+", info[0]) else None
                out.append(CodeBlock(_chomp(t.content), lang))
                i += 1
            elif typ == "code_block":
                out.append(CodeBlock(_chomp(t.content)))
                i += 1
            elif typ in ("bullet_list_open", "ordered_list_open"):
                j = self.close_of(i)
                items: list[list[Block]] = []
                k = i + 1
                while k < j:
                    c = self.close_of(k)
                    items.append(_task(self.blocks(k + 1, c)))
                    k = c + 1
                start = int(str(t.attrs.get("start", 1)))
                out.append(ListBlock(typ == "ordered_list_open", items, start))
                i = j + 1
            elif typ == "blockquote_open":
                j = self.close_of(i)
                out.append(Quote(self.blocks(i + 1, j)))
                i = j + 1
            elif typ == "table_open":
                j = self.close_of(i)
                out.append(self.table(i, j))
                i = j + 1
            elif typ == "hr":
                out.append(RULE)
                i += 1
            elif typ == "html_block":
                out.extend(self.html_block(_chomp(t.content)))
                i += 1
            else:
                i += 1
        return out

    def html_block(self, html: str) -> list[Block]:
        """An HTML block as the tracker shows it; a comment stays hidden where it can."""
        stripped = html.strip()
        if stripped.startswith("<!--") and stripped.endswith("-->"):
            return [Comment(stripped[4:-3].strip("\n"))]
        return read_html(html)

    def footnote(self, note: re.Match[str], inline: Token) -> None:
        label = note.group(1)
        rest = inline.content[note.end() :]
        # A label defined twice keeps both texts: nothing is dropped.
        self.notes.setdefault(label, []).append(Para(self.inline_text(rest)))

    def footnotes(self) -> list[Block]:
        """Footnotes as GFM shows them: a numbered list after the text, in order of reference."""
        order = [n for n in self.note_order if n in self.notes]
        order += [n for n in self.notes if n not in order]
        if not order:
            return []
        return [ListBlock(True, [self.notes[n] for n in order])]

    def table(self, i: int, j: int) -> Table:
        rows: list[list[Cell]] = []
        for k in range(i, j):
            t = self.tokens[k]
            if t.type == "tr_open":
                rows.append([])
            elif t.type in ("th_open", "td_open"):
                rows[-1].append(Cell(self.inline(self.tokens[k + 1]), t.type == "th_open"))
        return Table(rows)

    def inline_text(self, text: str) -> list[Inline]:
        tokens = _markdown_parser().parseInline(text)
        return self.inline(tokens[0]) if tokens else []

    def inline(self, token: Token) -> list[Inline]:
        root: list[Inline] = []
        # (closing type, children, url, title), innermost last
        stack: list[tuple[str, list[Inline], str, str]] = []

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        for t in token.children or []:
            typ = t.type
            if typ == "text":
                in_link = any(s[0] == "link_close" for s in stack)
                self.text(cur(), t.content, autolink=not in_link)
            elif typ == "softbreak":
                add_text(cur(), "\n")
            elif typ == "hardbreak":
                cur().append(BREAK)
            elif typ == "code_inline":
                cur().append(Code(t.content))
            elif typ in ("strong_open", "em_open", "s_open"):
                stack.append((typ.replace("_open", "_close"), [], "", ""))
            elif typ == "link_open":
                prefix = "auto:" if t.markup in ("autolink", "linkify") else ""
                href = prefix + str(t.attrs.get("href", ""))
                stack.append(("link_close", [], href, str(t.attrs.get("title") or "")))
            elif typ in ("strong_close", "em_close", "s_close", "link_close") and any(
                entry[0] == typ for entry in stack
            ):
                # HTML opened inside and not closed there ends here, as its text.
                while stack[-1][0] != typ:
                    _, inner, _url, _title = stack.pop()
                    cur().extend(inner)
                _, children, url, title = stack.pop()
                node: Inline
                if typ == "link_close":
                    bare = url.startswith("auto:")
                    url = url.removeprefix("auto:")
                    if bare and url.startswith("mailto:"):
                        children = [url.removeprefix("mailto:")]  # shown as the address
                    elif bare or children == [url]:
                        children = []
                    node = Link(url, children, title)
                else:
                    node = Styled({"strong": "strong", "em": "em", "s": "del"}[typ[:-6]], children)
                cur().append(node)
            elif typ == "image":
                cur().append(Image(str(t.attrs.get("src", "")), t.content))
            elif typ == "html_inline":
                self.html_inline(t.content, stack, cur)
        while stack:
            _, children, _url, _title = stack.pop()
            cur().extend(children)
        return root

    def text(self, out: list[Inline], s: str, autolink: bool) -> None:
        """Text, with GFM's autolinks and footnote references."""
        if "[^" in s:
            pos = 0
            for m in _FOOTNOTE_REF.finditer(s):
                self.text(out, s[pos : m.start()], autolink)
                label = m.group(1)
                if label not in self.note_order:
                    self.note_order.append(label)
                out.append(Styled("sup", [str(self.note_order.index(label) + 1)]))
                pos = m.end()
            s = s[pos:]
        if not autolink or ("." not in s and "@" not in s):
            add_text(out, s)
            return
        pos = 0
        for m in _AUTOLINK.finditer(s):
            add_text(out, s[pos : m.start()])
            url, mail = m.group("url"), m.group("mail")
            if url:
                url = _balanced(url)
                href = url if "://" in url else f"http://{url}"
                out.append(Link(href, [] if href == url else [url]))
                pos = m.start() + len(url)
            else:
                out.append(Link(f"mailto:{mail}", [mail]))
                pos = m.end()
        add_text(out, s[pos:])

    def html_inline(
        self,
        html: str,
        stack: list[tuple[str, list[Inline], str, str]],
        cur: Callable[[], list[Inline]],
    ) -> None:
        m = _HTML_TAG.match(html)
        name = m.group(2).lower() if m else ""
        closing = f"html:{name}"
        if m and name == "br":
            cur().append(BREAK)
            return
        if m and (name in _HTML_STYLE_TAGS or name in CODE_TAGS or name in ("abbr", "a")):
            if not m.group(1) and not m.group(4):
                attrs = m.group(3)
                stack.append((closing, [], _attr(attrs, "href"), _attr(attrs, "title")))
                return
            if m.group(1) and stack and stack[-1][0] == closing:  # closes only what it opened
                _, children, href, title = stack.pop()
                cur().extend(_html_phrase(name, children, href, title))
                return
        if m and name == "img":
            src = _attr(m.group(3), "src")
            if src:
                cur().append(Image(src, _attr(m.group(3), "alt")))
                return
        if html.startswith("<!--"):
            add_text(cur(), html)  # shown by nothing, kept as written
            return
        self.warnings.append(f"markup-literal: inline HTML {html} kept as text")
        add_text(cur(), html)


def _html_phrase(name: str, children: list[Inline], href: str, title: str) -> list[Inline]:
    if name in CODE_TAGS:  # its text is code; a link or an image in it stays one
        return [Code(c) if isinstance(c, str) else c for c in children if c != ""]
    if name == "abbr":
        if title and all(isinstance(c, str) for c in children):
            return [Abbr("".join(str(c) for c in children), title)]
        return children
    if name == "a":
        return [Link(href, children, title)] if href else children
    return [Styled(_HTML_STYLE_TAGS[name], children)]


def _attr(attrs: str, name: str) -> str:
    m = re.search(rf"\b{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", attrs)
    if m is None:
        return ""
    return unescape(m.group(1) or m.group(2) or m.group(3) or "")


def _balanced(url: str) -> str:
    """GFM's rule: a closing parenthesis ends the URL unless it closes one inside it."""
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def _task(item: list[Block]) -> list[Block]:
    """A GFM task-list item: its box shown as a character, checked or not."""
    if item and isinstance(item[0], Para) and item[0].inlines:
        first = item[0].inlines[0]
        if isinstance(first, str):
            m = _TASK.match(first)
            if m:
                box = TASK_BOXES[m.group(1)]
                item[0].inlines[0] = f"{box} {first[m.end() :]}"
    return item


def _chomp(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s
