"""The Trac writer: what the Trac reader reads back, with Trac's own escapes."""

from __future__ import annotations

import re

from migrator.markup.readers.trac import HEADING_LINE, LIST_LINE, URL_SCHEMES, inline_tokens
from migrator.markup.tree import Image, Inline, Link, ListBlock, Table
from migrator.markup.writers.base import Writer, indent, numbered


class TracWriter(Writer):
    """Trac WikiFormatting; Trac is a source in practice, this makes every pair defined."""

    def guard_line(self, line: str) -> str:
        if (
            LIST_LINE.match(line)
            or HEADING_LINE.match(line)
            or line.startswith(("||", "----", ">", "{{{", "}}}"))
        ):
            return "^^" + line  # an empty superscript: Trac's own escape for line starts
        return line

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.one_line(inlines)
        return f"{'=' * level} {text}" if text else ""

    def code_block(self, text: str, lang: str | None) -> str:
        if re.search(r"^\s*\}\}\}\s*$", text, re.M):
            self.warnings.append(
                "markup-approximate: a code block contains a }}} line, indented by one space"
            )
            text = re.sub(r"^(\s*\}\}\})", r" \1", text, flags=re.M)
        known = lang and re.fullmatch(r"[\w+-][\w+/-]*", lang)
        head = f"{{{{{{\n#!{lang}" if known else "{{{"
        return f"{head}\n{text}\n}}}}}}"

    def list_block(self, node: ListBlock, depth: int) -> str:
        items = []
        pad = " " * (2 * depth - 1)
        for marker, item in numbered(node, "* "):
            parts = []
            for b in item:
                if isinstance(b, ListBlock):
                    parts.append(self.list_block(b, depth + 1))
                else:
                    parts.append(indent(self.block(b), "", pad + " " * len(marker)))
            body = "\n".join(parts)
            items.append(pad + marker + body.lstrip(" "))
        return "\n".join(items)

    def table(self, node: Table) -> str:
        with self.table_cells():
            lines = []
            for row in node.rows:
                cells = []
                for c in row:
                    body = self.one_line(c.inlines)
                    pipes = "||" * c.colspan
                    cells.append(f"{pipes}= {body} =" if c.header else f"{pipes} {body} ")
                lines.append("".join(cells) + "||")
            return "\n".join(lines)

    def rule(self) -> str:
        return "----"

    def line_break(self) -> str:
        return "[[BR]]" if self.in_table else "\\\\\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        mark = {"strong": "'''", "em": "''", "u": "__", "del": "~~", "sup": "^", "sub": ",,"}
        return f"{mark[kind]}{inner}{mark[kind]}" if kind in mark else inner

    def text(self, s: str, prev: str, nxt: str) -> str:
        out: list[str] = []
        pos = 0
        for m in inline_tokens(s):
            kind = m.lastgroup or ""
            url = (
                kind in ("shref", "shrefbr") and (m["sns"] or m["sbs"] or "").lower() in URL_SCHEMES
            )
            harmless = kind in ("refbang", "camelbang", "changeset", "report", "camel", "email")
            if url or harmless or m.group().startswith("!"):
                continue
            out.append(s[pos : m.start()] + "!")
            pos = m.start()
        out.append(s[pos:])
        return "".join(out)

    def code(self, s: str, prev: str, nxt: str) -> str:
        return f"{{{{{{{s}}}}}}}" if "}}}" not in s else f"`{s}`"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        label = self.inlines(node.children).replace("\n", " ").replace("]", "")
        if node.title:  # Trac has no link titles: the title follows the label
            label = f"{label} ({node.title})" if label else node.title
        return f"[{node.url} {label}]" if label else node.url

    def image(self, node: Image) -> str:
        alt = node.alt.replace(",", "\\,").replace(")", "").replace("]", "")
        return f"[[Image({node.src}, alt={alt})]]" if alt else f"[[Image({node.src})]]"
