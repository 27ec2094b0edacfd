"""Redmine's Textile, read as Redmine 5 shows it (its RedCloth3 with hard breaks).

What Redmine's RedCloth3 does that a generic Textile reader would not: it
escapes HTML except ``<pre>``, ``<code>``, ``<kbd>`` and ``<notextile>`` (so
``<b>`` is text), has no ``bc.`` blocks, opens a phrase only after a space,
``>``, ``(`` or another phrase mark, lets ``@code@`` hold ``@``, turns
``word[1]`` and ``fn1.`` into footnotes and ``ABC(title)`` into an
abbreviation, and joins a table row's lines until one ends with ``|``.
"""

from __future__ import annotations

import re

from migrator.markup.readers.wiki import ATTRIBUTE, TEXT_LINE, WikiReader, resume, unentity
from migrator.markup.tree import (
    BREAK,
    Abbr,
    Block,
    Cell,
    CodeBlock,
    Comment,
    Context,
    Image,
    Inline,
    Link,
    Para,
    Styled,
    Table,
)

_ATTRS = ATTRIBUTE + "*"
_URL_END = r"(?=[^\w/=;()\-]*(?:\s|$|<))"
_PRE = re.compile(r"<pre\b[^>]*>(?:\s*<code(?:\s+class=[\"']?([\w+#.-]+)[\"']?)?[^>]*>)?(.*)$")
_FOOTNOTE = re.compile(rf"fn(\d+){_ATTRS}\.\s+(.*)$")
_ROW_ATTRS = re.compile(rf"(?:{ATTRIBUTE}|[<>=^~]+)+\.\s")
_TABLE_ATTRS = re.compile(rf"table(?:{ATTRIBUTE}|[<>=^~]+)*\.\s*$")
_CELL_ATTRS = re.compile(r"((?:_|\\\d+|/\d+|[<>=^~-]|\([^)]*\)|\{[^}]*\})+)\.\s?")
# A <pre> after text on its line starts a block of its own, as in Redmine.
_NO_BREAK_BEFORE = re.compile(r" *(?:[#*=]+(?:\s|$)|[{|])")
_PRE_AFTER_TEXT = re.compile(r"(?m)^([^\n]*\S)[ \t]*(<pre\b)")
_TEXT_AFTER_PRE = re.compile(r"(?m)(</pre>)[ \t]*(\S[^\n]*)$")


