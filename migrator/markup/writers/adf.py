"""The ADF writer: the tree as Atlassian Document Format, the JSON Jira Cloud's REST API v3 takes.

ADF is a tree too, with rules of its own (Atlassian's JSON schema says them):
an image is a block (``mediaSingle``), never inside a paragraph; a list item
holds paragraphs, lists and code, a quote paragraphs, lists and code, but
neither holds a quote, a table or a heading; inline code takes no other mark
than a link.  What a rule forbids is moved where it is allowed (an image
after its paragraph's text, a table after the quote or the list it was in,
which then goes on) or spelled with what is allowed (a heading in a quote as
a bold paragraph, a quote in a quote as the quote's own paragraphs), and
counted as ``markup-approximate``.  Text is never dropped.

The document is written as compact JSON with sorted keys: the same text gives
the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

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
    Rule,
    Styled,
    Table,
)
from migrator.markup.writers.base import Writer

Node = dict[str, Any]
_MARKS: Final = {"strong": "strong", "em": "em", "del": "strike", "u": "underline"}
# What each container may hold (Atlassian's schema), of the blocks this writer makes.
_IN_ITEM: Final = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle"})
_IN_QUOTE: Final = _IN_ITEM


class AdfWriter(Writer):
    """Atlassian Document Format (version 1), as JSON text."""

    def document(self, blocks: list[Block]) -> str:
        doc = {"version": 1, "type": "doc", "content": self.adf_blocks(blocks)}
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    # -- blocks

    def adf_blocks(self, blocks: Sequence[Block]) -> list[Node]:
        out: list[Node] = []
        for b in blocks:
            out.extend(self.adf_block(b))
        return out

    def adf_block(self, b: Block) -> list[Node]:
        if isinstance(b, Para):
            return self.paragraphs(b.inlines)
        if isinstance(b, Heading):
            nodes = self.paragraphs(b.inlines)
            if nodes and nodes[0]["type"] == "paragraph":
                nodes[0] = {
                    "type": "heading",
                    "attrs": {"level": min(max(b.level, 1), 6)},
                    **({"content": nodes[0]["content"]} if "content" in nodes[0] else {}),
                }
            return nodes
        if isinstance(b, CodeBlock | Comment):
            return [_code_block(b.text, b.lang if isinstance(b, CodeBlock) else None)]
        if isinstance(b, ListBlock):
            return self.adf_list(b)
        if isinstance(b, Quote):
            return self.adf_quote(b.blocks)
        if isinstance(b, Table):
            return [self.adf_table(b)] if any(b.rows) else []
        if isinstance(b, DefList):
            blocks: list[Block] = []
            for term, body in b.items:
                blocks.append(Para([Styled("strong", term)]))
                blocks.extend(body)
            return self.adf_blocks(blocks)
        if isinstance(b, Rule):
            return [{"type": "rule"}]
        return []

    def paragraphs(self, inlines: Sequence[Inline]) -> list[Node]:
        """A paragraph, split where an image is: ADF images are blocks of their own."""
        out: list[Node] = []
        run: list[Node] = []
        for node in self.adf_inlines(inlines, []):
            if node["type"] == "mediaSingle":
                if _visible(run):
                    out.append({"type": "paragraph", "content": _trim(run)})
                run = []
                out.append(node)
            else:
                run.append(node)
        if _visible(run):
            out.append({"type": "paragraph", "content": _trim(run)})
        return out

    def adf_list(self, node: ListBlock) -> list[Node]:
        """A list; a block no list item can hold ends the list, which goes on after it."""
        out: list[Node] = []
        items: list[Node] = []
        number = node.start

        def flush() -> None:
            nonlocal items
            if items:
                lst: Node = {"type": "orderedList" if node.ordered else "bulletList"}
                if node.ordered:
                    lst["attrs"] = {"order": max(number - len(items), 0)}
                lst["content"] = items
                out.append(lst)
            items = []

        for item in node.items:
            content: list[Node] = []
            after: list[Node] = []
            for child in self.adf_blocks(item):
                if child["type"] in _IN_ITEM and not after:
                    content.append(child)
                else:
                    after.append(child)
            if not content or content[0]["type"] not in ("paragraph", "mediaSingle"):
                content.insert(0, {"type": "paragraph"})
            items.append({"type": "listItem", "content": content})
            number += 1
            if after:
                self.warnings.append(
                    "markup-approximate: a block inside a list item placed after the item"
                )
                flush()
                out.extend(after)
        flush()
        return out

    def adf_quote(self, blocks: Sequence[Block]) -> list[Node]:
        """A quote; a quote in it gives its blocks, a heading is bold, a table ends it."""
        out: list[Node] = []
        content: list[Node] = []

        def flush() -> None:
            nonlocal content
            if content:
                out.append({"type": "blockquote", "content": content})
            content = []

        for child in self.adf_blocks(_flat_quote(blocks, self.warnings)):
            if child["type"] in _IN_QUOTE:
                content.append(child)
            elif child["type"] == "heading":
                text = _with_mark(child.get("content", []), {"type": "strong"})
                content.append({"type": "paragraph", "content": text})
            else:
                self.warnings.append(
                    "markup-approximate: a table or rule in a quote placed after it"
                )
                flush()
                out.append(child)
        flush()
        return out

    def adf_table(self, node: Table) -> Node:
        rows: list[Node] = []
        width = max((sum(c.colspan for c in r) for r in node.rows), default=0)
        for row in node.rows:
            cells = [self.adf_cell(c) for c in row]
            missing = width - sum(c.colspan for c in row)
            cells.extend(self.adf_cell(Cell([])) for _ in range(missing))
            if cells:
                rows.append({"type": "tableRow", "content": cells})
        return {
            "type": "table",
            "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": rows,
        }

    def adf_cell(self, cell: Cell) -> Node:
        content = self.paragraphs(cell.inlines) or [{"type": "paragraph"}]
        out: Node = {"type": "tableHeader" if cell.header else "tableCell", "content": content}
        if cell.colspan > 1:
            out["attrs"] = {"colspan": cell.colspan}
        return out

    # -- inlines

    def adf_inlines(self, nodes: Sequence[Inline], marks: list[Node]) -> list[Node]:
        out: list[Node] = []
        for node in nodes:
            out.extend(self.adf_inline(node, marks))
        return out

    def adf_inline(self, node: Inline, marks: list[Node]) -> list[Node]:
        if isinstance(node, str):
            return _text(node, marks)
        if isinstance(node, Styled):
            if node.kind in ("sup", "sub"):
                mark = {"type": "subsup", "attrs": {"type": node.kind}}
            elif node.kind in _MARKS:
                mark = {"type": _MARKS[node.kind]}
            else:
                return self.adf_inlines(node.children, marks)
            return self.adf_inlines(node.children, [*marks, mark])
        if isinstance(node, Code):
            # Inline code takes no other mark than a link.
            links = [m for m in marks if m["type"] == "link"]
            return _text(node.text, [*links, {"type": "code"}], breaks=False)
        if isinstance(node, Link):
            attrs: dict[str, str] = {"href": node.url}
            if node.title:
                attrs["title"] = node.title
            mark = {"type": "link", "attrs": attrs}
            if len(node.children) == 1 and isinstance(node.children[0], Image):
                return [_media(node.children[0], node.url)]
            label = self.adf_inlines(node.children, [*marks, mark])
            if not any(str(n.get("text", "")).strip() for n in label):  # a link shows text
                return [*label, *_text(node.url, [*marks, mark], breaks=False)]
            return label
        if isinstance(node, Image):
            return [_media(node, None)]
        if isinstance(node, Mention):
            return [{"type": "mention", "attrs": {"id": node.login, "text": f"@{node.login}"}}]
        if isinstance(node, Attachment):
            return _text(node.written, marks)
        if isinstance(node, Abbr):
            return _text(f"{node.text} ({node.title})", marks)
        if isinstance(node, Break):
            return [{"type": "hardBreak"}]
        return []


def _text(s: str, marks: list[Node], breaks: bool = True) -> list[Node]:
    """Text nodes (never empty); a newline is a line break, as trackers show it."""
    out: list[Node] = []
    parts = s.split("\n") if breaks else [s.replace("\n", " ")]
    for k, part in enumerate(parts):
        if k:
            out.append({"type": "hardBreak"})
        if part:
            node: Node = {"type": "text", "text": part}
            if marks:
                node["marks"] = _unique(marks)
            out.append(node)
    return out


def _unique(marks: list[Node]) -> list[Node]:
    """Each mark type once (ADF allows no repeats); the innermost link wins."""
    seen: dict[str, Node] = {}
    for m in marks:
        seen[m["type"]] = m
    return sorted(seen.values(), key=lambda m: str(m["type"]))


def _with_mark(nodes: list[Node], mark: Node) -> list[Node]:
    out = []
    for n in nodes:
        if n["type"] == "text" and not any(m["type"] == "code" for m in n.get("marks", [])):
            n = {**n, "marks": _unique([*n.get("marks", []), mark])}
        out.append(n)
    return out


def _media(image: Image, link: str | None) -> Node:
    media: Node = {"type": "media", "attrs": {"type": "external", "url": image.src}}
    if image.alt:
        media["attrs"]["alt"] = image.alt
    if link:
        media["marks"] = [{"type": "link", "attrs": {"href": link}}]
    return {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [media]}


def _code_block(text: str, lang: str | None) -> Node:
    node: Node = {"type": "codeBlock"}
    if lang:
        node["attrs"] = {"language": lang}
    if text:
        node["content"] = [{"type": "text", "text": text}]
    return node


def _visible(run: list[Node]) -> bool:
    return any(n["type"] != "hardBreak" and n.get("text", "x").strip() for n in run)


def _trim(run: list[Node]) -> list[Node]:
    """A paragraph's content without line breaks at its ends."""
    start, end = 0, len(run)
    while start < end and run[start]["type"] == "hardBreak":
        start += 1
    while end > start and run[end - 1]["type"] == "hardBreak":
        end -= 1
    return run[start:end]


def _flat_quote(blocks: Sequence[Block], warnings: list[str]) -> list[Block]:
    """A quote's blocks, with the blocks of any quote inside it in its place."""
    out: list[Block] = []
    for b in blocks:
        if isinstance(b, Quote):
            warnings.append("markup-approximate: a quote inside a quote flattened")
            out.extend(_flat_quote(b.blocks, warnings))
        else:
            out.append(b)
    return out
