"""Cross-references to old tickets are rewritten, the rest reported; mentions notify nobody."""

from __future__ import annotations

import pytest

from migrator.mapping.references import (
    display_payload,
    neutralize_mentions,
    reference_token,
    render_references,
    rendering_pattern,
    rewrite_references,
)
from migrator.markup import convert

OLD = ["https://trac.example.com/", "http://old.example.com/trac"]
IDS = {"123": "#456", "7": "#8", "3": "#30"}


def rewrite(text: str, syntax: str = "trac", kind: str = "trac") -> tuple[str, list[str]]:
    return rewrite_references(text, syntax, IDS.get, source_kind=kind, old_urls=OLD)


TRAC_CASES = [
    ("see #123.", "see #456."),
    ("ticket:7 and ticket:123#comment:2", "#8 and #456 (comment 2)"),
    ("comment:4:ticket:7", "#8 (comment 4)"),
    ("[ticket:123 the login bug]", "the login bug (#456)"),
    ("[ticket:123]", "#456"),
    ("[comment:2:ticket:7 this answer]", "this answer (#8 (comment 2))"),
    ("[[ticket:123|creole label]]", "creole label (#456)"),
    ("https://trac.example.com/ticket/123", "#456"),
    ("https://trac.example.com/ticket/7#comment:3.", "#8 (comment 3)."),
    ("(http://old.example.com/trac/ticket/3)", "(#30)"),
    ("[https://trac.example.com/ticket/123 the bug]", "the bug (#456)"),
    ("#1234 is not #123", "#1234 is not #456"),
    ("「#123 を参照」", "「#456 を参照」"),
]


@pytest.mark.parametrize(("text", "expected"), TRAC_CASES)
def test_trac_references_are_rewritten(text: str, expected: str) -> None:
    out, _ = rewrite(text)
    assert out == expected


NOT_REFERENCES = [
    "!#123 is escaped, so is !ticket:123",
    "anchor http://other.example.com/page#123 and mail a#123b",
    "InterTrac trac:#123 points at another Trac",
    "entity &#123; and C#123 and x/#123",
]


@pytest.mark.parametrize("text", NOT_REFERENCES)
def test_what_is_not_a_reference_to_a_source_ticket_is_left_alone(text: str) -> None:
    assert rewrite(text) == (text, [])


def test_unresolved_references_are_kept_and_reported_once_each() -> None:
    text = (
        "#999 twice #999, r42, [43], changeset:44, [wiki:WikiStart start], wiki:TracGuide, "
        "https://trac.example.com/wiki/Foo https://trac.example.com/changeset/45 "
        "https://trac.example.com/report/1"
    )
    out, unresolved = rewrite(text)
    assert out == text
    assert unresolved == [
        "unresolved-ticket: #999 (ticket 999 is not in the id map)",
        "unresolved-changeset: r42 (changesets are not migrated)",
        "unresolved-changeset: [43] (changesets are not migrated)",
        "unresolved-changeset: changeset:44 (changesets are not migrated)",
        "unresolved-wiki: WikiStart (wiki pages are not migrated with tickets)",
        "unresolved-wiki: TracGuide (wiki pages are not migrated with tickets)",
        "unresolved-wiki: https://trac.example.com/wiki/Foo (a link into the old tracker)",
        "unresolved-changeset: https://trac.example.com/changeset/45 (a link into the old tracker)",
        "unresolved-url: https://trac.example.com/report/1 (a link into the old tracker)",
    ]


CODE = [
    ("trac", "{{{\n#123 and ticket:7\n}}}\nreal #123", "{{{\n#123 and ticket:7\n}}}\nreal #456"),
    (
        "trac",
        "{{{\n{{{#!python\n#123\n}}}\n#7\n}}}\n#7",
        "{{{\n{{{#!python\n#123\n}}}\n#7\n}}}\n#8",
    ),
    ("trac", "inline {{{#123}}} and `#7` but #3", "inline {{{#123}}} and `#7` but #30"),
    ("textile", "<pre>\n#123\n</pre>\n@#7@ and #3", "<pre>\n#123\n</pre>\n@#7@ and #30"),
    (
        "textile",
        '<pre><code class="c">\n#123\n</code></pre> #7',
        '<pre><code class="c">\n#123\n</code></pre> #8',
    ),
    ("markdown", "```\n#123\n```\n`#7` and #3", "```\n#123\n```\n`#7` and #30"),
    ("markdown", "text\n\n    #123 indented code\n\n#7", "text\n\n    #123 indented code\n\n#8"),
    ("markdown", "~~~\n#123\n", "~~~\n#123\n"),
    ("jira", "{code:java}\n#123\n{code}\n{{#7}} #3", "{code:java}\n#123\n{code}\n{{#7}} #30"),
    ("jira", "{noformat}\n#123\n{noformat} #7", "{noformat}\n#123\n{noformat} #8"),
]


@pytest.mark.parametrize(("syntax", "text", "expected"), CODE)
def test_references_inside_code_stay_as_written(syntax: str, text: str, expected: str) -> None:
    out, unresolved = rewrite(text, syntax)
    assert out == expected
    assert unresolved == []


@pytest.mark.parametrize(
    ("syntax", "text", "expected"),
    [
        ("markdown", "[the bug](https://trac.example.com/ticket/123)", "the bug (#456)"),
        ("markdown", "<https://trac.example.com/ticket/7>", "#8"),
        ("textile", '"the bug":https://trac.example.com/ticket/123 ok', "the bug (#456) ok"),
        ("jira", "[the bug|https://trac.example.com/ticket/123]", "the bug (#456)"),
        ("jira", "[https://trac.example.com/ticket/7]", "#8"),
    ],
)
def test_links_to_the_old_tracker_are_replaced_whole(syntax: str, text: str, expected: str) -> None:
    assert rewrite(text, syntax) == (expected, [])


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("redmine", "see #123, ##7 and #3-2", "see #456, #8 and #30 (comment 2)"),
        ("redmine", "note #123#note-4", "note #456 (comment 4)"),
        ("roundup", "see issue123 and issue7.", "see #456 and #8."),
        ("csv", "see #123", "see #456"),
    ],
)
def test_other_source_trackers(kind: str, text: str, expected: str) -> None:
    assert rewrite(text, "plain", kind)[0] == expected


