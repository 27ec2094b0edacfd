"""Staging on a real PostgreSQL: the same plan as on SQLite, exactly-once loads, clear failures.

The session's server (tests/conftest.py, ``postgres``) sorts text with ICU's English
collation, unlike Python: every test here gets a database of its own in it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from fixtures.generate import counts
from fixtures.trackers import postgres as postgres_server
from migrator.errors import StagingError
from migrator.model import Comment, Ticket
from migrator.staging import schema as s
from migrator.staging.store import now
from tests.cli_runner import run
from tests.conftest import SHIPPED_MAPPING
from tests.faultproxy import FaultProxy, Rule
from tests.load.test_crash import assert_exactly_once, start_load
from tests.staging.helpers import (
    PASSWORD_VAR,
    PgDatabase,
    new_database,
    open_staging,
    planned,
    stage,
    use_postgres,
)

# Python's order (code points) and ICU's differ here in many ways:
# case, punctuation, accents, full-width letters, emoji, and a space.
ORIGINS = [
    "csv:B#1",
    "csv:a#1",
    "csv:a#10",
    "csv:a-b#1",
    "csv:a#2",
    "csv:É#1",
    "csv:e#1",
    "csv:Z#1",
    "csv:ｚ#1",
    "csv:😀#1",
    "csv:a b#1",
    "csv:_#1",
]


@pytest.fixture
def pg_db(postgres: postgres_server.PostgresInstance) -> PgDatabase:
    return new_database(postgres)


def tickets(dataset: dict[str, Any], origins: list[str]) -> list[Ticket]:
    """Fixture tickets under ORIGINS: real Trac markup, Japanese text, two comments each."""
    out = []
    for origin, raw in zip(origins, dataset["tickets"], strict=False):
        bodies = [c["newvalue"] for c in raw["changes"] if c["field"] == "comment"][:2]
        out.append(
            Ticket(
                origin=origin,
                source_id=origin.rsplit("#", 1)[1],
                project=origin.split(":", 1)[1].split("#")[0],
                title=raw["summary"],
                description=raw["description"],
                markup="trac",
                type=raw["type"],
                status=raw["status"],
                resolution=raw["resolution"] or None,
                priority=raw["priority"],
                reporter=raw["reporter"],
                assignee=raw["owner"] or None,
                milestone=raw["milestone"] or None,
                created="2019-01-01T00:00:00Z",
                comments=[
                    Comment(str(k), "tanaka", "2020-01-01T00:00:00Z", body)
                    for k, body in enumerate(bodies, 1)
                ],
            )
        )
    return out


def plan_config(directory: Path, staging_toml: str) -> Path:
    directory.mkdir(parents=True)
    config = directory / "migration.toml"
    config.write_text(
        '[source]\ntype = "trac"\nenv = "unused"\n'
        '[target]\ntype = "redmine"\nurl = "http://127.0.0.1:9"\napi_key = "$env:UNUSED"\n'
        f'[mapping]\nfile = "{SHIPPED_MAPPING.as_posix()}"\n' + staging_toml,
        encoding="utf-8",
    )
    return config


def exact(plan: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Planned tickets as text: equal only with the same keys in the same order."""
    return [json.dumps([origin, payload], ensure_ascii=False) for origin, payload in plan]


def outputs_without(password: str, *texts: str) -> None:
    for t in texts:
        assert password not in t


# --------------------------------------------------------------------------- order


def test_staged_tickets_come_back_in_code_point_order(
    pg_db: PgDatabase, dataset: dict[str, Any]
) -> None:
    """Keyset paging (``origin > last``) over origins ICU orders differently: all, once, sorted."""
    staging = pg_db.open()
    try:
        stage(staging, tickets(dataset, ORIGINS))
        assert [t.origin for t in staging.iter_tickets(chunk=2)] == sorted(ORIGINS)
        with staging.begin() as conn:
            # The database itself would order them otherwise: the column's collation does it.
            icu = list(
                conn.scalars(
                    text("SELECT o FROM unnest(CAST(:a AS text[])) AS t(o) ORDER BY o"),
                    {"a": ORIGINS},
                )
            )
        assert icu != sorted(ORIGINS)
    finally:
        staging.close()


