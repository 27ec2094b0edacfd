"""What the Redmine Textile and Jira readers share: the subset of wiki markup tickets use.

Both syntaxes spell headings ``h1.``, quotes ``bq.``, lists with repeated
``*``/``#`` marks, tables with ``|`` and phrases between a pair of marks, so
one block walk and one phrase parser serve both.  A dialect (``TextileReader``,
``JiraReader``) supplies its phrase rules and table-cell tokens, and reads
what only it has: its code blocks, its quotes and its cell attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar, Final

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

# Textile block and phrase attributes: (class #id), {css: style}, [lang], alignment.
ATTRIBUTE: Final = r"(?:\([\w\s#-]*\)|\{[\w\s:;#%.,()-]*\}|\[[a-zA-Z-]+\])"
_HEADING = re.compile(rf"h([1-6])(?:{ATTRIBUTE}|[<>=]+)*\.\s+(.*)$")
_BQ = re.compile(rf"bq{ATTRIBUTE}*\.\s+(.*)$")
_P = re.compile(rf"p(?:{ATTRIBUTE}|[<>=]+)*\.\s+(.*)$")
_LIST = re.compile(rf"([*#-]+){ATTRIBUTE}*\s+(.*)$")
_RULE = re.compile(r"(?:( ?[-*_] ?){3,}|-{4,})$")
_BLOCK_START = re.compile(r"(?:h[1-6]|bq|p|bc|pre)[.(]|\||<pre|\{(?:code|noformat|quote)|>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES: Final = {
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "quot": '"',
    "apos": "'",
    "nbsp": "\xa0",
}
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
    """HTML character references (``&amp;``, ``&#123;``) replaced by their characters."""
    if "&" not in s:
        return s

    def one(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#x"):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return _NAMED_ENTITIES.get(body, m.group())

    return _ENTITY.sub(one, s)


class WikiReader:
    """A reader for Redmine Textile and Jira markup: the subset tickets use.

    A subclass sets the class attributes and says how its code blocks, quotes
    and table cells are read.
    """

    # Phrase and link rules, tried only where ``inline_starts`` finds a possible start.
    inline_rules: ClassVar[re.Pattern[str]]
    inline_starts: ClassVar[re.Pattern[str]]
    # Tokens of a table row; the group ``sep`` is a cell separator.
    cell_tokens: ClassVar[re.Pattern[str]]
    # Whether ``- item`` is a list item (Jira) rather than text (Textile).
    dash_lists: ClassVar[bool]

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

    # -- what a dialect reads its own way

    def code_block(self, lines: list[str], i: int) -> tuple[int, Block] | None:
        """A code block starting at line i: (index of the next line to read, block)."""
        raise NotImplementedError

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        """A quote, other than ``bq.``, starting at line i: (index of the next line, its text)."""
        raise NotImplementedError

    def cell(self, sep: str, content: str) -> Cell:
        """A table cell from its separator and its text (attributes included)."""
        raise NotImplementedError

    def code_text(self, code: str) -> str:
        """The text of inline code as written between its marks."""
        return code

    # -- blocks

    def parse(self, text: str) -> list[Block]:
        lines = text.split("\n")
        out: list[Block] = []
        i = 0
        n = len(lines)
        para: list[str] = []

        def flush() -> None:
            if para:
                out.append(Para(self.inline("\n".join(para))))
                para.clear()

        while i < n:
            line = lines[i]
            s = line.strip()
            if not s:
                flush()
                i += 1
                continue
            block_end = self.code_block(lines, i)
            if block_end is not None:
                flush()
                end, block = block_end
                out.append(block)
                i = end
                continue
            m = _HEADING.match(s)
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
            if s.startswith("|"):
                flush()
                rows: list[list[Cell]] = []
                while i < n and lines[i].strip().startswith("|"):
                    rows.append(self.row(lines[i].strip()))
                    i += 1
                out.append(Table(rows))
                continue
            m = _LIST.match(s)
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
            m = _BQ.match(s)
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
    ) -> tuple[int, Block]:
        """The body from ``first`` (the rest of line i) up to ``close``.

        Text after ``close`` on its line is left in ``lines`` to be read as the
        next block, so nothing on that line is lost.
        """
        if close in first:
            body, _, after = first.partition(close)
            return _resume(lines, i, after), CodeBlock(body, lang)
        parts = [first] if first else []
        j = i + 1
        while j < len(lines) and close not in lines[j]:
            parts.append(lines[j])
            j += 1
        if j >= len(lines):
            what = f"unclosed {close.replace('/', '')} block"
            return j, literal("\n".join(lines[i:]), what, self.warnings)
        last, _, after = lines[j].partition(close)
        if last:
            parts.append(last)
        return _resume(lines, j, after), CodeBlock("\n".join(parts), lang)

    def list_block(self, lines: list[str], i: int, out: list[Block]) -> int:
        """Consume the list starting at line i; return the index of the line after it."""
        stack: list[ListBlock] = []
        n = len(lines)
        while i < n:
            s = lines[i].strip()
            m = _LIST.match(s)
            if not s or not m or (m.group(1)[0] == "-" and not self.dash_lists):
                if s and stack and not m and not _BLOCK_START.match(s):  # continues the item
                    item = stack[-1].items[-1]
                    last = item[-1] if item else None
                    if isinstance(last, Para):
                        last.inlines.extend(["\n", *self.inline(s)])
                        _merge_text(last.inlines)
                        i += 1
                        continue
                break
            marks = m.group(1)
            depth = len(marks)
            ordered = marks[-1] == "#"
            while len(stack) > depth:
                stack.pop()
            while len(stack) < depth:
                node = ListBlock(ordered, [])
                if stack:
                    if not stack[-1].items:
                        stack[-1].items.append([])
                    stack[-1].items[-1].append(node)
                else:
                    out.append(node)
                stack.append(node)
            if stack[-1].ordered != ordered and len(stack) == 1:
                node = ListBlock(ordered, [])
                out.append(node)
                stack[-1] = node
            stack[-1].items.append([Para(self.inline(m.group(2)))])
            i += 1
        return i

    def row(self, line: str) -> list[Cell]:
        cells: list[Cell] = []
        parts = self.split_row(line)
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
            if kind == "open" and m.start() and not text[m.start() - 1].isspace():
                mark = m.group("om")
                if any(mk == mark for mk, _ in stack):
                    kind = "reclose"  # "a*b*": the second '*' closes
            if kind == "close" and not any(mk == m.group("cm") for mk, _ in stack):
                continue
            if kind == "open" and not _has_closer(text, m.end(), m.group("om")):
                continue
            if m.start() > pos:
                add_text(cur(), unentity(text[pos : m.start()]))
            pos = m.end()
            if kind == "escape":
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
            elif kind == "image":
                cur().append(Image(m.group("src")))
            elif kind == "color":
                pass  # colours do not survive; the text does
            elif kind == "macro":
                self.warnings.append(f"markup-literal: macro {m.group()} kept as written")
                cur().append(Code(m.group()))
            elif kind == "br":
                cur().append(BREAK)
            elif kind == "open":
                stack.append((m.group("om"), []))
            elif kind in ("close", "reclose"):
                mark = m.group("cm") if kind == "close" else m.group("om")
                while stack:
                    mk, children = stack.pop()
                    if mk == mark:
                        style = _WIKI_STYLES[mk]
                        if style == "span":
                            cur().extend(children)
                        else:
                            cur().append(Styled(style, children))
                        break
                    add_text(cur(), mk)
                    cur().extend(children)
        if pos < len(text):
            add_text(cur(), unentity(text[pos:]))
        while stack:
            mk, children = stack.pop()
            add_text(cur(), mk)
            cur().extend(children)
        _merge_text(root)
        return root


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


def _has_closer(text: str, start: int, mark: str) -> bool:
    """Whether a closing ``mark`` follows on the same paragraph (a phrase can form)."""
    k = text.find(mark, start)
    while k != -1:
        before = text[k - 1] if k else " "
        after = text[k + len(mark)] if k + len(mark) < len(text) else " "
        if not before.isspace() and not after.isalnum():
            return True
        k = text.find(mark, k + 1)
    return False


def _merge_text(nodes: list[Inline]) -> None:
    i = 1
    while i < len(nodes):
        a, b = nodes[i - 1], nodes[i]
        if isinstance(a, str) and isinstance(b, str):
            nodes[i - 1] = a + b
            del nodes[i]
        else:
            i += 1


def _resume(lines: list[str], j: int, after: str) -> int:
    """Where reading goes on after a block that ended inside line j."""
    if after.strip():
        lines[j] = after
        return j
    return j + 1
