"""Convert ticket text between the markups of old and new trackers.

Why a converter of our own: no maintained library reads Trac WikiFormatting,
and pandoc (which reads Textile, Jira and Markdown) costs a process start per
text, far beyond the plan's budget of tens of microseconds per comment.  So
every syntax is read into one small document tree and written out again:
readers for Trac, Redmine Textile, Jira and plain text are written here,
Markdown is read with markdown-it-py (a CommonMark-compliant parser), and the
writers target Redmine's Textile (RedCloth3 with hard breaks), CommonMark/GFM,
Jira wiki markup and plain text.

Invariants the tests hold us to: code blocks come out byte-exact, text is
never dropped (what cannot be converted is kept as a literal block or inline
code and counted as a ``markup-literal`` warning), output is deterministic,
and same syntax in and out returns the text untouched.  Line endings of the
input are kept (CRLF in, CRLF out).

References (``#123``, ``ticket:123``) and mentions are *not* rewritten here;
:mod:`migrator.mapping.references` does that, before or after conversion.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

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
        doc = _READERS[source](text, warnings)
        out = _WRITERS[target](warnings).document(doc)
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


# --------------------------------------------------------------------------- document tree
# Inline nodes: ``str`` is text (may contain "\n" soft breaks).


@dataclass(slots=True)
class Styled:
    kind: str  # strong | em | u | del | sup | sub
    children: list[Inline]


@dataclass(slots=True)
class Code:
    text: str


@dataclass(slots=True)
class Link:
    url: str
    children: list[Inline]  # empty: the URL is its own label


@dataclass(slots=True)
class Image:
    src: str
    alt: str = ""


class Break:
    """A hard line break inside a paragraph."""

    __slots__ = ()


BREAK: Final = Break()

Inline = str | Styled | Code | Link | Image | Break


@dataclass(slots=True)
class Para:
    inlines: list[Inline]


@dataclass(slots=True)
class Heading:
    level: int
    inlines: list[Inline]


@dataclass(slots=True)
class CodeBlock:
    text: str
    lang: str | None = None


@dataclass(slots=True)
class ListBlock:
    ordered: bool
    items: list[list[Block]]
    start: int = 1


@dataclass(slots=True)
class Quote:
    blocks: list[Block]


@dataclass(slots=True)
class Cell:
    inlines: list[Inline]
    header: bool = False
    colspan: int = 1


@dataclass(slots=True)
class Table:
    rows: list[list[Cell]]


@dataclass(slots=True)
class DefList:
    items: list[tuple[list[Inline], list[Block]]]


class Rule:
    __slots__ = ()


RULE: Final = Rule()

Block = Para | Heading | CodeBlock | ListBlock | Quote | Table | DefList | Rule


def _literal(text: str, what: str, warnings: list[str]) -> CodeBlock:
    warnings.append(f"markup-literal: {what} kept as a literal block")
    return CodeBlock(text, None)


def _add_text(children: list[Inline], s: str) -> None:
    if not s:
        return
    if children and isinstance(children[-1], str):
        children[-1] += s
    else:
        children.append(s)


# --------------------------------------------------------------------------- Trac reader


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_SCHEME = r"[a-zA-Z][-a-zA-Z0-9+._]*"
_QUOTED = r"'[^']+'|\"[^\"]+\""
_SHREF_TARGET = r"[\w/?!#@](?<!_)(?:(?:\|(?=[^|\s])|[^|<>\s])*[\w/=](?<!_))?"
# Schemes that are URLs everywhere; every other scheme is a Trac resource
# (wiki:, ticket:, source:...) that only the old Trac understands.
URL_SCHEMES: Final = _words(
    "http https ftp ftps sftp ssh svn git file mailto news irc nntp telnet xmpp"
)
TRAC_SCHEMES: Final = _words(
    "wiki ticket comment changeset log report milestone source browser repos export "
    "attachment raw-attachment query search timeline roadmap about htdocs chrome "
    "diff trac"
)
_LINK_SCHEMES = "|".join(sorted(URL_SCHEMES | TRAC_SCHEMES, key=lambda s: (-len(s), s)))

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
    |(?P<linebreak>!?\\\\)
    |(?P<shrefbr>!?<(?P<sbs>{_LINK_SCHEMES}):(?P<sbt>[^>\s]+)>)
    |(?P<shref>!?(?<![\w.+-])(?P<sns>{_LINK_SCHEMES}):(?P<stgt>{_SCHEME}:(?:{_QUOTED})|{_QUOTED}|{_SHREF_TARGET}))
    |(?P<lhref>!?\[(?:(?P<rel>[/?\#][^\s\]]*|\.\.?(?:[/?\#][^\s\]]*)?)
        |(?P<lns>{_SCHEME}):(?P<ltgt>{_SCHEME}:(?:{_QUOTED})|{_QUOTED}|[^\]\s\u200b]*))
        (?:[\s\u200b]+(?P<label>{_QUOTED}|[^\]]*))?\])
    |(?P<anchor>!?\[=\#[\w:](?<!\d)[\w:.-]*?(?:\s+(?P<alabel>[^\]]*))?\])
    |(?P<macro>!?\[\[(?P<mbody>(?:[^]]|\][^]])+)\]\])
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

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

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
        for m in _trac_tokens(text):
            if m.start() > pos:
                _add_text(cur(), text[pos : m.start()])
            pos = m.end()
            kind = m.lastgroup or ""
            whole = m.group()
            if kind == "refbang":
                _add_text(cur(), "!")  # kept: Redmine reads "!#12" as an escaped link too
                continue
            if kind == "camelbang":
                continue  # "!WikiWord": Trac shows the word without the "!"
            if whole.startswith("!"):
                _add_text(cur(), whole[1:])
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
            elif kind == "shrefbr":
                self._link(cur(), m.group("sbs"), m.group("sbt"), None, whole)
            elif kind == "shref":
                self._link(cur(), m.group("sns"), m.group("stgt"), None, whole)
            elif kind == "lhref":
                self._lhref(cur(), m, whole)
            elif kind == "anchor":
                _add_text(cur(), (m.group("alabel") or "").strip())
            elif kind == "macro":
                self._macro(cur(), m.group("mbody"), whole)
        if pos < len(text):
            _add_text(cur(), text[pos:])
        while stack:
            close(stack[0][0])
        return root

    def _link(
        self, out: list[Inline], scheme: str, target: str, label: str | None, whole: str
    ) -> None:
        if scheme.lower() in URL_SCHEMES:
            url = f"{scheme}:{_unquote(target)}"
            out.append(Link(url, [label] if label and label != url else []))
        else:
            # A Trac resource: kept as written, so the reference pass can find it.
            _add_text(out, whole)

    def _lhref(self, out: list[Inline], m: re.Match[str], whole: str) -> None:
        label = _unquote((m.group("label") or "").strip()) or None
        rel = m.group("rel")
        if rel is not None:
            if rel.startswith("#") and label:
                _add_text(out, label)  # in-page anchor: the target page has other anchors
            else:
                _add_text(out, whole)
            return
        self._link(out, m.group("lns"), m.group("ltgt"), label, whole)

    def _macro(self, out: list[Inline], body: str, whole: str) -> None:
        call = _MACRO_CALL.match(body.strip())
        if call is None or (
            call.group("args") is None
            and call.group("name").rstrip("?").lower() not in _TRAC_MACROS
        ):
            # [[target|label]]: a WikiCreole link.
            target, _, label = body.partition("|")
            target = target.strip()
            scheme, colon, _ = target.partition(":")
            if colon and scheme.lower() in URL_SCHEMES:
                out.append(Link(target, [label.strip()] if label.strip() else []))
            else:
                _add_text(out, whole)
            return
        name = call.group("name")
        args = call.group("args")
        low = name.lower()
        if low == "br":
            out.append(BREAK)
            return
        if low == "image" and args:
            positional = _split_macro_args(args)[0]
            src = positional[0] if positional else ""
            scheme = src.partition(":")[0].lower()
            if src and (scheme in ("http", "https") or ":" not in src):
                out.append(Image(src))
                return
        if low == "span" and args is not None:
            positional, _ = _split_macro_args(args)
            _add_text(out, ", ".join(p for p in positional if p))
            return
        self.warnings.append(f"markup-literal: macro [[{name}]] kept as written")
        out.append(Code(whole))


# Every Trac inline token starts with one of these characters, or is a
# "scheme:" link whose colon we find first.  Trying the full rule set only at
# these positions is several times faster than letting it scan every character.
_TRAC_CANDIDATE = re.compile(r"['*/_~,^{`\\\[<!:]")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-_")


def _trac_tokens(text: str) -> Iterator[re.Match[str]]:
    pos = 0
    search = _TRAC_CANDIDATE.search
    match = _TRAC_INLINE.match
    while True:
        c = search(text, pos)
        if c is None:
            return
        at = c.start()
        if text[at] == ":":
            start = at
            while start > pos and text[start - 1] in _SCHEME_CHARS:
                start -= 1
            if start > pos and text[start - 1] == "!":
                start -= 1
            m = match(text, start) if start < at else None
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


_T_STARTBLOCK = re.compile(r"\s*\{\{\{(?:\s*#!([\w+-][\w+/-]*)(.*))?\s*$")
_T_PROCESSOR = re.compile(r"(\s*)#!([\w+-][\w+/-]*)")
_T_HEADING = re.compile(r"\s*(={1,6})\s(.*?)(?:\s#[\w:](?<!\d)[\w:.-]*)?\s*$")
_T_LIST = re.compile(r"(\s*)(?:([-*\u2022])|([0-9]+|[a-zA-Z]|[ivxIVX]{1,5})\.)\s")
_T_DEF = re.compile(r"(\s+)((?:`[^`]*`|\{\{\{(?:\}{,2}[^}])*?\}\}\}|[^`{:]|:[^:])+)::(?:\s+|$)")
_T_CELL = re.compile(r"(`[^`]*`|\{\{\{.*?\}\}\}|!\|\|)|(=?(?:\|\|)+=?)")
_T_ROWSEP = re.compile(r"\s*\|-+\s*(?:[-\w]+=(?:\".*?\"|'.*?'|[-,\w]+)\s*)*$")
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

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.inline = _TracInline(warnings)

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
            start = _T_STARTBLOCK.match(line) if "}}}" not in line else None
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
            self.blocks().append(Para(self.inline.parse("\n".join(self.para))))
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
        inner = _TracReader(self.warnings).parse_lines(buf)
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
            if "}}}" not in line and _T_STARTBLOCK.match(line):
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
            self.blocks().append(_literal(raw, "unclosed {{{ block", self.warnings))
            return j
        if processor is None and body:
            pm = _T_PROCESSOR.match(body[0])
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
            return _TracReader(self.warnings).parse(text)
        if name == "comment":
            return [_literal(raw, "{{{#!comment}}} block", self.warnings)]
        if name in _NON_CODE_PROCESSORS or processor[0].isupper():
            return [_literal(raw, f"{{{{{{#!{processor}}}}}}} block", self.warnings)]
        lang = name
        if "/" in lang:  # a MIME type such as text/x-python
            sub = lang.rsplit("/", 1)[1]
            lang = sub[2:] if sub.startswith("x-") else sub
            if lang == "plain":
                return [CodeBlock(text, None)]
        return [CodeBlock(text, lang)]

    def line(self, line: str) -> None:
        m = _T_HEADING.match(line)
        if m:
            self.close_all()
            depth = len(m.group(1))
            htext = m.group(2).strip()
            if htext.endswith(m.group(1)):
                htext = htext[:-depth].rstrip()
            self.blocks().append(Heading(depth, self.inline.parse(htext)))
            return
        m = _T_LIST.match(line)
        if m and not line.lstrip().startswith("**"):
            self.list_item(line, m)
            return
        stripped = line.lstrip()
        if stripped.startswith("||") or (self.table is not None and _T_ROWSEP.match(line)):
            self.table_line(line)
            return
        indent = len(line) - len(stripped)
        if indent:
            m = _T_DEF.match(line)
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
        if ordered:
            token = m.group(3)
            if token.isdigit():
                start = int(token)
            elif len(token) == 1 and token not in "iIvVxX":
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
        if not self.quotes or indent > self.quotes[-1].depth:
            self.flush_para()
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
        self.add_line(line)

    def table_line(self, line: str) -> None:
        self.flush_para()
        self.close_lists()
        self.close_deflist()
        if not line.startswith(" "):
            self.close_quotes()
        if self.table is None:
            self.table = Table([])
            self.blocks().append(self.table)
        if _T_ROWSEP.match(line):
            self.continue_row = False
            return
        row: list[Cell]
        if self.continue_row and self.table.rows:
            row = self.table.rows[-1]
        else:
            row = []
            self.table.rows.append(row)
        self.continue_row = False
        seps = [m for m in _T_CELL.finditer(line) if m.group(2)]
        for k, sep in enumerate(seps):
            token = sep.group(2)
            after = line[sep.end() :]
            if k == len(seps) - 1 and not after.strip(" \\"):
                # The row's closing separator; a trailing "\\" continues the row.
                self.continue_row = after.strip().endswith("\\")
                break
            end = seps[k + 1].start() if k + 1 < len(seps) else len(line)
            content = line[sep.end() : end]
            colspan = max(token.count("|") // 2, 1)
            row.append(Cell(self.inline.parse(content.strip()), token.endswith("="), colspan))
        if not row:
            self.table.rows.pop()


def _read_trac(text: str, warnings: list[str]) -> list[Block]:
    return _TracReader(warnings).parse(text)


# --------------------------------------------------------------------------- plain reader

_INDENTED = re.compile(r"(?: {4}|\t)")


def _read_plain(text: str, warnings: list[str]) -> list[Block]:
    """Paragraphs as written; runs of indented lines (logs, tracebacks) stay preformatted."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip("\n")):
        if not chunk.strip():
            continue
        lines = chunk.split("\n")
        para: list[str] = []
        pre: list[str] = []
        for line in lines:
            if _INDENTED.match(line):
                if para:
                    blocks.append(Para(["\n".join(para)]))
                    para = []
                pre.append(line)
            else:
                if pre:
                    blocks.append(CodeBlock("\n".join(pre)))
                    pre = []
                para.append(line.strip())
        if para:
            blocks.append(Para(["\n".join(para)]))
        if pre:
            blocks.append(CodeBlock("\n".join(pre)))
    return blocks


