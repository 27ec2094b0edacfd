"""Atlassian Document Format (Jira Cloud's REST API v3), read into the tree.

ADF is a tree already; reading it is naming its nodes in ours.  What ours has
no node for is read as what it shows: a panel or an expand as its content
(an expand's title first), a task as a list item with a box, a status, a date
or an emoji as its text, a card as a link, an attachment as its name (through
the attachment hook, like Jira's ``[^name]``).  A node of a kind Atlassian
adds later gives its text, so that nothing is dropped.  Text that is not ADF
JSON is read as plain text, with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from migrator.markup.readers import plain
from migrator.markup.tree import (
    BREAK,
    RULE,
    Attachment,
    Block,
    Cell,
    Code,
    CodeBlock,
    Context,
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
    add_text,
)

Node = dict[str, Any]
_STYLES: Final = {"strong": "strong", "em": "em", "strike": "del", "underline": "u"}
_CONTAINERS: Final = frozenset({"panel", "expand", "nestedExpand", "layoutSection", "layoutColumn"})


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        warnings.append("markup-literal: text that is not an ADF document read as plain text")
        return plain.read(text, warnings, context)
    return _Reader().blocks(doc.get("content") or [])


class _Reader:
    def blocks(self, nodes: Sequence[Node]) -> list[Block]:
        out: list[Block] = []
        for node in nodes:
            if isinstance(node, dict):
                out.extend(self.block(node))
        return out

    def block(self, node: Node) -> list[Block]:
        typ = node.get("type")
        attrs = node.get("attrs") or {}
        content = node.get("content") or []
        if typ == "paragraph":
            inlines = self.inlines(content)
            return [Para(inlines)] if inlines else []
        if typ == "heading":
            level = attrs.get("level", 1)
            return [Heading(level if isinstance(level, int) else 1, self.inlines(content))]
        if typ == "codeBlock":
            text = "".join(n.get("text", "") for n in content if isinstance(n, dict))
            lang = attrs.get("language")
            return [CodeBlock(text, lang if isinstance(lang, str) and lang else None)]
        if typ in ("bulletList", "orderedList"):
            order = attrs.get("order", 1)
            items = [self.blocks(item.get("content") or []) for item in content]
            start = order if isinstance(order, int) else 1
            return [ListBlock(typ == "orderedList", items or [[]], start)]
        if typ in ("taskList", "decisionList"):
            items = [self.task(item) for item in content]
            return [ListBlock(False, items or [[]])]
        if typ == "blockquote":
            return [Quote(self.blocks(content))]
        if typ == "rule":
            return [RULE]
        if typ == "table":
            return [self.table(content)]
        if typ in ("mediaSingle", "mediaGroup"):
            media: list[Inline] = []
            for child in content:
                a = child.get("attrs") or {}
                name = str(a.get("alt") or a.get("id") or "")
                if typ == "mediaSingle" and a.get("type") != "external" and name:
                    media.extend(_marked([Image(name)], child.get("marks") or []))  # a picture
                else:
                    media.extend(self.inline(child, child.get("marks") or []))
            return [Para(media)] if media else []
        if typ in _CONTAINERS:
            title = attrs.get("title")
            head = [Para([Styled("strong", [title])])] if isinstance(title, str) and title else []
            return head + self.blocks(content)
        if typ in ("blockCard", "embedCard"):
            url = attrs.get("url")
            return [Para([Link(url, [])])] if isinstance(url, str) and url else []
        rest = self.inlines(content) if content else self.inline(node, [])
        return [Para(rest)] if rest else []

    def task(self, item: Node) -> list[Block]:
        box = "☑ " if item.get("attrs", {}).get("state") in ("DONE", "DECIDED") else "☐ "
        content = [n for n in item.get("content") or [] if isinstance(n, dict)]
        blocky = {"paragraph", "taskList", "decisionList"}
        if content and all(n.get("type") in blocky for n in content):
            blocks = self.blocks(content)
        else:
            blocks = [Para(self.inlines(content))]
        if blocks and isinstance(blocks[0], Para):
            blocks[0].inlines.insert(0, box)
        else:
            blocks.insert(0, Para([box.strip()]))
        return blocks

    def table(self, rows: Sequence[Node]) -> Table:
        out: list[list[Cell]] = []
        for row in rows:
            cells: list[Cell] = []
            for cell in row.get("content") or []:
                inlines: list[Inline] = []
                for block in self.blocks(cell.get("content") or []):
                    if inlines:
                        inlines.append(BREAK)
                    inlines.extend(_block_inlines(block))
                span = (cell.get("attrs") or {}).get("colspan", 1)
                colspan = span if isinstance(span, int) and span > 0 else 1
                cells.append(Cell(inlines, cell.get("type") == "tableHeader", colspan))
            out.append(cells)
        return Table(out)

    def inlines(self, nodes: Sequence[Node]) -> list[Inline]:
        out: list[Inline] = []
        for node in nodes:
            if isinstance(node, dict):
                for inline in self.inline(node, node.get("marks") or []):
                    if isinstance(inline, str):
                        add_text(out, inline)
                    else:
                        out.append(inline)
        return out

    def inline(self, node: Node, marks: Sequence[Node]) -> list[Inline]:
        typ = node.get("type")
        attrs = node.get("attrs") or {}
        inner: list[Inline]
        if typ == "text":
            text = str(node.get("text", ""))
            code = any(m.get("type") == "code" for m in marks)
            inner = [Code(text)] if code else [text]
        elif typ == "hardBreak":
            return [BREAK]
        elif typ == "mention":
            login = str(attrs.get("id", "")).removeprefix("accountid:")
            shown = str(attrs.get("text") or "") or f"@{login}"
            return [Mention(login, shown)] if login else [shown]
        elif typ == "emoji":
            return [str(attrs.get("text") or attrs.get("shortName") or "")]
        elif typ in ("inlineCard", "blockCard"):
            url = str(attrs.get("url", ""))
            inner = [Link(url, [])] if url else []
        elif typ == "media":
            src = attrs.get("url")
            if attrs.get("type") == "external" and isinstance(src, str):
                inner = [Image(src, str(attrs.get("alt", "")))]
            else:
                name = str(attrs.get("alt") or attrs.get("id") or "")
                inner = [Attachment(name, name)] if name else []
        elif typ in ("status", "placeholder"):
            inner = [str(attrs.get("text", ""))]
        elif typ == "date":
            inner = [str(attrs.get("timestamp", ""))]
        else:
            inner = self.inlines(node.get("content") or [])
            if not inner and isinstance(attrs.get("text"), str):
                inner = [attrs["text"]]
        return _marked(inner, marks)


def _marked(inner: list[Inline], marks: Sequence[Node]) -> list[Inline]:
    """Inlines inside the marks of their ADF node, outermost first."""
    out = inner
    for mark in reversed(list(marks)):
        typ = mark.get("type")
        attrs = mark.get("attrs") or {}
        if typ in _STYLES:
            out = [Styled(_STYLES[typ], out)]
        elif typ == "subsup":
            out = [Styled("sup" if attrs.get("type") == "sup" else "sub", out)]
        elif typ == "link" and isinstance(attrs.get("href"), str):
            href = str(attrs["href"])
            if href.startswith("#"):
                continue  # an anchor in the page: the text shows, the anchor is not migrated
            title = str(attrs["title"]) if isinstance(attrs.get("title"), str) else ""
            if len(out) == 1 and out[0] == href:
                out = [Link(href, [], title)]
            else:
                out = [Link(href, out, title)]
    return out


def _block_inlines(block: Block) -> list[Inline]:
    """A block's inlines, for a table cell that holds one line of text."""
    if isinstance(block, Para | Heading):
        return block.inlines
    if isinstance(block, CodeBlock):
        return [Code(block.text)]
    if isinstance(block, ListBlock):
        out: list[Inline] = []
        for item in block.items:
            for b in item:
                if out:
                    out.append(BREAK)
                out.extend(_block_inlines(b))
        return out
    if isinstance(block, Quote):
        out = []
        for b in block.blocks:
            out.extend(_block_inlines(b))
        return out
    return []
