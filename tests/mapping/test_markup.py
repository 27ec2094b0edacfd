"""Markup conversion, checked on real pages and through the targets' own renderers.

Real-world inputs: Trac 1.6's own documentation pages and a Markdown README
(tests/mapping/samples, see its README for their licences).  Outputs are not
only compared with expected strings: they are rendered and compared with what
the input renders to, using Trac's own formatter for Trac input, markdown-it-py
for Markdown, Redmine's own Textile formatter (RedCloth3, run with Ruby) for
Textile, and pandoc's Jira reader for Jira when pandoc is installed.
"""

from __future__ import annotations

import collections
import json
import random
import re
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from markdown_it import MarkdownIt

from migrator.markup import SYNTAXES, Converted, convert

SAMPLES = Path(__file__).parent / "samples"
TRAC_PAGES = sorted((SAMPLES / "trac").glob("*.txt"))
TICKETS = SAMPLES / "tickets"
README_MD = SAMPLES / "markdown" / "markdown-it-py-README.md"
TARGETS = ("markdown", "textile", "jira", "plain")
# Pages whose tables and layout use no {{{#!td}}} cell processors (kept literal by
# design), so their rendered structure is comparable element by element.
PLAIN_LAYOUT_PAGES = ("TracInstall", "TracQuery", "TracTickets", "TracUpgrade", "TracWorkflow")

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def page(name: str) -> str:
    return (SAMPLES / "trac" / f"{name}.txt").read_text(encoding="utf-8")


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


# --------------------------------------------------------------------------- rendered HTML

BLOCK_TAGS = {"p", "br", "li", "pre", "td", "th", "tr", "blockquote", "div", "table", "ul", "ol"}
BLOCK_TAGS |= {"h1", "h2", "h3", "h4", "h5", "h6", "hr", "dd", "dt"}


class _Html(HTMLParser):
    """Element counts, visible text and <pre> texts; skips what Trac macros generated."""

    ALIAS: ClassVar[dict[str, str]] = {"b": "strong", "i": "em", "u": "ins", "s": "del"}
    MACRO_OUTPUT = ("wiki-toc", "system-message", "trac-macrolist")

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()
        self.text: list[str] = []
        self.pres: list[str] = []
        self._pre: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            self._skip += tag == "div"
            return
        if tag == "div" and any(c in (dict(attrs).get("class") or "") for c in self.MACRO_OUTPUT):
            self._skip = 1
            return
        self.counts[self.ALIAS.get(tag, tag)] += 1
        if tag == "pre":
            self._pre = []
        if tag in BLOCK_TAGS:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= tag == "div"
            return
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None
        if tag in BLOCK_TAGS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._pre is not None:
            self._pre.append(data)


def parse_html(markup: str) -> _Html:
    parser = _Html()
    parser.feed(markup)
    parser.close()
    return parser


def unindent(text: str) -> str:
    return "\n".join(line.lstrip() for line in text.split("\n"))


def squash(text: str) -> str:
    return " ".join(text.split())


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", text))


@pytest.fixture(scope="session")
def trac_html() -> Callable[[str], str]:
    """Trac 1.6's own wiki formatter, as a ticket description is shown."""
    from trac.resource import Resource
    from trac.test import EnvironmentStub, MockRequest
    from trac.web.chrome import web_context
    from trac.wiki.formatter import format_to_html

    env = EnvironmentStub(default_data=True, enable=["trac.*"])
    context = web_context(MockRequest(env), Resource("ticket", 1))

    def render(text: str) -> str:
        return str(format_to_html(env, context, text, escape_newlines=True))

    return render


REDCLOTH = r"""
require 'cgi'
require 'json'
require 'active_support/all'
require 'action_view'
$: << ARGV[0]
module Redmine; module SyntaxHighlighting
  def self.language_supported?(language) false end
end; end
require 'redmine/helpers/url'
require 'redmine/wiki_formatting/textile/redcloth3'
require 'redmine/wiki_formatting/links_helper'
require 'redmine/wiki_formatting/textile/formatter'
texts = JSON.parse(STDIN.read)
puts JSON.generate(texts.map { |t| Redmine::WikiFormatting::Textile::Formatter.new(t).to_html })
"""


