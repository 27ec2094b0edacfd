"""A killed extract resumes where it stopped and ends as if it had never been killed.

``python -m migrator extract`` runs as a real process over a Trac environment
of 3,000 tickets in pages of 20, and is killed with SIGKILL several times at
seeded random instants: some while it starts, most in the middle of a page
(after a random number of committed pages, plus a random fraction of a page).
Rerun to completion, its staging must hold exactly what an uninterrupted run
into a second staging holds, and the last run must not have read again what
the killed runs had committed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.extract.conftest import BIG_TICKETS
from tests.extract.helpers import last_run, meta, rows, staged_hashes

PAGE = 20
KILLS = 6
SEED = 20240601
REPO = Path(__file__).resolve().parents[2]


def start(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", "extract", "-q", "-c", str(config)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def committed(staging: Path) -> int:
    if not staging.exists():
        return 0
    try:
        return int(rows(staging, "SELECT COUNT(*) FROM source_tickets")[0][0])
    except Exception:  # the database is being created: nothing committed yet
        return 0


def blobs(directory: Path) -> list[str]:
    root = directory / "blobs"
    return sorted(p.name for p in root.rglob("*") if p.is_file() and len(p.name) == 64)


def test_killed_extract_resumes_and_matches_an_uninterrupted_run(
    big_trac_env: Path, trac_migration: Callable[..., Path], tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    reference = trac_migration(big_trac_env, tmp_path / "reference", page_size=PAGE)
    killed = trac_migration(big_trac_env, tmp_path / "killed", page_size=PAGE)
    staging = killed.parent / "staging.sqlite"
    # The uninterrupted run goes on meanwhile, in a staging of its own.
    uninterrupted = start(reference)
    deadline = time.monotonic() + 300
    kills: list[tuple[str, int]] = []
    for attempt in range(KILLS):
        before = committed(staging)
        proc = start(killed)
        if attempt == 0 or rng.random() < 0.2:
            time.sleep(rng.uniform(0.05, 0.8))  # while it imports, opens, counts
        else:
            target = before + rng.randint(2, 12) * PAGE
            while committed(staging) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "extract made no progress"
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next page
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL, proc.returncode  # killed, not finished
        kills.append((f"{before}->{committed(staging)}", attempt))
    done = committed(staging)
    assert 0 < done < BIG_TICKETS, kills
    state = json.loads(meta(staging)["extract.checkpoint"])
    assert state["tickets"] == done and int(state["page"]) > 0

    final = subprocess.run(
        [sys.executable, "-m", "migrator", "extract", "-c", str(killed)],
        cwd=killed.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr
    assert f"resumed an interrupted extract after checkpoint {state['page']}" in final.stdout
    _out, err = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, err

    reference_staging = reference.parent / "staging.sqlite"
    assert staged_hashes(staging) == staged_hashes(reference_staging)
    assert len(staged_hashes(staging)) == BIG_TICKETS
    assert blobs(killed.parent) == blobs(reference.parent)
    # The last run read only what the killed ones had not committed, and counted it new.
    summary = last_run(staging)
    assert summary["status"] == "done"
    assert summary["resumed_from"] == state["page"] and int(summary["resumed_from"]) > 0
    assert summary["tickets"] == summary["new"] == BIG_TICKETS - done
    assert "extract.checkpoint" not in meta(staging)
    cursor = json.loads(meta(staging)["extract.cursor"])
    reference_cursor = json.loads(meta(reference_staging)["extract.cursor"])
    assert cursor["updated"] == reference_cursor["updated"]  # the newest time seen
    assert cursor["source"] == "trac:demo" and cursor["since"] < cursor["updated"]
