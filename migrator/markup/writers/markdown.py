"""The Markdown writer: escapes only where CommonMark would read markup."""

from __future__ import annotations

import re

from migrator.markup.tree import Cell, Image, Inline, Link, ListBlock, Para, Table
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

    def list_block(self, node: ListBlock, depth: int) -> str:
        items = []
        for marker, item in numbered(node, "- "):
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
            items.append(indent(body, marker, " " * len(marker)) if body else marker.rstrip())
        return "\n".join(items)

    def table(self, node: Table) -> str:
        rows = grid(node)
        if not rows or not rows[0]:
            return ""
        if any(c.colspan > 1 for r in node.rows for c in r):
            self.warnings.append(
                "markup-approximate: table cells spanning columns split into empty cells"
            )
        with self.table_cells():
            rendered = [[self.cell(c) for c in r] for r in rows]
        if all(c.header for c in rows[0]):
            head, body = rendered[0], rendered[1:]
        else:
            head, body = ["" for _ in rows[0]], rendered
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines.extend("| " + " | ".join(r) + " |" for r in body)
        return "\n".join(lines)

    def cell(self, cell: Cell) -> str:
        return self.inlines(cell.inlines).replace("\\\n", "<br>").replace("\n", " ").strip()

    def rule(self) -> str:
        return "---"

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
            if re.fullmatch(r"[A-Za-z][\w+.-]*:[^\s<>()*_~`\\]*[\w/]", url):
                return url
            return f"<{url}>" if not re.search(r"[\s<>]", url) else url.replace(" ", "%20")
        self.in_label = True
        try:
            label = self.inlines(node.children).replace("\n", " ")
        finally:
            self.in_label = False
        target = url if not re.search(r"[\s()<>]", url) else f"<{url.replace('>', '%3E')}>"
        return f"[{label}]({target})"

    def image(self, node: Image) -> str:
        src = node.src if not re.search(r"[\s()<>]", node.src) else f"<{node.src}>"
        return f"![{self.text(node.alt, '', '')}]({src})"
