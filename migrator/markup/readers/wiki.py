"""What the Redmine Textile and Jira readers share: the block walk and the phrase engine.

Both syntaxes spell headings ``h1.``, quotes ``bq.``, lists with repeated
``*``/``#`` marks, tables with ``|`` and phrases between a pair of marks, so
one block walk and one phrase parser serve both.  A dialect (``TextileReader``,
``JiraReader``) supplies its phrase rules and table-cell tokens, and reads
what only it has: its code blocks, quotes, panels, footnotes and cell
attributes (``special_block``), and its own inline nodes (``special_inline``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.entities import html5
from typing import ClassVar, Final

from migrator.markup.tree import (
    BREAK,
    RULE,
    Block,
    Cell,
    Code,
    CodeBlock,
    Heading,
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

# Textile block and phrase attributes: (class #id), {css: style}, [lang], alignment.
ATTRIBUTE: Final = r"(?:\([^()\n]*\)|\{[^{}\n]*\}|\[[a-zA-Z-]+\])"
HEADING: Final = re.compile(rf"h([1-6])(?:{ATTRIBUTE}|[<>=]+)*\.\s+(.*)$")
BQ: Final = re.compile(rf"bq(?:{ATTRIBUTE}|[<>=]+)*\.(?::\S+)?\s+(.*)$")
_P = re.compile(rf"p(?:{ATTRIBUTE}|[<>=()]+)*\.\s+(.*)$")
TEXTILE_LIST: Final = re.compile(rf"([*#]+|-)(?:{ATTRIBUTE})*\s+(.*)$")
_RULE = re.compile(r"(?:( ?[-*_] ?){3,}|-{4,})$")
_BLOCK_START = re.compile(r"(?:h[1-6]|bq|p|pre)[.(]|\||<pre|\{(?:code|noformat|quote|panel)|>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_WIKI_STYLES: Final = {
    "*": "strong",
    "**": "strong",
    "_": "em",
    "__": "em",
    "+": "u",
    "-": "del",
    "^": "sup",
    "~": "sub",
    "??": "em",
    "%": "span",
}


def unentity(s: str) -> str:
    """HTML character references (``&amp;``, ``&copy;``, ``&#123;``) as their characters."""
    if "&" not in s:
        return s

    def one(m: re.Match[str]) -> str:
        body = m.group(1)
        try:
            if body.startswith(("#x", "#X")):
                return chr(int(body[2:], 16))
            if body.startswith("#"):
                return chr(int(body[1:]))
        except (ValueError, OverflowError):
            return m.group()
        return html5.get(body + ";", m.group())

    return _ENTITY.sub(one, s)


class WikiReader:
    """A reader for Redmine Textile and Jira markup.

    A subclass sets the class attributes and says how its special blocks,
    quotes, table cells and special inlines are read.
    """

    # Phrase and link rules, tried only where ``inline_starts`` finds a possible start.
    inline_rules: ClassVar[re.Pattern[str]]
    inline_starts: ClassVar[re.Pattern[str]]
    # Tokens of a table row; the group ``sep`` is a cell separator.
    cell_tokens: ClassVar[re.Pattern[str]]
    # Whether ``- item`` is a list item (Jira) rather than text (Textile).
    dash_lists: ClassVar[bool]
    # Whether an entity (``&copy;``) shows as its character (Textile) or as written (Jira).
    entities: ClassVar[bool] = True
    # Whether a phrase may run over a line break (Textile, whose newlines are <br>s).
    phrases_span_lines: ClassVar[bool] = True
    # A list item's line: marks, (Textile) attributes, text.
    list_item: ClassVar[re.Pattern[str]] = TEXTILE_LIST
    # What a closing phrase mark may not be followed by.
    outside: ClassVar[re.Pattern[str]] = re.compile(r"[^\W_]")

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

    # -- what a dialect reads its own way

    def special_block(self, lines: list[str], i: int) -> tuple[int, list[Block]] | None:
        """A block only this dialect has, starting at line i: (next line to read, blocks)."""
        return None

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        """A quote, other than ``bq.``, starting at line i: (index of the next line, its text)."""
        return None

    def cell(self, sep: str, content: str) -> Cell:
        """A table cell from its separator and its text (attributes included)."""
        raise NotImplementedError

    def table_start(self, s: str) -> bool:
        return s.startswith("|")

    def special_inline(self, kind: str, m: re.Match[str]) -> list[Inline] | None:
        """Nodes for a token kind only this dialect has, or None to keep the token as text."""
        return None

    def join_lines(self, lines: list[str]) -> str:
        """A paragraph's lines as one text; a newline is a line break."""
        return "\n".join(lines)

    def code_text(self, code: str) -> str:
        """The text of inline code as written between its marks."""
        return code

    def mark_of(self, m: re.Match[str], opening: bool) -> str:
        """The phrase mark of an ``open`` or ``close`` token."""
        return m.group("om" if opening else "cm")

    def styled(self, mark: str, children: list[Inline]) -> list[Inline]:
        """A closed phrase as nodes."""
        style = _WIKI_STYLES[mark]
        return children if style == "span" else [Styled(style, children)]

    def text(self, s: str) -> str:
        """Plain text between tokens, as shown."""
        return unentity(s) if self.entities else s

    # -- blocks

    def parse(self, text: str) -> list[Block]:
        lines = text.split("\n")
        out: list[Block] = []
        i = 0
        n = len(lines)
        para: list[str] = []

        def flush() -> None:
            if para:
                out.append(Para(self.inline(self.join_lines(para))))
                para.clear()

        while i < n:
            line = lines[i]
            s = line.strip()
            if not s:
                flush()
                i += 1
                continue
            if s.startswith(TEXT_LINE):
                para.append(s[1:])
                i += 1
                continue
            special = self.special_block(lines, i)
            if special is not None:
                flush()
                i, blocks = special
                out.extend(blocks)
                continue
            m = HEADING.match(s)
            if m:
                flush()
                out.append(Heading(int(m.group(1)), self.inline(m.group(2))))
                i += 1
                continue
            if _RULE.match(s):
                flush()
                out.append(RULE)
                i += 1
                continue
            if self.table_start(s):
                flush()
                i, table = self.table(lines, i)
                out.append(table)
                continue
            m = self.list_item.match(s)
            if m and (m.group(1)[0] != "-" or self.dash_lists):
                flush()
                i = self.list_block(lines, i, out)
                continue
            quoted = self.quoted(lines, i)
            if quoted is not None:
                flush()  # before the quote is read: warnings come in the order of the text
                i, inner = quoted
                out.append(Quote(self.parse(inner)))
                continue
            m = BQ.match(s)
            if m:
                flush()
                body = [m.group(1)]
                i += 1
                while i < n and lines[i].strip():
                    body.append(lines[i].strip())
                    i += 1
                out.append(Quote([Para(self.inline("\n".join(body)))]))
                continue
            m = _P.match(s)
            para.append(m.group(1) if m and not para else s)
            i += 1
        flush()
        return out

    def fenced(
        self, lines: list[str], i: int, first: str, close: str, lang: str | None
    ) -> tuple[int, list[Block]]:
        """The body from ``first`` (the rest of line i) up to ``close``.

        Text after ``close`` on its line is left in ``lines`` to be read as the
        next block, so nothing on that line is lost.
        """
        if close in first:
            body, _, after = first.partition(close)
            return resume(lines, i, after), [CodeBlock(body, lang)]
        parts = [first] if first.strip() else []
        j = i + 1
        while j < len(lines) and close not in lines[j]:
            parts.append(lines[j])
            j += 1
        if j >= len(lines):
            what = f"unclosed {close.replace('/', '')} block"
            return j, [literal("\n".join(lines[i:]), what, self.warnings)]
        last, _, after = lines[j].partition(close)
        if last:
            parts.append(last)
        return resume(lines, j, after), [CodeBlock("\n".join(parts), lang)]

    def list_block(self, lines: list[str], i: int, out: list[Block]) -> int:
        """Consume the list starting at line i; return the index of the line after it.

        The marks of an item give the type of every level: ``#*`` is a bullet
        inside a numbered item.
        """
        stack: list[ListBlock] = []
        n = len(lines)
        while i < n:
            s = lines[i].strip()
            m = self.list_item.match(s)
            if not s or not m or (m.group(1)[0] == "-" and not self.dash_lists):
                if s and stack and not m and not _BLOCK_START.match(s):  # continues the item
                    item = stack[-1].items[-1]
                    last = item[-1] if item else None
                    if isinstance(last, Para):
                        last.inlines.extend([BREAK, *self.inline(s)])
                        _merge_text(last.inlines)
                        i += 1
                        continue
                break
            marks = "*" if m.group(1) == "-" else m.group(1)
            depth = len(marks)
            while len(stack) > depth:
                stack.pop()
            # A level whose type changes is a new list.
            for k in range(len(stack)):
                if stack[k].ordered != (marks[k] == "#"):
                    del stack[k:]
                    break
            while len(stack) < depth:
                node = ListBlock(marks[len(stack)] == "#", [])
                if stack:
                    if not stack[-1].items:
                        stack[-1].items.append([])
                    stack[-1].items[-1].append(node)
                else:
                    out.append(node)
                stack.append(node)
            stack[-1].items.append([Para(self.inline(m.group(2)))])
            i += 1
        return i

    def table(self, lines: list[str], i: int) -> tuple[int, Block]:
        rows: list[list[Cell]] = []
        while i < len(lines) and self.table_start(lines[i].strip()):
            rows.append(self.row(lines[i].strip()))
            i += 1
        return i, Table(rows)

    def row(self, line: str) -> list[Cell]:
        cells: list[Cell] = []
        parts = self.split_row(line)
        if parts[0].strip() and len(parts) > 2:  # text before the first bar: kept in a cell
            parts = ["", parts[1], parts[0] + parts[2], *parts[3:]]
        # parts: ["", sep, text, sep, text, ..., sep, ""]
        k = 1
        while k + 1 < len(parts):
            sep, content = parts[k], parts[k + 1]
            k += 2
            if k >= len(parts) and not content.strip():
                break
            cells.append(self.cell(sep, content))
        return cells

    def split_row(self, line: str) -> list[str]:
        """A table row split at its cell separators, not at a '|' inside code or a link."""
        parts = [""]
        for m in self.cell_tokens.finditer(line):
            sep = m.group("sep")
            if sep:
                parts += [sep, ""]
            else:
                parts[-1] += m.group()
        return parts

    # -- inlines

    def inline(self, text: str) -> list[Inline]:
        root: list[Inline] = []
        stack: list[tuple[str, list[Inline]]] = []  # (marker, children), innermost last

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        pos = 0
        # A kind that a dialect's rules have no group for never comes up in it.
        for m in _tokens(text, self.inline_starts, self.inline_rules):
            kind = m.lastgroup or ""
            if kind == "open":
                mark = self.mark_of(m, True)
                if any(mk == mark for mk, _ in stack) and self.closes(text, m.start(), mark):
                    kind = "reclose"  # "*a*b*": a mark that can close, closes
                elif not self.has_closer(text, m.end(), mark):
                    continue
            if kind == "close" and not any(mk == self.mark_of(m, False) for mk, _ in stack):
                continue
            if m.start() > pos:
                add_text(cur(), self.text(text[pos : m.start()]))
            pos = m.end()
            special = self.special_inline(kind, m)
            if special is not None:
                for node in special:
                    if isinstance(node, str):
                        add_text(cur(), node)
                    else:
                        cur().append(node)
            elif kind == "escape":
                add_text(cur(), m.group()[1:])
            elif kind == "notextile":
                add_text(cur(), unentity(m.group("nt")))
            elif kind == "code":
                cur().append(Code(self.code_text(m.group("c"))))
            elif kind == "htmlcode":
                cur().append(Code(unentity(m.group("hc"))))
            elif kind == "link":
                url = m.group("url").strip()
                label = m.group("label")
                cur().append(Link(url, self.inline(label) if label and label != url else []))
            elif kind == "color":
                pass  # colours do not survive; the text does
            elif kind == "macro":
                self.warnings.append(f"markup-literal: macro {m.group()} kept as written")
                add_text(cur(), m.group())
            elif kind == "br":
                cur().append(BREAK)
            elif kind == "open":
                stack.append((self.mark_of(m, True), []))
            elif kind in ("close", "reclose"):
                mark = self.mark_of(m, kind == "reclose")
                while stack:
                    mk, children = stack.pop()
                    if mk == mark:
                        for node in self.styled(mk, children):
                            if isinstance(node, str):
                                add_text(cur(), node)
                            else:
                                cur().append(node)
                        break
                    add_text(cur(), mk)
                    cur().extend(children)
            else:
                add_text(cur(), m.group())  # a token of the dialect's that shows as written
        if pos < len(text):
            add_text(cur(), self.text(text[pos:]))
        while stack:
            mk, children = stack.pop()
            add_text(cur(), mk)
            cur().extend(children)
        _merge_text(root)
        return root

    def closes(self, text: str, k: int, mark: str) -> bool:
        """Whether ``mark`` at k can close a phrase: after text, not before a word."""
        before = text[k - 1] if k else " "
        end = k + len(mark)
        after = text[end] if end < len(text) else " "
        return not before.isspace() and self.outside.match(after) is None

    def has_closer(self, text: str, start: int, mark: str) -> bool:
        """Whether a closing ``mark`` follows (a phrase can form), in the same line if need be."""
        k = text.find(mark, start)
        while k != -1:
            if not self.phrases_span_lines and "\n" in text[start:k]:
                return False
            if self.closes(text, k, mark) or text[k - 1 : k] == "{":
                return True
            k = text.find(mark, k + 1)
        return False


def _tokens(
    text: str, candidate: re.Pattern[str], rules: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """``rules`` matches tried only where ``candidate`` finds a possible start: much faster."""
    pos = 0
    while True:
        c = candidate.search(text, pos)
        if c is None:
            return
        m = rules.match(text, c.start())
        if m is None or m.end() == m.start():
            pos = c.start() + 1
            continue
        yield m
        pos = m.end()


def _merge_text(nodes: list[Inline]) -> None:
    i = 1
    while i < len(nodes):
        a, b = nodes[i - 1], nodes[i]
        if isinstance(a, str) and isinstance(b, str):
            nodes[i - 1] = a + b
            del nodes[i]
        else:
            i += 1


TEXT_LINE: Final = "\x1a"
"""Starts a line that is text whatever it looks like: what follows a block closed mid-line."""


def resume(lines: list[str], j: int, after: str) -> int:
    """Where reading goes on after a block that ended inside line j.

    The rest of the line is a paragraph, even if it looks like a block's start,
    as Jira and Redmine show it.
    """
    if after.strip():
        lines[j] = TEXT_LINE + after
        return j
    return j + 1
