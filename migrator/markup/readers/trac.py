"""Trac WikiFormatting, read as Trac 1.6 reads it (trac.wiki.formatter).

The Trac writer imports the rules it must escape from here (``inline_tokens``,
``HEADING_LINE``, ``LIST_LINE``), so what it writes is what this reader reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from migrator.markup.readers.html import read_html
from migrator.markup.tree import (
    BREAK,
    RULE,
    Block,
    Cell,
    Code,
    CodeBlock,
    Comment,
    Context,
    DefList,
    Heading,
    Image,
    Inline,
    Link,
    ListBlock,
    Para,
    Quote,
    Styled,
    Table,
    add_text,
    literal,
)


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_SCHEME = r"[a-zA-Z][-a-zA-Z0-9+._]*"
_QUOTED = r"'[^']+'|\"[^\"]+\""
_SHREF_TARGET = r"[\w/?!#@](?<!_)(?:(?:\|(?=[^|\s])|[^|<>\s])*[\w/=](?<!_))?"
_EMAIL = r"[a-zA-Z0-9.'+_-]+@(?:[a-zA-Z0-9_-]+\.)+[a-zA-Z](?:[-a-zA-Z\d]*[a-zA-Z\d])?"
# Schemes that are URLs everywhere; a scheme followed by "//" is one too.
URL_SCHEMES: Final = _words(
    "http https ftp ftps sftp ssh svn git file mailto news irc nntp telnet xmpp"
)
# Trac resources: only the old Trac understands them.  Those of OLD_URL_PATHS
# become links into the old Trac when its URL is known; the others (tickets,
# comments, attachments) are the reference pass's, or stay as written.
TRAC_SCHEMES: Final = _words(
    "wiki ticket comment changeset log report milestone source browser repos export "
    "attachment raw-attachment query search timeline roadmap about htdocs chrome "
    "diff trac"
)
OLD_URL_PATHS: Final = {
    "wiki": "wiki",
    "source": "browser",
    "browser": "browser",
    "repos": "browser",
    "log": "log",
    "changeset": "changeset",
    "report": "report",
    "milestone": "milestone",
    "export": "export",
    "htdocs": "chrome/site",
    "query": "query",
    "timeline": "timeline",
    "roadmap": "roadmap",
}
_CAMEL = r"(?:[A-Z][a-z]+/?){2,}(?:@[0-9]+)?(?=:(?:\Z|\s)|[^:\w]|\s|\Z)"

_TRAC_INLINE = re.compile(
    rf"""
    (?P<bolditalic>!?''''')
    |(?P<bold>!?''')
    |(?P<bold_wc>!?\*\*)
    |(?P<italic>!?'')
    |(?P<italic_wc>!?//)
    |(?P<underline>!?__)
    |(?P<strike>!?~~)
    |(?P<subscript>!?,,)
    |(?P<superscript>!?\^)
    |(?P<code1>!?\{{\{{\{{(?P<c1>.*?)\}}\}}\}})
    |(?P<code2>!?`(?P<c2>.*?)`)
    |(?P<refbang>!(?=\#\d|r\d|\[\d|\{{\d))
    |(?P<camelbang>!(?=[A-Z][a-z0-9]+[A-Z]))
    |(?P<changeset>(?<![\w/])(?:r(?P<rev>\d+)\b|\[(?P<rev2>\d+)\]))
    |(?P<report>(?<![\w/])\{{(?P<rep>\d+)\}})
    |(?P<linebreak>!?\\\\)
    |(?P<email>!?(?<![\w.'+-]){_EMAIL})
    |(?P<shrefbr>!?<(?P<sbs>{_SCHEME}):(?P<sbt>[^>\s]+)>)
    |(?P<shref>!?(?<![\w.+-])(?P<sns>{_SCHEME}):(?P<stgt>{_SCHEME}:(?:{_QUOTED})|{_QUOTED}|{_SHREF_TARGET}))
    |(?P<lhref>!?\[(?:(?P<rel>[/?\#][^\s\]]*|\.\.?(?:[/?\#][^\s\]]*)?)
        |(?P<lns>{_SCHEME}):(?P<ltgt>{_SCHEME}:(?:{_QUOTED})|{_QUOTED}|[^\]\s\u200b]*))
        (?:[\s\u200b]+(?P<label>{_QUOTED}|[^\]\n]*))?\])
    |(?P<anchor>!?\[=\#[\w:](?<!\d)[\w:.-]*?(?:[ \t]+(?P<alabel>[^\]\n]*))?\])
    |(?P<macro>!?\[\[(?P<mbody>(?:[^]\n]|\][^]\n])+)\]\])
    |(?P<camel>(?<![\w/])(?:\.?\.?/)*{_CAMEL})
    """,
    re.VERBOSE,
)
_TOGGLES: Final = {
    "bold": ("MM_BOLD", "strong"),
    "bold_wc": ("WC_BOLD", "strong"),
    "italic": ("MM_ITALIC", "em"),
    "italic_wc": ("WC_ITALIC", "em"),
    "underline": ("MM_UNDERLINE", "u"),
    "strike": ("MM_STRIKE", "del"),
    "subscript": ("MM_SUB", "sub"),
    "superscript": ("MM_SUP", "sup"),
}
_TAG_KIND: Final = {tag: kind for tag, kind in _TOGGLES.values()}
# Macros that exist in a stock Trac; ``[[Name]]`` with another name is a wiki link.
_TRAC_MACROS: Final = _words(
    "br image intertrac interwiki knownmimetypes macrolist pageoutline "
    "recentchanges repositoryindex ticketquery titleindex tracadminhelp "
    "tracguidetoc tracini changelog toc span div html htmlcomment comment td th tr "
    "table rtl default"
)
_MACRO_CALL = re.compile(r"(?P<name>[\w/+-]+\??|\?)(?:\((?P<args>.*)\))?$", re.DOTALL)


class _TracInline:
    """Trac's inline rules, with its toggle semantics for font styles.

    Trac treats every style marker as a toggle that closes the innermost
    matching tag (closing and reopening the tags opened after it), and closes
    what is still open at the end of the paragraph; we build the same tree.
    """

    def __init__(self, warnings: list[str], old_url: str | None, flowing: bool = False) -> None:
        self.warnings = warnings
        self.old_url = old_url
        self.flowing = flowing

    def parse(self, text: str) -> list[Inline]:
        root: list[Inline] = []
        stack: list[tuple[str, list[Inline]]] = []  # (tag, children), innermost last

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        def close(tag: str) -> None:
            reopen: list[str] = []
            while stack:
                t, children = stack.pop()
                node = Styled(_TAG_KIND[t], children)
                if children:
                    cur().append(node)
                if t == tag:
                    break
                reopen.append(t)
            for t in reversed(reopen):
                stack.append((t, []))

        def toggle(tag: str) -> None:
            if any(t == tag for t, _ in stack):
                close(tag)
            else:
                stack.append((tag, []))

        pos = 0
        for m in inline_tokens(text):
            if m.start() < pos:
                continue  # inside the newline a line break consumed
            if m.start() > pos:
                add_text(cur(), text[pos : m.start()])
            pos = m.end()
            kind = m.lastgroup or ""
            whole = m.group()
            if kind == "refbang":
                add_text(cur(), "!")  # kept: Redmine reads "!#12" as an escaped link too
                continue
            if kind == "camelbang":
                continue  # "!WikiWord": Trac shows the word without the "!"
            if whole.startswith("!"):
                add_text(cur(), whole[1:])
                continue
            if kind in _TOGGLES:
                toggle(_TOGGLES[kind][0])
            elif kind == "bolditalic":
                bold = any(t == "MM_BOLD" for t, _ in stack)
                italic = any(t == "MM_ITALIC" for t, _ in stack)
                if bold and italic:
                    order = [t for t, _ in stack if t in ("MM_BOLD", "MM_ITALIC")]
                    for t in reversed(order):
                        close(t)
                else:
                    for t in ("MM_BOLD", "MM_ITALIC"):
                        toggle(t)
            elif kind == "code1":
                cur().append(Code(m.group("c1")))
            elif kind == "code2":
                cur().append(Code(m.group("c2")))
            elif kind == "linebreak":
                cur().append(BREAK)
                pos = _after_break(text, pos)
            elif kind == "email":
                cur().append(Link(f"mailto:{whole}", [whole]))
            elif kind == "shrefbr":
                add_text(cur(), "<")
                self._link(cur(), m.group("sbs"), m.group("sbt"), None, whole[1:-1])
                add_text(cur(), ">")
            elif kind == "shref":
                self._link(cur(), m.group("sns"), m.group("stgt"), None, whole)
            elif kind == "lhref":
                self._lhref(cur(), m, whole)
            elif kind == "anchor":
                cur().extend(self.parse((m.group("alabel") or "").strip()))
            elif kind == "macro":
                pos = self._macro(cur(), m.group("mbody"), whole, text, pos)
            elif kind == "changeset":
                rev = m.group("rev") or m.group("rev2")
                self._resource(cur(), "changeset", rev, whole, whole)
            elif kind == "report":
                self._resource(cur(), "report", m.group("rep"), whole, whole)
            elif kind == "camel":
                add_text(cur(), whole)  # a wiki page name: shown as the word it is
        if pos < len(text):
            add_text(cur(), text[pos:])
        while stack:
            close(stack[0][0])
        return root

    def _resource(
        self, out: list[Inline], scheme: str, target: str, label: str, whole: str
    ) -> None:
        """A link into the old Trac when its URL is known; otherwise kept as written."""
        path = OLD_URL_PATHS.get(scheme)
        if self.old_url is None or path is None:
            add_text(out, whole)
            return
        url = f"{self.old_url}/{path}"
        if target:
            target, _, fragment = target.partition("#")
            target, at, rev = target.partition("@")
            if scheme == "query":
                url += "?" + target.lstrip("?")
            elif target:
                url += "/" + target.lstrip("/")
            if at and rev:
                url += f"?rev={rev}"
            if fragment:
                url += f"#{fragment}"
        out.append(Link(url, [label]))

    def _link(
        self, out: list[Inline], scheme: str, target: str, label: str | None, whole: str
    ) -> None:
        low = scheme.lower()
        target = _unquote(target)
        if low in TRAC_SCHEMES:
            # A Trac resource: a link into the old Trac, or kept as written so that the
            # reference pass can find it.
            self._resource(out, low, target, label or whole, whole)
        elif low in URL_SCHEMES or target.startswith("//"):
            url = f"{scheme}:{target}"
            out.append(Link(url, self.parse(label) if label and label != url else []))
        else:
            add_text(out, whole)  # "note:this" is text

    def _lhref(self, out: list[Inline], m: re.Match[str], whole: str) -> None:
        label = _unquote((m.group("label") or "").strip()) or None
        rel = m.group("rel")
        if rel is not None:
            if rel.startswith("#") and label:
                out.extend(self.parse(label))  # in-page anchor: the new page has other anchors
            else:
                add_text(out, whole)
            return
        scheme, target = m.group("lns"), m.group("ltgt")
        low = scheme.lower()
        if label is None and low in TRAC_SCHEMES:
            label = _unquote(target) if low == "wiki" else f"{scheme}:{target}"
        self._link(out, scheme, target, label, whole)

    def _macro(self, out: list[Inline], body: str, whole: str, text: str, pos: int) -> int:
        """A ``[[macro]]`` or ``[[link|label]]``; returns where reading goes on."""
        call = _MACRO_CALL.match(body.strip())
        if call is None or (
            call.group("args") is None
            and call.group("name").rstrip("?").lower() not in _TRAC_MACROS
        ):
            # [[target|label]]: a WikiCreole link.
            target, _, label = body.partition("|")
            target = target.strip()
            label = label.strip()
            scheme, colon, rest = target.partition(":")
            low = scheme.lower()
            if colon and (low in URL_SCHEMES or rest.startswith("//")):
                out.append(Link(target, self.parse(label) if label else []))
            elif colon and low in TRAC_SCHEMES:
                self._resource(out, low, rest, label or (rest if low == "wiki" else target), whole)
            elif not colon and self.old_url and re.fullmatch(r"[\w/.-]+", target):
                self._resource(out, "wiki", target, label or target, whole)
            else:
                add_text(out, whole)
            return pos
        name = call.group("name")
        args = call.group("args")
        low = name.lower()
        if low == "br":
            out.append(BREAK)
            return _after_break(text, pos)
        if low == "image" and args:
            image = self._image(args)
            if image is not None:
                out.append(image)
                return pos
        if low == "span" and args is not None:
            positional, _ = _split_macro_args(args)
            out.extend(self.parse(", ".join(p for p in positional if p)))
            return pos
        self.warnings.append(f"markup-literal: macro [[{name}]] kept as written")
        out.append(Code(whole))
        return pos

    def _image(self, args: str) -> Inline | None:
        """``[[Image(src, ..., link=url)]]`` when its source can be named outside Trac."""
        positional, named = _split_macro_args(args)
        src = positional[0] if positional else ""
        scheme, colon, rest = src.partition(":")
        low = scheme.lower()
        alt = named.get("alt", "")
        if not src:
            return None
        if not colon or low in ("http", "https") or rest.startswith("//"):
            image = Image(src, alt)
        elif self.old_url and low == "htdocs":
            image = Image(f"{self.old_url}/chrome/site/{rest}", alt)
        elif self.old_url and low in ("ticket", "wiki") and rest.count(":") == 1:
            parent, _, name = rest.partition(":")
            image = Image(f"{self.old_url}/raw-attachment/{low}/{parent}/{name}", alt)
        else:
            return None
        link = named.get("link", "")
        if link.partition(":")[0].lower() in URL_SCHEMES or "//" in link:
            return Link(link, [image])
        return image


def _flow(nodes: list[Inline]) -> list[Inline]:
    """Lines that flow into one: each newline a space."""
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, str):
            add_text(out, node.replace("\n", " "))
        elif isinstance(node, Styled):
            out.append(Styled(node.kind, _flow(node.children)))
        elif isinstance(node, Link):
            out.append(Link(node.url, _flow(node.children), node.title))
        else:
            out.append(node)
    return out


def _after_break(text: str, pos: int) -> int:
    """A line break at the end of a line is the line's end: the newline adds nothing."""
    k = pos
    while k < len(text) and text[k] == " ":
        k += 1
    return k + 1 if k < len(text) and text[k] == "\n" else pos


# Every Trac inline token starts with one of these characters, or is a
# "scheme:" link or an e-mail address whose ":" or "@" is found first, or a
# changeset "r123" or a page name.  Trying the full rule set only at these
# positions is several times faster than letting it scan every character.
_TRAC_CANDIDATE = re.compile(r"['*/_~,^{`\\\[<!:@]|(?<![\w/])(?:r\d|[A-Z][a-z]+[A-Z])")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-_")
_EMAIL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.'+_-")


def inline_tokens(text: str) -> Iterator[re.Match[str]]:
    pos = 0
    search = _TRAC_CANDIDATE.search
    match = _TRAC_INLINE.match
    while True:
        c = search(text, pos)
        if c is None:
            return
        at = c.start()
        ch = text[at]
        if ch in ":@":
            chars = _SCHEME_CHARS if ch == ":" else _EMAIL_CHARS
            start = at
            while start > pos and text[start - 1] in chars:
                start -= 1
            if start > pos and text[start - 1] == "!":
                start -= 1
            m = match(text, start) if start < at else None
            if m is not None and m.end() <= at:
                m = None
        else:
            m = match(text, at)
        if m is None or m.end() == m.start():
            pos = at + 1
            continue
        yield m
        pos = m.end()


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def _split_macro_args(args: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for raw in re.split(r"(?<!\\),", args):
        part = raw.replace("\\,", ",").strip()
        key, eq, value = part.partition("=")
        if eq and re.fullmatch(r"\w+", key):
            named[key] = value
        else:
            positional.append(part)
    return positional, named


_STARTBLOCK = re.compile(r"\s*\{\{\{(?:\s*#!([\w+-][\w+/-]*)(.*))?\s*$")
_PROCESSOR = re.compile(r"(\s*)#!([\w+-][\w+/-]*)")
HEADING_LINE = re.compile(r"\s*(={1,6})\s(.*?)(?:\s#[\w:](?<!\d)[\w:.-]*)?\s*$")
LIST_LINE = re.compile(r"(\s*)(?:([-*\u2022])|([0-9]+|[a-zA-Z]|[ivxIVX]{1,5})\.)\s")
_DEF = re.compile(r"(\s+)((?:`[^`]*`|\{\{\{(?:\}{,2}[^}])*?\}\}\}|[^`{:]|:[^:])+)::(?:\s+|$)")
_CELL = re.compile(r"(`[^`]*`|\{\{\{.*?\}\}\}|!\|\|)|(=?(?:\|\|)+=?)")
_ROWSEP = re.compile(r"\s*\|-+\s*(?:[-\w]+=(?:\".*?\"|'.*?'|[-,\w]+)\s*)*$")
# Processors that are not a programming language: what they produce depends on
# Trac (or on a plugin), so their block is kept as written.
_NON_CODE_PROCESSORS: Final = _words(
    "html htmlcomment comment td th tr table rst textile markdown span wiki"
)


@dataclass(slots=True)
class _ListFrame:
    depth: int
    node: ListBlock


@dataclass(slots=True)
class _QuoteFrame:
    depth: int
    node: Quote


class _TracReader:
    """Trac's line-oriented block rules (trac.wiki.formatter.Formatter.format), as a tree."""

    def __init__(self, warnings: list[str], old_url: str | None, flowing: bool = False) -> None:
        self.warnings = warnings
        self.old_url = old_url
        self.flowing = flowing
        self.inline = _TracInline(warnings, old_url)

    def parse(self, text: str) -> list[Block]:
        return self.parse_lines(text.split("\n"))

    def parse_lines(self, lines: list[str]) -> list[Block]:
        self.root: list[Block] = []
        self.lists: list[_ListFrame] = []
        self.quotes: list[_QuoteFrame] = []
        self.deflist: DefList | None = None
        self.para: list[str] | None = None
        self.table: Table | None = None
        self.continue_row = False
        citation: list[str] = []
        i = 0
        n = len(lines)
        while i < n:
            line = lines[i]
            stripped = line.strip()
            if stripped.startswith(">"):
                if not citation:
                    self.flush_para()
                    depth = line.find(">")
                    while self.lists and depth < self.lists[-1].depth:
                        self.lists.pop()
                citation.append(line[line.find(">") + 1 :])
                i += 1
                continue
            if citation:
                self.flush_citation(citation)
                citation = []
            start = _STARTBLOCK.match(line) if "}}}" not in line else None
            if start:
                i = self.code_block(lines, i, start)
                continue
            if line[:4] == "----":
                self.close_all()
                self.blocks().append(RULE)
                rest = line.lstrip("-").strip()
                if rest:
                    self.para = [rest]
                i += 1
                continue
            if not stripped:
                self.close_all()
                i += 1
                continue
            self.line(line.replace("\t", " " * 8))
            i += 1
        if citation:
            self.flush_citation(citation)
        self.close_all()
        return self.root

    # -- containers

    def blocks(self) -> list[Block]:
        if self.lists:
            return self.lists[-1].node.items[-1]
        if self.quotes:
            return self.quotes[-1].node.blocks
        if self.deflist is not None:
            return self.deflist.items[-1][1]
        return self.root

    def flush_para(self) -> None:
        if self.para:
            # Trac keeps a paragraph's lines (a ticket is shown with its newlines), but
            # the lines of a list item or a definition flow into one.
            flowing = (
                self.flowing or bool(self.lists) or (self.deflist is not None and not self.quotes)
            )
            inlines = self.inline.parse("\n".join(self.para))  # markup ends with its line
            self.blocks().append(Para(_flow(inlines) if flowing else inlines))
        self.para = None

    def close_table(self) -> None:
        self.table = None
        self.continue_row = False

    def close_lists(self, depth: int = -1) -> None:
        if self.lists and depth < self.lists[-1].depth:
            self.flush_para()
            while self.lists and depth < self.lists[-1].depth:
                self.lists.pop()

    def close_quotes(self) -> None:
        if self.quotes:
            self.flush_para()
            self.quotes.clear()

    def close_deflist(self) -> None:
        if self.deflist is not None:
            self.flush_para()
            self.deflist = None

    def close_all(self) -> None:
        self.flush_para()
        self.close_table()
        self.close_lists()
        self.close_quotes()
        self.close_deflist()

    def add_line(self, text: str) -> None:
        if self.para is None:
            self.para = []
        self.para.append(text.strip())

    # -- blocks

    def flush_citation(self, buf: list[str]) -> None:
        if all(not s or s[0] in "> " for s in buf):
            buf = [s[1:] if s.startswith(" ") else s for s in buf]
        inner = _TracReader(self.warnings, self.old_url, self.flowing).parse_lines(buf)
        self.flush_para()
        self.close_table()
        self.blocks().append(Quote(inner))

    def code_block(self, lines: list[str], i: int, start: re.Match[str]) -> int:
        """Consume a {{{ }}} block (nested ones included) starting at line i."""
        first = lines[i]
        prefix = first[: first.find("{{{")]
        processor = start.group(1)
        j = i + 1
        depth = 1
        body: list[str] = []
        while j < len(lines):
            line = lines[j]
            if "}}}" not in line and _STARTBLOCK.match(line):
                depth += 1
            elif line.strip() == "}}}":
                depth -= 1
                if depth == 0:
                    break
            body.append(line)
            j += 1
        raw = "\n".join(lines[i : j + 1])
        self.flush_para()
        if self.table is not None:
            self.close_table()
        if depth:  # reached the end of the text without the closing }}}
            self.blocks().append(literal(raw, "unclosed {{{ block", self.warnings))
            return j
        if processor is None and body:
            pm = _PROCESSOR.match(body[0])
            if pm:
                processor = pm.group(2)
                body = body[1:]
        if prefix and all(not s or s.startswith(prefix) for s in body):
            body = [s[len(prefix) :] for s in body]
        text = "\n".join(body)
        self.blocks().extend(self.processed(processor, text, raw))
        return j + 1

    def processed(self, processor: str | None, text: str, raw: str) -> list[Block]:
        if processor is None or processor == "default":
            return [CodeBlock(text, None)]
        name = processor.lower()
        if name in ("div", "rtl"):
            # Trac formats a division's text apart, without the ticket's kept newlines.
            return _TracReader(self.warnings, self.old_url, flowing=True).parse(text)
        if name in ("comment", "htmlcomment"):
            # Shown to editors only: kept as written, hidden where the target can hide it.
            what = f"{{{{{{#!{name}}}}}}} block"
            self.warnings.append(f"markup-literal: {what} kept as a literal block")
            return [Comment(raw)]
        if name == "html":
            return read_html(text)
        if name in _NON_CODE_PROCESSORS or processor[0].isupper():
            return [literal(raw, f"{{{{{{#!{processor}}}}}}} block", self.warnings)]
        lang = name
        if "/" in lang:  # a MIME type such as text/x-python
            sub = lang.rsplit("/", 1)[1]
            lang = sub[2:] if sub.startswith("x-") else sub
            if lang == "plain":
                return [CodeBlock(text, None)]
        return [CodeBlock(text, lang)]

    def line(self, line: str) -> None:
        m = HEADING_LINE.match(line)
        if m:
            self.close_all()
            depth = len(m.group(1))
            htext = m.group(2).strip()
            if htext.endswith(m.group(1)):
                htext = htext[:-depth].rstrip()
            self.blocks().append(Heading(depth, self.inline.parse(htext)))
            return
        m = LIST_LINE.match(line)
        if m and not line.lstrip().startswith("**"):
            self.list_item(line, m)
            return
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith("||") or (self.table is not None and _ROWSEP.match(line)):
            if indent and not self.lists and self.deflist is None:
                self.quote_depth(indent)  # an indented table is quoted, as any indented text
            self.table_line(line)
            return
        if indent:
            m = _DEF.match(line)
            if m:
                self.definition(m, line)
                return
            self.indented(line, indent)
            return
        self.close_table()
        self.close_lists()
        self.close_quotes()
        self.close_deflist()
        self.add_line(line)

    def list_item(self, line: str, m: re.Match[str]) -> None:
        self.close_table()
        self.flush_para()
        depth = len(m.group(1))
        ordered = m.group(2) is None
        start = 1
        if ordered:  # as Trac numbers it: by the first character of the marker
            token = m.group(3)
            if token.isdigit():
                start = int(token)
            elif len(token) == 1 and token not in "iI":
                start = ord(token.lower()) - ord("a") + 1
        if not self.lists or depth > self.lists[-1].depth:
            self.open_list(depth, ordered, start)
        else:
            while self.lists and depth < self.lists[-1].depth:
                self.lists.pop()
            if not self.lists:
                self.open_list(depth, ordered, start)
            elif self.lists[-1].node.ordered != ordered:
                self.lists.pop()
                self.open_list(depth, ordered, start)
            else:
                self.lists[-1].depth = depth
                self.lists[-1].node.items.append([])
        self.add_line(line[m.end() :])

    def open_list(self, depth: int, ordered: bool, start: int) -> None:
        if not self.lists:
            self.quotes.clear()
        node = ListBlock(ordered, [[]], start if ordered else 1)
        self.blocks().append(node)
        self.lists.append(_ListFrame(depth, node))

    def definition(self, m: re.Match[str], line: str) -> None:
        self.flush_para()
        self.close_table()
        self.close_lists()
        self.close_quotes()
        if self.deflist is None:
            node = DefList([])
            self.blocks().append(node)
            self.deflist = node
        self.deflist.items.append((self.inline.parse(m.group(2).strip()), []))
        rest = line[m.end() :]
        if rest.strip():
            self.add_line(rest)

    def indented(self, line: str, indent: int) -> None:
        if self.lists:
            top = self.lists[-1]
            if indent < top.depth:
                if any(indent > f.depth for f in self.lists):
                    # Back to an outer item: the text continues that item.
                    self.close_lists(indent)
                    self.add_line(line)
                    return
            elif indent <= top.depth + (3 if top.node.ordered else 2):
                self.add_line(line)
                return
            self.close_lists()
        if self.deflist is not None and not self.quotes:
            self.add_line(line)
            return
        self.close_table()
        self.quote_depth(indent)
        self.add_line(line)

    def quote_depth(self, indent: int) -> None:
        """Quotes opened or closed to the indentation of the line about to be read."""
        if not self.quotes or indent > self.quotes[-1].depth:
            self.flush_para()
            self.close_table()  # a table does not go on into a deeper quote
            node = Quote([])
            self.blocks().append(node)
            self.quotes.append(_QuoteFrame(indent, node))
        elif indent < self.quotes[-1].depth:
            self.flush_para()
            while self.quotes and indent < self.quotes[-1].depth:
                self.quotes.pop()
            if not self.quotes:
                node = Quote([])
                self.blocks().append(node)
                self.quotes.append(_QuoteFrame(indent, node))
            else:
                self.quotes[-1].depth = indent

    def table_line(self, line: str) -> None:
        self.flush_para()
        self.close_lists()
        self.close_deflist()
        if not line.startswith(" "):
            self.close_quotes()
        if self.table is None:
            self.table = Table([])
            self.blocks().append(self.table)
        if _ROWSEP.match(line):
            self.continue_row = False
            return
        row: list[Cell]
        if self.continue_row and self.table.rows:
            row = self.table.rows[-1]
        else:
            row = []
            self.table.rows.append(row)
        self.continue_row = False
        seps = [m for m in _CELL.finditer(line) if m.group(2)]
        for k, sep in enumerate(seps):
            token = sep.group(2)
            after = line[sep.end() :]
            if k == len(seps) - 1 and not after.strip(" \\"):
                # The row's closing separator; a trailing "\\" continues the row.
                self.continue_row = after.strip().endswith("\\")
                break
            end = seps[k + 1].start() if k + 1 < len(seps) else len(line)
            content = line[sep.end() : end].replace("!||", "||")
            colspan = max(token.count("|") // 2, 1)
            row.append(Cell(self.inline.parse(content.strip()), token.endswith("="), colspan))
        if not row:
            self.table.rows.pop()


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    return _TracReader(warnings, context.old_url).parse(text)
