"""One writing command at a time per staging database: two loads at once could duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.trackers import postgres as postgres_server
from migrator.errors import StagingError
from migrator.staging import Staging
from tests.cli_runner import run
from tests.conftest import SHIPPED_MAPPING
from tests.staging.helpers import new_database


def config(directory: Path) -> Path:
    path = directory / "migration.toml"
    path.write_text(
        '[source]\ntype = "trac"\nenv = "unused"\n'
        '[target]\ntype = "redmine"\nurl = "http://127.0.0.1:9"\napi_key = "$env:UNUSED_KEY"\n'
        f'[mapping]\nfile = "{SHIPPED_MAPPING.as_posix()}"\n',
        encoding="utf-8",
    )
    return path


def test_a_second_writer_is_refused_until_the_first_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNUSED_KEY", "unused")
    cfg = config(tmp_path)
    first = Staging(f"sqlite:///{tmp_path / 'staging.sqlite'}")
    first.claim("load")
    try:
        for command in ("load", "plan", "extract"):
            result = run(cfg, command, "-q")
            assert result.exit_code != 0
            assert "another migrator command is writing to this staging database" in result.output
            assert f"migrator load, pid {os.getpid()}" in result.output
        # Reading is never blocked.
        assert run(cfg, "status").exit_code == 0
    finally:
        first.close()
    second = Staging(f"sqlite:///{tmp_path / 'staging.sqlite'}")
    try:
        second.claim("plan")  # released with the first
    finally:
        second.close()


def test_a_killed_writer_leaves_no_claim_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'staging.sqlite'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from migrator.staging import Staging\n"
            f"Staging({url!r}).claim('load')\n"
            "print('claimed', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "claimed"
        staging = Staging(url)
        with pytest.raises(StagingError, match=f"migrator load, pid {holder.pid}"):
            staging.claim("load")
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 10
        while True:
            try:
                staging.claim("load")
                break
            except StagingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        staging.close()
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_one_writer_per_postgres_database(postgres: postgres_server.PostgresInstance) -> None:
    db, other = new_database(postgres), new_database(postgres)
    first, second, elsewhere = db.open(), db.open(), other.open()
    try:
        first.claim("load")
        with pytest.raises(StagingError, match="another session holds the writer lock"):
            second.claim("load")
        elsewhere.claim("load")  # another migration's database is not held
        first.release()
        second.claim("plan")
    finally:
        for staging in (first, second, elsewhere):
            staging.close()