def test_plan_digest_is_the_same_as_on_sqlite(
    tmp_path: Path, pg_db: PgDatabase, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VAR, pg_db.password)
    sqlite_cfg = plan_config(tmp_path / "sqlite", "")
    pg_cfg = plan_config(tmp_path / "pg", pg_db.toml())
    for config in (sqlite_cfg, pg_cfg):
        staging = open_staging(config)
        try:
            stage(staging, tickets(dataset, ORIGINS))
        finally:
            staging.close()
        result = run(config, "plan")
        assert result.exit_code == 0, result.output
    sqlite_digest, sqlite_plan = planned(sqlite_cfg)
    pg_digest, pg_plan = planned(pg_cfg)
    assert [o for o, _ in pg_plan] == sorted(ORIGINS)
    assert exact(pg_plan) == exact(sqlite_plan)  # payloads, JSON key order included
    assert pg_digest == sqlite_digest

    # A second plan with a mapping edit: the merge join of --compare walks both in order.
    mapping = tmp_path / "pg" / "mapping.yaml"
    mapping.write_text(
        SHIPPED_MAPPING.read_text(encoding="utf-8").replace(
            "      defect: Bug\n", "      defect: Feature\n"
        ),
        encoding="utf-8",
    )
    pg_cfg.write_text(
        pg_cfg.read_text(encoding="utf-8").replace(SHIPPED_MAPPING.as_posix(), mapping.as_posix()),
        encoding="utf-8",
    )
    result = run(pg_cfg, "plan", "--compare", "1", "--json")
    assert result.exit_code == 1, result.output
    comparison = json.loads(result.output)["comparison"]
    defects = sum(1 for t in tickets(dataset, ORIGINS) if t.type == "defect")
    assert defects and comparison["changed"] == defects
    assert comparison["added"] == comparison["removed"] == 0
    assert comparison["by_field"]["tracker"] == {"Bug -> Feature": defects}


# --------------------------------------------------------------------------- pipeline


