"""Incremental extraction: after a complete extract, a plain rerun reads what changed since.

Tickets are changed through Trac's own model, as Trac's web interface would
change them, then extracted again through the CLI.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fixtures.spreadsheets import VARIANTS, write
from fixtures.spreadsheets import section as sheet_section
from tests.cli_runner import run
from tests.extract.helpers import last_run, meta, rows, staged_hashes
from tests.trackers.contract import write_config

CHANGED = (5, 77, 150)


@contextmanager
def trac(env_dir: Path) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from trac.env import Environment

        env = Environment(str(env_dir))
    try:
        yield env
    finally:
        env.shutdown()


def summary_line(output: str) -> str:
    (line,) = [x for x in output.splitlines() if x.startswith("extracted ")]
    return line


def test_changed_tickets_and_only_they_are_read_again(
    copy_trac_env: Callable[[], Path], trac_migration: Callable[..., Path], dataset: dict[str, Any]
) -> None:
    env = copy_trac_env()
    config = trac_migration(env)
    staging = config.parent / "staging.sqlite"
    total = len(dataset["tickets"])
    first = run(config, "extract")
    assert first.exit_code == 0, first.output
    assert f"({total} new, 0 changed, 0 unchanged)" in summary_line(first.output)
    cursor = json.loads(meta(staging)["extract.cursor"])
    assert cursor["v"] == 1 and cursor["source"] == "trac:demo"
    newest = max(datetime.fromtimestamp(t["changetime"] / 1e6, UTC) for t in dataset["tickets"])
    assert cursor["updated"] == newest.isoformat().replace("+00:00", "Z")
    before = dict(staged_hashes(staging))

    # Three tickets edited in Trac, after everything the fixture holds.
    from trac.ticket.model import Ticket

    when = newest + timedelta(days=30)
    with trac(env) as tenv:
        for n, tid in enumerate(CHANGED):
            ticket = Ticket(tenv, tid)
            ticket["keywords"] = f"{ticket['keywords'] or ''} incremental".strip()
            ticket.save_changes("tanaka", "追記しました。", when=when + timedelta(minutes=n))

    second = run(config, "extract")
    assert second.exit_code == 0, second.output
    assert "trac:demo: updated since" in second.output
    summary = last_run(staging)
    assert (summary["new"], summary["changed"]) == (0, 3)
    assert summary["unchanged"] == summary["tickets"] - 3
    assert summary["tickets"] < total  # only what changed since the cursor (and its margin)
    line = summary_line(second.output)
    assert f"extracted {summary['tickets']} tickets (0 new, 3 changed, " in line
    after = dict(staged_hashes(staging))
    differs = sorted(o for o in after if after[o] != before[o])
    assert differs == sorted(f"trac:demo#{tid}" for tid in CHANGED)
    assert json.loads(meta(staging)["extract.cursor"])["updated"] > cursor["updated"]

    # Nothing changed since: a rerun reads (nearly) nothing and changes nothing.
    third = run(config, "extract")
    assert third.exit_code == 0 and "(0 new, 0 changed, " in summary_line(third.output)
    assert last_run(staging)["tickets"] <= len(CHANGED)

    # --full reads everything again: all unchanged.
    full = run(config, "extract", "--full")
    assert full.exit_code == 0
    assert f"extracted {total} tickets (0 new, 0 changed, {total} unchanged)" in full.output


def test_a_file_attached_later_is_read_though_trac_leaves_changetime(
    copy_trac_env: Callable[[], Path], trac_migration: Callable[..., Path], tmp_path: Path
) -> None:
    from trac.attachment import Attachment
    from trac.ticket.model import Ticket

    env = copy_trac_env()
    config = trac_migration(env)
    staging = config.parent / "staging.sqlite"
    assert run(config, "extract", "-q").exit_code == 0
    updated = json.loads(meta(staging)["extract.cursor"])["updated"]
    data = "後から添付したログ\n".encode() + bytes(range(256))
    with trac(env) as tenv:
        changetime = Ticket(tenv, 9)["changetime"]
        attachment = Attachment(tenv, "ticket", 9)
        attachment.author = "suzuki"
        when = datetime.fromisoformat(updated.replace("Z", "+00:00")) + timedelta(days=1)
        attachment.insert("追加ログ.txt", io.BytesIO(data), len(data), t=when)
        assert Ticket(tenv, 9)["changetime"] == changetime  # Trac does not touch it
    result = run(config, "extract")
    assert result.exit_code == 0, result.output
    summary = last_run(staging)
    assert (summary["new"], summary["changed"]) == (0, 1)
    ((canonical,),) = rows(
        staging, "SELECT canonical FROM source_tickets WHERE origin = ?", "trac:demo#9"
    )
    (added,) = [a for a in json.loads(canonical)["attachments"] if a["name"] == "追加ログ.txt"]
    assert added["sha256"] == hashlib.sha256(data).hexdigest()
    assert (config.parent / "blobs" / added["sha256"][:2] / added["sha256"]).read_bytes() == data


def test_spreadsheet_rows_are_filtered_on_their_updated_column(
    tmp_path: Path, dataset: dict[str, Any]
) -> None:
    folder = tmp_path / "sheets"
    write(folder, dataset)
    section = sheet_section(VARIANTS["utf8"])
    section["file"] = str(folder / section["file"])
    section["comments_file"] = str(folder / section["comments_file"])
    config = write_config(tmp_path / "migration", section)
    staging = config.parent / "staging.sqlite"
    assert run(config, "extract", "-q").exit_code == 0
    cursor = json.loads(meta(staging)["extract.cursor"])
    # The team edits one row and stamps its updated column, as their sheet asks them to.
    path = Path(section["file"])
    with path.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    header, row = table[0], next(r for r in table if r[0] == "12")
    row[header.index("更新日")] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    row[header.index("状態")] = "closed"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(table)
    result = run(config, "extract")
    assert result.exit_code == 0, result.output
    summary = last_run(staging)
    assert (summary["new"], summary["changed"]) == (0, 1)
    assert summary["tickets"] < len(dataset["tickets"])
    assert json.loads(meta(staging)["extract.cursor"])["updated"] > cursor["updated"]


def test_a_ticket_dated_in_the_future_is_named_and_the_cursor_capped(tmp_path: Path) -> None:
    sheet = tmp_path / "bugs.csv"
    sheet.write_text(
        "No.,件名,更新日\r\n1,ok,2024-05-01T00:00:00Z\r\n2,typo,2094-05-01T00:00:00Z\r\n",
        encoding="utf-8",
    )
    section = {
        "type": "csv",
        "name": "bugs",
        "file": str(sheet),
        "columns": {"id": "No.", "title": "件名", "updated": "更新日"},
    }
    config = write_config(tmp_path / "migration", section)
    result = run(config, "extract")
    assert result.exit_code == 0, result.output
    assert "csv:bugs#2 was updated at 2094-05-01T00:00:00Z, in the future" in result.stderr
    cursor = json.loads(meta(config.parent / "staging.sqlite")["extract.cursor"])
    assert cursor["updated"] < datetime.now(UTC).isoformat()
