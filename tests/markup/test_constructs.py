"""What each reader and writer gives for the constructs that used to go wrong.

The rendered comparisons (test_rendered.py) say that these show alike in the
trackers; here the exact text is pinned, so that a change of spelling is a
decision, not an accident.
"""

from __future__ import annotations

import pytest

from migrator.markup import Converted, convert

USERS = {"jdoe": "john"}
HOOKS = {"mention": USERS.get, "attachment": lambda name: f"https://files.example/{name}"}


@pytest.mark.parametrize(
    ("textile", "markdown"),
    [
        ("*_bold italic_* and _*x*_", "***bold italic*** and ***x***"),
        (
            "Use <code class=\"ruby\">puts 'hi'</code> and <kbd>Ctrl</kbd>",
            "Use `puts 'hi'` and `Ctrl`",
        ),
        ('<pre class="wiki">\nkeep   this\n</pre>', "```\nkeep   this\n```"),
        ("Output: <pre>err</pre> after", "Output:\n\n```\nerr\n```\n\nafter"),
        # Redmine's RedCloth3 has no bc. blocks: the text shows as written.
        ("bc. not code in Redmine", "bc. not code in Redmine"),
        ("A source[1].\n\nfn1. The source.", "A source<sup>1</sup>.\n\n<sup>1</sup> The source."),
        ("ABC(Always Be Closing) rule", '<abbr title="Always Be Closing">ABC</abbr> rule'),
        ("bq.:http://x.com/src A quote.", "> A quote."),
        ("!(shadow)a.png! !{width:10px}b.png!", "![](a.png) ![](b.png)"),
        (
            "Go to http://x.com/#!/r and http://x.com/a_b_c",
            "Go to http://x.com/#!/r and <http://x.com/a_b_c>",
        ),
        ("Write @admin@example.com@ now", "Write `admin@example.com` now"),
        ("|first\nsecond|b|", "|  |  |\n|---|---|\n| first<br>second | b |"),
        ('"Example (a title)":http://x.com/', '[Example](http://x.com/ "a title")'),
        # Redmine shows other HTML as text.
        ("<b>not bold</b> line<br />break", "\\<b>not bold\\</b> line\\<br />break"),
    ],
)
def test_textile_to_markdown(textile: str, markdown: str) -> None:
    assert convert(textile, "textile", "markdown") == Converted(markdown, [])


@pytest.mark.parametrize(
    ("jira", "markdown"),
    [
        # A quote on one line ends there: the text after it is not swallowed.
        (
            "{quote}one{quote}\n\nmid\n\n{quote}two{quote}\n\nafter",
            "> one\n\nmid\n\n> two\n\nafter",
        ),
        ("{quote}said{quote}\nand more", "> said\n\nand more"),
        ("{panel:title=T}\nin *panel*\n{panel}", "**T**\n\nin **panel**"),
        ("{color:red}red{color} and ??cite??", "red and *— cite*"),
        ("# a\n#* b\n# c", "1. a\n   - b\n2. c"),
        ("* a\n*# b", "- a\n  1. b"),
        ("||h1||h2||\n|a|b|", "| h1 | h2 |\n|---|---|\n| a | b |"),
        ("||Name|Alice|", "|  |  |\n|---|---|\n| **Name** | Alice |"),
        ("*----*", "---"),  # a rule, as Jira shows it
        ("*b*_i_ and *not\nbold*", "**b***i* and \\*not\nbold\\*"),
        ("un{*}believ{*}able", "un**believ**able"),
        ("An en -- dash", "An en – dash"),
        ("{code:title=Bar.java}\nclass Bar {}\n{code}", "**Bar.java**\n\n```\nclass Bar {}\n```"),
        ("Happy :) (y)", "Happy 🙂 👍"),
        ("[mailto:a@b.example]", "[a@b.example](mailto:a@b.example)"),
    ],
)
def test_jira_to_markdown(jira: str, markdown: str) -> None:
    assert convert(jira, "jira", "markdown").text == markdown


def test_jira_mentions_and_attachments_go_through_the_hooks() -> None:
    text = "Ping [~jdoe] and [~anna], see [^log.txt] and !shot.png!"
    assert convert(text, "jira", "markdown", **HOOKS).text == (  # type: ignore[arg-type]
        "Ping @john and [\\~anna], see [log.txt](https://files.example/log.txt) and "
        "![](https://files.example/shot.png)"
    )
    assert convert(text, "jira", "textile", **HOOKS).text == (  # type: ignore[arg-type]
        'Ping @john and [~anna], see "log.txt":https://files.example/log.txt and '
        "!https://files.example/shot.png!"
    )
    # Without the hooks nothing is guessed: as written, which notifies nobody.
    assert convert(text, "jira", "markdown").text == (
        "Ping [\\~jdoe] and [\\~anna], see \\[^log.txt] and ![](shot.png)"
    )


