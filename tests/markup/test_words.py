"""No conversion loses a word: over the corpora, and over text hypothesis makes up.

A word is a run of letters and digits in any script (tests/markup/words.py);
every word of the input, its markup's own words aside, must be in the output
as often.  Generated texts mix every syntax's markup with words of several
scripts, so readers meet what no corpus holds: marks that never close,
blocks opened inside phrases, macros in tables.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.markup import FORMATS, convert
from tests.markup.corpus import SOURCES, cases, long_texts
from tests.markup.words import adf_shown, lost_words, words

HOOKS = {"mention": lambda login: login, "attachment": lambda name: f"https://files.invalid/{name}"}
TEXT_SOURCES = [s for s in SOURCES if s != "adf"] + ["plain"]


def shown(output: str, target: str) -> str:
    return adf_shown(json.loads(output)) if target == "adf" else output


def assert_no_word_lost(text: str, source: str, **hooks: object) -> None:
    for target in FORMATS:
        if target == source:
            continue
        out = convert(text, source, target, **hooks).text  # type: ignore[arg-type]
        lost = lost_words(text, shown(out, target), source, target)
        assert not lost, f"{source} -> {target} loses {lost}\n--- input\n{text}\n--- output\n{out}"


def test_a_word_is_a_run_of_letters_and_digits_in_any_script() -> None:
    assert words("snake_case, l'été 2024: 日本語ＡＢＣ x2") == {
        "snake": 1,
        "case": 1,
        "l": 1,
        "été": 1,
        "2024": 1,
        "日本語ＡＢＣ": 1,
        "x2": 1,
    }


def test_markup_words_are_not_counted_but_text_is() -> None:
    assert lost_words("h1. Title\n{code:java}\nx\n{code}", "# Title\n\n```\nx\n```", "jira") == []
    assert lost_words("h1. Title", "# ", "jira") == ["Title"]
    assert lost_words("{panel:title=Notes}x{panel}", "x", "jira") == ["Notes"]


@pytest.mark.parametrize("source", TEXT_SOURCES)
def test_no_corpus_text_loses_a_word(source: str) -> None:
    texts = [c.text for c in cases(source) + long_texts(source)] if source != "plain" else []
    if source == "plain":  # plain text is every other syntax's text, read as written
        texts = [c.text for s in SOURCES if s != "adf" for c in cases(s)]
    for text in texts:
        assert_no_word_lost(text, source, **HOOKS)
        assert_no_word_lost(text, source)  # without the hooks, mentions stay as written


def test_no_adf_document_loses_a_word() -> None:
    for case in cases("adf"):
        shown_words = adf_shown(json.loads(case.text))
        for target in FORMATS:
            if target != "adf":
                out = convert(case.text, "adf", target, **HOOKS).text  # type: ignore[arg-type]
                lost = lost_words(shown_words, out, "plain", target)
                assert not lost, (case.name, target, out)


# Pieces of every syntax's markup, and words of several scripts, for hypothesis to mix.
MARKUP = {
    "trac": [
        "'''",
        "''",
        "**",
        "//",
        "__",
        "~~",
        "^",
        ",,",
        "`",
        "{{{",
        "}}}",
        "[[BR]]",
        "\\\\",
        "[http://example.com ",
        "]",
        "[[Image(a.png)]]",
        "[[span(a, style=x)]]",
        "||",
        "||=",
        " * ",
        " 1. ",
        " a. ",
        "= ",
        " =",
        "----",
        "> ",
        "  ",
        "!",
        "wiki:",
        "r12",
        "#3",
        "[=#x ",
        "{{{#!python\n",
        "{{{#!html\n<b>",
        "</b>\n}}}",
        "[[TicketQuery(x=y)]]",
        "::",
    ],
    "textile": [
        "*",
        "_",
        "**",
        "__",
        "+",
        "-",
        "^",
        "~",
        "%",
        "??",
        "@",
        "h1. ",
        "bq. ",
        "p. ",
        "fn1. ",
        "[1]",
        "* ",
        "# ",
        "|",
        "|_. ",
        "\\2. ",
        '"',
        '":http://x.com',
        "!",
        "!a.png!",
        "<pre>",
        "</pre>",
        "<code>",
        "</code>",
        "<notextile>",
        "</notextile>",
        "{{toc}}",
        "ABC(",
        "> ",
        "&amp;",
        "&#42;",
        "(cls)",
        "{color:red}",
    ],
    "jira": [
        "*",
        "_",
        "-",
        "+",
        "^",
        "~",
        "??",
        "{{",
        "}}",
        "h2. ",
        "bq. ",
        "{quote}",
        "{code}",
        "{code:java}",
        "{noformat}",
        "{panel:title=",
        "{panel}",
        "{color:red}",
        "{color}",
        "[",
        "|",
        "]",
        "[~",
        "[^",
        "||",
        "* ",
        "# ",
        "#* ",
        "- ",
        "!",
        "!a.png|thumbnail!",
        "\\\\",
        "----",
        "--",
        ":)",
        "(y)",
        "{toc}",
        "\\",
        "{*}",
        "http://x.com/a",
    ],
    "markdown": [
        "*",
        "**",
        "_",
        "__",
        "~~",
        "`",
        "```",
        "```python\n",
        "# ",
        "## ",
        "> ",
        "- ",
        "1. ",
        "3) ",
        "[",
        "](http://x.com)",
        "![",
        "](a.png)",
        "<b>",
        "</b>",
        "<kbd>",
        "</kbd>",
        "<!--",
        "-->",
        "|",
        "|---|",
        "\\",
        "&amp;",
        "[^1]",
        "[^1]: ",
        "www.x.com",
        "    ",
        "- [ ] ",
        "<details>",
        "</details>",
        "---",
    ],
    "plain": ["    ", "\t", "*", "_", "#", "> ", "`", "|", "{", "}", "[", "]", "<", ">", "&", "!"],
}
WORDS = ["alpha", "Beta", "x2", "42", "élan", "naïve", "日本語", "ログイン", "Привет", "ελλάδα"]
SPACES = [" ", " ", " ", "\n", "\n\n"]


def generated(source: str) -> st.SearchStrategy[str]:
    piece = st.sampled_from(MARKUP[source] + WORDS + WORDS + SPACES)
    return st.lists(piece, min_size=1, max_size=30).map("".join)


@pytest.mark.parametrize("source", [*TEXT_SOURCES])
def test_generated_text_loses_no_word(source: str) -> None:
    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(generated(source))
    def check(text: str) -> None:
        assert_no_word_lost(text, source, **HOOKS)

    check()
