"""What the Textile and Jira writers share: lists of repeated marks, phrase rules."""

from __future__ import annotations

import re
from typing import Final

from migrator.markup.tree import Block, Inline, ListBlock, Para
from migrator.markup.writers.base import Writer, is_punct

# The marks of a styled phrase, the same in both syntaxes.
STYLE_MARKS: Final = {"strong": "*", "em": "_", "u": "+", "del": "-", "sup": "^", "sub": "~"}
# RedCloth3's phrase modifiers (QTAGS) and where they can open and close.
QTAG_CHARS = "*_-+^~%?"


def phrase_opens(before: str) -> bool:
    return not before or before.isspace() or before in ">([" or before in QTAG_CHARS


def phrase_closes(after: str) -> bool:
    return not after or after.isspace() or after in "<)" or is_punct(after)


def risky_chars(s: str, prev: str, nxt: str) -> set[str]:
    """Characters of ``s`` that could pair up into markup in Redmine.

    The Jira writer asks the same of its own phrase marks.
    """
    found: set[str] = set()
    text = (prev or " ") + s + (nxt or " ")
    for c in set(s) & set(QTAG_CHARS):
        opened = False
        for i, ch in enumerate(text):
            if ch != c or i == 0 or i == len(text) - 1:
                continue
            before, after = text[i - 1], text[i + 1]
            if opened and not before.isspace() and phrase_closes(after):
                found.add(c)
                break
            if phrase_opens(before) and not after.isspace():
                opened = True
    if "@" in s and re.search(r"(?:^|\W)@.+?@(?=\W|$)", text):
        found.add("@")
    if '"' in s and '":' in s:
        found.add('"')
    if "!" in s and re.search(r"![<>=]?[^\s(!]+(?:\([^)]*\))?!", s):
        found.add("!")
    return found


class WikiListWriter(Writer):
    """Lists spelled with repeated ``*``/``#`` marks, as Textile and Jira write them.

    Their list items hold one paragraph (Jira's a code block too); any other
    block of an item (a table, a quote) is placed after the list, which is
    then continued.
    """

    def list_block(self, node: ListBlock, depth: int) -> str:
        return "\n\n".join(self.list_segments(node, ""))

    def list_segments(self, node: ListBlock, prefix: str) -> list[str]:
        """Textile list items hold one paragraph; other blocks go between list segments."""
        mark = prefix + ("#" if node.ordered else "*")
        segments: list[str] = []
        lines: list[str] = []
        for item in node.items:
            text_parts: list[str] = []
            for b in item:
                if isinstance(b, Para):
                    text_parts.append(self.inlines(b.inlines))
                elif isinstance(b, ListBlock):
                    if text_parts or not lines or lines[-1].startswith(mark + " "):
                        lines.append(f"{mark} " + self.guard_item("\n".join(text_parts)))
                        text_parts = []
                    nested = self.list_segments(b, mark)
                    if not nested:
                        continue
                    lines.append(nested[0])
                    if len(nested) > 1:
                        segments.append("\n".join(lines))
                        segments.extend(nested[1:])
                        lines = []
                elif self.held_in_item(b) and (text_parts or lines):
                    if text_parts:
                        lines.append(f"{mark} " + self.guard_item("\n".join(text_parts)))
                        text_parts = []
                    lines.append(self.block(b))  # right under its item line, it stays in it
                else:
                    if text_parts:
                        lines.append(f"{mark} " + self.guard_item("\n".join(text_parts)))
                        text_parts = []
                    if lines:
                        segments.append("\n".join(lines))
                        lines = []
                    self.warnings.append(
                        "markup-approximate: a block inside a list item placed after the item"
                    )
                    segments.append(self.block(b))
            if text_parts or not item:
                lines.append(f"{mark} " + self.guard_item("\n".join(text_parts)))
        if lines:
            segments.append("\n".join(lines))
        return [s for s in segments if s]

    def held_in_item(self, block: Block) -> bool:
        """Whether the syntax keeps this block in a list item when it follows the item's line."""
        return False

    def guard_item(self, text: str) -> str:
        first, _, rest = text.partition("\n")
        return first + ("\n" + self.guard_lines(rest) if rest else "")

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.one_line(inlines)
        return f"h{min(level, 6)}. {text}" if text else ""