@pytest.mark.parametrize(
    ("trac", "markdown"),
    [
        ("First[[BR]]\nsecond\\\\\nthird", "First\\\nsecond\\\nthird"),
        ("a. one\nb. two", "1. one\n2. two"),  # no other markup: the fast path must see it
        ("i. one\nii. two", "1. one\n2. two"),
        (" 1. one\n\n 2. two", "1. one\n\n2) two"),  # two lists in Trac, two here
        (" 0. zero", "0. zero"),
        ("Text\n B. bee", "Text\n\n2. bee"),
        ("|| a !|| b || c ||", "|  |  |\n|---|---|\n| a \\|\\| b | c |"),
        ("[[span('''b''' t, style=x)]] [=#a ''l'']", "**b** t *l*"),
        ("svn+ssh://h/r", "<svn+ssh://h/r>"),
        ("[[Image(a.png, link=http://x.com/)]]", "[![](a.png)](http://x.com/)"),
        ("  ||a||", "> |  |\n> |---|\n> | a |"),
        ("{{{#!html\n<p>Some <b>bold</b><script>x()</script></p>\n}}}", "Some **bold**"),
        (" * item\n   continued", "- item continued"),
        ("{{{#!comment\nfor editors\n}}}", "<!--\n{{{#!comment\nfor editors\n}}}\n-->"),
        (
            "|||| wide ||\n|| a || b ||",
            '<table>\n<tr><td colspan="2">wide</td></tr>\n<tr><td>a</td><td>b</td></tr>\n</table>',
        ),
    ],
)
def test_trac_to_markdown(trac: str, markdown: str) -> None:
    assert convert(trac, "trac", "markdown").text == markdown


def test_trac_resources_link_to_the_old_trac_when_its_url_is_known() -> None:
    text = "wiki:Start [wiki:Guide g] source:trunk/a.py@4#L2 log:trunk r12 [13] changeset:14"
    old = "https://trac.example.org/p"
    assert convert(text, "trac", "markdown", old_url=old + "/").text == (
        f"[wiki:Start]({old}/wiki/Start) [g]({old}/wiki/Guide) "
        f"[source:trunk/a.py@4#L2]({old}/browser/trunk/a.py?rev=4#L2) "
        f"[log:trunk]({old}/log/trunk) [r12]({old}/changeset/12) "
        f"[\\[13\\]]({old}/changeset/13) [changeset:14]({old}/changeset/14)"
    )
    # Without it they stay as written, for the reference pass to find and report.
    assert convert(text, "trac", "markdown").text == text
    # Tickets are the reference pass's: never linked here.
    assert convert("#12 ticket:12", "trac", "markdown", old_url=old).text == "#12 ticket:12"


@pytest.mark.parametrize(
    ("markdown", "jira", "warnings"),
    [
        ("- run:\n\n  ```sh\n  make\n  ```\n- done", "* run:\n{code:sh}\nmake\n{code}\n* done", []),
        (
            "> a\n>\n> > b",
            "{quote}\na\n\nb\n{quote}",
            ["markup-approximate: a quote inside a quote flattened"],
        ),
        ('[l](http://x.com "t")', "[l|http://x.com|t]", []),
        ("**----**", "*\\-\\-\\-\\-*", []),
        ("- [ ] todo\n- [x] done", "* ☐ todo\n* ☑ done", []),
        ("a\nb", "a\nb", []),  # a newline is a line break in Jira: no "\\\\" before it
    ],
)
def test_markdown_to_jira(markdown: str, jira: str, warnings: list[str]) -> None:
    assert convert(markdown, "markdown", "jira") == Converted(jira, warnings)


def test_markdown_reads_what_github_adds_to_commonmark() -> None:
    text = "See www.x.example and a@b.example.[^1]\n\n[^1]: Why."
    assert convert(text, "markdown", "textile").text == (
        'See "www.x.example":http://www.x.example and "a@b.example":mailto:a@b.example.'
        "&#94;1&#94;\n\n# Why."  # RedCloth opens no phrase after a ".": the carets show
    )
    html = "<details>\n<summary>More</summary>\n\nHidden <kbd>x</kbd>.\n</details>"
    assert convert(html, "markdown", "jira").text == "More\n\nHidden {{x}}."
