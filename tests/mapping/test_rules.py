"""Mapping files: every rule kind works, every malformed file names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.errors import MappingError
from migrator.mapping import apply, load_mapping
from migrator.model import Comment, Ticket

SHIPPED = Path(__file__).parents[2] / "mappings" / "trac-to-redmine.yaml"

VALID = """\
version: 1
target: {project: demo}
values:
  tracker: {from: type, map: {defect: Bug}}
  status:
    from: status
    rules:
      - when: {status: closed, resolution: [wontfix, invalid]}
        value: Rejected
    map: {new: New, closed: Closed}
  priority: {from: priority, map: {major: High}, default: Normal}
users:
  map: {alice: asmith, ghost: null}
preserve: [milestone]
drop: [history]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def ticket(**kw: object) -> Ticket:
    base: dict[str, object] = dict(
        origin="trac:t#1",
        source_id="1",
        project="t",
        title="ログイン画面でエラーが発生する",
        description="本文",
        type="defect",
        status="new",
        priority="major",
        reporter="alice",
        created="2016-03-01T12:00:00Z",
    )
    base.update(kw)
    return Ticket(**base)  # type: ignore[arg-type]


def test_shipped_mapping_is_valid_and_is_the_init_template() -> None:
    mapping = load_mapping(SHIPPED)
    assert mapping.project == "demo"
    template = Path(__file__).parents[2] / "migrator/trackers/redmine/mappings/trac-to-redmine.yaml"
    assert template.read_bytes() == SHIPPED.read_bytes()


def test_value_map_rule_default_and_users(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, VALID))
    p = apply(m, ticket()).payload
    assert (p["tracker"], p["status"], p["priority"], p["author"]) == (
        "Bug",
        "New",
        "High",
        "asmith",
    )
    closed = apply(m, ticket(status="closed", resolution="wontfix", priority="minor")).payload
    assert (closed["status"], closed["priority"]) == ("Rejected", "Normal")
    fixed = apply(m, ticket(status="closed", resolution="fixed")).payload
    assert fixed["status"] == "Closed"


def test_unmapped_value_and_user_are_reported_not_guessed(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, VALID))
    planned = apply(m, ticket(type="task", reporter="ghost"))
    assert ("tracker <- type", "task") in planned.unmapped
    assert planned.payload["author"] is None
    assert any(w.startswith("unmapped-user: ghost") for w in planned.warnings)
    assert "originally by ghost on 2016-03-01 12:00 UTC" in planned.payload["description"]


