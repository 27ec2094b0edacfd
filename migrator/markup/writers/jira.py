"""The Jira writer: wiki markup with backslash escapes, ``{code}`` and ``{quote}``."""

from __future__ import annotations

import re

from migrator.markup.tree import Block, Image, Link, Quote, Table
from migrator.markup.writers.base import grid
from migrator.markup.writers.wiki import STYLE_MARKS, WikiListWriter, risky_chars

_SPECIAL = re.compile(r"[*_\-+^~?{}\[\]|!\\]")
_LINE_START = re.compile(r"^(?:([*#-]+)(?=\s)|(\|)|(?:h[1-6]|bq)(\.)\s|(-{4,})\s*$)")


class JiraWriter(WikiListWriter):
    """Jira wiki markup (Jira Server/Data Center renderer, Jira Cloud's legacy editor)."""

    def guard_line(self, line: str) -> str:
        return "\\" + line if _LINE_START.match(line) else line

    def code_block(self, text: str, lang: str | None) -> str:
        if lang and "{code}" not in text and re.fullmatch(r"[\w+#.-]+", lang):
            return f"{{code:{lang}}}\n{text}\n{{code}}"
        if "{noformat}" not in text:
            return f"{{noformat}}\n{text}\n{{noformat}}"
        if "{code}" not in text:
            return f"{{code}}\n{text}\n{{code}}"
        self.warnings.append(
            "markup-approximate: a code block contains both {code} and {noformat}; "
            "their braces were escaped"
        )
        return "{noformat}\n" + text.replace("{noformat}", "\\{noformat\\}") + "\n{noformat}"

    def quote(self, blocks: list[Block]) -> str:
        inner = self.blocks(
            [b.blocks[0] if isinstance(b, Quote) and b.blocks else b for b in blocks]
        )
        return "{quote}\n" + inner + "\n{quote}"

    def table(self, node: Table) -> str:
        rows = grid(node)
        with self.table_cells():
            lines = []
            for row in rows:
                parts = []
                for c in row:
                    body = self.one_line(c.inlines) or " "
                    parts.append(("||" if c.header else "|") + body)
                lines.append("".join(parts) + ("||" if row and row[-1].header else "|"))
            return "\n".join(lines)

    def rule(self) -> str:
        return "----"

    def line_break(self) -> str:
        return " \\\\ " if self.in_table else "\\\\\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        mark = STYLE_MARKS.get(kind)
        if mark is None:
            return inner
        if (not before or not before.isalnum()) and (not after or not after.isalnum()):
            return f"{mark}{inner}{mark}"
        return f"{{{mark}}}{inner}{{{mark}}}"

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _SPECIAL.search(s) is None:
            return s
        risky = risky_chars(s, prev, nxt)

        def esc(m: re.Match[str]) -> str:
            c = m.group()
            i = m.start()
            before = s[i - 1] if i else prev
            after = s[i + 1] if i + 1 < len(s) else nxt
            if c in "*_-+^~":
                if c in risky and (
                    (not before.isalnum() and after and not after.isspace())
                    or (before and not before.isspace() and not after.isalnum())
                ):
                    return "\\" + c
                return c
            if c == "?":
                return "\\?" if "?" in (before, after) else c
            if c == "!":
                return "\\!" if "!" in risky else c
            if c == "|":
                return "\\|" if self.in_table else c
            if c == "\\":
                return "\\\\" if after == "\\" or before == "\\" else c
            return "\\" + c

        return _SPECIAL.sub(esc, s)

    def code(self, s: str, prev: str, nxt: str) -> str:
        return "{{" + self.text(s, "", "") + "}}"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        if not node.children:
            return f"[{node.url}]"
        label = self.inlines(node.children).replace("\n", " ").replace("|", "\\|")
        return f"[{label}|{node.url}]"

    def image(self, node: Image) -> str:
        return f"!{node.src}!"
