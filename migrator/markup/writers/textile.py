"""The Textile writer, for Redmine: escapes and phrases as RedCloth3 reads them."""

from __future__ import annotations

import re

from migrator.markup.tree import Abbr, Image, Link, Table
from migrator.markup.writers.wiki import (
    QTAG_CHARS,
    STYLE_MARKS,
    WikiListWriter,
    phrase_closes,
    phrase_opens,
    risky_chars,
)

_SPECIAL = re.compile(r"[*_\-+^~%?@&<\"!\[{|]")
_LINE_START = re.compile(
    r"^(?:([*#]+)(?=\s)|(\|)|(>)|(?:h[1-6]|bq|p|fn\d+|bc|pre|notextile|table)\S*?(\.)\.?(?::\S+)?\s"
    r"|( ?[-*_] ?){3,}$|(==))"
)
_OFFTAG = re.compile(r"<(/?)(pre|code|kbd|notextile|redpre)\b", re.IGNORECASE)


def _entity(c: str) -> str:
    return f"&#{ord(c)};"


class TextileWriter(WikiListWriter):
    """Textile as Redmine renders it: RedCloth3 with hard line breaks and escaped HTML."""

    def mark_char(self, kind: str) -> str:
        return STYLE_MARKS.get(kind, "*")

    def guard_line(self, line: str) -> str:
        m = _LINE_START.match(line)
        if m is None:
            return line
        if m.group(4):
            k = m.start(4)
            return line[:k] + "&#46;" + line[k + 1 :]
        if m.group(2) == "|" or m.group(3) == ">" or m.group(1) or m.group(5):
            return _entity(line[0]) + line[1:]
        if m.group(6):
            return "&#61;" + line[1:]
        return line

    def code_block(self, text: str, lang: str | None) -> str:
        if _OFFTAG.search(text):
            self.warnings.append(
                "markup-approximate: a code block contains <pre>/<code> tags, which Redmine's "
                "Textile cannot show verbatim; their '<' was written as an entity"
            )
            text = _OFFTAG.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", text)
        if lang and re.fullmatch(r"[\w+#.-]+", lang):
            return f'<pre><code class="{lang}">\n{text}\n</code></pre>'
        return f"<pre>\n{text}\n</pre>"

    def comment(self, text: str) -> str:
        """Redmine drops HTML comments before it reads Textile: hidden, kept."""
        if "-->" in text:
            return self.code_block(text, None)
        return f"<!--\n{text}\n-->"

    def table(self, node: Table) -> str:
        with self.table_cells():
            lines = []
            for row in node.rows:
                cells = []
                for c in row:
                    attrs = ("_" if c.header else "") + (f"\\{c.colspan}" if c.colspan > 1 else "")
                    body = self.one_line(c.inlines)
                    if attrs:
                        cells.append(f"{attrs}. {body}")
                    elif re.match(r"(?:[_<>=^~-]|\\\d|/\d|\([^)]*\)|\{[^}]*\})+\.\s", body):
                        cells.append(_entity(body[0]) + body[1:])
                    else:
                        cells.append(body)
                lines.append("|" + "|".join(cells) + "|")
            return "\n".join(lines)

    def rule(self) -> str:
        return "---"

    def line_break(self) -> str:
        return " " if self.in_table else "\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        mark = STYLE_MARKS.get(kind)
        if mark and phrase_opens(before) and phrase_closes(after):
            return f"{mark}{inner}{mark}"
        if kind == "sup" and inner.isdigit() and before.isalnum():
            return f"[{inner}]"  # Redmine's footnote mark: a superscript number after a word
        if kind in ("sup", "sub"):
            m = _entity("^" if kind == "sup" else "~")
            return f"{m}{inner}{m}"
        self.dropped += 1
        return inner

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _SPECIAL.search(s) is None:
            return s
        risky = risky_chars(s, prev, nxt)

        def esc(m: re.Match[str]) -> str:
            c = m.group()
            i = m.start()
            before = s[i - 1] if i else prev
            after = s[i + 1] if i + 1 < len(s) else nxt
            if c in QTAG_CHARS:
                if c in risky and (
                    (phrase_opens(before) and after and not after.isspace())
                    or (before and not before.isspace() and phrase_closes(after))
                ):
                    return _entity(c)
                return c
            if c == "&":
                return "&amp;" if re.match(r"&#?[a-zA-Z0-9]+;", s[i:]) else c
            if c == "<":
                # RedCloth3 drops HTML comments and treats these tags as verbatim blocks.
                return "&lt;" if _OFFTAG.match(s, i) or s.startswith("<!--", i) else c
            if c == "@":
                return _entity(c) if "@" in risky else c
            if c == '"':
                return "&quot;" if '"' in risky else c
            if c == "!":
                return _entity(c) if "!" in risky and after and after not in " \n(!#r" else c
            if c == "[":
                if after == "[" or (before.isalnum() and re.match(r"\[\d+\]", s[i:])):
                    return "&#91;"
                return c
            if c == "{":
                return "&#123;" if after == "{" else c
            if c == "|":
                return "&#124;" if self.in_table else c
            return c

        return _SPECIAL.sub(esc, s)

    def code(self, s: str, prev: str, nxt: str) -> str:
        simple = (
            "@" not in s
            and "&" not in s
            and "<" not in s
            and not s.startswith("|")
            and not (prev and (prev.isalnum() or prev == "_"))
            and not (nxt and (nxt.isalnum() or nxt == "_"))
            and not self.in_table
        )
        if simple:
            return f"@{s}@"
        if _OFFTAG.search(s):
            self.warnings.append("markup-approximate: inline code containing <code>/<pre> tags")
            s = _OFFTAG.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", s)
        if self.in_table:
            s = s.replace("|", "&#124;")
        return f"<code>{s}</code>"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        url = node.url
        safe_url = not re.search(r"[\s\"<>]", url) and not re.search(r"[.,;:!?)]$", url)
        if not node.children:
            return url
        if len(node.children) == 1 and isinstance(node.children[0], Image) and safe_url:
            return f"{self.image(node.children[0])}:{url}"  # an image that links
        label = self.inlines(node.children).replace("\n", " ").replace('"', "&quot;").strip()
        if not safe_url or not label:
            return f"{label} ({url})" if label else url
        title = f"({node.title})" if node.title and ")" not in node.title else ""
        out = f'"{label}{title}":{url}'
        if nxt and not nxt.isspace() and nxt not in "<.,;:!?)":
            out += " "  # Redmine ends the URL only at a space (trailing punctuation aside)
        return out

    def abbr(self, node: Abbr, prev: str, nxt: str) -> str:
        if re.fullmatch(r"[A-Z][A-Z0-9]+", node.text) and ")" not in node.title:
            return f"{node.text}({node.title})"
        return super().abbr(node, prev, nxt)

    def image(self, node: Image) -> str:
        if re.search(r"[\s!]", node.src):
            return node.src
        alt = re.sub(r"[()!]", " ", node.alt).strip()
        return f"!{node.src}({alt})!" if alt else f"!{node.src}!"
