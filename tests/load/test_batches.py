"""Staged batches and rollback, against the real Redmine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_runner import run


def staged(make_migration: Any, env: Path) -> Any:
    m = make_migration(env=env)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    return m


def origins_in_target(redmine_admin: Any, project: str) -> list[str]:
    return sorted(
        cf["value"]
        for issue in redmine_admin.issues(project)
        for cf in issue["custom_fields"]
        if cf["name"] == "Legacy ID"
    )


def test_pilot_then_the_rest_then_rollback(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, dataset: dict[str, Any]
) -> None:
    m = staged(make_migration, small_trac_env)
    core = [t["id"] for t in dataset["tickets"][:30] if t["component"] == "core"]
    assert len(core) >= 3

    result = run(
        m.config, "batch", "create", "pilot", "--where", "component = 'core'", "--limit", "3"
    )
    assert result.exit_code == 0, result.output
    assert "batch pilot: 3 tickets" in result.output
    assert run(m.config, "load", "--batch", "pilot", "-q").exit_code == 0
    pilot = [f"trac:{m.project}#{i}" for i in sorted(core)[:3]]
    assert origins_in_target(redmine_admin, m.project) == sorted(pilot)

    # The rest: every ticket not in a batch yet, by id file and by expression.
    wave = [t["id"] for t in dataset["tickets"][:30] if t["id"] not in sorted(core)[:3]][:2]
    ids = m.directory / "ids.txt"
    ids.write_text(f"# wave 2\n{wave[0]}\ntrac:{m.project}#{wave[1]}\n", encoding="utf-8")
    result = run(m.config, "batch", "create", "wave-2", "--ids", str(ids))
    assert result.exit_code == 0, result.output
    result = run(m.config, "batch", "create", "rest", "--where", "id >= 1")
    assert result.exit_code == 0, result.output
    assert f"batch rest: {30 - 3 - 2} tickets" in result.output
    listed = json.loads(run(m.config, "batch", "list", "--json").output)
    assert [(b["name"], b["tickets"]) for b in listed] == [
        ("pilot", 3),
        ("wave-2", 2),
        ("rest", 25),
    ]
    assert listed[0]["states"] == {"done": 3, "pending": 0}

    # Rollback removes exactly the pilot's issues and makes them pending again.
    result = run(m.config, "rollback", "--batch", "pilot", "--yes")
    assert result.exit_code == 0, result.output
    assert "3 ticket(s) deleted" in result.output
    assert origins_in_target(redmine_admin, m.project) == []
    assert json.loads(run(m.config, "batch", "show", "pilot").output)["states"]["pending"] == 3

    # Loading everything afterwards yields each ticket exactly once.
    assert run(m.config, "load", "-q").exit_code == 0
    assert origins_in_target(redmine_admin, m.project) == sorted(
        f"trac:{m.project}#{t['id']}" for t in dataset["tickets"][:30]
    )
    assert run(m.config, "verify", "-q").exit_code == 0


def test_rollback_with_close_frees_the_origin(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any
) -> None:
    m = staged(make_migration, small_trac_env)
    assert run(m.config, "batch", "create", "pilot", "--limit", "2").exit_code == 0
    assert run(m.config, "load", "--batch", "pilot", "-q").exit_code == 0
    result = run(m.config, "rollback", "--batch", "pilot", "--close", "--yes")
    assert result.exit_code == 0, result.output
    issues = redmine_admin.issues(m.project)
    assert len(issues) == 2 and all(i["status"]["is_closed"] for i in issues)
    assert all(o.startswith("rolled-back:") for o in origins_in_target(redmine_admin, m.project))
    assert run(m.config, "load", "--batch", "pilot", "-q").exit_code == 0
    assert len(redmine_admin.issues(m.project)) == 4  # two retired copies, two live ones


def test_rollback_asks_first(make_migration: Any, small_trac_env: Path) -> None:
    m = staged(make_migration, small_trac_env)
    assert run(m.config, "batch", "create", "pilot", "--limit", "1").exit_code == 0
    from click.testing import CliRunner

    from migrator.cli import main

    result = CliRunner().invoke(
        main, ["rollback", "--batch", "pilot", "-c", str(m.config)], input="n\n"
    )
    assert result.exit_code == 1 and "Aborted" in result.output


def test_bad_selections(make_migration: Any, small_trac_env: Path) -> None:
    m = staged(make_migration, small_trac_env)
    result = run(m.config, "batch", "create", "x", "--where", "status = new")
    assert result.exit_code == 2 and "column 10" in result.stderr
    result = run(m.config, "batch", "create", "x", "--where", "colour = 'red'")
    assert result.exit_code == 2 and "expected a field" in result.stderr
    assert run(m.config, "batch", "create", "x", "--where", "id = 1").exit_code == 0
    result = run(m.config, "batch", "create", "y", "--where", "id = 1")
    assert result.exit_code == 1 and "matches no ticket" in result.stderr
    result = run(m.config, "batch", "create", "x", "--limit", "1")
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = run(m.config, "load", "--batch", "nope")
    assert result.exit_code == 2 and "known batches: x" in result.stderr
