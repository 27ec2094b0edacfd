"""Jira wiki markup, read as Jira Cloud reads it (Atlassian's wiki-markup transformer).

What Jira spells its own way: code blocks are ``{code[:lang]}`` and
``{noformat}``, quotes ``{quote}`` (closed on the same line or later) and
one-line ``bq.``, boxes ``{panel:title=...}``, header cells start with
``||``, ``- item`` is a list item, ``[~login]`` names a person, ``[^file]``
links an attachment, ``??text??`` is a citation (shown "— text"), ``:)`` and
``(y)`` are emoticons, and a backslash escapes the next character.  A phrase
mark cannot touch a letter or a non-ASCII character on its outer side
(``{*}`` can) nor span lines.
"""

from __future__ import annotations

import re
from typing import Final

from migrator.markup.readers.wiki import TEXT_LINE, WikiReader
from migrator.markup.tree import (
    Attachment,
    Block,
    Cell,
    Context,
    Image,
    Inline,
    Link,
    Mention,
    Para,
    Styled,
)

# Jira's emoticons, as the pictures Jira Cloud shows for them.
EMOTICONS: Final = {
    ":)": "🙂",
    ":-)": "🙂",
    ":(": "😞",
    ":-(": "😞",
    ":P": "😛",
    ":-P": "😛",
    ":p": "😛",
    ":-p": "😛",
    ":D": "😃",
    ":-D": "😃",
    ";)": "😉",
    ";-)": "😉",
    "(y)": "👍",
    "(n)": "👎",
    "(i)": "ℹ️",
    "(/)": "✅",
    "(x)": "❌",
    "(!)": "⚠️",
    "(+)": "➕",
    "(-)": "➖",
    "(?)": "❓",
    "(on)": "💡",
    "(off)": "💡",
    "(*)": "⭐",
    "(*y)": "⭐",
    "(*r)": "🌟",
    "(*g)": "🌟",
    "(*b)": "🌟",
    "(flag)": "🚩",
    "(flagoff)": "🏳️",
}
_EMOTICON = "|".join(re.escape(e) for e in sorted(EMOTICONS, key=len, reverse=True))
_OUTSIDE = r"[A-Za-z0-9\u0080-\U0010ffff]"  # what a phrase mark may not touch on its outer side
_MARKS = r"\*|_|\+|\^|~|-|\?\?"
_MACRO_BLOCK = re.compile(r"\{(code|noformat)(?::([^}]*))?\}(.*)$")
_PANEL = re.compile(r"\{panel(?::([^{}]*))?\}(.*)$")


