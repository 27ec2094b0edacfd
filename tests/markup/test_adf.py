"""Atlassian Document Format: what the Jira Cloud target will send, and reading it back.

Every ADF document written is validated against Atlassian's published JSON
schema (``@atlaskit/adf-schema``, pinned by fixtures/apis/adf.py): the texts
of the fixture dataset, every corpus text of every syntax, and generated
texts.  Reading ADF is checked on documents Atlassian's own transformer wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from fixtures.apis import adf as adf_fixture
from fixtures.generate import load_dataset
from migrator.markup import SYNTAXES, convert
from tests.markup.corpus import SOURCES, cases, long_texts
from tests.markup.oracles import from_adf, show
from tests.markup.test_words import TEXT_SOURCES, generated

HOOKS: dict[str, Any] = {
    "mention": lambda login: login,
    "attachment": lambda name: f"https://files.invalid/{name}",
    "old_url": "https://trac.example.org/project",
}


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(adf_fixture.schema_path().read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session")
def validate(schema: dict[str, Any]) -> Callable[[str], list[str]]:
    """Atlassian's ADF schema, compiled (thousands of documents in a second); gives errors."""
    import fastjsonschema

    check = fastjsonschema.compile(schema)

    def errors(text: str) -> list[str]:
        try:
            check(json.loads(text))
        except fastjsonschema.JsonSchemaException as e:
            return [str(e)]
        return []

    return errors


def test_the_compiled_schema_agrees_with_jsonschema(
    schema: dict[str, Any], validate: Callable[[str], list[str]]
) -> None:
    """The reference validator says the same of a sample, valid and invalid."""
    import jsonschema

    reference = jsonschema.Draft4Validator(schema)
    docs = [convert(c.text, "markdown", "adf", **HOOKS).text for c in cases("markdown")[::9]]
    docs.append('{"version":1,"type":"doc","content":[{"type":"table","content":[]}]}')
    docs.append('{"version":1,"type":"doc","content":[{"type":"text","text":""}]}')
    for doc in docs:
        assert reference.is_valid(json.loads(doc)) == (not validate(doc)), doc


def test_the_schema_is_the_pinned_one() -> None:
    path = adf_fixture.schema_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == adf_fixture.SCHEMA_SHA256
    assert json.loads(path.read_bytes())["$ref"] == "#/definitions/doc_node"


def dataset_texts() -> list[str]:
    """The fixture dataset's ticket descriptions and comments (Trac markup)."""
    texts: list[str] = []
    for ticket in load_dataset()["tickets"]:
        texts.append(ticket["description"] or "")
        texts.extend(c["newvalue"] for c in ticket["changes"] if c["field"] == "comment")
    return [t for t in texts if t.strip()]


def test_every_fixture_text_is_valid_adf(validate: Callable[[str], list[str]]) -> None:
    texts = dataset_texts()
    assert len(texts) > 300
    for text in texts:
        for hooks in (HOOKS, {}):
            out = convert(text, "trac", "adf", **hooks).text
            assert not validate(out), (text[:200], validate(out)[:3])


@pytest.mark.parametrize("source", [*SOURCES, "plain"])
def test_every_corpus_text_is_valid_adf(source: str, validate: Callable[[str], list[str]]) -> None:
    texts = [c.text for c in cases("markdown" if source == "plain" else source)]
    texts += [c.text for c in long_texts(source)]
    for text in texts:
        out = convert(text, source, "adf", **HOOKS).text
        assert not validate(out), (text[:200], validate(out)[:3])


@pytest.mark.parametrize("source", TEXT_SOURCES)
def test_generated_text_is_valid_adf(source: str, validate: Callable[[str], list[str]]) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(generated(source))
    def check(text: str) -> None:
        out = convert(text, source, "adf", **HOOKS).text
        assert not validate(out), validate(out)[:3]

    check()


def test_empty_text_is_an_empty_document(validate: Callable[[str], list[str]]) -> None:
    for syntax in SYNTAXES:
        out = convert("", syntax, "adf").text
        assert json.loads(out) == {"version": 1, "type": "doc", "content": []}
        assert not validate(out)


def test_adf_is_deterministic_compact_json() -> None:
    text = "= T =\nSome '''bold''' and [http://x.com link]."
    out = convert(text, "trac", "adf").text
    assert out == convert(text, "trac", "adf").text
    assert "\n" not in out and ": " not in out
    assert json.loads(out)["content"][0] == {
        "type": "heading",
        "attrs": {"level": 1},
        "content": [{"type": "text", "text": "T"}],
    }


def adf(text: str, source: str, **hooks: Any) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = json.loads(convert(text, source, "adf", **hooks).text)[
        "content"
    ]
    return content