# --------------------------------------------------------------------------- Markdown reader


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough; imported on first use."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _read_markdown(text: str, warnings: list[str]) -> list[Block]:
    tokens = _markdown_parser().parse(text)
    return _MarkdownTokens(tokens, warnings).blocks(0, len(tokens))


_HTML_STYLE_TAGS: Final = {
    "b": "strong",
    "strong": "strong",
    "i": "em",
    "em": "em",
    "u": "u",
    "ins": "u",
    "del": "del",
    "s": "del",
    "strike": "del",
    "sup": "sup",
    "sub": "sub",
}
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>$")


class _MarkdownTokens:
    """markdown-it-py's token stream to our tree."""

    def __init__(self, tokens: Sequence[Token], warnings: list[str]) -> None:
        self.tokens = tokens
        self.warnings = warnings

    def close_of(self, i: int) -> int:
        """Index of the token closing the one opened at i."""
        level = 0
        for j in range(i, len(self.tokens)):
            level += self.tokens[j].nesting
            if level == 0:
                return j
        return len(self.tokens) - 1

    def blocks(self, i: int, end: int) -> list[Block]:
        out: list[Block] = []
        while i < end:
            t = self.tokens[i]
            typ = t.type
            if typ == "heading_open":
                out.append(Heading(int(t.tag[1]), self.inline(self.tokens[i + 1])))
                i += 3
            elif typ == "paragraph_open":
                out.append(Para(self.inline(self.tokens[i + 1])))
                i += 3
            elif typ == "fence":
                # Only a language name is kept; renderers show nothing of the info string.
                info = t.info.split()
                lang = info[0] if info and re.fullmatch(r"[\w+#.-]+", info[0]) else None
                out.append(CodeBlock(_chomp(t.content), lang))
                i += 1
            elif typ == "code_block":
                out.append(CodeBlock(_chomp(t.content)))
                i += 1
            elif typ in ("bullet_list_open", "ordered_list_open"):
                j = self.close_of(i)
                items: list[list[Block]] = []
                k = i + 1
                while k < j:
                    c = self.close_of(k)
                    items.append(self.blocks(k + 1, c))
                    k = c + 1
                start = int(str(t.attrs.get("start", 1)))
                out.append(ListBlock(typ == "ordered_list_open", items, start))
                i = j + 1
            elif typ == "blockquote_open":
                j = self.close_of(i)
                out.append(Quote(self.blocks(i + 1, j)))
                i = j + 1
            elif typ == "table_open":
                j = self.close_of(i)
                out.append(self.table(i, j))
                i = j + 1
            elif typ == "hr":
                out.append(RULE)
                i += 1
            elif typ == "html_block":
                out.append(_literal(_chomp(t.content), "HTML block", self.warnings))
                i += 1
            else:
                i += 1
        return out

    def table(self, i: int, j: int) -> Table:
        rows: list[list[Cell]] = []
        for k in range(i, j):
            t = self.tokens[k]
            if t.type == "tr_open":
                rows.append([])
            elif t.type in ("th_open", "td_open"):
                rows[-1].append(Cell(self.inline(self.tokens[k + 1]), t.type == "th_open"))
        return Table(rows)

    def inline(self, token: Token) -> list[Inline]:
        root: list[Inline] = []
        stack: list[tuple[str, list[Inline], str]] = []  # (closing type, children, url)

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        for t in token.children or []:
            typ = t.type
            if typ == "text":
                _add_text(cur(), t.content)
            elif typ == "softbreak":
                _add_text(cur(), "\n")
            elif typ == "hardbreak":
                cur().append(BREAK)
            elif typ == "code_inline":
                cur().append(Code(t.content))
            elif typ in ("strong_open", "em_open", "s_open"):
                stack.append((typ.replace("_open", "_close"), [], ""))
            elif typ == "link_open":
                prefix = "auto:" if t.markup in ("autolink", "linkify") else ""
                stack.append(("link_close", [], prefix + str(t.attrs.get("href", ""))))
            elif typ in ("strong_close", "em_close", "s_close", "link_close") and stack:
                _, children, url = stack.pop()
                node: Inline
                if typ == "link_close":
                    bare = url.startswith("auto:")
                    url = url.removeprefix("auto:")
                    node = Link(url, [] if bare or children == [url] else children)
                else:
                    node = Styled({"strong": "strong", "em": "em", "s": "del"}[typ[:-6]], children)
                cur().append(node)
            elif typ == "image":
                cur().append(Image(str(t.attrs.get("src", "")), t.content))
            elif typ == "html_inline":
                self.html_inline(t.content, stack, cur)
        while stack:
            _, children, _url = stack.pop()
            cur().extend(children)
        return root

    def html_inline(
        self,
        html: str,
        stack: list[tuple[str, list[Inline], str]],
        cur: Callable[[], list[Inline]],
    ) -> None:
        m = _HTML_TAG.match(html)
        name = m.group(2).lower() if m else ""
        if m and name == "br":
            cur().append(BREAK)
            return
        if m and name in _HTML_STYLE_TAGS:
            closing = f"html:{name}"
            if not m.group(1):
                stack.append((closing, [], ""))
                return
            if stack and stack[-1][0] == closing:
                _, children, _url = stack.pop()
                cur().append(Styled(_HTML_STYLE_TAGS[name], children))
                return
        if (m and name in ("code", "kbd", "tt")) or not html.startswith("<!--"):
            self.warnings.append(f"markup-literal: inline HTML {html} kept as text")
        _add_text(cur(), html)


