"""Rewrite references between tickets, and defuse @mentions, in ticket text.

A migrated ticket that still says "see #123" points at whatever the *new*
tracker numbers 123, so every reference to a source ticket is rewritten to the
new tracker's reference once the id map knows it.  What cannot be rewritten
(a ticket not in the map, a changeset, a wiki page, any other link into the old
tracker, which will go away) is left as written and reported, one report per
distinct reference, so the plan shows what will dangle.

Code is never touched: a reference inside a code block or code span is part
of a log or a command, not a link.

Mentions are defused because the new tracker e-mails whoever is mentioned
when the migrated text is created: a migration must notify nobody.  An
unmapped ``@login`` becomes ``＠login`` (U+FF20, the full-width commercial at).
We chose it over a backquoted ``@login`` because it reads the same in every
markup and in plain text, it survives the markup conversion unchanged, no
tracker reads it as a mention (GitHub, GitLab, Redmine and Jira all need the
ASCII ``@``), and it is visible and honest, unlike a zero-width character
hidden inside the name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "display_payload",
    "display_references",
    "neutralize_mentions",
    "reference_token",
    "render_references",
    "rendering_pattern",
    "rewrite_references",
]

Resolve = Callable[[str], str | None]

FULLWIDTH_AT: Final = "＠"


# --------------------------------------------------------------------------- code regions


def _trac_code(text: str) -> Iterator[tuple[int, int]]:
    """Spans of {{{ }}} blocks (nested ones included), {{{inline}}} and `inline` code."""
    block_start = re.compile(r"^[ \t]*\{\{\{(?:[ \t]*#!.*)?[ \t]*$", re.M)
    block_end = re.compile(r"^[ \t]*\}\}\}[ \t]*$", re.M)
    pos = 0
    blocks: list[tuple[int, int]] = []
    while True:
        m = block_start.search(text, pos)
        if m is None:
            break
        depth = 1
        k = m.end()
        end = len(text)
        while depth:
            s = block_start.search(text, k)
            e = block_end.search(text, k)
            if e is None:
                break
            if s is not None and s.start() < e.start():
                depth += 1
                k = s.end()
            else:
                depth -= 1
                k = e.end()
                if depth == 0:
                    end = e.end()
        blocks.append((m.start(), end))
        pos = end
    yield from _with_inline(text, blocks, re.compile(r"\{\{\{.*?\}\}\}|`[^`\n]*`"))


def _with_inline(
    text: str, blocks: list[tuple[int, int]], inline: re.Pattern[str]
) -> Iterator[tuple[int, int]]:
    pos = 0
    for start, end in [*blocks, (len(text), len(text))]:
        for m in inline.finditer(text, pos, start):
            yield m.start(), m.end()
        if start < end:
            yield start, end
        pos = end


_TEXTILE_CODE = re.compile(
    r"<(pre|code|notextile)\b[^>]*>.*?</\1>|(?<![\w@])@[^@\n]+@(?![\w@])", re.S | re.I
)
_JIRA_CODE = re.compile(r"\{(code|noformat)(?::[^}]*)?\}.*?\{\1\}|\{\{.*?\}\}", re.S)
_MD_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(?:.*?\n)?? {0,3}\1[`~]*[ \t]*$", re.M | re.S)
_MD_INDENTED = re.compile(r"(?:\A|\n[ \t]*\n)((?:(?: {4}|\t)[^\n]*(?:\n|\Z))+)")
_MD_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def _markdown_code(text: str) -> Iterator[tuple[int, int]]:
    blocks = [(m.start(), m.end()) for m in _MD_FENCE.finditer(text)]
    for m in _MD_INDENTED.finditer(text):
        if not any(s <= m.start(1) < e for s, e in blocks):
            blocks.append((m.start(1), m.end(1)))
    blocks.sort()
    # An unclosed fence runs to the end of the text.
    for m in re.finditer(r"^ {0,3}(`{3,}|~{3,})", text, re.M):
        if not any(s <= m.start() < e for s, e in blocks):
            blocks.append((m.start(), len(text)))
            blocks.sort()
            break
    yield from _with_inline(text, blocks, _MD_SPAN)


def code_spans(text: str, syntax: str) -> list[tuple[int, int]]:
    """(start, end) of every code block and code span of ``text``, in order."""
    if syntax == "trac":
        spans = list(_trac_code(text))
    elif syntax == "textile":
        spans = [(m.start(), m.end()) for m in _TEXTILE_CODE.finditer(text)]
    elif syntax == "markdown":
        spans = list(_markdown_code(text))
    elif syntax == "jira":
        spans = [(m.start(), m.end()) for m in _JIRA_CODE.finditer(text)]
    else:
        spans = []
    return spans


def _outside_code(text: str, syntax: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of ``text`` that are not code."""
    spans = code_spans(text, syntax)
    if not spans:
        return fn(text)
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(fn(text[pos:start]))
        out.append(text[start:end])
        pos = end
    out.append(fn(text[pos:]))
    return "".join(out)


