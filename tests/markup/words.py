"""The words of a text, and which words of an input a conversion's output lacks.

A word is a maximal run of Unicode letters and digits (``\\w`` minus ``_``), in
any script.  Every word of the input must appear in the output, as many times
(a multiset; a word may have joined its neighbour, when the marks between them
had to go), except the words of the input's own markup: ``h1.``, ``{code:java}``,
``[[BR]]``, a style attribute, an entity name.  Those are found here by small
patterns of each syntax, independent of the readers, so that a reader that
drops text is caught rather than excused.  Words the output adds (a URL
scheme, a language name, an entity) never count against it.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable

WORD = re.compile(r"[^\W_]+")

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

_STYLE_KEYS = (
    r"(?:style|class|id|align|valign|width|height|border\w*|bgColor|titleBGColor|titleColor"
    r"|colspan|rowspan|vspace|hspace|lang|thumbnail|margin|float|size|linenumbers|collapse"
    r"|firstline|theme|language|format|type)"
)


def _keep_titles(m: re.Match[str]) -> str:
    """Of ``{panel:title=T|bgColor=x}`` and the like, only what is shown: the title."""
    titles = re.findall(r"(?:^|[|:])\s*title\s*=\s*([^|}]*)", m.group(0))
    return " " + " ".join(titles) + " "


def _image_args(m: re.Match[str]) -> str:
    """Of Trac's ``[[Image(file, 50%, link=url, alt=text)]]``, the file and the texts."""
    args = [a.strip() for a in re.split(r"(?<!\\),", m.group(1))]
    shown = [re.sub(r"^htdocs:", "", args[0])] if args else []  # htdocs: is a folder
    for a in args[1:]:
        key, eq, value = a.partition("=")
        if eq and key.strip() in ("link", "alt", "title"):
            shown.append(value)
    return " " + " ".join(shown) + " "


_MACRO_ARGS = r"(?:[^\]\n]|\](?!\]))*"  # as Trac reads them: up to the first "]]"


def _inert(m: re.Match[str]) -> str:
    """Code, with the brackets that could make a macro of it replaced (words stay)."""
    return m.group(0).replace("[", "(").replace("]", ")")


def _list_markers(m: re.Match[str]) -> str:
    """A line's list markers, numbers (shown as the list's numbering) aside."""
    return re.sub(r"\d{1,9}[.)]", " ", m.group(0))


def _span_args(m: re.Match[str]) -> str:
    shown = [a for a in re.split(r"(?<!\\),", m.group(1)) if not re.match(r"\s*\w+=", a)]
    return " " + ", ".join(shown) + " "


