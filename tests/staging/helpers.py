"""Staging on the session's real PostgreSQL: a fresh database per test, named in migration.toml."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures.trackers import postgres as postgres_server
from migrator.config import load_config
from migrator.model import Ticket
from migrator.staging import Staging

PASSWORD_VAR = "MIGRATOR_TEST_STAGING_PASSWORD"
_databases = itertools.count(1)


@dataclass(frozen=True)
class PgDatabase:
    url: str  # without the password, as migration.toml holds it
    password: str

    @property
    def env(self) -> dict[str, str]:
        return {PASSWORD_VAR: self.password}

    def toml(self) -> str:
        return f'[staging]\nurl = "{self.url}"\npassword = "$env:{PASSWORD_VAR}"\n'

    def open(self) -> Staging:
        from migrator.secrets import Secret

        return Staging(self.url, password=Secret(self.password))


def new_database(instance: postgres_server.PostgresInstance) -> PgDatabase:
    name = f"staging_{os.getpid()}_{next(_databases)}"
    postgres_server.create_database(instance, name)
    return PgDatabase(instance.url(name, password=False), instance.password)


def use_postgres(config: Path, db: PgDatabase) -> None:
    """Point a migration.toml without a [staging] section at DB."""
    text = config.read_text(encoding="utf-8")
    assert "[staging]" not in text
    config.write_text(text + "\n" + db.toml(), encoding="utf-8")


def open_staging(config: Path) -> Staging:
    cfg = load_config(config)
    return Staging(cfg.staging_url, password=cfg.staging_password)


def planned(config: Path) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The latest plan's digest and its (origin, payload) pairs, in the order staging gives."""
    staging = open_staging(config)
    try:
        plan = staging.latest_plan()
        return plan.digest, [(r.origin, r.payload) for r in staging.iter_planned(plan.id)]
    finally:
        staging.close()


def stage(staging: Staging, tickets: list[Ticket]) -> None:
    """Store TICKETS as an extract would."""
    run_id = staging.start_run("extract")
    with staging.begin() as conn:
        for ticket in tickets:
            Staging.upsert_ticket(conn, ticket, {"id": ticket.source_id}, run_id)
    staging.finish_run(run_id, "done", {"tickets": len(tickets)})