# --------------------------------------------------------------------------- references

# Link wrappers around a URL, per markup: the whole link is replaced when the
# URL resolves, so a label survives as "label (#456)".
_URL_TAIL = r"[^\s<>\"'\]|)]*[^\s<>\"'\]|).,;:!?]"
_ANY_URL = r"(?<![\w.+-])[a-zA-Z][a-zA-Z0-9+.-]*://" + _URL_TAIL


@lru_cache(maxsize=64)
def _pattern(source_kind: str, syntax: str, old_urls: tuple[str, ...]) -> re.Pattern[str]:
    bases = sorted({u.rstrip("/") for u in old_urls if u.strip("/")}, key=len, reverse=True)
    parts: list[str] = []
    if bases:
        base = "(?:" + "|".join(re.escape(b) for b in bases) + ")"
        url = rf"(?P<url>{base}(?:/{_URL_TAIL})?)"
        url2 = url.replace("?P<url>", "?P<url2>")
        if syntax == "trac":
            parts.append(rf"(?P<ulink>\[{url}(?:\s+(?P<ulabel>[^\]]*))?\])")
            parts.append(rf"(?P<ulink2>\[\[{url2}(?:\|(?P<ulabel2>[^\]]*))?\]\])")
        elif syntax == "markdown":
            parts.append(rf"(?P<ulink>\[(?P<ulabel>[^\]\n]*)\]\(<?{url}>?\))")
            parts.append(rf"(?P<ulink2><{url2}>)")
        elif syntax == "textile":
            parts.append(rf"(?P<ulink>\"(?P<ulabel>[^\"\n]+)\":{url})")
        elif syntax == "jira":
            parts.append(rf"(?P<ulink>\[(?:(?P<ulabel>[^|\]\n]*)\|)?{url}\])")
        parts.append(rf"(?P<bare>(?<![\w.+-]){url.replace('?P<url>', '?P<url3>')})")
    # Any other URL is skipped whole, so "#12" inside it is not a reference.
    parts.append(rf"(?P<other>{_ANY_URL})")
    if source_kind == "trac":
        parts += [
            r"(?P<esc>!(?:\#\d+|r\d+|\[\d+|ticket:\d+|comment:\d+:ticket:\d+|changeset:\w+"
            r"|wiki:\S+|\[(?:ticket|wiki|changeset):[^\]]*\]))",
            r"(?P<tlabel>\[(?:ticket:(?P<tl_id>\d+)(?:\#comment:(?P<tl_c>\d+))?"
            r"|comment:(?P<tl_c2>\d+):ticket:(?P<tl_id2>\d+))(?:\s+(?P<tl_label>[^\]]*))?\])",
            r"(?P<tcreole>\[\[(?:ticket:(?P<tc_id>\d+)(?:\#comment:(?P<tc_c>\d+))?)"
            r"(?:\|(?P<tc_label>[^\]]*))?\]\])",
            r"(?P<tcomment>(?<![\w:])comment:(?P<c_num>\d+):ticket:(?P<c_id>\d+)\b)",
            r"(?P<tticket>(?<![\w:])ticket:(?P<t_id>\d+)(?:\#comment:(?P<t_c>\d+))?\b)",
            r"(?P<hash>(?<![\w&/#!:])\#(?P<h_id>\d+)\b(?!-\d))",
            r"(?P<cset>\[(?P<cs_label_id>\d+(?:/[^\]\s]*)?)\]|(?<![\w:])changeset:(?P<cs_id>\w+)"
            r"|(?<![\w!])r(?P<r_id>\d+)\b)",
            r"(?P<wiki>\[\[wiki:(?P<w1>[^|\]]+)(?:\|[^\]]*)?\]\]|\[wiki:(?P<w2>[^\s\]]+)[^\]]*\]"
            r"|(?<![\w:])wiki:(?P<w3>[\w/.-]*\w))",
        ]
    elif source_kind == "redmine":
        parts += [
            r"(?P<esc>!(?:\#\d+|r\d+|\[\[[^\]]*\]\]))",
            r"(?P<hash>(?<![\w&/#!])\#\#?(?P<h_id>\d+)(?:(?:-|\#note-)(?P<h_note>\d+))?\b)",
            r"(?P<cset>(?<![\w!:])r(?P<r_id>\d+)\b|(?<![\w:])commit:(?P<cs_id>\w+))",
            r"(?P<wiki>\[\[(?P<w1>[^|\]\n]+)(?:\|[^\]\n]*)?\]\])",
        ]
    elif source_kind == "roundup":
        parts += [r"(?P<issue>(?<![\w/])issue(?P<i_id>\d+)\b)"]
    else:
        parts += [r"(?P<hash>(?<![\w&/#!])\#(?P<h_id>\d+)\b)"]
    return re.compile("|".join(parts))