def _chomp(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s


# --------------------------------------------------------------------------- Textile / Jira readers


# Textile block and phrase attributes: (class #id), {css: style}, [lang], alignment.
_X_ATTR = r"(?:\([\w\s#-]*\)|\{[\w\s:;#%.,()-]*\}|\[[a-zA-Z-]+\])"
_X_HEADING = re.compile(rf"h([1-6])(?:{_X_ATTR}|[<>=]+)*\.\s+(.*)$")
_X_BQ = re.compile(rf"bq{_X_ATTR}*\.\s+(.*)$")
_X_P = re.compile(rf"p(?:{_X_ATTR}|[<>=]+)*\.\s+(.*)$")
_X_LIST = re.compile(rf"([*#-]+){_X_ATTR}*\s+(.*)$")
_X_RULE = re.compile(r"(?:( ?[-*_] ?){3,}|-{4,})$")
_X_BLOCK_START = re.compile(r"(?:h[1-6]|bq|p|bc|pre)[.(]|\||<pre|\{(?:code|noformat|quote)|>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES: Final = {
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "quot": '"',
    "apos": "'",
    "nbsp": "\xa0",
}


def _unentity(s: str) -> str:
    if "&" not in s:
        return s

    def one(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#x"):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return _NAMED_ENTITIES.get(body, m.group())

    return _ENTITY.sub(one, s)


class _WikiReader:
    """A reader for Redmine Textile and Jira markup: the subset tickets use."""

    def __init__(self, dialect: str, warnings: list[str]) -> None:
        self.jira = dialect == "jira"
        self.warnings = warnings
        self.inline_re = _JIRA_INLINE if self.jira else _TEXTILE_INLINE

    def parse(self, text: str) -> list[Block]:
        lines = text.split("\n")
        out: list[Block] = []
        i = 0
        n = len(lines)
        para: list[str] = []

        def flush() -> None:
            if para:
                out.append(Para(self.inline("\n".join(para))))
                para.clear()

        while i < n:
            line = lines[i]
            s = line.strip()
            if not s:
                flush()
                i += 1
                continue
            block_end = self.code_block(lines, i)
            if block_end is not None:
                flush()
                end, block = block_end
                out.append(block)
                i = end
                continue
            m = _X_HEADING.match(s)
            if m:
                flush()
                out.append(Heading(int(m.group(1)), self.inline(m.group(2))))
                i += 1
                continue
            if _X_RULE.match(s):
                flush()
                out.append(RULE)
                i += 1
                continue
            if s.startswith("|"):
                flush()
                rows: list[list[Cell]] = []
                while i < n and lines[i].strip().startswith("|"):
                    rows.append(self.row(lines[i].strip()))
                    i += 1
                out.append(Table(rows))
                continue
            m = _X_LIST.match(s)
            if m and (m.group(1)[0] != "-" or self.jira):
                flush()
                i = self.list_block(lines, i, out)
                continue
            if s.startswith(">") and not self.jira:
                flush()
                quoted: list[str] = []
                while i < n and lines[i].lstrip().startswith(">"):
                    q = lines[i].lstrip()[1:]
                    quoted.append(q[1:] if q.startswith(" ") else q)
                    i += 1
                out.append(Quote(self.parse("\n".join(quoted))))
                continue
            m = _X_BQ.match(s)
            if m:
                flush()
                body = [m.group(1)]
                i += 1
                while i < n and lines[i].strip():
                    body.append(lines[i].strip())
                    i += 1
                out.append(Quote([Para(self.inline("\n".join(body)))]))
                continue
            if s.startswith("{quote}") and self.jira:
                flush()
                j = i
                inner = [s[len("{quote}") :]]
                j += 1
                while j < n and "{quote}" not in lines[j]:
                    inner.append(lines[j])
                    j += 1
                if j < n:
                    inner.append(lines[j].split("{quote}", 1)[0])
                out.append(Quote(self.parse("\n".join(inner))))
                i = j + 1
                continue
            m = _X_P.match(s)
            para.append(m.group(1) if m and not para else s)
            i += 1
        flush()
        return out

    def code_block(self, lines: list[str], i: int) -> tuple[int, Block] | None:
        """A code block starting at line i: (index of the next line to read, block)."""
        s = lines[i].strip()
        if self.jira:
            m = re.match(r"\{(code|noformat)(?::([^}|]*)[^}]*)?\}(.*)$", s)
            if not m:
                return None
            tag = m.group(1)
            lang = (m.group(2) or "").strip() or None
            return self.fenced(
                lines, i, m.group(3), "{" + tag + "}", lang if tag == "code" else None
            )
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

    def fenced(
        self, lines: list[str], i: int, first: str, close: str, lang: str | None
    ) -> tuple[int, Block]:
        """The body from ``first`` (the rest of line i) up to ``close``.

        Text after ``close`` on its line is left in ``lines`` to be read as the
        next block, so nothing on that line is lost.
        """
        if close in first:
            body, _, after = first.partition(close)
            return _resume(lines, i, after), CodeBlock(body, lang)
        parts = [first] if first else []
        j = i + 1
        while j < len(lines) and close not in lines[j]:
            parts.append(lines[j])
            j += 1
        if j >= len(lines):
            what = f"unclosed {close.replace('/', '')} block"
            return j, _literal("\n".join(lines[i:]), what, self.warnings)
        last, _, after = lines[j].partition(close)
        if last:
            parts.append(last)
        return _resume(lines, j, after), CodeBlock("\n".join(parts), lang)

    def list_block(self, lines: list[str], i: int, out: list[Block]) -> int:
        """Consume the list starting at line i; return the index of the line after it."""
        stack: list[ListBlock] = []
        n = len(lines)
        while i < n:
            s = lines[i].strip()
            m = _X_LIST.match(s)
            if not s or not m or (m.group(1)[0] == "-" and not self.jira):
                if s and stack and not m and not _X_BLOCK_START.match(s):  # continues the item
                    item = stack[-1].items[-1]
                    last = item[-1] if item else None
                    if isinstance(last, Para):
                        last.inlines.extend(["\n", *self.inline(s)])
                        _merge_text(last.inlines)
                        i += 1
                        continue
                break
            marks = m.group(1)
            depth = len(marks)
            ordered = marks[-1] == "#"
            while len(stack) > depth:
                stack.pop()
            while len(stack) < depth:
                node = ListBlock(ordered, [])
                if stack:
                    if not stack[-1].items:
                        stack[-1].items.append([])
                    stack[-1].items[-1].append(node)
                else:
                    out.append(node)
                stack.append(node)
            if stack[-1].ordered != ordered and len(stack) == 1:
                node = ListBlock(ordered, [])
                out.append(node)
                stack[-1] = node
            stack[-1].items.append([Para(self.inline(m.group(2)))])
            i += 1
        return i

    def row(self, line: str) -> list[Cell]:
        cells: list[Cell] = []
        jira = self.jira
        parts = _split_row(line, jira)
        # parts: ["", sep, text, sep, text, ..., sep, ""]
        k = 1
        while k + 1 < len(parts):
            sep, content = parts[k], parts[k + 1]
            k += 2
            if k >= len(parts) and not content.strip():
                break
            header = jira and sep == "||"
            colspan = 1
            if not jira:
                m = re.match(r"((?:_|\\\d+|/\d+|[<>=^~-]|\([^)]*\)|\{[^}]*\})+)\.\s?", content)
                if m:
                    attrs = m.group(1)
                    header = "_" in attrs
                    span = re.search(r"\\(\d+)", attrs)
                    colspan = int(span.group(1)) if span else 1
                    content = content[m.end() :]
            cells.append(Cell(self.inline(content.strip()), header, colspan))
        return cells

    def inline(self, text: str) -> list[Inline]:
        root: list[Inline] = []
        stack: list[tuple[str, list[Inline]]] = []  # (marker, children), innermost last

        def cur() -> list[Inline]:
            return stack[-1][1] if stack else root

        pos = 0
        for m in _tokens(
            text, _JIRA_CANDIDATE if self.jira else _TEXTILE_CANDIDATE, self.inline_re
        ):
            kind = m.lastgroup or ""
            if kind == "open" and m.start() and not text[m.start() - 1].isspace():
                mark = m.group("om")
                if any(mk == mark for mk, _ in stack):
                    kind = "reclose"  # "a*b*": the second '*' closes
            if kind == "close" and not any(mk == m.group("cm") for mk, _ in stack):
                continue
            if kind == "open" and not _has_closer(text, m.end(), m.group("om")):
                continue
            if m.start() > pos:
                _add_text(cur(), _unentity(text[pos : m.start()]))
            pos = m.end()
            if kind == "escape":
                _add_text(cur(), m.group()[1:])
            elif kind == "notextile":
                _add_text(cur(), _unentity(m.group("nt")))
            elif kind == "code":
                code = m.group("c")
                cur().append(Code(re.sub(r"\\([^\w\s])", r"\1", code) if self.jira else code))
            elif kind == "htmlcode":
                cur().append(Code(_unentity(m.group("hc"))))
            elif kind == "link":
                url = m.group("url").strip()
                label = m.group("label")
                cur().append(Link(url, self.inline(label) if label and label != url else []))
            elif kind == "image":
                cur().append(Image(m.group("src")))
            elif kind == "color":
                pass  # colours do not survive; the text does
            elif kind == "macro":
                self.warnings.append(f"markup-literal: macro {m.group()} kept as written")
                cur().append(Code(m.group()))
            elif kind == "br":
                cur().append(BREAK)
            elif kind == "open":
                stack.append((m.group("om"), []))
            elif kind in ("close", "reclose"):
                mark = m.group("cm") if kind == "close" else m.group("om")
                while stack:
                    mk, children = stack.pop()
                    if mk == mark:
                        style = _WIKI_STYLES[mk]
                        if style == "span":
                            cur().extend(children)
                        else:
                            cur().append(Styled(style, children))
                        break
                    _add_text(cur(), mk)
                    cur().extend(children)
        if pos < len(text):
            _add_text(cur(), _unentity(text[pos:]))
        while stack:
            mk, children = stack.pop()
            _add_text(cur(), mk)
            cur().extend(children)
        _merge_text(root)
        return root


# Every Textile / Jira inline token starts with one of these characters.
_TEXTILE_CANDIDATE = re.compile(r"[<@\"!{*_+^~%?-]")
_JIRA_CANDIDATE = re.compile(r"[\\{\[!*_+^~?-]")


def _tokens(
    text: str, candidate: re.Pattern[str], rules: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """``rules`` matches tried only where ``candidate`` finds a possible start: much faster."""
    pos = 0
    while True:
        c = candidate.search(text, pos)
        if c is None:
            return
        m = rules.match(text, c.start())
        if m is None or m.end() == m.start():
            pos = c.start() + 1
            continue
        yield m
        pos = m.end()


_WIKI_STYLES: Final = {
    "*": "strong",
    "**": "strong",
    "_": "em",
    "__": "em",
    "+": "u",
    "-": "del",
    "^": "sup",
    "~": "sub",
    "??": "em",
    "%": "span",
}
_ATTRS = _X_ATTR + "*"
_TEXTILE_INLINE = re.compile(
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
_JIRA_INLINE = re.compile(
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


_JIRA_CELL_TOKEN = re.compile(r"\\.|\{\{.*?\}\}|\[[^\]]*\]|(\|\|?)|[^|\\{\[]+|.")
_TEXTILE_CELL_TOKEN = re.compile(
    r"<(code|notextile)>.*?</\1>|(?<![\w@])@[^@]+@(?![\w@])|\"[^\"]+\":\S+|(\|)|[^|<@\"]+|."
)


def _split_row(line: str, jira: bool) -> list[str]:
    """A table row split at its cell separators, not at a '|' inside code or a link."""
    parts = [""]
    for m in (_JIRA_CELL_TOKEN if jira else _TEXTILE_CELL_TOKEN).finditer(line):
        sep = m.group(1) if jira else m.group(2)
        if sep:
            parts += [sep, ""]
        else:
            parts[-1] += m.group()
    return parts


def _has_closer(text: str, start: int, mark: str) -> bool:
    """Whether a closing ``mark`` follows on the same paragraph (a phrase can form)."""
    k = text.find(mark, start)
    while k != -1:
        before = text[k - 1] if k else " "
        after = text[k + len(mark)] if k + len(mark) < len(text) else " "
        if not before.isspace() and not after.isalnum():
            return True
        k = text.find(mark, k + 1)
    return False


def _merge_text(nodes: list[Inline]) -> None:
    i = 1
    while i < len(nodes):
        a, b = nodes[i - 1], nodes[i]
        if isinstance(a, str) and isinstance(b, str):
            nodes[i - 1] = a + b
            del nodes[i]
        else:
            i += 1


def _resume(lines: list[str], j: int, after: str) -> int:
    """Where reading goes on after a block that ended inside line j."""
    if after.strip():
        lines[j] = after
        return j
    return j + 1


def _read_textile(text: str, warnings: list[str]) -> list[Block]:
    return _WikiReader("textile", warnings).parse(text)


def _read_jira(text: str, warnings: list[str]) -> list[Block]:
    return _WikiReader("jira", warnings).parse(text)


_READERS: Final[dict[str, Callable[[str, list[str]], list[Block]]]] = {
    "trac": _read_trac,
    "plain": _read_plain,
    "markdown": _read_markdown,
    "textile": _read_textile,
    "jira": _read_jira,
}


# --------------------------------------------------------------------------- writers


def _is_punct(c: str) -> bool:
    return bool(c) and unicodedata.category(c)[0] in "PS"


def _first_char(node: Inline) -> str:
    if isinstance(node, str):
        return node[:1]
    if isinstance(node, Break):
        return "\n"
    return "."  # markers of other nodes are punctuation


class _Writer:
    """Shared walk over the tree; subclasses say how each node is spelled."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.in_table = False
        self.in_label = False
        self.dropped = 0

    def document(self, blocks: list[Block]) -> str:
        out = self.blocks(blocks)
        if self.dropped:
            self.warnings.append(
                f"markup-approximate: {self.dropped} style mark(s) inside words dropped "
                "(the target cannot express them)"
            )
        return out

    def blocks(self, blocks: Sequence[Block]) -> str:
        return "\n\n".join(s for s in (self.block(b) for b in blocks) if s)

    def block(self, b: Block) -> str:
        if isinstance(b, Para):
            return self.para(b.inlines)
        if isinstance(b, Heading):
            return self.heading(b.level, b.inlines)
        if isinstance(b, CodeBlock):
            return self.code_block(b.text, b.lang)
        if isinstance(b, ListBlock):
            return self.list_block(b, 1)
        if isinstance(b, Quote):
            return self.quote(b.blocks)
        if isinstance(b, Table):
            return self.table(b)
        if isinstance(b, DefList):
            return self.blocks(
                [blk for term, body in b.items for blk in (Para([Styled("strong", term)]), *body)]
            )
        return self.rule()

    # -- blocks, overridden
    def para(self, inlines: list[Inline]) -> str:
        raise NotImplementedError

    def heading(self, level: int, inlines: list[Inline]) -> str:
        raise NotImplementedError

    def code_block(self, text: str, lang: str | None) -> str:
        raise NotImplementedError

    def list_block(self, node: ListBlock, depth: int) -> str:
        raise NotImplementedError

    def quote(self, blocks: list[Block]) -> str:
        raise NotImplementedError

    def table(self, node: Table) -> str:
        raise NotImplementedError

    def rule(self) -> str:
        raise NotImplementedError

    # -- inlines
    def inlines(self, nodes: Sequence[Inline], before: str = "", after: str = "") -> str:
        parts: list[str] = []
        prev = before
        last = len(nodes) - 1
        for i, node in enumerate(nodes):
            nxt = _first_char(nodes[i + 1]) if i < last else after
            s = self.inline(node, prev, nxt)
            if s:
                parts.append(s)
                prev = s[-1]
        return "".join(parts)

    def inline(self, node: Inline, prev: str, nxt: str) -> str:
        if isinstance(node, str):
            return self.text(node, prev, nxt)
        if isinstance(node, Styled):
            return self.styled(node, prev, nxt)
        if isinstance(node, Code):
            return self.code(node.text, prev, nxt) if node.text else ""
        if isinstance(node, Link):
            return self.link(node, prev, nxt)
        if isinstance(node, Image):
            return self.image(node)
        return self.line_break()

    def styled(self, node: Styled, prev: str, nxt: str) -> str:
        mark = self.mark_char(node.kind)
        inner = self.inlines(node.children, mark, mark)
        stripped = inner.strip()
        if not stripped:
            return inner
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        before = lead[-1] if lead else prev
        after = trail[0] if trail else nxt
        return lead + self.wrap(node.kind, stripped, before, after) + trail

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        raise NotImplementedError

    def mark_char(self, kind: str) -> str:
        """The character next to a styled node's content, as its content's context."""
        return "*"

    def text(self, s: str, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def code(self, s: str, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def link(self, node: Link, prev: str, nxt: str) -> str:
        raise NotImplementedError

    def image(self, node: Image) -> str:
        raise NotImplementedError

    def line_break(self) -> str:
        return "\n"


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0]]
    out.extend(rest + line if line else "" for line in lines[1:])
    return "\n".join(out)


def _grid(node: Table) -> list[list[Cell]]:
    """Rows padded to the same width; a spanning cell becomes itself plus empty cells."""
    rows: list[list[Cell]] = []
    for row in node.rows:
        cells: list[Cell] = []
        for cell in row:
            cells.append(cell)
            cells.extend(Cell([], cell.header) for _ in range(cell.colspan - 1))
        rows.append(cells)
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend(Cell([]) for _ in range(width - len(r)))
    return rows


# ----------------------------------------------------------------- Markdown writer

_MD_SPECIAL = re.compile(r"[\\`*_~\[\]<&|]")
_MD_LINE_START = re.compile(
    r"^(?:(#{1,6})(?=[ \t]|$)|(>)|([-+*])(?=[ \t]|$)|(\d{1,9})([.)])(?=[ \t]|$)"
    r"|(=+|-+)[ \t]*$|(`{3,}|~{3,}))"
)
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _flanking(prev: str, nxt: str) -> tuple[bool, bool]:
    """CommonMark's left- and right-flanking tests for a delimiter between prev and nxt."""
    prev_ws = not prev or prev.isspace()
    next_ws = not nxt or nxt.isspace()
    left = not next_ws and (not _is_punct(nxt) or prev_ws or _is_punct(prev))
    right = not prev_ws and (not _is_punct(prev) or next_ws or _is_punct(nxt))
    return left, right


class _MarkdownWriter(_Writer):
    """CommonMark with GFM tables and strikethrough, as GitHub, GitLab and Redmine read it."""

    def para(self, inlines: list[Inline]) -> str:
        return self.guard_lines(self.inlines(inlines))

    @staticmethod
    def guard_lines(text: str) -> str:
        """Escape line starts that would open a block (heading, list, quote, fence)."""
        out = []
        for line in text.split("\n"):
            line = line.strip(" \t")
            m = _MD_LINE_START.match(line)
            if m:
                if m.group(4):
                    cut = len(m.group(4))
                    line = line[:cut] + "\\" + line[cut:]
                else:
                    line = "\\" + line
            out.append(line)
        return "\n".join(out)

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.inlines(inlines).replace("\\\n", " ").replace("\n", " ").strip()
        if text.endswith("#"):
            text = text[:-1] + "\\#"
        return f"{'#' * min(level, 6)} {text}" if text else ""

    def code_block(self, text: str, lang: str | None) -> str:
        longest = max((len(m) for m in re.findall(r"^[ \t]*(`{3,})", text, re.M)), default=0)
        fence = "`" * max(3, longest + 1)
        info = lang if lang and "`" not in lang else ""
        return f"{fence}{info}\n{text}\n{fence}" if text else f"{fence}{info}\n{fence}"

    def list_block(self, node: ListBlock, depth: int) -> str:
        items = []
        number = node.start
        for item in node.items:
            marker = f"{number}. " if node.ordered else "- "
            number += 1
            parts: list[str] = []
            for k, b in enumerate(item):
                body = self.list_block(b, depth + 1) if isinstance(b, ListBlock) else self.block(b)
                if not body:
                    continue
                if parts:
                    tight = isinstance(b, ListBlock) and isinstance(item[k - 1], Para)
                    parts.append("\n" if tight else "\n\n")
                parts.append(body)
            body = "".join(parts)
            items.append(_indent(body, marker, " " * len(marker)) if body else marker.rstrip())
        return "\n".join(items)

    def quote(self, blocks: list[Block]) -> str:
        inner = self.blocks(blocks)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))

    def table(self, node: Table) -> str:
        rows = _grid(node)
        if not rows or not rows[0]:
            return ""
        if any(c.colspan > 1 for r in node.rows for c in r):
            self.warnings.append(
                "markup-approximate: table cells spanning columns split into empty cells"
            )
        self.in_table = True
        try:
            rendered = [[self.cell(c) for c in r] for r in rows]
        finally:
            self.in_table = False
        if all(c.header for c in rows[0]):
            head, body = rendered[0], rendered[1:]
        else:
            head, body = ["" for _ in rows[0]], rendered
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines.extend("| " + " | ".join(r) + " |" for r in body)
        return "\n".join(lines)

    def cell(self, cell: Cell) -> str:
        return self.inlines(cell.inlines).replace("\\\n", "<br>").replace("\n", " ").strip()

    def rule(self) -> str:
        return "---"

    def line_break(self) -> str:
        return "<br>" if self.in_table else "\\\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        if kind in ("strong", "em", "del"):
            mark = {"strong": "**", "em": "*", "del": "~~"}[kind]
            opens = _flanking(before, inner[0])[0]
            closes = _flanking(inner[-1], after)[1]
            if opens and closes:
                return f"{mark}{inner}{mark}"
        tag = {"strong": "strong", "em": "em", "del": "del", "u": "ins"}.get(kind, kind)
        return f"<{tag}>{inner}</{tag}>"

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _MD_SPECIAL.search(s) is None:
            return s

        def esc(m: re.Match[str]) -> str:
            c = m.group()
            i = m.start()
            before = s[i - 1] if i else prev
            after = s[i + 1] if i + 1 < len(s) else nxt
            if c == "\\":
                return "\\\\" if (after in _ASCII_PUNCT or after in ("\n", "")) else c
            if c in "*_~":
                left, right = _flanking(before, after)
                if c == "_" and before.isalnum() and after.isalnum():
                    return c
                return "\\" + c if (left or right) else c
            if c == "<":
                return "\\<" if (after.isalpha() or after in "/!?") else c
            if c == "&":
                return "\\&" if re.match(r"&#?\w+;", s[i:]) else c
            if c == "|":
                return "\\|" if self.in_table else c
            if c == "]":
                # Without "](", "][" or "]:" no link or link definition can form.
                return "\\]" if (after in "([:" and after) or self.in_label else c
            if c == "[":
                return "\\[" if self.in_label or after == "^" else c
            return "\\" + c

        return _MD_SPECIAL.sub(esc, s)

    def code(self, s: str, prev: str, nxt: str) -> str:
        longest = max((len(r) for r in re.findall(r"`+", s)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if (s[0] == "`" or s[-1] == "`" or (s[0] == " " and s[-1] == " ")) else ""
        body = s.replace("|", "\\|") if self.in_table else s
        return f"{fence}{pad}{body}{pad}{fence}"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        url = node.url
        if not node.children:
            if re.fullmatch(r"[A-Za-z][\w+.-]*:[^\s<>()*_~`\\]*[\w/]", url):
                return url
            return f"<{url}>" if not re.search(r"[\s<>]", url) else url.replace(" ", "%20")
        self.in_label = True
        try:
            label = self.inlines(node.children).replace("\n", " ")
        finally:
            self.in_label = False
        target = url if not re.search(r"[\s()<>]", url) else f"<{url.replace('>', '%3E')}>"
        return f"[{label}]({target})"

    def image(self, node: Image) -> str:
        src = node.src if not re.search(r"[\s()<>]", node.src) else f"<{node.src}>"
        return f"![{self.text(node.alt, '', '')}]({src})"


# ----------------------------------------------------------------- Textile writer (Redmine)

# RedCloth3's phrase modifiers (QTAGS) and where they can open and close.
_QTAG_CHARS = "*_-+^~%?"
_TX_SPECIAL = re.compile(r"[*_\-+^~%?@&<\"!\[{|]")
_TX_LINE_START = re.compile(
    r"^(?:([*#]+)(?=\s)|(\|)|(>)|(?:h[1-6]|bq|p|fn\d+|bc|pre|notextile|table)\S*?(\.)\.?(?::\S+)?\s"
    r"|( ?[-*_] ?){3,}$|(==))"
)
_TX_STYLE: Final = {
    "strong": "*",
    "em": "_",
    "u": "+",
    "del": "-",
    "sup": "^",
    "sub": "~",
}
_TX_OFFTAG = re.compile(r"<(/?)(pre|code|kbd|notextile|redpre)\b", re.IGNORECASE)


def _entity(c: str) -> str:
    return f"&#{ord(c)};"


def _tx_opens(before: str) -> bool:
    return not before or before.isspace() or before in ">([" or before in _QTAG_CHARS


def _tx_closes(after: str) -> bool:
    return not after or after.isspace() or after in "<)" or _is_punct(after)


class _WikiListWriter(_Writer):
    """Lists spelled with repeated ``*``/``#`` marks, as Textile and Jira write them.

    Their list items hold one paragraph; any other block of an item (a code
    block, a table) is placed after the list, which is then continued.
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
                    lines.append(nested[0])
                    if len(nested) > 1:
                        segments.append("\n".join(lines))
                        segments.extend(nested[1:])
                        lines = []
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

    def guard_item(self, text: str) -> str:
        first, _, rest = text.partition("\n")
        return first + ("\n" + self.guard_lines(rest) if rest else "")

    def guard_lines(self, text: str) -> str:
        raise NotImplementedError


class _TextileWriter(_WikiListWriter):
    """Textile as Redmine renders it: RedCloth3 with hard line breaks and escaped HTML."""

    def mark_char(self, kind: str) -> str:
        return _TX_STYLE.get(kind, "*")

    def para(self, inlines: list[Inline]) -> str:
        return self.guard_lines(self.inlines(inlines))

    def guard_lines(self, text: str) -> str:
        out = []
        for line in text.split("\n"):
            line = line.strip(" \t")
            m = _TX_LINE_START.match(line)
            if m:
                if m.group(4):
                    k = m.start(4)
                    line = line[:k] + "&#46;" + line[k + 1 :]
                elif m.group(2) == "|" or m.group(3) == ">" or m.group(1) or m.group(5):
                    line = _entity(line[0]) + line[1:]
                elif m.group(6):
                    line = "&#61;" + line[1:]
            out.append(line)
        return "\n".join(out)

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.inlines(inlines).replace("\n", " ").strip()
        return f"h{min(level, 6)}. {text}" if text else ""

    def code_block(self, text: str, lang: str | None) -> str:
        if _TX_OFFTAG.search(text):
            self.warnings.append(
                "markup-approximate: a code block contains <pre>/<code> tags, which Redmine's "
                "Textile cannot show verbatim; their '<' was written as an entity"
            )
            text = _TX_OFFTAG.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", text)
        if lang and re.fullmatch(r"[\w+#.-]+", lang):
            return f'<pre><code class="{lang}">\n{text}\n</code></pre>'
        return f"<pre>\n{text}\n</pre>"

    def quote(self, blocks: list[Block]) -> str:
        inner = self.blocks(blocks)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))

    def table(self, node: Table) -> str:
        self.in_table = True
        try:
            lines = []
            for row in node.rows:
                cells = []
                for c in row:
                    attrs = ("_" if c.header else "") + (f"\\{c.colspan}" if c.colspan > 1 else "")
                    body = self.inlines(c.inlines).replace("\n", " ").strip()
                    if attrs:
                        cells.append(f"{attrs}. {body}")
                    elif re.match(r"(?:[_<>=^~-]|\\\d|/\d|\([^)]*\)|\{[^}]*\})+\.\s", body):
                        cells.append(_entity(body[0]) + body[1:])
                    else:
                        cells.append(body)
                lines.append("|" + "|".join(cells) + "|")
            return "\n".join(lines)
        finally:
            self.in_table = False

    def rule(self) -> str:
        return "---"

    def line_break(self) -> str:
        return " " if self.in_table else "\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        mark = _TX_STYLE.get(kind)
        if mark and _tx_opens(before) and _tx_closes(after):
            return f"{mark}{inner}{mark}"
        if kind in ("sup", "sub"):
            m = _entity("^" if kind == "sup" else "~")
            return f"{m}{inner}{m}"
        self.dropped += 1
        return inner

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _TX_SPECIAL.search(s) is None:
            return s
        risky = self.risky(s, prev, nxt)

        def esc(m: re.Match[str]) -> str:
            c = m.group()
            i = m.start()
            before = s[i - 1] if i else prev
            after = s[i + 1] if i + 1 < len(s) else nxt
            if c in _QTAG_CHARS:
                if c in risky and (
                    (_tx_opens(before) and after and not after.isspace())
                    or (before and not before.isspace() and _tx_closes(after))
                ):
                    return _entity(c)
                return c
            if c == "&":
                return "&amp;" if re.match(r"&#?[a-zA-Z0-9]+;", s[i:]) else c
            if c == "<":
                # RedCloth3 drops HTML comments and treats these tags as verbatim blocks.
                return "&lt;" if _TX_OFFTAG.match(s, i) or s.startswith("<!--", i) else c
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

        return _TX_SPECIAL.sub(esc, s)

    @staticmethod
    def risky(s: str, prev: str, nxt: str) -> set[str]:
        """Characters of ``s`` that could pair up into markup in Redmine."""
        found: set[str] = set()
        text = (prev or " ") + s + (nxt or " ")
        for c in set(s) & set(_QTAG_CHARS):
            opened = False
            for i, ch in enumerate(text):
                if ch != c or i == 0 or i == len(text) - 1:
                    continue
                before, after = text[i - 1], text[i + 1]
                if opened and not before.isspace() and _tx_closes(after):
                    found.add(c)
                    break
                if _tx_opens(before) and not after.isspace():
                    opened = True
        if "@" in s and re.search(r"(?:^|\W)@.+?@(?=\W|$)", text):
            found.add("@")
        if '"' in s and '":' in s:
            found.add('"')
        if "!" in s and re.search(r"![<>=]?[^\s(!]+(?:\([^)]*\))?!", s):
            found.add("!")
        return found

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
        if _TX_OFFTAG.search(s):
            self.warnings.append("markup-approximate: inline code containing <code>/<pre> tags")
            s = _TX_OFFTAG.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", s)
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
        out = f'"{label}":{url}'
        if nxt and not nxt.isspace() and nxt not in "<.,;:!?)":
            out += " "  # Redmine ends the URL only at a space (trailing punctuation aside)
        return out

    def image(self, node: Image) -> str:
        if re.search(r"[\s!]", node.src):
            return node.src
        return f"!{node.src}!"


# ----------------------------------------------------------------- Jira writer

_JIRA_SPECIAL = re.compile(r"[*_\-+^~?{}\[\]|!\\]")
_JIRA_LINE_START = re.compile(r"^(?:([*#-]+)(?=\s)|(\|)|(?:h[1-6]|bq)(\.)\s|(-{4,})\s*$)")
_JIRA_STYLE: Final = {"strong": "*", "em": "_", "u": "+", "del": "-", "sup": "^", "sub": "~"}


class _JiraWriter(_WikiListWriter):
    """Jira wiki markup (Jira Server/Data Center renderer, Jira Cloud's legacy editor)."""

    def para(self, inlines: list[Inline]) -> str:
        return self.guard_lines(self.inlines(inlines))

    def guard_lines(self, text: str) -> str:
        out = []
        for line in text.split("\n"):
            line = line.strip(" \t")
            if _JIRA_LINE_START.match(line):
                line = "\\" + line
            out.append(line)
        return "\n".join(out)

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.inlines(inlines).replace("\n", " ").strip()
        return f"h{min(level, 6)}. {text}" if text else ""

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
        rows = _grid(node)
        self.in_table = True
        try:
            lines = []
            for row in rows:
                parts = []
                for c in row:
                    body = self.inlines(c.inlines).replace("\n", " ").strip() or " "
                    parts.append(("||" if c.header else "|") + body)
                lines.append("".join(parts) + ("||" if row and row[-1].header else "|"))
            return "\n".join(lines)
        finally:
            self.in_table = False

    def rule(self) -> str:
        return "----"

    def line_break(self) -> str:
        return " \\\\ " if self.in_table else "\\\\\n"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        mark = _JIRA_STYLE.get(kind)
        if mark is None:
            return inner
        if (not before or not before.isalnum()) and (not after or not after.isalnum()):
            return f"{mark}{inner}{mark}"
        return f"{{{mark}}}{inner}{{{mark}}}"

    def text(self, s: str, prev: str, nxt: str) -> str:
        if _JIRA_SPECIAL.search(s) is None:
            return s
        risky = _TextileWriter.risky(s, prev, nxt)

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

        return _JIRA_SPECIAL.sub(esc, s)

    def code(self, s: str, prev: str, nxt: str) -> str:
        return "{{" + self.text(s, "", "") + "}}"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        if not node.children:
            return f"[{node.url}]"
        label = self.inlines(node.children).replace("\n", " ").replace("|", "\\|")
        return f"[{label}|{node.url}]"

    def image(self, node: Image) -> str:
        return f"!{node.src}!"


# ----------------------------------------------------------------- plain writer


class _PlainWriter(_Writer):
    """Readable text for trackers without markup (Roundup messages, e-mail)."""

    def para(self, inlines: list[Inline]) -> str:
        return self.inlines(inlines)

    def heading(self, level: int, inlines: list[Inline]) -> str:
        return self.inlines(inlines).replace("\n", " ").strip()

    def code_block(self, text: str, lang: str | None) -> str:
        return text

    def list_block(self, node: ListBlock, depth: int) -> str:
        items = []
        number = node.start
        for item in node.items:
            marker = f"{number}. " if node.ordered else "- "
            number += 1
            body = "\n".join(self.block(b) for b in item)
            items.append(_indent(body, marker, " " * len(marker)))
        return "\n".join(items)

    def quote(self, blocks: list[Block]) -> str:
        inner = self.blocks(blocks)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))

    def table(self, node: Table) -> str:
        return "\n".join(
            "| " + " | ".join(self.inlines(c.inlines).replace("\n", " ") for c in row) + " |"
            for row in _grid(node)
        )

    def rule(self) -> str:
        return "----"

    def wrap(self, kind: str, inner: str, before: str, after: str) -> str:
        return inner

    def text(self, s: str, prev: str, nxt: str) -> str:
        return s

    def code(self, s: str, prev: str, nxt: str) -> str:
        return s

    def link(self, node: Link, prev: str, nxt: str) -> str:
        label = self.inlines(node.children)
        return f"{label} ({node.url})" if label and label != node.url else node.url

    def image(self, node: Image) -> str:
        return f"[image: {node.src}]"


# ----------------------------------------------------------------- Trac writer
# Trac is a source in practice; writing it exists so every pair is defined.


class _TracWriter(_Writer):
    """Trac WikiFormatting; Trac is a source in practice, this makes every pair defined."""

    def para(self, inlines: list[Inline]) -> str:
        out = []
        for line in self.inlines(inlines).split("\n"):
            line = line.strip(" \t")
            if (
                _T_LIST.match(line)
                or _T_HEADING.match(line)
                or line.startswith(("||", "----", ">", "{{{", "}}}"))
            ):
                line = "^^" + line  # an empty superscript: Trac's own escape for line starts
            out.append(line)
        return "\n".join(out)

    def heading(self, level: int, inlines: list[Inline]) -> str:
        text = self.inlines(inlines).replace("\n", " ").strip()
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
        number = node.start
        pad = " " * (2 * depth - 1)
        for item in node.items:
            marker = f"{number}. " if node.ordered else "* "
            number += 1
            parts = []
            for b in item:
                if isinstance(b, ListBlock):
                    parts.append(self.list_block(b, depth + 1))
                else:
                    parts.append(_indent(self.block(b), "", pad + " " * len(marker)))
            body = "\n".join(parts)
            items.append(pad + marker + body.lstrip(" "))
        return "\n".join(items)

    def quote(self, blocks: list[Block]) -> str:
        inner = self.blocks(blocks)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))

    def table(self, node: Table) -> str:
        self.in_table = True
        try:
            lines = []
            for row in node.rows:
                cells = []
                for c in row:
                    body = self.inlines(c.inlines).replace("\n", " ").strip()
                    pipes = "||" * c.colspan
                    cells.append(f"{pipes}= {body} =" if c.header else f"{pipes} {body} ")
                lines.append("".join(cells) + "||")
            return "\n".join(lines)
        finally:
            self.in_table = False

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
        for m in _trac_tokens(s):
            kind = m.lastgroup or ""
            url = (
                kind in ("shref", "shrefbr") and (m["sns"] or m["sbs"] or "").lower() in URL_SCHEMES
            )
            if url or kind in ("refbang", "camelbang") or m.group().startswith("!"):
                continue
            out.append(s[pos : m.start()] + "!")
            pos = m.start()
        out.append(s[pos:])
        return "".join(out)

    def code(self, s: str, prev: str, nxt: str) -> str:
        return f"{{{{{{{s}}}}}}}" if "}}}" not in s else f"`{s}`"

    def link(self, node: Link, prev: str, nxt: str) -> str:
        label = self.inlines(node.children).replace("\n", " ").replace("]", "")
        return f"[{node.url} {label}]" if label else node.url

    def image(self, node: Image) -> str:
        return f"[[Image({node.src})]]"


_WRITERS: Final[dict[str, Callable[[list[str]], _Writer]]] = {
    "markdown": _MarkdownWriter,
    "textile": _TextileWriter,
    "jira": _JiraWriter,
    "plain": _PlainWriter,
    "trac": _TracWriter,
}