def test_rewritten_references_survive_conversion() -> None:
    """The intended order: rewrite in the source markup, then convert."""
    trac = "'''Dup''' of [ticket:123 the login bug], see comment:3:ticket:7.\n{{{\n#123\n}}}"
    text, unresolved = rewrite(trac)
    assert unresolved == []
    assert convert(text, "trac", "textile").text == (
        "*Dup* of the login bug (#456), see #8 (comment 3).\n\n<pre>\n#123\n</pre>"
    )
    assert convert(text, "trac", "markdown").text == (
        "**Dup** of the login bug (#456), see #8 (comment 3).\n\n```\n#123\n```"
    )


def test_references_can_also_be_rewritten_after_conversion() -> None:
    """Trac resources the converter kept as written are still found in the target text."""
    markdown = convert("See [ticket:123 the bug] and #7.", "trac", "markdown").text
    assert rewrite(markdown, "markdown") == ("See the bug (#456) and #8.", [])


# --------------------------------------------------------------------------- mentions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks @alice!", "thanks @asmith!"),
        ("ping @Alice and @bob.", "ping @asmith and ＠bob."),
        ("(@bob) @bob_2 @b.o-b", "(＠bob) ＠bob_2 ＠b.o-b"),
        ("mail alice@example.com or bob@x.org", "mail alice@example.com or bob@x.org"),
        ("see https://git.example.com/@bob/repo", "see https://git.example.com/@bob/repo"),
        ("@", "@"),
        ("「@bob さん」", "「＠bob さん」"),
    ],
)
def test_mentions_are_mapped_or_neutralized(text: str, expected: str) -> None:
    assert neutralize_mentions(text, {"alice": "asmith"}) == expected


def test_all_mentions_can_be_defused_mapped_ones_renamed() -> None:
    text = "ping @Alice and @bob, `@alice` in code"
    assert (
        neutralize_mentions(text, {"alice": "asmith"}, syntax="markdown", live=False)
        == "ping ＠asmith and ＠bob, `@alice` in code"
    )


@pytest.mark.parametrize(
    ("syntax", "text", "expected"),
    [
        ("markdown", "`@bob` and @bob", "`@bob` and ＠bob"),
        ("trac", "{{{\n@bob\n}}}\n@bob", "{{{\n@bob\n}}}\n＠bob"),
        ("textile", "@code@ and @bob", "@code@ and ＠bob"),
    ],
)
def test_mentions_inside_code_are_left_alone(syntax: str, text: str, expected: str) -> None:
    assert neutralize_mentions(text, {}, syntax=syntax) == expected


def test_neutralized_mentions_survive_conversion() -> None:
    text = neutralize_mentions("'''@bob''' said", {})
    for target in ("markdown", "textile", "jira", "plain"):
        assert "＠bob" in convert(text, "trac", target).text


# --------------------------------------------------------------------------- placeholders

REFS = [{"origin": "trac:x#12", "text": "#12"}, {"origin": "trac:x#13", "text": "#13"}]
TEMPLATE = f"see {reference_token(0)} and {reference_token(1)} (comment 2)"


def _inert(written: str) -> str:
    return f"!{written}"


def test_placeholders_render_with_the_id_map_or_inert() -> None:
    ids = {"trac:x#12": "#501"}
    assert render_references(TEMPLATE, REFS, ids.get, _inert) == "see #501 and !#13 (comment 2)"
    assert render_references("no refs", REFS, ids.get, _inert) == "no refs"


def test_a_placeholder_survives_every_markup_conversion() -> None:
    for target in ("textile", "markdown", "jira", "plain"):
        converted = convert(f"'''bold''' {TEMPLATE}", "trac", target).text
        assert render_references(converted, REFS, lambda o: "#9", _inert).count("#9") == 2, target


def test_the_rendering_pattern_finds_what_any_earlier_id_map_wrote() -> None:
    """Sent when #13 was not loaded, looked for after it was: still the same comment."""
    now = {"trac:x#12": "#501", "trac:x#13": "#502"}
    pattern = rendering_pattern(TEMPLATE, REFS, now.get, _inert)
    for written in (
        "see !#12 and !#13 (comment 2)",
        "see #501 and !#13 (comment 2)",
        "see #501 and #502 (comment 2)",
    ):
        assert pattern.fullmatch(written), written
    for other in ("see #501 and #503 (comment 2)", "see #501 and #502", "see 501 and 502"):
        assert pattern.fullmatch(other) is None, other
    # After a rollback and a reload a ticket has a new number: the old one is admitted.
    reloaded = rendering_pattern(TEMPLATE, REFS, now.get, _inert, r"\#\d+")
    assert reloaded.fullmatch("see #501 and #499 (comment 2)")
    assert reloaded.fullmatch("see #501 and issue499 (comment 2)") is None


def test_the_dry_run_shows_where_numbers_will_go() -> None:
    payload = {
        "description": TEMPLATE,
        "comments": [{"key": "k", "body": f"{reference_token(1)}"}],
        "refs": REFS,
    }
    shown = display_payload(payload)
    assert shown["description"] == "see #12→ and #13→ (comment 2)"
    assert shown["comments"][0]["body"] == "#13→"
    assert "refs" not in shown