# Something that may start a reference, per source: most texts have none, and skipping
# them is most of the speed of planning (a superset of what the patterns above match).
# A URL can only be a reference when it is under one of the old tracker's URLs.
_TRIGGERS = {
    "trac": r"#\d|ticket:|comment:|changeset:|wiki:|\[\d|(?<![\w!])r\d",
    "redmine": r"#\d|(?<![\w!:])r\d|commit:|\[\[",
    "roundup": r"issue\d",
}


@lru_cache(maxsize=64)
def _trigger(source_kind: str, with_urls: bool) -> re.Pattern[str]:
    found = _TRIGGERS.get(source_kind, r"#\d")
    return re.compile(f"{found}|://" if with_urls else found)


def rewrite_references(
    text: str,
    syntax: str,
    resolve: Resolve,
    *,
    source_kind: str,
    old_urls: Sequence[str] = (),
) -> tuple[str, list[str]]:
    """Rewrite references to source tickets; report what cannot be rewritten.

    ``syntax`` is the markup of ``text`` (it says what is code); ``source_kind``
    is the old tracker ("trac", "redmine", "roundup", anything else: ``#123``
    only), which says what a reference looks like.  ``resolve`` takes a source
    ticket id and returns the new tracker's reference text ("#456",
    "PROJ-456"), or None when the ticket is not (yet) in the id map.

    Returns the text and "unresolved-KIND: detail" strings (kinds: ticket,
    changeset, wiki, url), each distinct reference once, in order of
    appearance.  Run it on the source text before :func:`markup.convert`: the
    replacements are plain text and survive any conversion.
    """
    if not text or not _trigger(source_kind, bool(old_urls)).search(text):
        return text, []
    pattern = _pattern(source_kind, syntax, tuple(old_urls))
    reports: dict[str, None] = {}

    def report(kind: str, detail: str) -> None:
        reports.setdefault(f"unresolved-{kind}: {detail}", None)

    def ticket(source_id: str, comment: str | None, label: str | None, original: str) -> str:
        new = resolve(source_id)
        if new is None:
            report("ticket", f"{original} (ticket {source_id} is not in the id map)")
            return original
        ref = f"{new} (comment {comment})" if comment else new
        label = (label or "").strip().strip("'\"")
        return f"{label} ({ref})" if label and label != original else ref

    def url_ref(url: str, label: str | None, original: str) -> str:
        path = url
        for base in sorted(old_urls, key=len, reverse=True):
            b = base.rstrip("/")
            if url.startswith(b):
                path = url[len(b) :]
                break
        m = re.fullmatch(r"/ticket/(\d+)/?(?:#comment:(\d+))?", path)
        if m is None:
            m = re.fullmatch(r"/issues?/?(\d+)/?(?:#note-(\d+))?", path)
        if m:
            return ticket(m.group(1), m.group(2), label, original)
        kind = "changeset" if re.match(r"/(changeset|revisions?)/", path) else "url"
        if path.startswith("/wiki/"):
            kind = "wiki"
        report(kind, f"{url} (a link into the old tracker)")
        return original

    def one(m: re.Match[str]) -> str:
        kind = m.lastgroup or ""
        whole = m.group()
        if kind in ("other", "esc"):
            return whole
        if kind in ("ulink", "ulink2", "bare"):
            url = m.group("url") or m.group("url2") or m.group("url3")
            label = None
            if kind == "ulink":
                label = m.group("ulabel")
            elif kind == "ulink2" and "ulabel2" in m.re.groupindex:
                label = m.group("ulabel2")
            return url_ref(url, label, whole)
        if kind == "tlabel":
            sid = m.group("tl_id") or m.group("tl_id2")
            comment = m.group("tl_c") or m.group("tl_c2")
            return ticket(sid, comment, m.group("tl_label"), whole)
        if kind == "tcreole":
            return ticket(m.group("tc_id"), m.group("tc_c"), m.group("tc_label"), whole)
        if kind == "tcomment":
            return ticket(m.group("c_id"), m.group("c_num"), None, whole)
        if kind == "tticket":
            return ticket(m.group("t_id"), m.group("t_c"), None, whole)
        if kind == "hash":
            note = m.group("h_note") if "h_note" in m.re.groupindex else None
            return ticket(m.group("h_id"), note, None, whole)
        if kind == "issue":
            return ticket(m.group("i_id"), None, None, whole)
        if kind == "cset":
            report("changeset", f"{whole} (changesets are not migrated)")
            return whole
        if kind == "wiki":
            page = next(g for g in (m.group("w1"), _group(m, "w2"), _group(m, "w3")) if g)
            report("wiki", f"{page} (wiki pages are not migrated with tickets)")
            return whole
        return whole

    out = _outside_code(text, syntax, lambda part: pattern.sub(one, part))
    return out, list(reports)


