"""The ``install | up | down`` command line shared by the tracker fixtures, on a stand-in
tracker: what ``up`` prints, records, reuses and refuses, and what ``down`` undoes."""

from __future__ import annotations

import argparse
import itertools
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fixtures.trackers.cli import TrackerCli, env_file, read_values


@dataclass(frozen=True)
class Instance:
    name: str
    pid: int
    directory: Path
    key: str = "key with spaces & 'quotes'"

    def env(self) -> dict[str, str]:
        return {"FAKE_URL": f"http://127.0.0.1:{self.pid}", "FAKE_KEY": self.key}


@dataclass
class Tracker:
    """Starts nothing: remembers what is running, and can be told to fail."""

    running: set[int] = field(default_factory=set)
    installed: int = 0
    fail_start: bool = False
    seen: list[argparse.Namespace] = field(default_factory=list)
    pids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def start(self, directory: Path, args: argparse.Namespace) -> Instance:
        if self.fail_start:
            raise RuntimeError("the server did not come up")
        self.seen.append(args)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "fake.conf").write_text("x", encoding="utf-8")
        instance = Instance("fake-1", next(self.pids), directory)
        self.running.add(instance.pid)
        return instance

    def cli(self) -> TrackerCli[Instance]:
        def install() -> None:
            self.installed += 1

        def restore(values: Mapping[str, str], directory: Path) -> Instance:
            return Instance(values["FAKE_NAME"], int(values["FAKE_PID"]), directory)

        def options(parser: argparse.ArgumentParser) -> None:
            parser.add_argument("--empty", action="store_true")

        return TrackerCli(
            tracker="Fake",
            prog="python -m fake",
            home="instance directory",
            default_dir=Path("unused"),
            marker="fake.conf",
            install=install,
            install_help="install it",
            up_help="start it",
            start=self.start,
            stop=lambda i: self.running.discard(i.pid),
            healthy=lambda i: i.pid in self.running,
            record=lambda i: {**i.env(), "FAKE_PID": str(i.pid), "FAKE_NAME": i.name},
            restore=restore,
            up_options=options,
        )


def up(tracker: Tracker, directory: Path, *extra: str) -> int:
    return tracker.cli().main(["up", "--dir", str(directory), *extra])


def test_up_prints_records_and_reuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracker, directory = Tracker(), tmp_path / "run"
    assert up(tracker, directory, "--port", "8123", "--empty") == 0
    first = capsys.readouterr().out
    assert first == "FAKE_URL=http://127.0.0.1:100\nFAKE_KEY=key with spaces & 'quotes'\n"
    assert (tracker.seen[0].port, tracker.seen[0].empty) == (8123, True)
    assert read_values(directory) == {
        "FAKE_URL": "http://127.0.0.1:100",
        "FAKE_KEY": "key with spaces & 'quotes'",
        "FAKE_PID": "100",
        "FAKE_NAME": "fake-1",
    }
    assert stat.S_IMODE(env_file(directory).stat().st_mode) == 0o600  # it holds a secret
    assert up(tracker, directory) == 0  # healthy: the same instance, not a second one
    assert capsys.readouterr().out == first
    assert len(tracker.seen) == 1


def test_an_unhealthy_record_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker, directory = Tracker(), tmp_path / "run"
    up(tracker, directory)
    tracker.running.clear()  # the server died
    (directory / "leftover").write_text("x", encoding="utf-8")
    assert up(tracker, directory) == 0
    assert "FAKE_URL=http://127.0.0.1:101\n" in capsys.readouterr().out
    assert not (directory / "leftover").exists()  # started from scratch
    assert tracker.running == {101}


def test_a_foreign_directory_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker = Tracker()
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert up(tracker, tmp_path) == 2
    assert capsys.readouterr().out == ""
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert tracker.seen == []


def test_down_stops_and_forgets(tmp_path: Path) -> None:
    tracker, directory = Tracker(), tmp_path / "run"
    up(tracker, directory)
    cli = tracker.cli()
    assert cli.main(["down", "--dir", str(directory)]) == 0
    assert tracker.running == set() and not env_file(directory).exists()
    assert cli.main(["down", "--dir", str(directory)]) == 0  # nothing recorded: nothing to do
    assert cli.recorded(directory) is None


def test_failures_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    tracker = Tracker(fail_start=True)
    assert up(tracker, tmp_path / "run") == 1
    assert capsys.readouterr().out == ""
    assert "the server did not come up" in caplog.text
    assert tracker.cli().main(["install"]) == 0 and tracker.installed == 1
    env = tmp_path / "broken"
    env.mkdir()
    env_file(env).write_text("FAKE_PID=not-a-number\n", encoding="utf-8")
    assert tracker.cli().recorded(env) is None  # an unusable record is no instance
