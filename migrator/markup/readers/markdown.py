"""Markdown, read with markdown-it-py (CommonMark, plus GFM tables and strikethrough).

markdown-it-py is imported on first use, so that starting the tool (and every
migration that reads no Markdown) does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from migrator.markup.tree import (
    BREAK,
    RULE,
    Block,
    Cell,
    Code,
    CodeBlock,
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
    literal,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough; imported on first use."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def read(text: str, warnings: list[str]) -> list[Block]:
    tokens = _markdown_parser().parse(text)
    return _MarkdownTokens(tokens, warnings).blocks(0, len(tokens))


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
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>$")


class _MarkdownTokens:
    """markdown-it-py's token stream to our tree."""

    def __init__(self, tokens: Sequence[Token], warnings: list[str]) -> None:
        self.tokens = tokens
        self.warnings = warnings

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
                out.append(Para(self.inline(self.tokens[i + 1])))
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
                    items.append(self.blocks(k + 1, c))
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
                out.append(literal(_chomp(t.content), "HTML block", self.warnings))
                i += 1
            else:
                i += 1
        return out

    def table(self, i: int, j: int) -> Table:
        rows: list[list[Cell]] = []
        for k in range(i, j):
            t = self.tokens[k]
            if t.type == "tr_open":
                rows.append([])
            elif t.type in ("th_open", "td_open"):
                rows[-1].append(Cell(self.inline(self.tokens[k + 1]), t.type == "th_open"))
        return Table(rows)

    def inline(self, token: Token) -> list[Inline]:
        root: list[Inline] = []
        stack: list[tuple[str, list[Inline], str]] = []  # (closing type, children, url)

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        for t in token.children or []:
            typ = t.type
            if typ == "text":
                add_text(cur(), t.content)
            elif typ == "softbreak":
                add_text(cur(), "\n")
            elif typ == "hardbreak":
                cur().append(BREAK)
            elif typ == "code_inline":
                cur().append(Code(t.content))
            elif typ in ("strong_open", "em_open", "s_open"):
                stack.append((typ.replace("_open", "_close"), [], ""))
            elif typ == "link_open":
                prefix = "auto:" if t.markup in ("autolink", "linkify") else ""
                stack.append(("link_close", [], prefix + str(t.attrs.get("href", ""))))
            elif typ in ("strong_close", "em_close", "s_close", "link_close") and stack:
                _, children, url = stack.pop()
                node: Inline
                if typ == "link_close":
                    bare = url.startswith("auto:")
                    url = url.removeprefix("auto:")
                    node = Link(url, [] if bare or children == [url] else children)
                else:
                    node = Styled({"strong": "strong", "em": "em", "s": "del"}[typ[:-6]], children)
                cur().append(node)
            elif typ == "image":
                cur().append(Image(str(t.attrs.get("src", "")), t.content))
            elif typ == "html_inline":
                self.html_inline(t.content, stack, cur)
        while stack:
            _, children, _url = stack.pop()
            cur().extend(children)
        return root

    def html_inline(
        self,
        html: str,
        stack: list[tuple[str, list[Inline], str]],
        cur: Callable[[], list[Inline]],
    ) -> None:
        m = _HTML_TAG.match(html)
        name = m.group(2).lower() if m else ""
        if m and name == "br":
            cur().append(BREAK)
            return
        if m and name in _HTML_STYLE_TAGS:
            closing = f"html:{name}"
            if not m.group(1):
                stack.append((closing, [], ""))
                return
            if stack and stack[-1][0] == closing:
                _, children, _url = stack.pop()
                cur().append(Styled(_HTML_STYLE_TAGS[name], children))
                return
        if (m and name in ("code", "kbd", "tt")) or not html.startswith("<!--"):
            self.warnings.append(f"markup-literal: inline HTML {html} kept as text")
        add_text(cur(), html)


def _chomp(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s
