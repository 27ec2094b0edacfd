"""A real Trac 1.6 environment built from the dataset holds exactly the dataset."""

from __future__ import annotations

import configparser
import socket
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import counts, generate, is_comment, load_dataset
from fixtures.trackers import trac as trac_fixture

pytestmark = pytest.mark.trac

pytest.importorskip("trac", reason="Trac 1.6 is needed to build environments")


@pytest.fixture(scope="module")
def dataset() -> dict[str, Any]:
    return load_dataset()


@pytest.fixture(scope="module")
def env_dir(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    return trac_fixture.build(tmp_path_factory.mktemp("trac") / "env", dataset)


@pytest.fixture()
def db(env_dir: Path) -> Any:
    con = sqlite3.connect(f"file:{trac_fixture.db_path(env_dir)}?mode=ro", uri=True)
    yield con
    con.close()


def test_counts_match_dataset(db: sqlite3.Connection, dataset: dict[str, Any]) -> None:
    c = counts(dataset)
    assert db.execute("SELECT count(*) FROM ticket").fetchone()[0] == c["tickets"]
    assert db.execute("SELECT min(id), max(id) FROM ticket").fetchone() == (1, c["tickets"])
    assert (
        db.execute(
            "SELECT count(*) FROM ticket_change WHERE field='comment'"
            " AND trim(coalesce(newvalue, '')) != ''"
        ).fetchone()[0]
        == c["comments"]
    )
    assert (
        db.execute("SELECT count(*) FROM ticket_change WHERE field='comment'").fetchone()[0]
        == c["comment_rows"]
    )
    assert db.execute("SELECT count(*) FROM ticket_change").fetchone()[0] == c["ticket_change_rows"]
    assert db.execute("SELECT count(*) FROM ticket_custom").fetchone()[0] == c["ticket_custom_rows"]
    for status, n in c["status"].items():
        assert (
            db.execute("SELECT count(*) FROM ticket WHERE status=?", (status,)).fetchone()[0] == n
        ), status


def test_every_row_matches_dataset(env_dir: Path, dataset: dict[str, Any]) -> None:
    expected = trac_fixture.expected_rows(dataset)
    actual = trac_fixture.database_rows(env_dir)
    for table, rows in expected.items():
        assert actual[table] == rows, table


def test_empty_values_are_null_as_trac_writes_them(
    db: sqlite3.Connection, dataset: dict[str, Any]
) -> None:
    tk = next(t for t in dataset["tickets"] if t["description"] == "")
    assert db.execute("SELECT description FROM ticket WHERE id=?", (tk["id"],)).fetchone() == (
        None,
    )
    # ...but an edit without a comment has an empty-string comment row.
    assert (
        db.execute(
            "SELECT count(*) FROM ticket_change WHERE field='comment' AND newvalue=''"
        ).fetchone()[0]
        == counts(dataset)["change_only_groups"]
    )


def test_text_survives_byte_exact(db: sqlite3.Connection, dataset: dict[str, Any]) -> None:
    db.text_factory = bytes
    checked = {"ja": 0, "emoji": 0, "html": 0, "crlf": 0}
    for tk in dataset["tickets"]:
        texts = [tk["summary"], tk["description"]]
        if not any(any(ord(ch) > 0x3000 for ch in s) or "<" in s or "\r" in s for s in texts):
            continue
        row = db.execute(
            "SELECT summary, description FROM ticket WHERE id=?", (tk["id"],)
        ).fetchone()
        assert row == tuple(s.encode("utf-8") if s else None for s in texts), tk["id"]
        joined = "".join(texts)
        checked["ja"] += any("\u3040" <= ch <= "\u30ff" for ch in joined)
        checked["emoji"] += "🐛" in joined
        checked["html"] += "<script>" in joined
        checked["crlf"] += "\r\n" in joined
    assert all(checked.values()), checked
    comments = {
        (tk["id"], ch["time"]): ch["newvalue"]
        for tk in dataset["tickets"]
        for ch in tk["changes"]
        if is_comment(ch)
    }
    rows = db.execute(
        "SELECT ticket, time, newvalue FROM ticket_change WHERE field='comment' AND newvalue != ''"
    ).fetchall()
    assert {(t, when): text.decode("utf-8") for t, when, text in rows} == comments
    assert any("\r\n" in text for text in comments.values())
    assert db.execute("SELECT name FROM component WHERE name=?", ("認証",)).fetchall() == [
        ("認証".encode(),)
    ]


def test_times_are_the_datasets_microseconds(
    db: sqlite3.Connection, dataset: dict[str, Any]
) -> None:
    rows = dict((r[0], r[1:]) for r in db.execute("SELECT id, time, changetime FROM ticket"))
    for tk in dataset["tickets"]:
        assert rows[tk["id"]] == (tk["time"], tk["changetime"])
    times = [r[0] for r in rows.values()]
    assert all(
        isinstance(t, int) and 1_420_070_400_000_000 <= t < 1_735_689_600_000_000 for t in times
    )
    assert any(t % 1_000_000 for t in times)
    change_times = {(tk["id"], ch["time"]) for tk in dataset["tickets"] for ch in tk["changes"]}
    assert set(db.execute("SELECT DISTINCT ticket, time FROM ticket_change")) == change_times


def test_only_dataset_metadata_exists(
    db: sqlite3.Connection, env_dir: Path, dataset: dict[str, Any]
) -> None:
    def names(sql: str) -> list[str]:
        return [r[0] for r in db.execute(sql)]

    assert names("SELECT name FROM component ORDER BY name") == sorted(
        c["name"] for c in dataset["components"]
    )
    assert names("SELECT name FROM milestone ORDER BY name") == ["1.0", "1.1", "2.0"]
    assert names("SELECT name FROM milestone WHERE completed > 0") == ["1.0"]
    assert names("SELECT name FROM version ORDER BY name") == ["1.0", "2.0"]
    assert (
        names("SELECT name FROM enum WHERE type='resolution' ORDER BY CAST(value AS int)")
        == dataset["resolutions"]
    )
    assert (
        names("SELECT name FROM enum WHERE type='priority' ORDER BY CAST(value AS int)")
        == dataset["priorities"]
    )
    assert (
        names("SELECT name FROM enum WHERE type='ticket_type' ORDER BY CAST(value AS int)")
        == dataset["types"]
    )
    assert dict(db.execute("SELECT sid, value FROM session_attribute WHERE name='email'")) == {
        u["login"]: u["email"] for u in dataset["users"]
    }

    ini = configparser.RawConfigParser()
    ini.read(env_dir / "conf" / "trac.ini", encoding="utf-8")
    assert ini.get("ticket-custom", "customer") == "text"
    assert ini.get("ticket-custom", "severity_level") == "select"
    assert ini.get("ticket-custom", "severity_level.options") == "low|medium|high"


def test_trac_model_reads_tickets_back(env_dir: Path, dataset: dict[str, Any]) -> None:
    from trac.env import Environment
    from trac.ticket.model import Ticket

    env = Environment(str(env_dir))
    try:
        for tk in dataset["tickets"][:: max(1, len(dataset["tickets"]) // 25)]:
            ticket = Ticket(env, tk["id"])
            for field in (
                "summary",
                "status",
                "resolution",
                "owner",
                "reporter",
                "milestone",
                "component",
                "description",
                "cc",
            ):
                assert ticket[field] == tk[field], (tk["id"], field)
            for name, value in tk["custom"].items():
                assert ticket[name] == value
            n_comments = sum(1 for ch in tk["changes"] if is_comment(ch))
            log = ticket.get_changelog()
            # Trac lists an attachment's description as a comment of its own entry.
            attached = {entry[0] for entry in log if entry[2] == "attachment"}
            assert (
                sum(1 for e in log if e[2] == "comment" and e[4] and e[0] not in attached)
                == n_comments
            )
            assert sum(1 for e in log if e[2] == "attachment") == len(tk["attachments"])
    finally:
        env.shutdown()


def test_other_seed_builds_exactly(tmp_path: Path) -> None:
    ds = generate(400, 31)
    env_dir = trac_fixture.build(tmp_path / "env", ds)
    expected = trac_fixture.expected_rows(ds)
    actual = trac_fixture.database_rows(env_dir)
    assert actual == expected


def test_build_refuses_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "keep").write_text("x")
    with pytest.raises(FileExistsError):
        trac_fixture.build(tmp_path / "env", generate(1, 1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_shows_tickets(env_dir: Path, dataset: dict[str, Any]) -> None:
    tk = next(t for t in dataset["tickets"] if "<script>" in t["summary"])
    ja = next(t for t in dataset["tickets"] if "ログイン画面でエラーが発生する" in t["summary"])
    port = _free_port()
    proc = trac_fixture.serve(env_dir, port)
    try:
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/ticket/{tk['id']}", timeout=10) as resp:
            page = resp.read().decode("utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)</script>" not in page
        with urllib.request.urlopen(f"{base}/ticket/{ja['id']}", timeout=10) as resp:
            assert "ログイン画面でエラーが発生する" in resp.read().decode("utf-8")
        url = f"{base}/query?format=csv&max=0&status=!closed&col=id"
        with urllib.request.urlopen(url, timeout=10) as resp:
            lines = resp.read().decode("utf-8-sig").splitlines()
        open_tickets = sum(1 for t in dataset["tickets"] if t["status"] != "closed")
        assert len(lines) - 1 == open_tickets
    finally:
        proc.terminate()
        proc.wait(10)