def test_trac_to_redmine_with_postgres_staging(
    make_migration: Any,
    redmine_admin: Any,
    dataset: dict[str, Any],
    pg_db: PgDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """extract -> plan -> batch -> load -> verify -> report, staging on PostgreSQL; the plan is
    the one SQLite staging gives for the same data."""
    m = make_migration()
    sqlite_cfg = m.directory / "sqlite.toml"
    sqlite_cfg.write_text(
        m.config.read_text(encoding="utf-8")
        + '\n[staging]\nurl = "sqlite:///sqlite/staging.sqlite"\n',
        encoding="utf-8",
    )
    use_postgres(m.config, pg_db)
    monkeypatch.setenv(PASSWORD_VAR, pg_db.password)
    expected = counts(dataset)
    outputs: list[str] = []

    def ok(*args: str) -> str:
        result = run(m.config, *args)
        outputs.append(result.output)
        assert result.exit_code == 0, result.output
        return result.output

    ok("extract", "-q")
    assert f"{expected['tickets']} tickets" in ok("plan")
    ok("batch", "create", "pilot", "--limit", "20")
    assert "20 tickets created" in ok("load", "--batch", "pilot")
    ok("load")
    issues = redmine_admin.issues(m.project)
    assert len(issues) == expected["tickets"]
    assert f"{expected['tickets']} match, 0 differ" in ok("verify")
    ok("report")
    md = (m.directory / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert f"| Verified identical | {expected['tickets']} |" in md
    status = json.loads(ok("status", "--json"))
    assert status["tickets_extracted"] == status["tickets_planned"] == expected["tickets"]
    assert status["tickets_loaded"] == status["tickets_verified"] == expected["tickets"]
    assert status["comments_loaded"] == expected["comments"]
    assert "0 tickets created" in ok("load")

    # Attachment bytes stay on disk beside the config, not in the database.
    assert any(p.is_file() for p in (m.directory / "blobs").rglob("*"))
    # The same data planned with SQLite staging: the same digest and payloads.
    for command in ("extract", "plan"):
        result = run(sqlite_cfg, command, "-q")
        assert result.exit_code == 0, result.output
    pg_digest, pg_plan = planned(m.config)
    sqlite_digest, sqlite_plan = planned(sqlite_cfg)
    assert pg_digest == sqlite_digest
    assert exact(pg_plan) == exact(sqlite_plan)

    reports = [
        p.read_bytes().decode("utf-8", "replace")
        for p in (m.directory / "reports").rglob("*")
        if p.is_file()
    ]
    outputs_without(pg_db.password, *outputs, *reports)


def test_sigkill_during_load_then_rerun_is_exactly_once(
    make_migration: Any,
    small_trac_env: Path,
    redmine_admin: Any,
    redmine: Any,
    pg_db: PgDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kill -9 of the loader, aimed and at random, with staging on PostgreSQL."""
    rng = random.Random(5)
    proxy = FaultProxy(redmine.url)
    m = make_migration(env=small_trac_env, url=proxy.url)
    use_postgres(m.config, pg_db)
    monkeypatch.setenv(PASSWORD_VAR, pg_db.password)
    env = {**m.env, **pg_db.env}
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    payloads = [p for _, p in planned(m.config)[1]]
    kills = 0
    try:
        for method, prefix, nth in [
            ("POST", "/issues.json", 2),
            ("PUT", "/issues/", 3),
            ("POST", "/issues.json", 1),
        ]:
            proc = start_load(m.config, env)
            proxy.rules = [
                Rule(
                    method,
                    prefix,
                    nth,
                    "call-after",
                    callback=lambda p=proc: p.send_signal(signal.SIGKILL),
                )
            ]
            assert proc.wait(timeout=120) == -signal.SIGKILL
            kills += 1
        proxy.rules = []
        for _ in range(6):
            proc = start_load(m.config, env)
            time.sleep(rng.uniform(0.5, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=120)
        result = run(m.config, "load")
        assert result.exit_code == 0, result.output
        assert kills >= 6
        assert_exactly_once(redmine_admin, m.project, payloads)
        assert run(m.config, "verify", "-q").exit_code == 0
    finally:
        proxy.close()
    staging = open_staging(m.config)
    try:
        counts_by_state = staging.state_counts()
    finally:
        staging.close()
    assert set(counts_by_state["ticket"]) == {"done"}


# --------------------------------------------------------------------------- bad input


def error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


WRONG = "Wr0ng-pa55word-XYZ"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong-password", 'password authentication failed for user "migrator"'),
        ("unreachable", "Connection refused"),
        ("no-database", 'database "no_such_db" does not exist'),
    ],
)
@pytest.mark.parametrize("command", ["extract", "plan", "status"])
def test_bad_postgres_staging_is_one_clear_error(
    tmp_path: Path,
    postgres: postgres_server.PostgresInstance,
    pg_db: PgDatabase,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    expected: str,
    command: str,
) -> None:
    url, password = pg_db.url, pg_db.password
    if case == "wrong-password":
        password = WRONG
    elif case == "unreachable":
        url = url.replace(f":{postgres.port}/", ":9/")
    else:
        url = postgres.url("no_such_db", password=False)
    config = plan_config(tmp_path / "m", PgDatabase(url, password).toml())
    monkeypatch.setenv(PASSWORD_VAR, password)
    result = run(config, command)
    assert result.exit_code == 1
    line = error_line(result)
    assert "cannot open the staging database" in line and expected in line, line
    assert "check [staging] url" in line
    assert "postgresql+psycopg://migrator:***@127.0.0.1:" in line  # where, password hidden
    outputs_without(password, result.output)
    outputs_without(pg_db.password, result.output)


def test_literal_password_in_the_url_is_refused(tmp_path: Path, pg_db: PgDatabase) -> None:
    literal = pg_db.url.replace("migrator@", f"migrator:{pg_db.password}@")
    config = plan_config(tmp_path / "m", f'[staging]\nurl = "{literal}"\n')
    result = run(config, "status")
    assert result.exit_code == 2
    line = error_line(result)
    assert "[staging] url holds a password" in line and '"$env:' in line
    outputs_without(pg_db.password, result.output)


def test_password_variable_not_set(
    tmp_path: Path, pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_VAR, raising=False)
    config = plan_config(tmp_path / "m", pg_db.toml())
    result = run(config, "status")
    assert result.exit_code == 2
    assert f"environment variable {PASSWORD_VAR} is not set" in error_line(result)


def test_whole_url_as_a_secret_reference(
    tmp_path: Path, pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``url = "$env:NAME"``: the password inside it is used and never shown."""
    monkeypatch.setenv(
        "MIGRATOR_TEST_STAGING_URL", pg_db.url.replace("migrator@", f"migrator:{pg_db.password}@")
    )
    config = plan_config(tmp_path / "m", '[staging]\nurl = "$env:MIGRATOR_TEST_STAGING_URL"\n')
    result = run(config, "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tickets_extracted"] == 0
    outputs_without(pg_db.password, result.output)


def test_missing_driver_names_the_extra(
    tmp_path: Path, pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without psycopg (an interpreter where importing it fails): one line with the remedy."""
    config = plan_config(tmp_path / "m", pg_db.toml())
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['psycopg'] = None\nfrom migrator.cli import main; main()",
            "status",
            "-c",
            str(config),
        ],
        env={**os.environ, **pg_db.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "psycopg 3 is not installed" in proc.stderr
    assert "pip install 'migrator[postgres]'" in proc.stderr
    assert pg_db.password not in proc.stderr + proc.stdout


def test_another_schema_version_is_refused_untouched(pg_db: PgDatabase) -> None:
    staging = pg_db.open()
    with staging.begin() as conn:
        conn.execute(update(s.meta).where(s.meta.c.key == "schema").values(value="99"))
    staging.close()
    with pytest.raises(StagingError, match="staging schema version 99, this migrator needs 1"):
        pg_db.open()


def test_text_with_nul_is_stored(pg_db: PgDatabase) -> None:
    """A server's error text can hold NUL, which PostgreSQL text refuses: it is replaced."""
    staging = pg_db.open()
    try:
        with staging.begin() as conn:
            conn.execute(
                s.load_state.insert().values(
                    key="csv:a#1",
                    kind="ticket",
                    ticket_origin="csv:a#1",
                    seq=0,
                    state="failed",
                    attempts=1,
                    last_error="HTTP 500: \x00binary\x00",
                    updated_at=now(),
                )
            )
        with staging.begin() as conn:
            error = conn.scalar(select(s.load_state.c.last_error))
        assert error == "HTTP 500: \ufffdbinary\ufffd"
    finally:
        staging.close()


def test_times_come_back_in_utc(pg_db: PgDatabase) -> None:
    """Whatever the server's zone, as SQLite gives them (the reports format them as UTC)."""
    staging = pg_db.open()
    with staging.begin() as conn:
        name = conn.scalar(text("SELECT current_database()"))
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Tokyo'"))
    staging.close()
    staging = pg_db.open()  # new connections, which the server would give Tokyo time
    try:
        run_id = staging.start_run("extract")
        with staging.begin() as conn:
            started = conn.scalar(select(s.runs.c.started_at).where(s.runs.c.id == run_id))
        assert started is not None and started.utcoffset() == timedelta(0)
        assert abs((started - now()).total_seconds()) < 60
    finally:
        staging.close()