def test_marks_nodes_and_what_adf_forbids() -> None:
    (para,) = adf('x **b *bi*** `c` [l](http://y.com "t")', "markdown")
    assert para["content"] == [
        {"type": "text", "text": "x "},
        {"type": "text", "text": "b ", "marks": [{"type": "strong"}]},
        {"type": "text", "text": "bi", "marks": [{"type": "em"}, {"type": "strong"}]},
        {"type": "text", "text": " "},
        {"type": "text", "text": "c", "marks": [{"type": "code"}]},
        {"type": "text", "text": " "},
        {
            "type": "text",
            "text": "l",
            "marks": [{"type": "link", "attrs": {"href": "http://y.com", "title": "t"}}],
        },
    ]
    # Inline code takes no other mark but a link.
    (para,) = adf("'''`x`'''", "trac")
    assert para["content"] == [{"type": "text", "text": "x", "marks": [{"type": "code"}]}]
    # An image is a block of its own, between the paragraph's two halves.
    nodes = adf("see ![shot](http://x.com/a.png) here", "markdown")
    assert [n["type"] for n in nodes] == ["paragraph", "mediaSingle", "paragraph"]
    assert nodes[1]["content"][0]["attrs"] == {
        "type": "external",
        "url": "http://x.com/a.png",
        "alt": "shot",
    }


def test_a_quote_in_a_quote_and_a_table_in_a_list_move_where_adf_allows() -> None:
    result = convert(
        "> a\n>\n> > b\n\n- item\n\n  | x |\n  |---|\n  | 1 |\n- next", "markdown", "adf"
    )
    nodes = json.loads(result.text)["content"]
    assert [n["type"] for n in nodes] == ["blockquote", "bulletList", "table", "bulletList"]
    assert [p["content"][0]["text"] for p in nodes[0]["content"]] == ["a", "b"]
    assert result.warnings == [
        "markup-approximate: a quote inside a quote flattened",
        "markup-approximate: a block inside a list item placed after the item",
    ]


def test_mentions_and_attachments_go_through_the_hooks() -> None:
    users = {"jdoe": "5b10ac8d82e05b22cc7d4ef5"}
    (para,) = adf(
        "Ask [~jdoe] or [~nobody] about [^log.txt].",
        "jira",
        mention=users.get,
        attachment=lambda name: f"https://jira.example/secure/attachment/1/{name}",
    )
    assert para["content"] == [
        {"type": "text", "text": "Ask "},
        {
            "type": "mention",
            "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@5b10ac8d82e05b22cc7d4ef5"},
        },
        {"type": "text", "text": " or [~nobody] about "},
        {
            "type": "text",
            "text": "log.txt",
            "marks": [
                {
                    "type": "link",
                    "attrs": {"href": "https://jira.example/secure/attachment/1/log.txt"},
                }
            ],
        },
        {"type": "text", "text": "."},
    ]


# ---------------------------------------------------------------------- reading ADF


def test_reading_what_atlassian_wrote_shows_the_same() -> None:
    """Atlassian's ADF for each Jira case, read and written again, shows what it showed."""
    for case in cases("adf"):
        doc = json.loads(case.text)
        ours = json.loads(
            convert(convert(case.text, "adf", "markdown").text, "markdown", "adf").text
        )
        if case.name in ADF_ROUND_TRIP_APPROXIMATE:
            continue
        assert from_adf(ours) == from_adf(doc), (
            f"{case.name}\n{show(from_adf(doc))}\n---\n{show(from_adf(ours))}"
        )


# Jira's emoticons are Atlassian's own pictures (no Unicode counterpart), and an
# attachment's ADF media names a file Markdown can only link to.
ADF_ROUND_TRIP_APPROXIMATE = {
    "atlassian:status-like",
    "atlassian:attachment-link",
    "atlassian:emoticons",
    "atlassian:link-file",  # no Markdown reader or tracker keeps a file: link
}


def test_text_that_is_not_adf_is_read_as_plain_text() -> None:
    result = convert("not *json*", "adf", "markdown")
    assert result.text == "not \\*json\\*"
    assert result.warnings == [
        "markup-literal: text that is not an ADF document read as plain text"
    ]


def test_adf_nodes_without_a_counterpart_keep_their_text() -> None:
    doc = {
        "version": 1,
        "type": "doc",
        "content": [
            {
                "type": "panel",
                "attrs": {"panelType": "info"},
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "note"}]}],
            },
            {
                "type": "taskList",
                "attrs": {"localId": "1"},
                "content": [
                    {
                        "type": "taskItem",
                        "attrs": {"localId": "2", "state": "DONE"},
                        "content": [{"type": "text", "text": "done"}],
                    },
                    {
                        "type": "taskItem",
                        "attrs": {"localId": "3", "state": "TODO"},
                        "content": [{"type": "text", "text": "todo"}],
                    },
                ],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "status", "attrs": {"text": "IN REVIEW", "color": "blue"}},
                    {"type": "text", "text": " "},
                    {"type": "inlineCard", "attrs": {"url": "https://x.example/1"}},
                    {"type": "futureNode", "attrs": {"text": "from the future"}},
                ],
            },
        ],
    }
    out = convert(json.dumps(doc), "adf", "markdown").text
    assert out == (
        "note\n\n- [x] done\n- [ ] todo\n\nIN REVIEW <https://x.example/1>from the future"
    )