class TextileReader(WikiReader):
    inline_starts = re.compile(
        r"[<@\"!{*_+^~%?\-\[A-Z]|(?<![\w.+-])[\w.+-]+@|(?:https?|s?ftps?)://|www\."
    )
    inline_rules = re.compile(
        rf"""
        (?P<notextile><notextile>(?P<nt>.*?)</notextile>)
        |(?P<htmlcode><(?P<ht>code|kbd)\b[^>]*>(?P<hc>.*?)</(?P=ht)>)
        |(?P<code>(?<!\w)@(?P<c>[^\n]+?)@(?!\w))
        |(?P<link>"(?:{ATTRIBUTE})?(?P<label>[^"\n]+?)\s?(?:\((?P<title>[^)]+?)\))?":
            (?P<url>(?:[a-zA-Z][\w+.-]*://|www\.|mailto:|/)[^\s<]*?){_URL_END})
        |(?P<image>(?<![^\s>(])!(?P<align>[<>=])?(?:{ATTRIBUTE})*(?:\.\s)?(?P<src>[^\s(!]+?)\s?
            (?:\((?P<alt>(?:[^()]|\([^)]+\))+?)\))?!(?::(?P<href>[^\s<]+?){_URL_END})?)
        |(?P<bare>(?:(?<=^)|(?<=[\s(\[,;>]))(?:https?://|s?ftps?://|www\.)[^\s<]*?(?=[^\w=/;()\-]*(?:\s|$|<)))
        |(?P<mail>(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w@]))
        |(?P<footref>(?<=\w)\[(?P<fn>\d+)\])
        |(?P<abbr>\b(?P<ab>[A-Z][A-Z0-9]+)\((?P<abt>[^()\n]*)\))
        |(?P<macro>\{{\{{[<>]?\w+(?:\(.*?\))?\}}\}})
        |(?P<open>(?<![^\s>(*_+^~%?\-])(?P<om>\*\*|\*|__|_|\?\?|-|\+|\^|~|%){_ATTRS}(?=[^\s\-]|-[^\s\-]))
        |(?P<close>(?<=\S)(?P<cm>\*\*|\*|__|_|\?\?|-|\+|\^|~|%)(?![^\W_]))
        """,
        re.VERBOSE | re.DOTALL,
    )
    cell_tokens = re.compile(
        r"<(code|notextile|kbd)>.*?</\1>|(?<!\w)@[^@\n]+@(?!\w)|\"[^\"]+\":\S+|\[\[[^\]|]*\|[^\]]*\]\]"
        r"|(?P<sep>\|)|[^|<@\"\[]+|."
    )
    dash_lists = False

    def parse(self, text: str) -> list[Block]:
        if "<pre" in text:
            text = _PRE_AFTER_TEXT.sub(r"\1\n\n\2", text)
            # The text after a </pre> is a paragraph of its own, read as text.
            text = _TEXT_AFTER_PRE.sub(rf"\1\n\n{TEXT_LINE}\2", text)
        return super().parse(text)

    def special_block(self, lines: list[str], i: int) -> tuple[int, list[Block]] | None:
        s = lines[i].strip()
        if s.startswith("<!--"):  # Redmine shows no comment: kept, hidden where it can be
            body = [s[4:]]
            j = i
            while "-->" not in body[-1] and j + 1 < len(lines):
                j += 1
                body.append(lines[j])
            text = "\n".join(body)
            if "-->" in text:
                inner, _, after = text.partition("-->")
                end = resume(lines, j, after)
                return end, [Comment(inner.strip("\n"))] if inner.strip() else []
        m = _PRE.match(s)
        if m:
            closing = "</code></pre>" if re.match(r"<pre\b[^>]*>\s*<code", s) else "</pre>"
            end, blocks = self.fenced(lines, i, m.group(2), closing, m.group(1))
            return end, [self.unescaped(b) for b in blocks]
        m = _FOOTNOTE.match(s)
        if m:
            body = [m.group(2)]
            j = i + 1
            while j < len(lines) and lines[j].strip():
                body.append(lines[j].strip())
                j += 1
            return j, [Para([Styled("sup", [m.group(1)]), " ", *self.inline("\n".join(body))])]
        return None

    @staticmethod
    def unescaped(block: Block) -> Block:
        """A ``<pre>`` shows its entities as characters (``&lt;`` is ``<``)."""
        if isinstance(block, CodeBlock) and "&" in block.text:
            block.text = unentity(block.text)
        return block

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        if not lines[i].strip().startswith(">"):
            return None
        quoted: list[str] = []
        while i < len(lines) and lines[i].lstrip().startswith(">"):
            q = lines[i].lstrip()[1:]
            quoted.append(q[1:] if q.startswith(" ") else q)
            i += 1
        return i, "\n".join(quoted)

    # -- tables

    def table_start(self, s: str) -> bool:
        return (
            s.startswith("|")
            or bool(_ROW_ATTRS.match(s) and "|" in s)
            or bool(_TABLE_ATTRS.match(s))
        )

    def table(self, lines: list[str], i: int) -> tuple[int, Block]:
        """A table runs to the blank line; a row runs to the line that ends with ``|``."""
        if _TABLE_ATTRS.match(lines[i].strip()):
            i += 1
        texts: list[str] = []
        row = ""
        while i < len(lines) and lines[i].strip():
            line = lines[i].strip()
            if not row and texts and not line.startswith(("|", "{")):
                # Redmine breaks the line before anything but "|" or "{": it joins the row.
                row = texts.pop()
            row = f"{row}\n{line}" if row else line
            if line.endswith("|"):
                texts.append(row)
                row = ""
            i += 1
        if row:
            texts.append(row)
        rows = [r for r in (self.row(t) for t in texts) if r]
        if not rows:  # bars without a cell: text
            return i, Para(self.inline("\n".join(texts)))
        return i, Table(rows)

    def row(self, line: str) -> list[Cell]:
        m = _ROW_ATTRS.match(line)
        if m and not line.startswith("|"):
            line = line[m.end() :]
        return super().row(line)

    def cell(self, sep: str, content: str) -> Cell:
        header = False
        colspan = 1
        m = _CELL_ATTRS.match(content)
        if m:
            attrs = m.group(1)
            header = "_" in attrs
            span = re.search(r"\\(\d+)", attrs)
            colspan = int(span.group(1)) if span else 1
            content = content[m.end() :]
        inlines: list[Inline] = []
        for node in self.inline(content.strip()):
            if isinstance(node, str) and "\n" in node:  # a cell's lines keep their breaks
                for k, part in enumerate(node.split("\n")):
                    if k:
                        inlines.append(BREAK)
                    if part:
                        inlines.append(part)
            else:
                inlines.append(node)
        return Cell(inlines, header, colspan)

    # -- inlines

    def join_lines(self, lines: list[str]) -> str:
        """Redmine breaks a line, except before one that starts with ``{``, ``|`` or list marks."""
        out = lines[0]
        for line in lines[1:]:
            out += (" " if _NO_BREAK_BEFORE.match(line) else "\n") + line
        return out

    def special_inline(self, kind: str, m: re.Match[str]) -> list[Inline] | None:
        if kind == "bare":  # Redmine links web addresses by itself
            url = m.group()
            return [Link(url if "://" in url else f"http://{url}", [] if "://" in url else [url])]
        if kind == "mail":
            return [Link(f"mailto:{m.group()}", [m.group()])]
        if kind == "link":
            url = m.group("url")
            label = self.inline(m.group("label").strip())
            return [Link(url, [] if label == [url] else label, m.group("title") or "")]
        if kind == "image":
            image = Image(m.group("src"), (m.group("alt") or "").strip())
            href = m.group("href")
            return [Link(href, [image]) if href else image]
        if kind == "footref":
            return [Styled("sup", [m.group("fn")])]
        if kind == "abbr":
            return [Abbr(m.group("ab"), m.group("abt"))]
        return None


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    return TextileReader(warnings).parse(text)
