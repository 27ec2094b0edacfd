"""Jira wiki markup: what it spells differently from Textile.

Code blocks are ``{code[:lang]}`` and ``{noformat}``, quotes ``{quote}`` (or
``bq.``), header cells start with ``||``, ``- item`` is a list item, and a
backslash escapes the next character, inside ``{{code}}`` too.
"""

from __future__ import annotations

import re

from migrator.markup.readers.wiki import WikiReader
from migrator.markup.tree import Block, Cell


class JiraReader(WikiReader):
    inline_starts = re.compile(r"[\\{\[!*_+^~?-]")
    inline_rules = re.compile(
        r"""
        (?P<escape>\\[^\w\s\\])
        |(?P<code>\{\{(?P<c>.+?)\}\})
        |(?P<link>\[(?:(?P<label>[^|\]\n]*)\|)?(?P<url>(?:https?|ftps?|sftp|mailto|file):[^\]\n|]+)\])
        |(?P<image>!(?P<src>[^\s!|]+)(?:\|[\w=,.%\s-]*)?!)
        |(?P<color>\{color(?::[^}\n]*)?\}|\{anchor:[^}\n]*\})
        |(?P<macro>\{\w+(?::[^}\n]*)?\})
        |(?P<br>\\\\)
        |(?P<open>(?<![\w*_+^~?-])\{?(?P<om>\*|_|\+|\^|~|-|\?\?)\}?(?=[^\s*_+^~-]))
        |(?P<close>(?<=\S)\{?(?P<cm>\*|_|\+|\^|~|-|\?\?)\}?(?!\w))
        """,
        re.VERBOSE | re.DOTALL,
    )
    cell_tokens = re.compile(r"\\.|\{\{.*?\}\}|\[[^\]]*\]|(?P<sep>\|\|?)|[^|\\{\[]+|.")
    dash_lists = True

    def code_block(self, lines: list[str], i: int) -> tuple[int, Block] | None:
        s = lines[i].strip()
        m = re.match(r"\{(code|noformat)(?::([^}|]*)[^}]*)?\}(.*)$", s)
        if not m:
            return None
        tag = m.group(1)
        lang = (m.group(2) or "").strip() or None
        return self.fenced(lines, i, m.group(3), "{" + tag + "}", lang if tag == "code" else None)

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        s = lines[i].strip()
        if not s.startswith("{quote}"):
            return None
        n = len(lines)
        inner = [s[len("{quote}") :]]
        j = i + 1
        while j < n and "{quote}" not in lines[j]:
            inner.append(lines[j])
            j += 1
        if j < n:
            inner.append(lines[j].split("{quote}", 1)[0])
        return j + 1, "\n".join(inner)

    def cell(self, sep: str, content: str) -> Cell:
        return Cell(self.inline(content.strip()), sep == "||")

    def code_text(self, code: str) -> str:
        return re.sub(r"\\([^\w\s])", r"\1", code)


def read(text: str, warnings: list[str]) -> list[Block]:
    return JiraReader(warnings).parse(text)
