"""Field-change history rendered as short lists in the journals (`history: {render: compact}`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migrator.errors import MappingError
from migrator.mapping import apply, load_mapping
from migrator.model import Change, Comment, Ticket

BASE = """\
version: 1
target: {project: demo}
values:
  tracker: {from: type, default: Bug}
  status: {from: status, default: New}
  priority: {from: priority, default: Normal}
users:
  map: {alice: asmith, bob: bjones}
drop: [updated]
"""
COMPACT = BASE + "history:\n  render: compact\n"

T1 = "2016-03-02T09:00:00Z"
T2 = "2016-03-03T10:00:00Z"
T3 = "2016-03-04T11:00:00Z"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def ticket(**kw: Any) -> Ticket:
    base: dict[str, Any] = dict(
        origin="trac:t#1",
        source_id="1",
        project="t",
        title="ログイン画面でエラーが発生する",
        description="本文",
        type="defect",
        status="closed",
        priority="major",
        reporter="alice",
        created="2016-03-01T12:00:00Z",
    )
    base.update(kw)
    return Ticket(**base)


def comments(text: str, t: Ticket, tmp_path: Path) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = apply(load_mapping(write(tmp_path, text)), t).payload["comments"]
    return result


def test_changes_of_one_edit_become_one_journal_in_source_order(tmp_path: Path) -> None:
    t = ticket(
        history=[
            Change(T1, "bob", "status", "new", "assigned"),
            Change(T1, "bob", "owner", "", "bob"),
            Change(T2, "alice", "priority", "major", "critical"),
        ]
    )
    got = comments(COMPACT, t, tmp_path)
    assert [c["key"] for c in got] == [f"trac:t#1/history/{T1}/0", f"trac:t#1/history/{T2}/0"]
    first = got[0]
    assert first["author"] == "bjones" and first["time"] == T1
    assert first["body"] == (
        "_originally by bob on 2016-03-02 09:00 UTC_\n\n"
        "* status: new → assigned\n"
        "* owner: (empty) → bob"
    )
    assert got[1]["author"] == "asmith"
    assert got[1]["body"].endswith("\n\n* priority: major → critical")


def test_changes_go_into_the_comment_of_the_same_edit(tmp_path: Path) -> None:
    t = ticket(
        comments=[
            Comment("1", "bob", T1, "Taking this."),
            Comment("2", "alice", T2, "別の人のコメント"),
        ],
        history=[
            Change(T1, "bob", "status", "new", "accepted"),
            Change(T1, "bob", "milestone", "1.0", None),
            # Same time as comment 2, another author: not that comment's edit.
            Change(T2, "bob", "priority", "major", "minor"),
        ],
    )
    got = comments(COMPACT, t, tmp_path)
    assert [c["key"] for c in got] == [
        "trac:t#1/comment/1",
        "trac:t#1/comment/2",
        f"trac:t#1/history/{T2}/0",
    ]
    assert got[0]["body"] == (
        "_originally by bob on 2016-03-02 09:00 UTC_\n\nTaking this.\n\n"
        "* status: new → accepted\n"
        "* milestone: 1.0 → (empty)"
    )
    assert got[1]["body"].endswith("別の人のコメント")  # untouched
    assert got[2]["author"] == "bjones" and "* priority: major → minor" in got[2]["body"]


def test_without_the_key_history_stays_out_as_before(tmp_path: Path) -> None:
    t = ticket(
        comments=[Comment("1", "bob", T1, "Taking this.")],
        history=[Change(T1, "bob", "status", "new", "accepted"), Change(T2, "bob", "x", "a", "b")],
    )
    plain = comments(BASE, t, tmp_path)
    assert plain == comments(BASE + "history: {render: none}\n", t, tmp_path)
    assert [c["key"] for c in plain] == ["trac:t#1/comment/1"]
    assert plain[0]["body"].endswith("Taking this.")


def test_field_filter_keeps_the_keys_of_what_remains(tmp_path: Path) -> None:
    t = ticket(
        history=[
            Change(T1, "alice", "milestone", "1.0", "1.1"),
            Change(T1, "bob", "status", "new", "assigned"),
            Change(T1, "bob", "keywords", "", "ui"),
            Change(T2, "alice", "milestone", "1.1", "2.0"),
        ]
    )
    every = comments(COMPACT, t, tmp_path)
    assert [c["key"] for c in every] == [
        f"trac:t#1/history/{T1}/0",  # alice, then bob: by author at one instant
        f"trac:t#1/history/{T1}/1",
        f"trac:t#1/history/{T2}/0",
    ]
    only = comments(COMPACT + "  fields: [status, owner]\n", t, tmp_path)
    assert [c["key"] for c in only] == [f"trac:t#1/history/{T1}/1"]
    assert only[0]["body"].endswith("\n\n* status: new → assigned")
    assert "keywords" not in only[0]["body"]


def test_chronological_order_with_comments_and_sub_second_times(tmp_path: Path) -> None:
    # As text "…00.500000Z" sorts before "…00Z"; as instants it is later.
    whole, half = "2016-03-03T12:00:00Z", "2016-03-03T12:00:00.500000Z"
    t = ticket(
        comments=[
            Comment("1", "alice", T1, "first"),
            Comment("2", "alice", whole, "at eight"),
            Comment("3", "alice", T3, "last"),
        ],
        history=[
            Change(T2, "bob", "status", "new", "assigned"),
            Change(half, "bob", "priority", "major", "minor"),
            Change(whole, "bob", "owner", "bob", "alice"),  # tie with comment 2: after it
        ],
    )
    got = comments(COMPACT, t, tmp_path)
    assert [c["key"].split("/", 1)[1] for c in got] == [
        "comment/1",
        f"history/{T2}/0",
        "comment/2",
        f"history/{whole}/0",
        f"history/{half}/0",
        "comment/3",
    ]


def test_replanning_is_identical_and_keys_are_unique(tmp_path: Path) -> None:
    history = [
        Change(T1, author, field, "a", "b")
        for author in ("carol", "alice", "bob")
        for field in ("status", "priority")
    ]
    t = ticket(history=history, comments=[Comment("1", "bob", T2, "x")])
    mapping = load_mapping(write(tmp_path, COMPACT))
    first = apply(mapping, t).payload
    again = apply(load_mapping(write(tmp_path, COMPACT)), Ticket.from_dict(t.to_dict())).payload
    assert first == again
    keys = [c["key"] for c in first["comments"]]
    assert len(keys) == len(set(keys)) == 4
    assert [c["body"].split(" on ", 1)[0] for c in first["comments"][:3]] == [
        "_originally by alice",
        "_originally by bob",
        "_originally by carol",
    ]
    # The number follows the author, not the order the source listed the edits in.
    edits = [history[i : i + 2] for i in range(0, len(history), 2)]
    reordered = [change for edit in edits[::-1] for change in edit]
    assert apply(mapping, ticket(history=reordered, comments=t.comments)).payload == first


def test_values_texts_comments_and_mentions(tmp_path: Path) -> None:
    t = ticket(
        history=[
            Change(T1, "bob", "description", "old text", "new text"),
            Change(T1, "bob", "summary", "short", "x" * 300),
            Change(T1, "bob", "custom_notes", "line one\nline two", ""),
            Change(T1, "bob", "resolution", None, "  "),
            Change(T1, "bob", "comment", "1", "a comment Trac keeps as a change"),
            Change(T1, "bob", "keywords", "", "@ghost @alice"),
        ]
    )
    (journal,) = comments(COMPACT, t, tmp_path)
    lines = journal["body"].split("\n\n", 1)[1].splitlines()
    assert lines == [
        "* description: changed",
        "* summary: changed",
        "* custom_notes: changed",
        "* resolution: (empty) → (empty)",
        "* keywords: (empty) → ＠ghost ＠alice",  # nobody is notified by an old value
    ]
    kept = comments(COMPACT.replace("users:", "text: {mentions: keep}\nusers:"), t, tmp_path)
    assert kept[0]["body"].endswith("* keywords: (empty) → @ghost @alice")


def test_only_comment_changes_make_no_journal(tmp_path: Path) -> None:
    t = ticket(
        comments=[Comment("1", "bob", T1, "text")],
        history=[Change(T1, "bob", "comment", "1", "text"), Change(T2, "bob", "comment", "", "")],
    )
    got = comments(COMPACT, t, tmp_path)
    assert [c["body"] for c in got] == [comments(BASE, t, tmp_path)[0]["body"]]


def test_unmapped_change_author_is_handled_like_a_comment_author(tmp_path: Path) -> None:
    text = COMPACT.replace("map: {alice: asmith, bob: bjones}", "map: {}\n  fallback: migrator")
    mapping = load_mapping(write(tmp_path, text))
    planned = apply(mapping, ticket(reporter=None, history=[Change(T1, "eve", "status", "a", "b")]))
    (journal,) = planned.payload["comments"]
    assert journal["author"] == "migrator"
    assert "originally by eve" in journal["body"]
    assert "unmapped-user: eve (change author), named in the text" in planned.warnings
    strict = load_mapping(write(tmp_path, COMPACT.replace("users:", "users:\n  unmapped: error")))
    blocked = apply(strict, ticket(history=[Change(T1, "eve", "status", "a", "b")]))
    assert ("user (change author)", "eve") in blocked.unmapped


def test_rendered_history_counts_as_migrated_and_changes_the_digest(tmp_path: Path) -> None:
    plain = load_mapping(write(tmp_path, BASE))
    assert "history" not in plain.accounted_fields()
    compact = load_mapping(write(tmp_path, COMPACT))
    assert "history" in compact.accounted_fields()
    filtered = load_mapping(write(tmp_path, COMPACT + "  fields: [status]\n"))
    assert len({plain.digest, compact.digest, filtered.digest}) == 3
    assert filtered.history.fields == ("status",)


# BASE has 9 lines: `history:` is on line 10, its first key on line 11.
@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("history: compact\n", "m.yaml:10: history must be a mapping (render, fields)"),
        (
            "history:\n  render: full\n",
            "m.yaml:11: history.render must be none or compact, not 'full'",
        ),
        ("history:\n  render: [compact]\n", "m.yaml:11: history.render must be none or compact"),
        (
            "history:\n  render: compact\n  colour: red\n",
            "m.yaml:12: history.colour: unknown key; expected render, fields",
        ),
        (
            "history:\n  render: compact\n  fields: []\n",
            "m.yaml:12: history.fields must be a list of source field names",
        ),
        (
            "history:\n  render: compact\n  fields: {status: yes}\n",
            "m.yaml:12: history.fields must be a list of source field names",
        ),
    ],
)
def test_malformed_history_names_file_and_line(tmp_path: Path, tail: str, expected: str) -> None:
    path = write(tmp_path, BASE + tail)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_history_both_dropped_and_rendered_is_one_problem_among_all(tmp_path: Path) -> None:
    dropped = COMPACT.replace("drop: [updated]", "drop: [updated, history]")
    with pytest.raises(MappingError) as err:
        load_mapping(write(tmp_path, dropped + "  colour: red\n"))
    problems = err.value.problems
    assert len(problems) == 2
    assert any(
        "m.yaml:9: history is dropped here but history.render is compact" in p for p in problems
    )
    assert any("m.yaml:12: history.colour: unknown key" in p for p in problems)
    load_mapping(write(tmp_path, dropped.replace("render: compact", "render: none")))


def test_check_counts_people_who_only_changed_fields(tmp_path: Path) -> None:
    """With compact history their edits become journals: check lists them when unmapped."""
    from migrator.mapping.check import check
    from migrator.staging import Staging

    staging = Staging(f"sqlite:///{tmp_path / 'staging.sqlite'}")
    try:
        run_id = staging.start_run("extract")
        with staging.begin() as conn:
            Staging.upsert_ticket(
                conn,
                ticket(history=[Change(T1, "ghost", "status", "new", "assigned")]),
                {},
                run_id,
            )
        users = {
            text: [u["login"] for u in check(staging, load_mapping(write(tmp_path, text))).users]
            for text in (BASE, COMPACT)
        }
    finally:
        staging.close()
    assert users == {BASE: [], COMPACT: ["ghost"]}
