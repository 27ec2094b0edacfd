"""Every YAML example in docs/mapping.md is a valid mapping that does what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator.errors import PlanError
from migrator.mapping import apply, load_mapping
from migrator.model import Change, Comment, Ticket

DOC = Path(__file__).parents[2] / "docs" / "mapping.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def ticket(**kw: object) -> Ticket:
    base: dict[str, object] = dict(
        origin="trac:demo#7",
        source_id="7",
        project="demo",
        title="ログイン画面でエラーが発生する",
        description="'''重要''' see @bob and @ghost",
        markup="trac",
        type="defect",
        status="closed",
        resolution="wontfix",
        priority="major",
        reporter="alice",
        assignee="yamada",
        components=["core"],
        milestone="1.1",
        custom={"customer": "株式会社サンプル", "severity_level": "high"},
        comments=[Comment("1", "tanaka", "2016-03-02T00:00:00Z", "確認しました")],
        created="2016-03-01T12:00:00Z",
    )
    base.update(kw)
    return Ticket(**base)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hooks").mkdir(exist_ok=True)
    (tmp_path / "hooks" / "prefix.py").write_text(
        "def transform(ticket, payload):\n"
        "    payload['subject'] = '[legacy] ' + payload['subject']\n"
        "    return payload\n",
        encoding="utf-8",
    )
    (tmp_path / "users.csv").write_text(
        "old_login,new_login,email,name\nalice,asmith,a@example.com,Alice\nyamada,yama,,\n",
        encoding="utf-8",
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_there_are_examples() -> None:
    assert len(EXAMPLES) == 5


def test_complete_example(tmp_path: Path) -> None:
    p = apply(load_mapping(write(tmp_path, EXAMPLES[0])), ticket()).payload
    assert (p["tracker"], p["status"], p["priority"]) == ("Bug", "Rejected", "High")
    assert (p["category"], p["version"]) == ("core", "1.1")
    assert p["custom_fields"] == {"Customer": "株式会社サンプル", "Severity": "High"}
    assert p["subject"] == "[core] ログイン画面でエラーが発生する"
    assert "*重要*" in p["description"]  # Trac bold became Textile bold
    assert "@bjones" in p["description"] and "＠ghost" in p["description"]
    assert p["author"] == "asmith" and p["assignee"] is None
    assert "* assignee: yamada" in p["description"]
    assert p["comments"][0]["author"] == "tanaka"


def test_users_from_a_csv_file(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, EXAMPLES[1]))
    assert m.users == {"alice": "asmith"}  # yamada: null in the map wins over the file
    p = apply(m, ticket(type="task", status="new")).payload
    assert (p["tracker"], p["status"], p["priority"]) == ("Bug", "New", "Normal")


def test_hook_example(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, EXAMPLES[2]))
    assert apply(m, ticket()).payload["subject"].startswith("[legacy] ")
    digest = m.digest
    (tmp_path / "hooks" / "prefix.py").write_text(
        "def transform(ticket, payload):\n    raise ValueError('bad data')\n", encoding="utf-8"
    )
    m2 = load_mapping(tmp_path / "mapping.yaml")
    assert m2.digest != digest  # the hook is part of the mapping's identity
    with pytest.raises(PlanError, match=r"mapping hook failed on trac:demo#7: ValueError"):
        apply(m2, ticket())


def test_history_example(tmp_path: Path) -> None:
    m = load_mapping(write(tmp_path, EXAMPLES[3]))
    comment_time = "2016-03-02T00:00:00Z"  # tanaka's comment in ticket()
    t = ticket(
        history=[
            Change(comment_time, "tanaka", "status", "new", "accepted"),
            Change(comment_time, "tanaka", "owner", "alice", "tanaka"),
            Change(comment_time, "tanaka", "keywords", "", "login"),  # not in history.fields
            Change("2016-03-03T00:00:00Z", "alice", "milestone", "1.0", ""),
            Change("2016-03-04T00:00:00Z", "alice", "description", "old", "new"),
        ]
    )
    comments = apply(m, t).payload["comments"]
    # The rendering shown in the text, word for word.
    shown = re.search(r"```text\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert shown is not None
    assert comments[0]["body"] == shown.group(1).strip()
    assert [c["key"] for c in comments] == [
        "trac:demo#7/comment/1",
        "trac:demo#7/history/2016-03-03T00:00:00Z/0",
    ]
    assert comments[1]["author"] == "asmith"
    assert comments[1]["body"].endswith("\n\n* milestone: 1.0 → (empty)")


def test_references_example(tmp_path: Path) -> None:
    """Ticket references become placeholders, shown as ``#12→`` in the dry run."""
    from migrator.mapping.references import display_payload

    m = load_mapping(write(tmp_path, EXAMPLES[4]))
    description = (
        "Same as #12 and [ticket:13 the login bug], see "
        "https://trac.example.com/project/ticket/14, r200 and {{{#15}}}"
    )
    planned = apply(m, ticket(description=description))
    shown = display_payload(planned.payload)["description"]
    assert "Same as #12→ and the login bug (#13→), see #14→, r200 and @#15@" in shown
    assert [r["origin"] for r in planned.payload["refs"]] == [
        "trac:demo#12",
        "trac:demo#13",
        "trac:demo#14",
    ]
    assert any(w.startswith("unresolved-changeset: r200") for w in planned.warnings)
    kept = load_mapping(
        write(tmp_path, EXAMPLES[4].replace("references: rewrite", "references: keep"))
    )
    assert "Same as #12 and" in apply(kept, ticket(description=description)).payload["description"]
