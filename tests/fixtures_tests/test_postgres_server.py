"""fixtures/trackers/postgres.py: instances side by side, a password user, a clean stop."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.trackers import postgres as postgres_server
from fixtures.trackers.cli import read_values
from migrator.secrets import Secret
from migrator.staging import Staging


@pytest.fixture
def home() -> Iterator[Path]:
    # The server's user must reach it: not under pytest's tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="migrator-postgres-test-"))
    directory.chmod(0o755)  # the instances are made inside it
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_two_instances_side_by_side_then_stopped(home: Path) -> None:
    a = postgres_server.start(home / "a")
    try:
        b = postgres_server.start(home / "b")
    except BaseException:
        postgres_server.stop(a)
        raise
    try:
        assert a.port != b.port and a.password != b.password
        assert "password" not in repr(a) and a.password not in repr(a)
        for instance in (a, b):
            staging = Staging(instance.url(password=False), password=Secret(instance.password))
            staging.close()
        # Each server takes its own password only.
        with pytest.raises(Exception, match="password authentication failed"):
            Staging(a.url(password=False), password=Secret(b.password))
        # Unix sockets in each instance's own directory, nowhere shared.
        assert (a.socket_dir / f".s.PGSQL.{a.port}").exists()
        assert (b.socket_dir / f".s.PGSQL.{b.port}").exists()
    finally:
        postgres_server.stop(a)
        postgres_server.stop(b)
    assert not answers(a.port) and not answers(b.port)
    assert not postgres_server.healthy(a) and not postgres_server.healthy(b)
    assert "database system is shut down" in (a.directory / "server.log").read_text()


def test_command_line_up_reuses_then_down(home: Path) -> None:
    directory = home / "cli"
    cmd = [sys.executable, "-m", "fixtures.trackers.postgres"]
    up = subprocess.run([*cmd, "up", "--dir", str(directory)], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    values = dict(line.split("=", 1) for line in up.stdout.splitlines())
    assert set(values) == {
        "POSTGRES_URL",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
    }
    try:
        again = subprocess.run(
            [*cmd, "up", "--dir", str(directory)], capture_output=True, text=True
        )
        assert again.returncode == 0 and again.stdout == up.stdout
        assert "already running" in again.stderr
        Staging(values["POSTGRES_URL"]).close()
    finally:
        down = subprocess.run(
            [*cmd, "down", "--dir", str(directory)], capture_output=True, text=True
        )
    assert down.returncode == 0, down.stderr
    assert read_values(directory) is None
    assert not answers(int(values["POSTGRES_PORT"]))