def _group(m: re.Match[str], name: str) -> str | None:
    return m.group(name) if name in m.re.groupindex else None


# --------------------------------------------------------------------------- mentions

# "@login" not preceded by a word character, "@" or "." (e-mail addresses,
# "x.@y"), nor by "/" (URLs such as https://host/@user).
_MENTION = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")


def neutralize_mentions(
    text: str, mapped: Mapping[str, str], *, syntax: str = "plain", live: bool = True
) -> str:
    """Turn ``@login`` into the mapped ``@newlogin``, or into ``＠login`` that notifies nobody.

    With ``live=False`` a mapped login is renamed but defused too (``＠newlogin``):
    Redmine 5 and GitHub notify whoever a new text mentions, so a migration into a
    tracker in use may not want even mapped people pinged once per old comment.
    Mentions inside code (per ``syntax``) and inside URLs are left alone, and
    so are e-mail addresses.  Logins are matched exactly, then ignoring case.
    """
    if "@" not in text:
        return text
    folded = {k.lower(): v for k, v in mapped.items()}

    def one(m: re.Match[str]) -> str:
        login = m.group(1)
        new = mapped.get(login) or folded.get(login.lower())
        if new:
            return f"@{new}" if live else f"{FULLWIDTH_AT}{new}"
        return f"{FULLWIDTH_AT}{login}"

    def part(chunk: str) -> str:
        if "@" not in chunk:
            return chunk
        urls = [(u.start(), u.end()) for u in re.finditer(_ANY_URL, chunk)]
        if not urls:
            return _MENTION.sub(one, chunk)
        out: list[str] = []
        pos = 0
        for start, end in urls:
            out.append(_MENTION.sub(one, chunk[pos:start]))
            out.append(chunk[start:end])
            pos = end
        out.append(_MENTION.sub(one, chunk[pos:]))
        return "".join(out)

    return _outside_code(text, syntax, part)


# --------------------------------------------------------------------------- load-time tokens

