"""``migrator check`` on real staged data against the real Redmine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_runner import run


def staged(make_migration: Any, env: Path) -> Any:
    m = make_migration(env=env)
    assert run(m.config, "extract", "-q").exit_code == 0
    return m


def test_clean_mapping_passes_and_lists_every_value(
    make_migration: Any, small_trac_env: Path, dataset: dict[str, Any]
) -> None:
    m = staged(make_migration, small_trac_env)
    result = run(m.config, "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["blocking"] == []
    assert report["tickets"] == 30
    tracker = {v["from"]: (v["to"], v["count"]) for v in report["values"]["tracker"]}
    expected = {}
    for t in dataset["tickets"][:30]:
        expected[t["type"]] = expected.get(t["type"], 0) + 1
    mapped = {"defect": "Bug", "enhancement": "Feature", "task": "Support"}
    assert tracker == {k: (mapped[k], n) for k, n in expected.items()}
    assert report["users"][0]["login"] in ("yamada", "anonymous")
    assert report["target_checked"].startswith("Redmine at http://127.0.0.1:")
    assert "nothing blocks the plan" in run(m.config, "check").output


def test_unmapped_values_and_missing_target_names_block(
    make_migration: Any, small_trac_env: Path
) -> None:
    m = staged(make_migration, small_trac_env)
    text = m.mapping.read_text(encoding="utf-8")
    text = text.replace("      task: Support\n", "").replace("reopened: New", "reopened: Frozen")
    text = text.replace("suzuki: suzuki", "suzuki: ghost")
    # A project the tickets are routed to is checked like target.project.
    assert text.count("\nvalues:\n") == 1
    route = "\nvalues:\n  project: {from: type, map: {defect: no-such-project}, default: ''}\n"
    text = text.replace("\nvalues:\n", route)
    m.mapping.write_text(text, encoding="utf-8")
    result = run(m.config, "check")
    assert result.exit_code == 1
    assert "unmapped values (block the plan):" in result.output
    assert "tracker <- type: 'task'" in result.output
    assert "status not in Redmine: Frozen" in result.output
    assert "ghost" in result.output and "users not in Redmine" in result.output
    assert "project 'no-such-project' not found" in result.output
    offline = run(m.config, "check", "--offline")
    assert offline.exit_code == 1 and "Frozen" not in offline.output.split("unmapped values")[1]
