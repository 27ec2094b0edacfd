"""Redmine's Textile (RedCloth3): what it spells differently from Jira.

Code blocks are ``<pre>`` (with an optional ``<code class="lang">``) or
``bc.``; quotes are ``>`` lines or ``bq.``; a cell's attributes before ``.``
say whether it is a header and how many columns it spans.
"""

from __future__ import annotations

import re

from migrator.markup.readers.wiki import ATTRIBUTE, WikiReader
from migrator.markup.tree import Block, Cell, CodeBlock

_ATTRS = ATTRIBUTE + "*"


class TextileReader(WikiReader):
    inline_starts = re.compile(r"[<@\"!{*_+^~%?-]")
    inline_rules = re.compile(
        rf"""
        (?P<notextile><notextile>(?P<nt>.*?)</notextile>)
        |(?P<htmlcode><code>(?P<hc>.*?)</code>)
        |(?P<code>(?<![\w@])@(?P<c>[^@\n]+?)@(?![\w@]))
        |(?P<link>(?<![\w"])"(?P<label>[^"\n]+?)":(?P<url>(?:https?|ftps?|sftp|mailto):[^\s<]*?|/[^\s<]*?)
            (?=[.,;:!?)]*(?:\s|$|<)))
        |(?P<image>![<>=]?(?P<src>[^\s!(]+)(?:\([^)]*\))?!(?::\S+)?)
        |(?P<macro>\{{\{{\w+(?:\(.*?\))?\}}\}})
        |(?P<br><br\s*/?>)
        |(?P<open>(?<![\w*_+^~%?-])(?P<om>\*\*|\*|__|_|\+|\^|~|-|\?\?|%){_ATTRS}(?=[^\s*_+^~%-]))
        |(?P<close>(?<=\S)(?P<cm>\*\*|\*|__|_|\+|\^|~|-|\?\?|%)(?!\w))
        """,
        re.VERBOSE | re.DOTALL,
    )
    cell_tokens = re.compile(
        r"<(code|notextile)>.*?</\1>|(?<![\w@])@[^@]+@(?![\w@])|\"[^\"]+\":\S+|(?P<sep>\|)|[^|<@\"]+|."
    )
    dash_lists = False

    def code_block(self, lines: list[str], i: int) -> tuple[int, Block] | None:
        s = lines[i].strip()
        m = re.match(r"<pre>(?:\s*<code(?:\s+class=[\"']?([\w+#.-]+)[\"']?)?>)?(.*)$", s)
        if m:
            closing = "</code></pre>" if "<code" in s else "</pre>"
            return self.fenced(lines, i, m.group(2), closing, m.group(1))
        m = re.match(r"bc(\.\.?)\s(.*)$", s)
        if m:
            body = [m.group(2)]
            j = i + 1
            while j < len(lines) and lines[j].strip():
                body.append(lines[j])
                j += 1
            return j, CodeBlock("\n".join(body))
        return None

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        if not lines[i].strip().startswith(">"):
            return None
        quoted: list[str] = []
        while i < len(lines) and lines[i].lstrip().startswith(">"):
            q = lines[i].lstrip()[1:]
            quoted.append(q[1:] if q.startswith(" ") else q)
            i += 1
        return i, "\n".join(quoted)

    def cell(self, sep: str, content: str) -> Cell:
        header = False
        colspan = 1
        m = re.match(r"((?:_|\\\d+|/\d+|[<>=^~-]|\([^)]*\)|\{[^}]*\})+)\.\s?", content)
        if m:
            attrs = m.group(1)
            header = "_" in attrs
            span = re.search(r"\\(\d+)", attrs)
            colspan = int(span.group(1)) if span else 1
            content = content[m.end() :]
        return Cell(self.inline(content.strip()), header, colspan)


def read(text: str, warnings: list[str]) -> list[Block]:
    return TextileReader(warnings).parse(text)
