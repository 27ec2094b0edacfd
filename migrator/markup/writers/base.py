"""The base of every writer: the walk over the tree, and what several writers spell alike."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from migrator.markup.tree import (
    Abbr,
    Attachment,
    Block,
    Break,
    Cell,
    Code,
    CodeBlock,
    Comment,
    DefList,
    Heading,
    Image,
    Inline,
    Link,
    ListBlock,
    Mention,
    Para,
    Quote,
    Styled,
    Table,
)


def is_punct(c: str) -> bool:
    """Whether ``c`` is a Unicode punctuation or symbol character (as CommonMark counts)."""
    return bool(c) and unicodedata.category(c)[0] in "PS"


def _first_char(node: Inline) -> str:
    if isinstance(node, str):
        return node[:1]
    if isinstance(node, Break):
        return "\n"
    if isinstance(node, Link) and not node.children:
        return node.url[:1]  # a bare URL is written as itself
    return "."  # markers of other nodes are punctuation


class Writer:
    """Shared walk over the tree; subclasses say how each node is spelled."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.in_table = False
        self.in_label = False
        self.dropped = 0

    def document(self, blocks: list[Block]) -> str:
        out = self.blocks(blocks)
        if self.dropped:
            self.warnings.append(
                f"markup-approximate: {self.dropped} style mark(s) inside words dropped "
                "(the target cannot express them)"
            )
        return out

    def blocks(self, blocks: Sequence[Block]) -> str:
        return "\n\n".join(s for s in (self.block(b) for b in blocks) if s)

    def block(self, b: Block) -> str:
        if isinstance(b, Para):
            return self.para(b.inlines)
        if isinstance(b, Heading):
            return self.heading(b.level, b.inlines)
        if isinstance(b, CodeBlock):
            return self.code_block(b.text, b.lang)
        if isinstance(b, ListBlock):
            return self.list_block(b, 1)
        if isinstance(b, Quote):
            return self.quote(b.blocks)
        if isinstance(b, Table):
            return self.table(b)
        if isinstance(b, DefList):
            return self.blocks(
                [blk for term, body in b.items for blk in (Para([Styled("strong", term)]), *body)]
            )
        if isinstance(b, Comment):
            return self.comment(b.text)
        return self.rule()

    # -- blocks, spelled by each writer
    def para(self, inlines: list[Inline]) -> str:
        """A paragraph: its inlines, each line guarded against starting a block."""
        return self.guard_lines(self.inlines(inlines))

    def guard_lines(self, text: str) -> str:
        """A paragraph's lines, stripped, each guarded against being read as a block."""
        return "\n".join(self.guard_line(line.strip(" \t")) for line in text.split("\n"))

    def guard_line(self, line: str) -> str:
        """``line`` escaped where its start would open a block (heading, list, quote...)."""
        raise NotImplementedError

    def heading(self, level: int, inlines: list[Inline]) -> str:
        raise NotImplementedError

    def code_block(self, text: str, lang: str | None) -> str:
        raise NotImplementedError

    def list_block(self, node: ListBlock, depth: int) -> str:
        raise NotImplementedError

    def quote(self, blocks: list[Block]) -> str:
        """Every line after ``> ``: as Markdown, Redmine's Textile, Trac and e-mail quote."""
        inner = self.blocks(blocks)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))

    def table(self, node: Table) -> str:
        raise NotImplementedError

    def rule(self) -> str:
        raise NotImplementedError

    def comment(self, text: str) -> str:
        """Text for editors only: shown as a literal block unless the target can hide it."""
        return self.code_block(text, None)

    @contextmanager
    def table_cells(self) -> Iterator[None]:
        """While cells are written: breaks and '|' are spelled as a table cell needs them."""
        self.in_table = True
        try:
            yield
        finally:
            self.in_table = False

    # -- inlines
    def inlines(self, nodes: Sequence[Inline], before: str = "", after: str = "") -> str:
        parts: list[str] = []
        prev = before
        last = len(nodes) - 1
        for i, node in enumerate(nodes):
            nxt = _first_char(nodes[i + 1]) if i < last else after
            s = self.inline(node, prev, nxt)
            if s:
                parts.append(s)
                prev = s[-1]
        return "".join(parts)

    def inline(self, node: Inline, prev: str, nxt: str) -> str:
        if isinstance(node, str):
            return self.text(node, prev, nxt)
        if isinstance(node, Styled):
            return self.styled(node, prev, nxt)
        if isinstance(node, Code):
            return self.code(node.text, prev, nxt) if node.text else ""
        if isinstance(node, Link):
            return self.link(node, prev, nxt)
        if isinstance(node, Image):
            return self.image(node)
        if isinstance(node, Mention):
            return self.mention(node.login)
        if isinstance(node, Attachment):
            return self.text(node.written, prev, nxt)
        if isinstance(node, Abbr):
            return self.abbr(node, prev, nxt)
        return self.line_break()

    def one_line(self, nodes: Sequence[Inline]) -> str:
        """``nodes`` written on one line, as a heading or a table cell holds them."""
        return self.inlines(nodes).replace("\n", " ").strip()

    def styled(self, node: Styled, prev: str, nxt: str) -> str:
        mark = self.mark_char(node.kind)
        inner = self.inlines(node.children, mark, mark)
        stripped = inner.strip()
        if not stripped:
            return inner
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        before = lead[-1] if lead else prev
        after = trail[0] if trail else nxt
        return lead + self.wrap(node.kind, stripped, before, after) + trail

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        raise NotImplementedError

    def mark_char(self, kind: str) -> str:
        """The character next to a styled node's content, as its content's context."""
        return "*"

    def text(self, s: str, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def code(self, s: str, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def link(self, node: Link, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def image(self, node: Image) -> str:
        raise NotImplementedError

    def line_break(self) -> str:
        return "\n"

    def abbr(self, node: Abbr, prev: str, nxt: str) -> str:
        """An abbreviation and, where the target has no hover text, its expansion after it."""
        return self.text(f"{node.text} ({node.title})", prev, nxt)

    def mention(self, login: str) -> str:
        """A person, as Markdown, Textile (Redmine) and plain text name one."""
        return f"@{login}"


def indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0]]
    out.extend(rest + line if line else "" for line in lines[1:])
    return "\n".join(out)


def numbered(node: ListBlock, bullet: str) -> Iterator[tuple[str, list[Block]]]:
    """Each item of ``node`` with its marker: "3. " in an ordered list, else ``bullet``."""
    for number, item in enumerate(node.items, node.start):
        yield (f"{number}. " if node.ordered else bullet), item


def grid(node: Table) -> list[list[Cell]]:
    """Rows padded to the same width; a spanning cell becomes itself plus empty cells."""
    rows: list[list[Cell]] = []
    for row in node.rows:
        cells: list[Cell] = []
        for cell in row:
            cells.append(cell)
            cells.extend(Cell([], cell.header) for _ in range(cell.colspan - 1))
        rows.append(cells)
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend(Cell([]) for _ in range(width - len(r)))
    return rows