@pytest.fixture(scope="session")
def redmine_textile() -> Callable[[list[str]], list[str]]:
    """Redmine's own Textile formatter (RedCloth3 with Redmine's settings), batched."""
    from fixtures.trackers import redmine as redmine_server

    redmine_server.install()
    lib = str(redmine_server.REDMINE_ROOT / "lib")

    def render(texts: list[str]) -> list[str]:
        proc = subprocess.run(
            ["ruby", "-e", REDCLOTH, lib],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        result: list[str] = json.loads(proc.stdout)
        return result

    return render


# --------------------------------------------------------------------------- Trac code blocks


def trac_top_blocks(text: str, hidden: bool = False) -> Iterator[str]:
    """What must come out byte-exact for each top-level {{{ }}} block of a Trac text.

    A block without processor or with a language keeps its body; any other
    block (an HTML or table-cell processor, a comment) and a block never closed
    are kept as written, delimiters included.  HTML blocks are converted and
    left out; so are comments, with ``hidden``, for a target that hides them.
    """
    lines = text.split("\n")
    i = 0
    start_re = re.compile(r"\s*\{\{\{(?:\s*#!([\w+-][\w+/-]*).*)?\s*$")
    while i < len(lines):
        m = start_re.match(lines[i]) if "}}}" not in lines[i] else None
        if not m:
            i += 1
            continue
        depth, j = 1, i + 1
        while j < len(lines):
            if "}}}" not in lines[j] and start_re.match(lines[j]):
                depth += 1
            elif lines[j].strip() == "}}}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        raw = lines[i : j + 1]
        body = lines[i + 1 : j]
        processor = m.group(1)
        if processor is None and body and re.match(r"\s*#!([\w+-][\w+/-]*)", body[0]):
            processor = re.match(r"\s*#!([\w+-][\w+/-]*)", body[0]).group(1)  # type: ignore[union-attr]
            body = body[1:]
        code = processor is None or (processor[0].islower() and processor not in NON_CODE)
        if j < len(lines) and (processor == "html" or (hidden and processor in HIDDEN)):
            pass  # HTML is converted; comments are hidden where the target can hide them
        elif j < len(lines) and processor in ("div", "rtl"):
            yield from trac_top_blocks("\n".join(body), hidden)  # wiki text in a styled box
        elif j >= len(lines) or not code:
            yield "\n".join(raw)
        else:
            prefix = lines[i][: lines[i].find("{{{")]
            if prefix and all(not s or s.startswith(prefix) for s in body):
                body = [s[len(prefix) :] for s in body]
            yield "\n".join(body)
        i = j + 1


HIDDEN = {"comment", "htmlcomment"}
NON_CODE = {"html", "htmlcomment", "comment", "td", "th", "tr", "table", "rst", "textile"}
NON_CODE |= {"markdown", "span", "wiki", "div", "rtl"}


def dropped_by_design(text: str) -> str:
    """The Trac text minus what conversion drops on purpose (styling, anchors)."""
    text = re.sub(r"^\s*\{\{\{#!(div|rtl)\b.*$|^\s*#!(div|rtl)\b.*$", "", text, flags=re.M)
    text = re.sub(r"\[=#[\w:.-]+", "[", text)  # explicit anchors; their labels stay
    text = re.sub(r"^(\s*=+\s.*?)\s#[\w:.-]+\s*$", r"\1", text, flags=re.M)  # heading ids
    text = re.sub(r"#![\w+/-]+", "", text)  # processor names: a language at most
    text = re.sub(r"\[\[br\]\]", " ", text, flags=re.I)
    text = re.sub(r"\[\[span\(([^)]*)\)\]\]", lambda m: re.sub(r"\w+=[^,]*", "", m[1]), text)
    text = re.sub(r"\[(#[\w:.-]+)(?=[\s\]])", "[", text)  # in-page links keep their label
    return text


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_same_syntax_in_and_out_returns_the_text_untouched(syntax: str) -> None:
    text = "= x =\r\n'''*weird*''' {{{ [[Macro]] <b>&amp;</b>\n\n  \t"
    assert convert(text, syntax, syntax) == Converted(text, [])


def test_unknown_syntax_is_a_value_error_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown markup 'creole'; expected one of trac"):
        convert("x", "creole", "markdown")
    with pytest.raises(ValueError, match="'html'"):
        convert("x", "trac", "html")


@pytest.mark.parametrize("target", TARGETS)
def test_text_without_markup_comes_out_unchanged(target: str) -> None:
    text = "I can reproduce this on 1.2.3 with Firefox; see the attached log."
    assert convert(text, "trac", target) == Converted(text, [])
    assert convert("", "trac", target) == Converted("", [])


def test_crlf_line_endings_are_kept() -> None:
    out = convert("= Title =\r\nline one\r\n{{{\r\ncode\r\n}}}\r\n", "trac", "markdown").text
    assert out == "# Title\r\n\r\nline one\r\n\r\n```\r\ncode\r\n```"


JAPANESE = (
    "「ログイン画面でエラーが発生する」 再現手順：設定→保存。🎉👍🏽 ＡＢＣ ｶﾀｶﾅ 日本語のテキスト"
)


@pytest.mark.parametrize("source", SYNTAXES)
@pytest.mark.parametrize("target", SYNTAXES)
def test_japanese_text_and_emoji_survive_byte_exact(source: str, target: str) -> None:
    assert convert(JAPANESE, source, target).text == JAPANESE
    text = f"{JAPANESE}\n\n{JAPANESE}"
    assert convert(text, source, target).text.count(JAPANESE) == 2


def test_japanese_ticket_keeps_its_text_in_every_target() -> None:
    source = (TICKETS / "trac-ja.txt").read_text(encoding="utf-8")
    japanese = re.findall(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+", source)
    assert len(japanese) > 10
    for target in TARGETS:
        out = convert(source, "trac", target).text
        for run in japanese:
            assert run in out, (target, run)


# --------------------------------------------------------------------------- Trac constructs

TRAC_CASES = [
    # (trac, markdown, textile, jira)
    ("= Heading =", "# Heading", "h1. Heading", "h1. Heading"),
    ("=== Three", "### Three", "h3. Three", "h3. Three"),
    ("== Id == #explicit-id", "## Id", "h2. Id", "h2. Id"),
    (
        "'''bold''' ''italic'' '''''both'''''",
        "**bold** *italic* ***both***",
        "*bold* _italic_ *_both_*",
        "*bold* _italic_ *_both_*",
    ),
    ("**bold** //italic//", "**bold** *italic*", "*bold* _italic_", "*bold* _italic_"),
    (
        "__under__ ~~strike~~ ^sup^ ,,sub,,",
        "<ins>under</ins> ~~strike~~ <sup>sup</sup> <sub>sub</sub>",
        "+under+ -strike- ^sup^ ~sub~",
        "+under+ -strike- ^sup^ ~sub~",
    ),
    ("`a ''b''` {{{c}}}", "`a ''b''` `c`", "@a ''b''@ @c@", "{{a ''b''}} {{c}}"),
    ("''' spaced '''", "**spaced**", "*spaced*", "*spaced*"),
    ("!'''not bold!'''", "'''not bold'''", "'''not bold'''", "'''not bold'''"),
    (
        "{{{#!python\ndef f():\n    return '''x'''\n}}}",
        "```python\ndef f():\n    return '''x'''\n```",
        "<pre><code class=\"python\">\ndef f():\n    return '''x'''\n</code></pre>",
        "{code:python}\ndef f():\n    return '''x'''\n{code}",
    ),
    ("{{{\n#!sh\necho $HOME\n}}}", "```sh\necho $HOME\n```", None, "{code:sh}\necho $HOME\n{code}"),
    ("{{{\n a < b && *c*\n}}}", "```\n a < b && *c*\n```", "<pre>\n a < b && *c*\n</pre>", None),
    (" * a\n   * b\n * c", "- a\n  - b\n- c", "* a\n** b\n* c", "* a\n** b\n* c"),
    (" 1. one\n 1. two\n   a. sub", "1. one\n2. two\n   1. sub", "# one\n# two\n## sub", None),
    (" 3. three\n 4. four", "3. three\n4. four", None, None),
    (" * item\n   continued", "- item continued", "* item continued", None),
    (" term:: meaning", "**term**\n\nmeaning", "*term*\n\nmeaning", "*term*\n\nmeaning"),
    (
        "||= H1 =||= H2 =||\n|| a || b ||",
        "| H1 | H2 |\n|---|---|\n| a | b |",
        "|_. H1|_. H2|\n|a|b|",
        "||H1||H2||\n|a|b|",
    ),
    (
        "|| a || b ||\n|| c || \\\n|| d ||",
        "|  |  |\n|---|---|\n| a | b |\n| c | d |",
        "|a|b|\n|c|d|",
        None,
    ),
    ("|||| wide ||", None, "|\\2. wide|", "|wide| |"),
    (
        "[http://example.com/ Example] http://example.com/a",
        "[Example](http://example.com/) http://example.com/a",
        '"Example":http://example.com/ http://example.com/a',
        "[Example|http://example.com/] [http://example.com/a]",
    ),
    ("[[https://example.com|Creole]]", "[Creole](https://example.com)", None, None),
    # Trac shows the brackets around the link.
    ("<https://x.com/a_b>", "\\<<https://x.com/a_b>>", "<https://x.com/a_b>", None),
    # A newline is a line break in Jira: "\\\\" before it made a second one.
    ("Line[[BR]]break", "Line\\\nbreak", "Line\nbreak", "Line\nbreak"),
    ("Line \\\\ break", "Line \\\nbreak", "Line\nbreak", None),
    ("[[Image(shot.png)]]", "![](shot.png)", "!shot.png!", "!shot.png!"),
    ("para\n  quoted text\nafter", "para\n\n> quoted text\n\nafter", None, None),
    ("> cited\n>> older\nreply", "> cited\n>\n> > older\n\nreply", None, None),
    ("above\n----\nbelow", "above\n\n---\n\nbelow", "above\n\n---\n\nbelow", None),
    ("!WikiPage and [wiki:Page label]", "WikiPage and [wiki:Page label]", None, None),
    ("see #12, !#13 and r14", "see #12, !#13 and r14", "see #12, !#13 and r14", None),
    ("[[span(style=color: red, red text)]]", "red text", "red text", "red text"),
]


@pytest.mark.parametrize(("trac", "markdown", "textile", "jira"), TRAC_CASES)
def test_trac_construct(
    trac: str, markdown: str | None, textile: str | None, jira: str | None
) -> None:
    for target, expected in (("markdown", markdown), ("textile", textile), ("jira", jira)):
        if expected is not None:
            assert convert(trac, "trac", target).text == expected, target


WARNING_CASES = [
    ("[[TicketQuery(status=new)]]", "markup-literal: macro [[TicketQuery]] kept as written"),
    ("[[PageOutline]]", "markup-literal: macro [[PageOutline]] kept as written"),
    ("[[Image(wiki:Page:a.png)]]", "markup-literal: macro [[Image]] kept as written"),
    ("text\n{{{\nnever closed", "markup-literal: unclosed {{{ block kept as a literal block"),
    ("{{{#!td\ncell\n}}}", "markup-literal: {{{#!td}}} block kept as a literal block"),
    ("{{{#!comment\nnote\n}}}", "markup-literal: {{{#!comment}}} block kept as a literal block"),
    (
        "{{{#!Graphviz\ndigraph{}\n}}}",
        "markup-literal: {{{#!Graphviz}}} block kept as a literal block",
    ),
]


@pytest.mark.parametrize(("trac", "warning"), WARNING_CASES)
@pytest.mark.parametrize("target", TARGETS)
def test_what_cannot_be_converted_is_kept_literally_with_a_warning(
    trac: str, warning: str, target: str
) -> None:
    result = convert(trac, "trac", target)
    assert result.warnings == [warning]
    kept = trac.split("\n", 1)[1] if trac.startswith("text\n") else trac
    # Verbatim, or (Jira escapes inside {{monospace}}) verbatim once read back.
    assert kept in result.text or kept in convert(result.text, target, "plain").text


def test_repeated_warnings_are_counted_on_one_line() -> None:
    result = convert("[[PageOutline]]\n\n[[PageOutline]]\n\n[[TitleIndex]]", "trac", "markdown")
    assert result.warnings == [
        "markup-literal: macro [[PageOutline]] kept as written (2 times)",
        "markup-literal: macro [[TitleIndex]] kept as written",
    ]


def test_colspan_is_kept_in_markdown_as_an_html_table() -> None:
    """GFM tables cannot span columns; GitHub and Redmine show an HTML table that does."""
    result = convert("|||| wide ||\n|| a || b ||", "trac", "markdown")
    assert result.text == (
        '<table>\n<tr><td colspan="2">wide</td></tr>\n<tr><td>a</td><td>b</td></tr>\n</table>'
    )
    assert result.warnings == []


def test_textile_cannot_style_inside_a_word_and_says_so() -> None:
    result = convert("これは'''重要'''です", "trac", "textile")
    assert result.text == "これは重要です"
    assert result.warnings == [
        "markup-approximate: 1 style mark(s) inside words dropped (the target cannot express them)"
    ]
    assert convert("これは'''重要'''です", "trac", "markdown").text == "これは**重要**です"
    assert convert("これは'''重要'''です", "trac", "jira").text == "これは{*}重要{*}です"


def test_code_block_in_a_list_item_stays_in_the_item_where_the_target_allows() -> None:
    trac = " - run:\n{{{#!sh\nmake test\n}}}\n - done"
    assert convert(trac, "trac", "markdown").text == (
        "- run:\n\n  ```sh\n  make test\n  ```\n- done"
    )
    textile = convert(trac, "trac", "textile")
    assert textile.text == '* run:\n\n<pre><code class="sh">\nmake test\n</code></pre>\n\n* done'
    assert textile.warnings == [
        "markup-approximate: a block inside a list item placed after the item"
    ]


SOUP = [*"*_-+^~%?@&<>\"![]{}|=#:/.,'\\`() \n\t", "{{{", "}}}", "||", "'''", "[[", "]]"]
SOUP += ["http://x.com/", "<pre>", "</pre>", "```", "h1. ", " * ", " 1. ", "{code}"]
SOUP += ["{noformat}", "{quote}", "bq. ", "> ", "#!python\n", "word", "日本", "🎉"]


def test_random_markup_soup_never_raises() -> None:
    """Seeded noise made of every syntax's markers: any pair converts, the same each time."""
    rnd = random.Random(20240611)
    for _ in range(300):
        text = "".join(rnd.choice(SOUP) for _ in range(rnd.randint(1, 40)))
        for source in SYNTAXES:
            for target in SYNTAXES:
                assert convert(text, source, target) == convert(text, source, target)


def test_output_is_deterministic() -> None:
    text = page("TracLinks")
    for target in TARGETS:
        assert convert(text, "trac", target) == convert(text, "trac", target)


# --------------------------------------------------------------------------- escaping

TRICKY = [
    "2 * 3 * 4 and *not bold* and _not italic_ and __init__.py",
    "snake_case_name, C++ and a-b-c, -v --verbose -x-",
    "~/.bashrc ~tilde~ ^caret^ +plus+ %percent% ??q??",
    "`tick` and ``double`` and {{{braces}}} and {{macro}} and [[Page]]",
    "[label](http://x.com) [ref]: http://y.com ![img](a.png) <b>html</b> &amp; &#42;",
    '"quoted":http://x.com and "a"b" @code@ a@b.com (@code@)',
    "# not a heading\n* not a list\n1. not ordered\n> not a quote\n|not|a|table|",
    "h1. not a heading\nbq. not a quote\n---\n=====\n```\nnot code",
    "back\\slash\\ and C:\\path\\to\\file and trailing\\",
    "! bang !important! ![x] !#12 r12",
    "x^2^ and H,,2,,O and a~b~ and [1] and foo[1] and {1}",
    "    indented line kept as code",
    "<pre>x</pre> <code>y</code> <notextile>z</notextile> </pre>",
]


@pytest.mark.parametrize("text", TRICKY)
def test_plain_text_renders_as_written_in_markdown(text: str) -> None:
    rendered = parse_html(MD.render(convert(text, "plain", "markdown").text))
    assert squash("".join(rendered.text)) == squash(text)


@pytest.mark.parametrize("name", ids(TRAC_PAGES))
def test_real_text_as_plain_renders_as_written_in_markdown(name: str) -> None:
    """A wiki page read as plain text is full of characters that mean something elsewhere."""
    text = page(name)
    rendered = parse_html(MD.render(convert(text, "plain", "markdown").text))
    assert squash("".join(rendered.text)) == squash(text)


@pytest.mark.parametrize("text", TRICKY)
def test_plain_text_round_trips_through_trac_markup(text: str) -> None:
    """Writing Trac is rare (Trac is a source), but it escapes like the others."""
    trac = convert(text, "plain", "trac").text
    assert squash(convert(trac, "trac", "plain").text) == squash(text)


@pytest.mark.redmine
def test_plain_text_renders_as_written_in_redmine_textile(
    redmine_textile: Callable[[list[str]], list[str]],
) -> None:
    texts = TRICKY + [page(p.stem) for p in TRAC_PAGES]
    outputs = redmine_textile([convert(t, "plain", "textile").text for t in texts])
    for text, out in zip(texts, outputs, strict=True):
        shown = "".join(parse_html(out).text)
        assert squash(shown) == squash(text), text[:80]


# --------------------------------------------------------------------------- real Trac pages


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", ids(TRAC_PAGES))
def test_trac_page_keeps_every_word_and_code_block(name: str, target: str) -> None:
    text = page(name)
    result = convert(text, "trac", target)
    missing = words(dropped_by_design(text)) - words(result.text)
    assert not missing, f"words lost: {sorted(missing)[:20]}"
    # Code inside a list item is indented with the item: compare without indentation
    # here (the rendering tests compare what readers see, exactly).
    flat = unindent(result.text)
    for block in trac_top_blocks(text):
        assert unindent(block) in flat, block[:80]
    assert all(re.match(r"markup-(literal|approximate): ", w) for w in result.warnings)


@pytest.mark.trac
@pytest.mark.parametrize("name", ids(TRAC_PAGES))
def test_trac_page_in_markdown_renders_like_trac(
    name: str, trac_html: Callable[[str], str]
) -> None:
    text = page(name)
    # Outline macros render lists of their own in Trac; we keep them as written.
    source = parse_html(trac_html(re.sub(r"\[\[(PageOutline|TracGuideToc)\b[^\]]*\]\]", "", text)))
    out = parse_html(MD.render(convert(text, "trac", "markdown").text))
    for block in trac_top_blocks(text, hidden=True):
        assert any(block in pre for pre in out.pres), block[:80]
    if name in PLAIN_LAYOUT_PAGES:
        compare_structure(source.counts, out.counts)


def compare_structure(source: collections.Counter[str], out: collections.Counter[str]) -> None:
    """Same headings, tables, rules and quotes; no fewer code blocks, lists or styles."""
    for tag in ("h1", "h2", "h3", "table", "hr", "blockquote"):
        assert out[tag] == source[tag], tag
    for tag in ("pre", "li", "strong", "em"):
        # Trac's own error messages for macros it cannot run here carry a <pre>/<strong>.
        assert out[tag] >= source[tag] - source["pre"] // 10 - 1, tag


@pytest.mark.redmine
def test_trac_pages_in_textile_render_in_redmine_like_in_trac(
    redmine_textile: Callable[[list[str]], list[str]],
) -> None:
    texts = [page(p.stem) for p in TRAC_PAGES]
    md_html = [MD.render(convert(t, "trac", "markdown").text) for t in texts]
    markdown = [parse_html(h) for h in md_html]
    outputs = redmine_textile([convert(t, "trac", "textile").text for t in texts])
    for path, text, md, out, html in zip(
        TRAC_PAGES, texts, markdown, outputs, md_html, strict=True
    ):
        rendered = parse_html(out)
        # RedCloth3 appends a space to every line ending in '"' and turns tabs into four
        # spaces, even inside <pre>: Redmine cannot show those byte for byte.
        pres = [re.sub(r'" $', '"', p, flags=re.M) for p in rendered.pres]
        for block in trac_top_blocks(text, hidden=True):
            block = block.replace("\t", "    ")
            assert any(block in pre for pre in pres), (path.stem, block[:80])
        for tag in ("h1", "h2", "h3", "h4", "table", "hr"):
            assert rendered.counts[tag] == md.counts[tag], (path.stem, tag)
        # Markdown has header cells in its first row only (empty where the table has no
        # header), and bolds the others.
        bold = rendered.counts["strong"] + rendered.counts["th"]
        empty = len(re.findall(r"<th>\s*</th>", html))
        assert bold == md.counts["strong"] + md.counts["th"] - empty, path.stem


def test_trac_ticket_in_markdown_has_the_expected_elements() -> None:
    text = (TICKETS / "trac-ja.txt").read_text(encoding="utf-8")
    rendered = parse_html(MD.render(convert(text, "trac", "markdown").text))
    for tag in ("h2", "strong", "em", "code", "pre", "table", "th", "ol", "ul", "blockquote", "a"):
        assert rendered.counts[tag] >= 1, tag


# --------------------------------------------------------------------------- other sources


def test_markdown_readme_converts_keeping_words_and_code() -> None:
    text = README_MD.read_text(encoding="utf-8")
    fences = re.findall(r"^```\w*\n(.*?)\n```$", text, flags=re.M | re.S)
    assert len(fences) >= 5
    source = parse_html(MD.render(text))
    for target in ("textile", "jira", "plain"):
        result = convert(text, "markdown", target)
        for code in fences:
            assert code in result.text, (target, code[:60])
        shown = words("".join(source.text))
        assert not shown - words(result.text), target
    # Its HTML block (a logo) is read as the HTML it shows, not kept literally.
    assert convert(text, "markdown", "textile").warnings == []


@pytest.mark.redmine
def test_markdown_readme_in_textile_renders_in_redmine_like_markdown(
    redmine_textile: Callable[[list[str]], list[str]],
) -> None:
    text = README_MD.read_text(encoding="utf-8")
    source = parse_html(MD.render(text))
    (out,) = redmine_textile([convert(text, "markdown", "textile").text])
    rendered = parse_html(out)
    for tag in ("h1", "h2", "h3", "ul", "li", "blockquote", "strong", "a"):
        assert rendered.counts[tag] == source.counts[tag], tag
    # The README's one HTML block (holding an <img>) is read as what it shows.
    assert rendered.counts["pre"] == source.counts["pre"]
    assert rendered.counts["img"] == source.counts["img"]


def test_redmine_textile_ticket_to_markdown() -> None:
    text = (TICKETS / "redmine.textile").read_text(encoding="utf-8")
    result = convert(text, "textile", "markdown")
    rendered = parse_html(MD.render(result.text))
    for tag in ("h2", "strong", "em", "code", "pre", "table", "th", "ol", "ul", "blockquote", "a"):
        assert rendered.counts[tag] >= 1, tag
    assert 'def save(self):\n    return "ok"  # *not* markup' in rendered.pres[0]
    assert "ログイン" in result.text
    assert result.warnings == ["markup-literal: macro {{toc}} kept as written"]


@pytest.mark.redmine
def test_redmine_textile_ticket_renders_the_same_in_redmine_and_as_markdown(
    redmine_textile: Callable[[list[str]], list[str]],
) -> None:
    text = (TICKETS / "redmine.textile").read_text(encoding="utf-8")
    (out,) = redmine_textile([text])
    redmine = parse_html(out)
    markdown = parse_html(MD.render(convert(text, "textile", "markdown").text))
    for tag in ("h2", "h3", "strong", "em", "del", "pre", "table", "th", "td", "li", "blockquote"):
        assert markdown.counts[tag] == redmine.counts[tag], tag


@pytest.mark.parametrize("name", PLAIN_LAYOUT_PAGES)
@pytest.mark.parametrize("via", ["textile", "jira"])
def test_trac_to_textile_or_jira_reads_back_with_the_same_structure(name: str, via: str) -> None:
    """Our Textile and Jira readers read what our writers wrote, on real pages."""
    text = page(name)
    direct = parse_html(MD.render(convert(text, "trac", "markdown").text))
    through = convert(convert(text, "trac", via).text, via, "markdown")
    again = parse_html(MD.render(through.text))
    # A comment, hidden in Markdown and Textile, is a literal block in Jira.
    comments = len(re.findall(r"\{\{\{#!(?:html)?comment", text)) if via == "jira" else 0
    for tag in ("h1", "h2", "h3", "table", "th", "hr", "pre", "li", "code"):
        extra = comments if tag in ("pre", "code") else 0
        assert again.counts[tag] == direct.counts[tag] + extra, tag
    for code in direct.pres:
        assert code in again.pres


JIRA_CASES = [
    ("h1. Title", "# Title"),
    (
        "*strong* _em_ -del- +ins+ ^sup^ ~sub~",
        "**strong** *em* ~~del~~ <ins>ins</ins> <sup>sup</sup> <sub>sub</sub>",
    ),
    (
        "{{mono}} and [label|http://x.com] and [http://y.com]",
        "`mono` and [label](http://x.com) and http://y.com",
    ),
    ("* a\n** b\n# c", "- a\n  - b\n\n1. c"),
    ("||h1||h2||\n|a|b|", "| h1 | h2 |\n|---|---|\n| a | b |"),
    ("{code:java}\nint x = 1; // *x*\n{code}", "```java\nint x = 1; // *x*\n```"),
    ("{noformat}\nraw *text*\n{noformat}", "```\nraw *text*\n```"),
    ("{quote}\nquoted\n{quote}", "> quoted"),
    ("line\\\\break", "line\\\nbreak"),
    ("{color:red}red{color} text", "red text"),
    ("!screen.png|thumbnail!", "![](screen.png)"),
]


@pytest.mark.parametrize(("jira", "markdown"), JIRA_CASES)
def test_jira_construct_to_markdown(jira: str, markdown: str) -> None:
    assert convert(jira, "jira", "markdown").text == markdown


@pytest.mark.parametrize("target", ["jira", "textile"])
def test_markdown_to_wiki_markup(target: str) -> None:
    text = textwrap.dedent(
        """\
        # Title

        Some **bold**, *em*, ~~gone~~ and `code` with a [link](https://x.com/a).

        - one
          - nested
        1. first

        > quoted

        | a | b |
        |---|---|
        | 1 | 2 |

        ```python
        print("hi")
        ```
        """
    )
    expected = {
        "jira": (
            "h1. Title\n\nSome *bold*, _em_, -gone- and {{code}} with a [link|https://x.com/a]."
            "\n\n* one\n** nested\n\n# first\n\n{quote}\nquoted\n{quote}\n\n||a||b||\n|1|2|\n\n"
            '{code:python}\nprint("hi")\n{code}'
        ),
        "textile": (
            'h1. Title\n\nSome *bold*, _em_, -gone- and @code@ with a "link":https://x.com/a.'
            "\n\n* one\n** nested\n\n# first\n\n> quoted\n\n|_. a|_. b|\n|1|2|\n\n"
            '<pre><code class="python">\nprint("hi")\n</code></pre>'
        ),
    }
    assert convert(text, "markdown", target).text == expected[target]


def test_jira_output_reads_back_in_pandoc() -> None:
    """pandoc's Jira reader, when pandoc is installed, reads our Jira as we meant it."""
    pypandoc = pytest.importorskip("pypandoc")
    text = page("TracTickets")
    jira = convert(text, "trac", "jira").text
    rendered = parse_html(pypandoc.convert_text(jira, "html", format="jira"))
    direct = parse_html(MD.render(convert(text, "trac", "markdown").text))
    for tag in ("h1", "h2", "pre", "li", "strong", "em", "code"):
        assert rendered.counts[tag] == direct.counts[tag], tag
