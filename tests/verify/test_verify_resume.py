"""A verify killed part way is continued by the next one, not started over."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli_runner import run
from tests.faultproxy import FaultProxy, Rule

KILL_AFTER = 12  # read-backs answered before the kill


def test_sigkill_during_verify_then_rerun_continues(
    make_migration: Any, small_trac_env: Path, redmine: Any
) -> None:
    proxy = FaultProxy(redmine.url)
    m = make_migration(env=small_trac_env, url=proxy.url)
    try:
        for command in ("extract", "plan", "load"):
            assert run(m.config, command, "-q").exit_code == 0
        started: list[subprocess.Popen[bytes]] = []
        # Killed once Redmine has answered the 12th ticket read-back: the worst instant,
        # between a comparison and its record.
        proxy.rules = [
            Rule(
                "GET",
                "/issues/",
                KILL_AFTER,
                "call-after",
                callback=lambda: started[0].send_signal(signal.SIGKILL),
            )
        ]
        proxy.log.clear()
        proc = subprocess.Popen(
            [sys.executable, "-m", "migrator", "verify", "-q", "-c", str(m.config)],
            env={**os.environ, **m.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        assert proc.wait(timeout=120) == -signal.SIGKILL
        proxy.rules = []
        db = sqlite3.connect(m.directory / "staging.sqlite")
        try:
            recorded = db.execute("SELECT count(*) FROM verifications").fetchone()[0]
        finally:
            db.close()
        assert 0 < recorded < 30

        result = run(m.config, "verify")
        assert result.exit_code == 0, result.output
        assert f"({recorded} checked before the interruption)" in result.output
        assert "verified 30 tickets: 30 match, 0 differ" in result.output
        # Only the tickets the killed run had not recorded were read back again.
        read_backs = sum(
            1 for method, path, _ in proxy.log if method == "GET" and path.startswith("/issues/")
        )
        assert read_backs == KILL_AFTER + (30 - recorded)

        # A finished run is followed by a fresh full one.
        again = json.loads(run(m.config, "status", "--json").output)
        assert again["tickets_verified"] == 30
        full = run(m.config, "verify")
        assert full.exit_code == 0 and "checked before the interruption" not in full.output
    finally:
        proxy.close()
