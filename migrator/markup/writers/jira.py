"""The Jira writer: wiki markup with backslash escapes, ``{code}`` and ``{quote}``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from migrator.markup.tree import Block, CodeBlock, Image, Link, ListBlock, Para, Quote, Table
from migrator.markup.writers.base import grid
from migrator.markup.writers.wiki import STYLE_MARKS, WikiListWriter, risky_chars

_SPECIAL = re.compile(r"[*_\-+^~?{}\[\]|!\\]")
_LINE_START = re.compile(
    r"^(?:([*#-]+)(?=\s)|(\|)|(?:h[1-6]|bq)(\.)\s|(-{4,})\s*$|[*_-]*-{4,}[*_-]*\s*$)"
)


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
        """A quote; Jira's cannot hold another, whose blocks are the quote's own."""
        flat: list[Block] = []
        todo = list(blocks)
        while todo:
            b = todo.pop(0)
            if isinstance(b, Quote):
                self.warnings.append("markup-approximate: a quote inside a quote flattened")
                todo[:0] = b.blocks
            else:
                flat.append(b)
        return "{quote}\n" + self.blocks(flat) + "\n{quote}"

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
        # A newline is a line break in Jira; "\\" before it would make a second one.
        return " \\\\ " if self.in_table else "\n"

    def blocks(self, blocks: Sequence[Block]) -> str:
        """Blocks; a paragraph right after a list breaks its lines with ``\\``.

        Jira Cloud reads each line of such a paragraph as a paragraph of its own.
        """
        out: list[str] = []
        for k, b in enumerate(blocks):
            text = self.block(b)
            if k and isinstance(b, Para) and isinstance(blocks[k - 1], ListBlock):
                text = text.replace("\n", "\\\\")
            if text:
                out.append(text)
        return "\n\n".join(out)

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
        if len(node.children) == 1 and isinstance(node.children[0], Image):
            # An image cannot be a link in Jira: the target goes with it, as an attribute.
            image = node.children[0]
            alt = re.sub(r"[,|!=]", " ", image.alt).strip()
            attrs = ",".join(a for a in (f"alt={alt}" if alt else "", f"link={node.url}") if a)
            return f"!{image.src}|{attrs}!" if "!" not in node.url + image.src else node.url
        if not node.children:
            return f"[{node.url}]"
        label = self.inlines(node.children).replace("\n", " ").replace("|", "\\|")
        # A label cannot hold brackets in Jira, escaped or not.
        label = label.replace("\\[", "").replace("\\]", "").replace("[", "").replace("]", "")
        title = node.title.replace("]", "").replace("|", "") if node.title else ""
        return f"[{label}|{node.url}|{title}]" if title else f"[{label}|{node.url}]"

    def held_in_item(self, block: Block) -> bool:
        return isinstance(block, CodeBlock)

    def image(self, node: Image) -> str:
        alt = re.sub(r"[,|!=]", " ", node.alt).strip()
        return f"!{node.src}|alt={alt}!" if alt else f"!{node.src}!"

    def mention(self, login: str) -> str:
        return f"[~{login}]"