def test_text_survives_and_long_title_is_kept_in_the_text(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, VALID))
    title = "長い" * 200
    t = ticket(
        title=title,
        milestone="1.0",
        comments=[Comment("1", "alice", "2016-03-02T00:00:00Z", "コメント 🐛 <b>x</b>")],
    )
    planned = apply(m, t)
    p = planned.payload
    assert len(p["subject"]) == 255 and p["subject"].endswith("…")
    assert f"Full title: {title}" in p["description"]
    assert "本文" in p["description"] and "* milestone: 1.0" in p["description"]
    assert p["comments"][0]["body"].endswith("コメント 🐛 <b>x</b>")
    assert p["comments"][0]["author"] == "asmith"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\ntarget:\n\tproject: d\n", "m.yaml:3: YAML syntax"),
        (VALID + "colour: red\n", "m.yaml:16: unknown key 'colour'"),
        (VALID.replace("drop: [history]", "drop: [history]\ndrop: [closed]"), "repeats the one"),
        (VALID.replace("target: {project: demo}\n", ""), "target.project (the target project)"),
        (
            VALID.replace(
                "  priority: {from: priority, map: {major: High}, default: Normal}\n", ""
            ),
            "values.priority is required",
        ),
        (VALID.replace("from: type", "from: kind"), "m.yaml:4: values.tracker.from: 'kind'"),
        (
            VALID.replace("map: {defect: Bug}", "mapp: {defect: Bug}"),
            "values.tracker.mapp: unknown",
        ),
        (
            VALID.replace("        value: Rejected\n", ""),
            "rules[0] needs exactly `when` and `value`",
        ),
        (
            VALID.replace("default: Normal", "default: [Normal]"),
            "values.priority.default must be text",
        ),
        (VALID.replace("alice: asmith", "alice: [asmith]"), "users.map.alice: new login"),
        (VALID + "", None),
        (VALID.replace("drop: [history]", "drop: [milestone]"), "listed in both preserve and drop"),
        (VALID.replace("preserve: [milestone]", "preserve: [colour]"), "preserve: 'colour' is not"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        (
            VALID + "templates: {subject: '{colour} x'}\n",
            "templates.subject must be text containing",
        ),
        (VALID + "templates: {subject: '{colour} {title}'}\n", "unknown placeholder {colour}"),
        (VALID + "text: {markup: html}\n", "text.markup must be one of"),
        (VALID + "text: {mentions: shout}\n", "text.mentions must be neutralize, all or keep"),
        (VALID + "text: {references: drop}\n", "text.references must be rewrite or keep"),
        (VALID + "text: {refs: keep}\n", "text.refs: unknown key; expected markup, mentions"),
        (VALID + "custom_fields: {Customer: {map: {a: b}}}\n", "custom_fields.Customer.from"),
        (VALID.replace("  map: {alice: asmith, ghost: null}", "  file: nope.csv"), "cannot read"),
        (VALID + "hook: nope.py\n", "hook module cannot be read"),
        (
            VALID.replace("values:\n", "values:\n  severity: {from: severity}\n"),
            "values.severity: unknown target field",
        ),
    ],
)
def test_malformed_mapping_names_file_line_and_key(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    path = write(tmp_path, text)
    if expected is None:
        load_mapping(path)
        return
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    bad = VALID.replace("from: type", "from: kind").replace("preserve: [milestone]", "colour: 1")
    with pytest.raises(MappingError) as err:
        load_mapping(write(tmp_path, bad))
    assert len(err.value.problems) == 2


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_user_file_with_a_bad_header_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("old,new\nalice,asmith\n", encoding="utf-8")
    text = VALID.replace("  map: {alice: asmith, ghost: null}", "  file: users.csv")
    with pytest.raises(MappingError, match=r"users.csv:1: the header must start with old_login"):
        load_mapping(write(tmp_path, text))


def test_hook_without_transform(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(MappingError, match="hook must define transform"):
        load_mapping(write(tmp_path, VALID + "hook: h.py\n"))


def test_rules_route_tickets_to_other_projects_and_fallback_acts_for_unmapped(
    tmp_path: Path,
) -> None:
    text = VALID.replace(
        "values:\n",
        "values:\n  project:\n    from: components\n"
        "    rules: [{when: {components: docs}, value: documentation}]\n",
    ).replace(
        "  map: {alice: asmith, ghost: null}", "  map: {alice: asmith}\n  fallback: migration-bot"
    )
    m = load_mapping(write(tmp_path, text))
    docs = apply(m, ticket(components=["docs"], reporter="ghost", assignee="ghost")).payload
    assert docs["project"] == "documentation"
    assert docs["author"] == "migration-bot" and docs["assignee"] is None
    assert "originally by ghost" in docs["description"]
    assert apply(m, ticket(components=["core"])).payload["project"] == "demo"


def test_original_times_can_go_to_custom_fields(tmp_path: Path) -> None:
    """Redmine's REST API cannot set creation times: custom fields can hold them."""
    text = VALID + (
        'custom_fields:\n  Original created: {template: "{created}"}\n'
        '  Original updated: {template: "{updated}"}\n'
    )
    ticket = Ticket(
        origin="trac:demo#3",
        source_id="3",
        project="demo",
        title="t",
        type="defect",
        status="new",
        priority="major",
        created="2016-03-01T12:00:00Z",
        updated="2017-05-02T08:30:00Z",
    )
    payload = apply(load_mapping(write(tmp_path, text)), ticket).payload
    assert payload["custom_fields"] == {
        "Original created": "2016-03-01T12:00:00Z",
        "Original updated": "2017-05-02T08:30:00Z",
    }


def test_issue_attributes_are_spelt_one_way(tmp_path: Path) -> None:
    text = VALID.replace(
        "users:\n",
        "  private: {from: custom.secret, keep: true}\n"
        '  start_date: {template: "{created}"}\n'
        "  due_date: {from: custom.due, keep: true}\n"
        "  done_ratio: {from: custom.done, keep: true}\n"
        "  estimated_hours: {from: custom.effort, keep: true}\n"
        "users:\n",
    )
    mapping = load_mapping(write(tmp_path, text))

    def plan(**custom: str) -> tuple[dict[str, object], list[str]]:
        ticket = Ticket(
            origin="trac:demo#4",
            source_id="4",
            project="demo",
            title="t",
            type="defect",
            status="new",
            priority="major",
            created="2016-03-02T01:30:00+09:00",  # 2016-03-01 in UTC
            custom=custom,
        )
        planned = apply(mapping, ticket)
        return planned.payload, planned.warnings

    p, warnings = plan(secret="True", due="2016-04-01", done="30.0", effort="2.50")
    assert (p["private"], p["start_date"], p["due_date"]) == ("yes", "2016-03-01", "2016-04-01")
    assert (p["done_ratio"], p["estimated_hours"]) == ("30", "2.5")
    assert warnings == []
    p, _ = plan(secret="0")
    assert p["private"] == "no" and p["due_date"] is None  # absent stays unset
    p, warnings = plan(secret="maybe", due="next week", done="120", effort="-1")
    assert [p[k] for k in ("private", "due_date", "done_ratio", "estimated_hours")] == [None] * 4
    assert sorted(w.split(" ")[1] for w in warnings) == [
        "done_ratio",
        "due_date",
        "estimated_hours",
        "private",
    ]
    # Not lost: what could not be set is kept in the text.
    assert "* due_date: next week" in str(p["description"])
    assert "* done_ratio: 120" in str(p["description"])
