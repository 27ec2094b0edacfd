"""The document tree every reader builds and every writer walks.

A small pandoc-like model: inlines (text, styled runs, code, links, images,
hard breaks, mentions, attachment links, abbreviations) inside blocks
(paragraphs, headings, code blocks, lists, quotes, tables, definition lists,
rules, comments).  It holds only what survives between the trackers'
markups; what a syntax has beyond it is kept literal by its reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Inline nodes: ``str`` is text (may contain "\n" soft breaks).


@dataclass(slots=True)
class Styled:
    kind: str  # strong | em | u | del | sup | sub
    children: list[Inline]


@dataclass(slots=True)
class Code:
    text: str


@dataclass(slots=True)
class Link:
    url: str
    children: list[Inline]  # empty: the URL is its own label
    title: str = ""  # shown on hover, where the target has titles


@dataclass(slots=True)
class Abbr:
    """An abbreviation with its expansion (Textile's ``ABC(Always Be Closing)``)."""

    text: str
    title: str


@dataclass(slots=True)
class Image:
    src: str
    alt: str = ""


@dataclass(slots=True)
class Mention:
    """A person named in the text (Jira's ``[~login]``); written as the target names people."""

    login: str
    written: str  # the source's spelling, kept when the login has no counterpart


@dataclass(slots=True)
class Attachment:
    """A link to a file attached to the ticket (Jira's ``[^name]``)."""

    name: str
    written: str  # the source's spelling, kept when the attachment's new place is unknown


class Break:
    """A hard line break inside a paragraph."""

    __slots__ = ()


BREAK: Final = Break()

Inline = str | Styled | Code | Link | Image | Break | Mention | Attachment | Abbr


@dataclass(slots=True)
class Para:
    inlines: list[Inline]


@dataclass(slots=True)
class Heading:
    level: int
    inlines: list[Inline]


@dataclass(slots=True)
class CodeBlock:
    text: str
    lang: str | None = None


@dataclass(slots=True)
class ListBlock:
    ordered: bool
    items: list[list[Block]]
    start: int = 1


@dataclass(slots=True)
class Quote:
    blocks: list[Block]


@dataclass(slots=True)
class Cell:
    inlines: list[Inline]
    header: bool = False
    colspan: int = 1


@dataclass(slots=True)
class Table:
    rows: list[list[Cell]]


@dataclass(slots=True)
class DefList:
    items: list[tuple[list[Inline], list[Block]]]


class Rule:
    __slots__ = ()


RULE: Final = Rule()


@dataclass(slots=True)
class Comment:
    """Text meant for editors only (Trac's ``{{{#!comment}}}``), kept as written.

    Writers hide it where the target can (an HTML comment in Markdown) and
    show it as a literal block where it cannot: no text is dropped.
    """

    text: str


Block = Para | Heading | CodeBlock | ListBlock | Quote | Table | DefList | Rule | Comment


# --------------------------------------------------------------------------- helpers for readers


@dataclass(frozen=True, slots=True)
class Context:
    """What a reader may need besides the text: where the old tracker was."""

    old_url: str | None = None  # e.g. https://trac.example.org/project, without a trailing /


def literal(text: str, what: str, warnings: list[str]) -> CodeBlock:
    """``text`` kept as written, as a code block without language, and counted."""
    warnings.append(f"markup-literal: {what} kept as a literal block")
    return CodeBlock(text, None)


def add_text(children: list[Inline], s: str) -> None:
    """Append text, joined to the text node before it: adjacent text is one node."""
    if not s:
        return
    if children and isinstance(children[-1], str):
        children[-1] += s
    else:
        children.append(s)
