"""The Markdown writer: escapes only where CommonMark would read markup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Final

from migrator.markup.tree import (
    Abbr,
    Attachment,
    Block,
    Cell,
    Code,
    Image,
    Inline,
    Link,
    ListBlock,
    Mention,
    Para,
    Styled,
    Table,
)
from migrator.markup.writers.base import Writer, grid, indent, is_punct, numbered

_SPECIAL = re.compile(r"[\\`*_~\[\]<&|]")
_LINE_START = re.compile(
    r"^(?:(#{1,6})(?=[ \t]|$)|(>)|([-+*])(?=[ \t]|$)|(\d{1,9})([.)])(?=[ \t]|$)"
    r"|(=+|-+)[ \t]*$|(`{3,}|~{3,}))"
)
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _flanking(prev: str, nxt: str) -> tuple[bool, bool]:
    """CommonMark's left- and right-flanking tests for a delimiter between prev and nxt."""
    prev_ws = not prev or prev.isspace()
    next_ws = not nxt or nxt.isspace()
    left = not next_ws and (not is_punct(nxt) or prev_ws or is_punct(prev))
    right = not prev_ws and (not is_punct(prev) or next_ws or is_punct(nxt))
    return left, right


class MarkdownWriter(Writer):
    """CommonMark with GFM tables and strikethrough, as GitHub, GitLab and Redmine read it."""

    def guard_line(self, line: str) -> str:
        """Escape a line start that would open a block (heading, list, quote, fence)."""
        m = _LINE_START.match(line)
        if m is None:
            return line
        if m.group(4):
            cut = len(m.group(4))
            return line[:cut] + "\\" + line[cut:]
        return "\\" + line

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.inlines(inlines).replace("\\\n", " ").replace("\n", " ").strip()
        if text.endswith("#"):
            text = text[:-1] + "\\#"
        return f"{'#' * min(level, 6)} {text}" if text else ""

    def code_block(self, text: str, lang: str | None) -> str:
        longest = max((len(m) for m in re.findall(r"^[ \t]*(`{3,})", text, re.M)), default=0)
        fence = "`" * max(3, longest + 1)
        info = lang if lang and "`" not in lang else ""
        return f"{fence}{info}\n{text}\n{fence}" if text else f"{fence}{info}\n{fence}"

    def blocks(self, blocks: Sequence[Block]) -> str:
        """Blocks, with adjacent lists kept apart: CommonMark would join them into one."""
        out: list[str] = []
        alternate = False
        for k, b in enumerate(blocks):
            if isinstance(b, ListBlock):
                before = blocks[k - 1] if k else None
                same = isinstance(before, ListBlock) and before.ordered == b.ordered
                alternate = same and not alternate
                text = self.list_block(b, 1, alternate)
            else:
                text = self.block(b)
            if text:
                out.append(text)
        return "\n\n".join(out)

    def list_block(self, node: ListBlock, depth: int, alternate: bool = False) -> str:
        items = []
        bullet = "* " if alternate else "- "
        for marker, item in numbered(node, bullet):
            if alternate and node.ordered:
                marker = marker.replace(". ", ") ")
            parts: list[str] = []
            for k, b in enumerate(item):
                body = self.list_block(b, depth + 1) if isinstance(b, ListBlock) else self.block(b)
                if not body:
                    continue
                if parts:
                    tight = isinstance(b, ListBlock) and isinstance(item[k - 1], Para)
                    parts.append("\n" if tight else "\n\n")
                parts.append(body)
            body = "".join(parts)
            if body[:2] in ("☐ ", "☑ ") and not node.ordered:
                body = ("[ ] " if body[0] == "☐" else "[x] ") + body[2:]  # a GFM task
            items.append(indent(body, marker, " " * len(marker)) if body else marker.rstrip())
        return "\n".join(items)

    def table(self, node: Table) -> str:
        if any(c.colspan > 1 for r in node.rows for c in r):
            return self.html_table(node)
        rows = grid(node)
        if not rows or not rows[0]:
            return ""
        # GFM's first row is its header: a first row of header (or empty) cells is that
        # row; other header cells are bold, as a header cell shows.
        header_row = any(c.header for c in rows[0]) and all(
            c.header or not c.inlines for c in rows[0]
        )
        with self.table_cells():
            rendered = [
                [
                    self.cell(
                        Cell([Styled("strong", c.inlines)])
                        if c.header and c.inlines and (k or not header_row)
                        else c
                    )
                    for c in r
                ]
                for k, r in enumerate(rows)
            ]
        if header_row:
            head, body = rendered[0], rendered[1:]
        else:
            head, body = ["" for _ in rows[0]], rendered
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines.extend("| " + " | ".join(r) + " |" for r in body)
        return "\n".join(lines)

    def html_table(self, node: Table) -> str:
        """A table with cells spanning columns, as HTML: GFM tables cannot span, HTML can.

        GitHub and Redmine show these elements and the ``colspan`` attribute.
        """
        lines = ["<table>"]
        for row in node.rows:
            cells = []
            for c in row:
                tag = "th" if c.header else "td"
                span = f' colspan="{c.colspan}"' if c.colspan > 1 else ""
                cells.append(f"<{tag}{span}>{html_inlines(c.inlines)}</{tag}>")
            lines.append("<tr>" + "".join(cells) + "</tr>")
        lines.append("</table>")
        return "\n".join(lines)

    def cell(self, cell: Cell) -> str:
        return self.inlines(cell.inlines).replace("\\\n", "<br>").replace("\n", " ").strip()

    def rule(self) -> str:
        return "---"

    def comment(self, text: str) -> str:
        if "-->" in text or "--!>" in text:
            return self.code_block(text, None)
        return f"<!--\n{text}\n-->"

    def line_break(self) -> str:
        return "<br>" if self.in_table else "\\\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        if kind in ("strong", "em", "del"):
            mark = {"strong": "**", "em": "*", "del": "~~"}[kind]
            opens = _flanking(before, inner[0])[0]
            closes = _flanking(inner[-1], after)[1]
            if opens and closes:
                return f"{mark}{inner}{mark}"
        tag = {"strong": "strong", "em": "em", "del": "del", "u": "ins"}.get(kind, kind)
        return f"<{tag}>{inner}</{tag}>"

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _SPECIAL.search(s) is None:
            return s

        def esc(m: re.Match[str]) -> str:
            c = m.group()
            i = m.start()
            before = s[i - 1] if i else prev
            after = s[i + 1] if i + 1 < len(s) else nxt
            if c == "\\":
                return "\\\\" if (after in _ASCII_PUNCT or after in ("\n", "")) else c
            if c in "*_~":
                left, right = _flanking(before, after)
                if c == "_" and before.isalnum() and after.isalnum():
                    return c
                return "\\" + c if (left or right) else c
            if c == "<":
                return "\\<" if (after.isalpha() or after in "/!?") else c
            if c == "&":
                return "\\&" if re.match(r"&#?\w+;", s[i:]) else c
            if c == "|":
                return "\\|" if self.in_table else c
            if c == "]":
                # Without "](", "][" or "]:" no link or link definition can form.
                return "\\]" if (after in "([:" and after) or self.in_label else c
            if c == "[":
                return "\\[" if self.in_label or after == "^" else c
            return "\\" + c

        return _SPECIAL.sub(esc, s)

    def code(self, s: str, prev: str, nxt: str) -> str:
        longest = max((len(r) for r in re.findall(r"`+", s)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if (s[0] == "`" or s[-1] == "`" or (s[0] == " " and s[-1] == " ")) else ""
        body = s.replace("|", "\\|") if self.in_table else s
        return f"{fence}{pad}{body}{pad}{fence}"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        url = node.url
        if not node.children:
            # GFM links bare http(s) and ftp URLs, up to a space or final punctuation;
            # CommonMark's <...> takes any scheme and ends where it says.
            ends = not nxt or nxt.isspace() or nxt in ".,;:!?"
            if ends and re.fullmatch(r"(?:https?|ftp)://[^\s<>()*_~`\\]*[\w/]", url):
                return url
            return f"<{url}>" if not re.search(r"[\s<>]", url) else url.replace(" ", "%20")
        self.in_label = True
        try:
            label = self.inlines(node.children).replace("\n", " ")
        finally:
            self.in_label = False
        target = url if not re.search(r"[\s()<>]", url) else f"<{url.replace('>', '%3E')}>"
        if node.title:
            title = node.title.replace("\\", "\\\\").replace('"', '\\"')
            return f'[{label}]({target} "{title}")'
        return f"[{label}]({target})"

    def abbr(self, node: Abbr, prev: str, nxt: str) -> str:
        title = node.title.replace("&", "&amp;").replace('"', "&quot;")
        return f'<abbr title="{title}">{self.text(node.text, prev, nxt)}</abbr>'

    def image(self, node: Image) -> str:
        src = node.src if not re.search(r"[\s()<>]", node.src) else f"<{node.src}>"
        return f"![{self.text(node.alt, '', '')}]({src})"


_HTML_TAGS: Final = {
    "strong": "strong",
    "em": "em",
    "u": "ins",
    "del": "del",
    "sup": "sup",
    "sub": "sub",
}


def html_inlines(nodes: Sequence[Inline]) -> str:
    """Inlines as HTML, for where Markdown is not read (inside an HTML block)."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(escape(node, quote=False).replace("\n", "<br>"))
        elif isinstance(node, Styled):
            tag = _HTML_TAGS.get(node.kind, "span")
            parts.append(f"<{tag}>{html_inlines(node.children)}</{tag}>")
        elif isinstance(node, Code):
            parts.append(f"<code>{escape(node.text, quote=False)}</code>")
        elif isinstance(node, Link):
            label = html_inlines(node.children) if node.children else escape(node.url)
            title = f' title="{escape(node.title)}"' if node.title else ""
            parts.append(f'<a href="{escape(node.url)}"{title}>{label}</a>')
        elif isinstance(node, Image):
            parts.append(f'<img src="{escape(node.src)}" alt="{escape(node.alt)}">')
        elif isinstance(node, Abbr):
            parts.append(f'<abbr title="{escape(node.title)}">{escape(node.text)}</abbr>')
        elif isinstance(node, Mention):
            parts.append(f"@{escape(node.login)}")
        elif isinstance(node, Attachment):
            parts.append(escape(node.written, quote=False))
        else:
            parts.append("<br>")
    return "".join(parts)
