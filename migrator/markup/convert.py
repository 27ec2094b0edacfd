"""``convert``: read the text into the tree, write it out again, and collect the warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from migrator.markup.readers import READERS
from migrator.markup.writers import WRITERS

SYNTAXES: Final = ("trac", "textile", "markdown", "jira", "plain")


@dataclass
class Converted:
    """Converted text plus "kind: detail" warnings for the ticket's report."""

    text: str
    warnings: list[str] = field(default_factory=list)


def convert(text: str, source: str, target: str) -> Converted:
    """Convert ``text`` written in ``source`` markup to ``target`` markup.

    Raises ValueError for an unknown syntax name: that is a programming or
    configuration error, not a property of one ticket.
    """
    for syntax in (source, target):
        if syntax not in SYNTAXES:
            raise ValueError(f"unknown markup {syntax!r}; expected one of {', '.join(SYNTAXES)}")
    if source == target or not text:
        return Converted(text, [])
    crlf = "\r\n" in text
    if crlf or "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[str] = []
    if _ACTIVE.search(text) is None:
        out = text
    else:
        doc = READERS[source](text, warnings)
        out = WRITERS[target](warnings).document(doc)
    if crlf:
        out = out.replace("\n", "\r\n")
    return Converted(out, _collapse(warnings))


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
)