# A reference to another ticket is only final once the id map knows that
# ticket's new number, which is at load time.  The plan therefore stores a
# placeholder: a number between two private-use characters, which no markup
# converter touches and no ticket text contains, indexing the payload's
# ``refs`` list ({"origin", "text"}: the ticket referred to, and how the
# reference was written).  The loader renders it with the id map; what is not
# loaded yet is shown as written, made inert so that it does not link to the
# wrong ticket of the new tracker, and rewritten by a later pass.
REF_OPEN: Final = "\ue000"
REF_CLOSE: Final = "\ue001"
_TOKEN = re.compile(f"{REF_OPEN}(\\d+){REF_CLOSE}")

ResolveOrigin = Callable[[str], str | None]


def reference_token(index: int) -> str:
    return f"{REF_OPEN}{index}{REF_CLOSE}"


def has_references(text: str | None) -> bool:
    return text is not None and REF_OPEN in text


def referenced(text: str, refs: Sequence[Mapping[str, str]]) -> list[str]:
    """Origins of the tickets ``text`` refers to, in order, each once."""
    return list(dict.fromkeys(refs[int(m.group(1))]["origin"] for m in _TOKEN.finditer(text)))


def later_references(payload: Mapping[str, Any], planned: Collection[str]) -> tuple[int, int]:
    """(1 if the description, number of comments) naming a planned ticket loaded after this
    one, or this one: the texts the reference pass edits when a plan is loaded in order."""
    refs = payload.get("refs") or []
    if not refs:
        return 0, 0
    origin = payload["origin"]

    def later(text: str) -> bool:
        return any(o >= origin and o in planned for o in referenced(text, refs))

    return int(later(payload.get("description") or "")), sum(
        1 for c in payload["comments"] if later(c["body"])
    )


def render_references(
    text: str,
    refs: Sequence[Mapping[str, str]],
    resolve: ResolveOrigin,
    inert: Callable[[str], str],
) -> str:
    """The text with every placeholder replaced: the new reference, or the inert original."""
    if REF_OPEN not in text:
        return text

    def one(m: re.Match[str]) -> str:
        ref = refs[int(m.group(1))]
        new = resolve(ref["origin"])
        return new if new is not None else inert(ref["text"])

    return _TOKEN.sub(one, text)


def rendering_pattern(
    text: str,
    refs: Sequence[Mapping[str, str]],
    resolve: ResolveOrigin,
    inert: Callable[[str], str],
    any_reference: str | None = None,
) -> re.Pattern[str]:
    """Every way ``text`` may have been written to the target, as one pattern.

    A placeholder was rendered with the id map of the moment it was sent: inert
    then and resolved now is possible.  A ticket's new number changes only when
    a rollback removed it and a load made it again; ``any_reference`` (a regex
    for any reference of the target, e.g. ``#`` and digits) admits that older number.
    Crash recovery and the reference pass find a comment with this pattern, so
    a comment sent before its reference resolved is still found.
    """
    parts: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        parts.append(re.escape(text[pos : m.start()]))
        ref = refs[int(m.group(1))]
        forms = {inert(ref["text"])}
        new = resolve(ref["origin"])
        if new is not None:
            forms.add(new)
        options = [re.escape(f) for f in sorted(forms)]
        if any_reference:
            options.append(any_reference)
        parts.append("(?:" + "|".join(options) + ")")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.S)


def display_references(text: str, refs: Sequence[Mapping[str, str]]) -> str:
    """For dry-run reports: ``#12→``, a reference to be rewritten at load."""
    if REF_OPEN not in text:
        return text
    return _TOKEN.sub(lambda m: f"{refs[int(m.group(1))]['text']}→", text)


def display_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A payload as the dry-run reports show it: references as ``#12→``, no ``refs`` list."""
    refs = payload.get("refs")
    out = {k: v for k, v in payload.items() if k != "refs"}
    if not refs:
        return out
    if isinstance(out.get("description"), str):
        out["description"] = display_references(out["description"], refs)
    out["comments"] = [
        {**c, "body": display_references(c["body"], refs)} if isinstance(c.get("body"), str) else c
        for c in out.get("comments") or []
    ]
    return out
