"""Plain text: what a reader of the markup would see, without the marks."""

from __future__ import annotations

from migrator.markup.tree import Image, Inline, Link, ListBlock, Table
from migrator.markup.writers.base import Writer, grid, indent, numbered


class PlainWriter(Writer):
    """Readable text for trackers without markup (Roundup messages, e-mail)."""

    def para(self, inlines: list[Inline]) -> str:
        return self.inlines(inlines)  # as written: no line start means anything here

    def heading(self, level: int, inlines: list[Inline]) -> str:
        return self.one_line(inlines)

    def code_block(self, text: str, lang: str | None) -> str:
        return text

    def list_block(self, node: ListBlock, depth: int) -> str:
        items = []
        for marker, item in numbered(node, "- "):
            body = "\n".join(self.block(b) for b in item)
            items.append(indent(body, marker, " " * len(marker)))
        return "\n".join(items)

    def table(self, node: Table) -> str:
        return "\n".join(
            "| " + " | ".join(self.inlines(c.inlines).replace("\n", " ") for c in row) + " |"
            for row in grid(node)
        )

    def rule(self) -> str:
        return "----"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        return inner

    def text(self, s: str, prev: str, nxt: str) -> str:
        return s

    def code(self, s: str, prev: str, nxt: str) -> str:
        return s

    def link(self, node: Link, prev: str, nxt: str) -> str:
        label = self.inlines(node.children)
        if node.title:
            label = f"{label} ({node.title})" if label else node.title
        if not label or label in (node.url, node.url.removeprefix("mailto:")):
            return node.url.removeprefix("mailto:") if label else node.url
        return f"{label} ({node.url})"

    def image(self, node: Image) -> str:
        return f"[image: {node.src} ({node.alt})]" if node.alt else f"[image: {node.src}]"
