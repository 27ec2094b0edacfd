"""Bad input: one clear line naming the cause and the fix, a non-zero exit, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run


def prepared(make_migration: Any, small_trac_env: Path, **kw: Any) -> Any:
    m = make_migration(env=small_trac_env, **kw)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    return m


def error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_wrong_api_key(make_migration: Any, small_trac_env: Path, redmine_admin: Any) -> None:
    m = prepared(make_migration, small_trac_env, api_key="0" * 40)
    result = run(m.config, "load")
    assert result.exit_code == 1
    line = error_line(result)
    assert "HTTP 401" in line and "check the API key" in line
    assert "0" * 40 not in result.output
    assert redmine_admin.issues(m.project) == []


def test_unreachable_url(make_migration: Any, small_trac_env: Path, redmine_admin: Any) -> None:
    m = prepared(make_migration, small_trac_env, url="http://127.0.0.1:9")
    result = run(m.config, "load")
    assert result.exit_code == 1
    line = error_line(result)
    assert "cannot reach Redmine at http://127.0.0.1:9" in line
    assert "check the URL" in line
    assert redmine_admin.issues(m.project) == []


def test_missing_trac_environment(make_migration: Any, tmp_path: Path) -> None:
    m = make_migration(env=tmp_path / "no-such-env")
    result = run(m.config, "extract")
    assert result.exit_code == 1
    line = error_line(result)
    assert "no Trac environment at" in line and "trac-admin initenv" in line
    assert run(m.config, "status", "--json").output.count('"tickets_extracted": 0') == 1


def test_malformed_mapping(make_migration: Any, small_trac_env: Path) -> None:
    m = make_migration(env=small_trac_env)
    assert run(m.config, "extract", "-q").exit_code == 0
    text = m.mapping.read_text(encoding="utf-8").replace("    from: priority", "    form: priority")
    m.mapping.write_text(text, encoding="utf-8")
    result = run(m.config, "plan")
    assert result.exit_code == 2
    assert f"{m.mapping}:" in result.stderr
    assert "values.priority.form: unknown key" in result.stderr
    assert '"tickets_planned": 0' in run(m.config, "status", "--json").output


def test_unmapped_values_stop_the_plan(make_migration: Any, small_trac_env: Path) -> None:
    m = make_migration(env=small_trac_env)
    assert run(m.config, "extract", "-q").exit_code == 0
    m.mapping.write_text(
        m.mapping.read_text(encoding="utf-8").replace("      defect: Bug\n", ""), encoding="utf-8"
    )
    result = run(m.config, "plan")
    assert result.exit_code == 1
    assert "source value(s) have no mapping" in result.stderr
    assert "tracker <- type: 'defect' —" in result.stderr and "e.g. trac:" in result.stderr
    assert '"tickets_planned": 0' in run(m.config, "status", "--json").output


@pytest.mark.parametrize("command", ["extract", "plan", "load", "verify", "report", "status"])
def test_missing_config_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = run(tmp_path / "migration.toml", command)
    assert result.exit_code == 2
    assert "migrator init" in error_line(result)


def test_load_before_plan(make_migration: Any, small_trac_env: Path) -> None:
    m = make_migration(env=small_trac_env)
    result = run(m.config, "load")
    assert result.exit_code == 1
    assert "run `migrator plan` first" in error_line(result)
