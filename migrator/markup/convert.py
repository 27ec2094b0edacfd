"""``convert``: read the text into the tree, write it out again, and collect the warnings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from migrator.markup.readers import READERS
from migrator.markup.tree import (
    Attachment,
    Block,
    Cell,
    Context,
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
from migrator.markup.writers import WRITERS

SYNTAXES: Final = ("trac", "textile", "markdown", "jira", "plain")
FORMATS: Final = (*SYNTAXES, "adf")
"""The markups, and ``adf``: Atlassian Document Format, the JSON Jira Cloud's REST API v3 takes
and gives (written compact, with sorted keys)."""

Lookup = Callable[[str], "str | None"]


@dataclass
class Converted:
    """Converted text plus "kind: detail" warnings for the ticket's report."""

    text: str
    warnings: list[str] = field(default_factory=list)


def convert(
    text: str,
    source: str,
    target: str,
    *,
    mention: Lookup | None = None,
    attachment: Lookup | None = None,
    old_url: str | None = None,
) -> Converted:
    """Convert ``text`` written in ``source`` markup to ``target`` markup.

    The hooks are what only the migration knows; without them the text is
    kept as written, so nothing is guessed:

    - ``mention(login)``: the target's login for a person the source names
      (Jira's ``[~login]``), or None to keep the mention as written;
    - ``attachment(name)``: where the migrated attachment ``name`` is (a URL),
      for Jira's ``[^name]`` and for images of attachments, or None;
    - ``old_url``: the old tracker's base URL; Trac links to its wiki, source
      browser, changesets and logs then point there instead of staying text.

    Raises ValueError for an unknown syntax name: that is a programming or
    configuration error, not a property of one ticket.
    """
    for syntax in (source, target):
        if syntax not in FORMATS:
            raise ValueError(f"unknown markup {syntax!r}; expected one of {', '.join(FORMATS)}")
    if source == target or (not text and target != "adf"):
        return Converted(text, [])
    crlf = "\r\n" in text
    if crlf or "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[str] = []
    if _ACTIVE.search(text) is None and "adf" not in (source, target):
        out = text
    else:
        doc = READERS[source](text, warnings, Context(old_url.rstrip("/") if old_url else None))
        if mention is not None or attachment is not None or _has_hooked(source):
            doc = _Resolver(mention, attachment).blocks(doc)
        out = WRITERS[target](warnings).document(doc)
    if crlf and target != "adf":
        out = out.replace("\n", "\r\n")
    return Converted(out, _collapse(warnings))


def _has_hooked(source: str) -> bool:
    """Whether the source's reader makes nodes that only the hooks can resolve."""
    return source in ("jira", "adf")


class _Resolver:
    """Mentions and attachment links resolved through the hooks, or kept as written."""

    def __init__(self, mention: Lookup | None, attachment: Lookup | None) -> None:
        self.mention = mention
        self.attachment = attachment

    def blocks(self, blocks: list[Block]) -> list[Block]:
        return [self.block(b) for b in blocks]

    def block(self, b: Block) -> Block:
        if isinstance(b, Para):
            return Para(self.inlines(b.inlines))
        if isinstance(b, Heading):
            return Heading(b.level, self.inlines(b.inlines))
        if isinstance(b, ListBlock):
            return ListBlock(b.ordered, [self.blocks(item) for item in b.items], b.start)
        if isinstance(b, Quote):
            return Quote(self.blocks(b.blocks))
        if isinstance(b, Table):
            return Table(
                [[Cell(self.inlines(c.inlines), c.header, c.colspan) for c in r] for r in b.rows]
            )
        if isinstance(b, DefList):
            return DefList([(self.inlines(t), self.blocks(body)) for t, body in b.items])
        return b

    def inlines(self, nodes: list[Inline]) -> list[Inline]:
        out: list[Inline] = []
        for node in nodes:
            resolved = self.inline(node)
            if isinstance(resolved, str) and out and isinstance(out[-1], str):
                out[-1] += resolved
            else:
                out.append(resolved)
        return out

    def inline(self, node: Inline) -> Inline:
        if isinstance(node, Mention):
            login = self.mention(node.login) if self.mention else None
            return Mention(login, node.written) if login else node.written
        if isinstance(node, Attachment):
            url = self.attachment(node.name) if self.attachment else None
            return Link(url, [node.name]) if url else node.written
        if isinstance(node, Image):
            if self.attachment and ":" not in node.src and not node.src.startswith("/"):
                return Image(self.attachment(node.src) or node.src, node.alt)
            return node
        if isinstance(node, Styled):
            return Styled(node.kind, self.inlines(node.children))
        if isinstance(node, Link):
            return Link(node.url, self.inlines(node.children), node.title)
        return node


def _collapse(warnings: list[str]) -> list[str]:
    """One line per distinct warning, with a count: a page of forty macros is one line."""
    if len(warnings) < 2:
        return warnings
    counts: dict[str, int] = {}
    for w in warnings:
        counts[w] = counts.get(w, 0) + 1
    return [w if n == 1 else f"{w} ({n} times)" for w, n in counts.items()]


# Text with none of these characters means the same in every syntax: it is
# returned as is.  Most ticket comments are like that, and this keeps them at
# a couple of microseconds.
_ACTIVE = re.compile(
    r"""[*_`'/~^,{}\[\]!|\\<>&#=+\-@%"?:()\t]|^[ \d]|\n[ \d]|\n\n"""
    r"|(?:^|\n)(?:h[1-6]|bq|bc|p|pre|fn\d+|table|notextile)\."  # Textile/Jira block signatures
    r"|(?:^|\n)(?:[a-zA-Z]|[ivxIVX]{1,5})\.\s"  # Trac's lettered and roman list items
    r"|www\."  # a bare web address, which Markdown (GFM) links
)