_COMMON_HTML: list[Rule] = [
    (re.compile(r"<!--.*?-->", re.S), " "),  # shown by nothing (kept where a target can)
    (re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>"), " "),
]
# What a tracker never shows of HTML: tags, scripts, styles, comments.
_HIDDEN_HTML = re.compile(
    r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", re.S | re.I
)


def _html_block(m: re.Match[str]) -> str:
    return _HIDDEN_HTML.sub(" ", m.group(1))


MARKUP: dict[str, list[Rule]] = {
    "trac": [
        (
            re.compile(r"^\s*\{\{\{\s*\n?\s*#!html\b[^\n]*\n(.*?)\n\s*\}\}\}\s*$", re.S | re.M),
            _html_block,
        ),
        (re.compile(r"^[>\s]*(?:[-*\u2022]|(?:\d+|[a-zA-Z]|[ivxIVX]{1,5})\.)(?=\s)", re.M), " "),
        (re.compile(r"^\s*(?:\{\{\{)?\s*#!\w[\w+/-]*.*$", re.M), " "),
        (re.compile(r"`[^`\n]*`|\{\{\{.*?\}\}\}"), _inert),  # code: no macro in it
        (re.compile(rf"\[\[span\(({_MACRO_ARGS})\)\]\]", re.I), _span_args),
        (re.compile(rf"\[\[Image\(({_MACRO_ARGS})\)\]\]", re.I), _image_args),
        (re.compile(r"\[\[br\]\]", re.I), " "),
        (re.compile(r"\[=#[\w:.-]+"), "["),
        (re.compile(r"\[#[^\s\]]*(?=[\s\]])"), "["),
        (re.compile(r"^(\s*=+\s.*?)\s#[\w:.-]+\s*$", re.M), r"\1"),
        (re.compile(r"^\s*\|-+.*$", re.M), " "),
    ],
    "textile": [
        (re.compile(r"^[\s>]*(fn)(\d+)(?=[.(\[{])", re.M), r" \2"),
        (
            re.compile(
                r"^[\s>]*(?:h[1-6]|bq|bc|p|pre|notextile|table)"
                r"(?:\([^)]*\)|\{[^}]*\}|\[[a-z-]+\]|[<>=]+)*\.\.?(?::\S+)?(?=\s|$)",
                re.M,
            ),
            " ",
        ),
        (re.compile(r"^(?:\([^)]*\)|\{[^}]*\}|[<>=^~]+)+\.\s(?=\|)", re.M), " "),
        (re.compile(r"(?<=\|)(?:[_<>=^~]|\\\d+|/\d+|\([^)]*\)|\{[^}]*\})+\.\s?"), " "),
        (
            re.compile(
                r"(?<=[*_+\-^~%?@!#\"])(?:\([\w\s#-]*\)|\{[^}]*\}|\[[a-z]{2}(?:-[a-z]+)?\])+"
            ),
            " ",
        ),
        (re.compile(r"(?<=[\s(>])%(?:\([\w\s#-]*\)|\{[^}]*\})"), "%"),
        (re.compile(r"^bq\.:\S+", re.M), " "),
        *_COMMON_HTML,
    ],
    "jira": [
        (re.compile(r"(?:^|(?<=\{quote\})|(?<=\{panel\}))\s*(?:h[1-6]|bq)\.(?=\s)", re.M), " "),
        (re.compile(r"\{(?:code|noformat|panel|quote)(?::[^{}\n]*)?\}"), _keep_titles),
        (re.compile(r"\{(?:color|anchor|section|column|div|span)(?::[^{}\n]*)?\}"), " "),
        (re.compile(r"(?<=[^\s!|])\|[^!\n]*(?=!)"), " "),  # image attributes: !x.png|thumbnail!
        (re.compile(r"\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*[rgby]?|flag|flagoff)\)"), " "),
        (re.compile(r"(?<![\w:/])[:;]-?[)(PDp](?!\w)"), " "),
        (re.compile(r"\[~accountid:"), "[~"),
    ],
    "markdown": [
        (re.compile(r"^ {0,3}\[[^\]]+\]:\s*(\S+).*$", re.M), " "),  # shown where used
        (re.compile(r"\[\^[^\]\s]+\]:?"), " "),  # a footnote's label: shown as its number
        # a fence's info string, also in a list item or a quote
        (
            re.compile(
                r"^((?:[ >]|[-*+][ \t]|\d{1,9}[.)][ \t])*(?:`{3,}(?=[^\n`]*$)|~{3,})).*$", re.M
            ),
            r"\1",
        ),
        (re.compile(r"(?<=\])\[[^\]]*\]"), " "),
        (re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)\[[ xX]\]", re.M), r"\1"),
        (re.compile(r"^(?:[ \t>]*(?:[-*+]|\d{1,9}[.)])(?=\s))+", re.M), _list_markers),
        (re.compile(r"(?<=\]\()(\S+)\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\))(?=\))"), r"\1"),
        *_COMMON_HTML,
    ],
    "plain": [],
}


_ENTITY = re.compile(r"(?<!\\)&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_URL = re.compile(r"[a-zA-Z][\w+.-]*:[^\s<>\"'\]\[|()]+")


def _unquote_urls(text: str) -> str:
    """The percent escapes writers make in URLs (a space, a '>') decoded, and only there."""
    if "%" not in text:
        return text
    return _URL.sub(lambda m: m.group().replace("%20", " ").replace("%3E", ">"), text)


_MAILTO = re.compile(r"\bmailto:", re.I)  # an address is shown without its scheme


def shown_text(text: str, syntax: str) -> str:
    """``text`` without the words of its markup; entities as the characters they stand for."""
    text = _MAILTO.sub(" ", text)
    for pattern, repl in MARKUP.get(syntax, []):
        text = pattern.sub(repl, text)
    if syntax in ("textile", "markdown"):
        text = html.unescape(text)
    return text


def words(text: str) -> Counter[str]:
    return Counter(WORD.findall(text))


def lost_words(source_text: str, output: str, syntax: str, target: str = "") -> list[str]:
    """Words of ``source_text`` (markup aside) that ``output`` has fewer of, in input order.

    ``target`` says whether the output's entities stand for characters
    (Textile and Markdown escape with them).
    """
    want = words(_unquote_urls(shown_text(source_text, syntax)))
    if target in ("textile", "markdown"):
        # An entity is its character, unless Markdown's backslash keeps it as written.
        output = _ENTITY.sub(lambda m: html.unescape(m.group()), output)
    have = words(_unquote_urls(output))
    missing = want - have
    if missing:
        # Marks between two words can go where the target cannot style inside a word
        # (Textile's "これは*重要*です"): the words then read as one, and are all there.
        longer = [w for w in have if len(w) > 1]
        missing = Counter({w: n for w, n in missing.items() if not any(w in x for x in longer)})
    return [w for w in dict.fromkeys(WORD.findall(source_text)) if w in missing]


_ADF_SHOWN = ("text", "href", "title", "alt", "url")


def adf_shown(node: object) -> str:
    """The strings an ADF document shows or links to (text, link targets, titles, mentions)."""
    if isinstance(node, list):
        return " ".join(adf_shown(n) for n in node)
    if not isinstance(node, dict):
        return ""
    parts: list[str] = []
    if isinstance(node.get("text"), str):
        parts.append(node["text"])
    attrs = node.get("attrs")
    if isinstance(attrs, dict):
        parts.extend(str(attrs[k]) for k in _ADF_SHOWN if isinstance(attrs.get(k), str))
        if node.get("type") == "mention" and isinstance(attrs.get("id"), str):
            parts.append(attrs["id"].removeprefix("accountid:"))
    marks = node.get("marks", [])
    text = node.get("text")
    # A link shown as its own address is one address.
    parts.append(adf_shown([m for m in marks if (m.get("attrs") or {}).get("href") != text]))
    parts.append(adf_shown(node.get("content", [])))
    return " ".join(p for p in parts if p)