class JiraReader(WikiReader):
    inline_starts = re.compile(r"[\\{\[!*_+^~?\-:;(hfmi]")
    inline_rules = re.compile(
        rf"""
        (?P<escape>\\[^\w\s\\])
        |(?P<code>\{{\{{(?P<c>.+?)\}}\}}(?!\}}))
        |(?P<mention>\[~(?:accountid:)?(?P<login>[^\]\n|]+)\])
        |(?P<attachment>\[\^(?P<file>[^\]\n|]+)\])
        |(?P<link>\[(?:(?P<label>[^\[\]|\n]*)\|)?(?P<url>(?:https?|ftps?|sftp|mailto|file|irc):[^\[\]\n|]+|\#[^\[\]\n|]*)(?:\|(?P<title>[^\[\]\n]*))?\])
        |(?P<bare>(?<![\w/])(?:https?|ftp|irc)://[^\s\[\]|<>"]+[^\s\[\]|<>".,;:!?)]|(?<![\w/])mailto:[^\s\[\]|]+)
        |(?P<image>!(?P<src>[^\s!|]+)(?:\|[^!\n]*)?!)
        |(?P<color>\{{color(?::[^}}\n]*)?\}}|\{{anchor:[^}}\n]*\}})
        |(?P<dash>(?<!\S)---?(?!\S))
        |(?P<macro>\{{[a-zA-Z]\w*(?::[^}}\n]*)?\}})
        |(?P<br>\\\\)
        |(?P<emoticon>(?:{_EMOTICON})(?![A-Za-z0-9]))
        |(?P<open>(?:(?<!{_OUTSIDE})(?P<om>{_MARKS})|\{{(?P<wom>{_MARKS})\}})(?=\S))
        |(?P<close>(?<=\S)(?:(?P<cm>{_MARKS})(?!{_OUTSIDE})|\{{(?P<wcm>{_MARKS})\}}))
        """,
        re.VERBOSE,
    )
    cell_tokens = re.compile(r"\\.|\{\{.*?\}\}|\[[^\]]*\]|(?P<sep>\|\|?)|[^|\\{\[]+|.")
    dash_lists = True
    list_item = re.compile(r"([*#]+|-)\s+(.*)$")
    entities = False
    phrases_span_lines = False
    outside = re.compile(_OUTSIDE)

    def special_block(self, lines: list[str], i: int) -> tuple[int, list[Block]] | None:
        s = lines[i].strip()
        m = _MACRO_BLOCK.match(s)
        if m:
            tag = m.group(1)
            params = m.group(2) or ""
            lang = params.split("|", 1)[0].strip() or None
            if lang and "=" in lang:
                lang = None  # {code:title=x.java}: no language
            close = "{" + tag + "}"
            end, blocks = self.fenced(lines, i, m.group(3), close, lang if tag == "code" else None)
            title = re.search(r"(?:^|\|)\s*title\s*=\s*([^|]*)", params)
            if title and title.group(1).strip():  # shown bold above the code
                blocks.insert(0, Para([Styled("strong", [title.group(1).strip()])]))
            return end, blocks
        m = _PANEL.match(s)
        if m:
            return self.panel(lines, i, m.group(1) or "", m.group(2))
        return None

    def panel(self, lines: list[str], i: int, params: str, first: str) -> tuple[int, list[Block]]:
        """A box: its title (shown bold above the text) and its text, read as blocks."""
        body = [first] if first.strip() else []
        j = i + 1
        while j < len(lines) and "{panel}" not in lines[j]:
            body.append(lines[j])
            j += 1
        if "{panel}" in first:
            body = [first.split("{panel}", 1)[0]]
            j = i
        elif j < len(lines):
            body.append(lines[j].split("{panel}", 1)[0])
        title = re.search(r"(?:^|\|)\s*title\s*=\s*([^|]*)", params)
        blocks: list[Block] = []
        if title and title.group(1).strip():
            blocks.append(Para([Styled("strong", self.inline(title.group(1).strip()))]))
        blocks.extend(self.parse("\n".join(body)))
        end = j + 1
        if end <= len(lines) and j < len(lines):
            after = lines[j].split("{panel}", 1)[1] if "{panel}" in lines[j] else ""
            if after.strip():
                lines[j] = TEXT_LINE + after
                end = j
        return end, blocks

    def quoted(self, lines: list[str], i: int) -> tuple[int, str] | None:
        """``{quote}`` ... ``{quote}``, on one line or several; what follows it is read on."""
        s = lines[i].strip()
        if not s.startswith("{quote}"):
            return None
        rest = s[len("{quote}") :]
        if "{quote}" in rest:
            inner, _, after = rest.partition("{quote}")
            if after.strip():
                lines[i] = TEXT_LINE + after
                return i, inner
            return i + 1, inner
        inner_lines = [rest] if rest.strip() else []
        j = i + 1
        while j < len(lines) and "{quote}" not in lines[j]:
            inner_lines.append(lines[j])
            j += 1
        if j < len(lines):
            before, _, after = lines[j].partition("{quote}")
            if before.strip():
                inner_lines.append(before)
            if after.strip():
                lines[j] = TEXT_LINE + after
                return j, "\n".join(inner_lines)
        return j + 1, "\n".join(inner_lines)

    def cell(self, sep: str, content: str) -> Cell:
        return Cell(self.inline(content.strip()), sep == "||")

    def code_text(self, code: str) -> str:
        return re.sub(r"\\([^\w\s])", r"\1", code)

    def special_inline(self, kind: str, m: re.Match[str]) -> list[Inline] | None:
        if kind == "mention":
            return [Mention(m.group("login").strip(), m.group())]
        if kind == "attachment":
            return [Attachment(m.group("file").strip(), m.group())]
        if kind == "link":
            url = m.group("url").strip()
            label = m.group("label")
            if url.startswith("#"):  # an anchor in the page: its label (or name) shows
                shown = self.inline(label) if label else [url]
                title = m.group("title")
                return [*shown, f" ({title})"] if title and title.strip() else shown
            children = self.inline(label) if label and label != url else []
            if not children and url.startswith("mailto:"):
                children = [url.removeprefix("mailto:")]  # shown as the address alone
            return [Link(url, children, (m.group("title") or "").strip())]
        if kind == "dash":  # Jira's typography, between spaces
            return ["—" if m.group() == "---" else "–"]
        if kind == "bare":
            return [Link(m.group(), [])]
        if kind == "image":
            return [Image(m.group("src"))]
        if kind == "emoticon":
            return [EMOTICONS[m.group("emoticon")]]
        if kind == "macro":
            self.warnings.append(f"markup-literal: macro {m.group()} kept as written")
            return [m.group()]
        return None

    def mark_of(self, m: re.Match[str], opening: bool) -> str:
        return m.group("om" if opening else "cm") or m.group("wom" if opening else "wcm")

    def styled(self, mark: str, children: list[Inline]) -> list[Inline]:
        if mark == "??":  # a citation: Jira shows it emphasised, after a dash
            return [Styled("em", ["— ", *children])]
        return super().styled(mark, children)


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    return JiraReader(warnings).parse(text)
