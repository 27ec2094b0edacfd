"""The cursor and checkpoint kept in staging's meta table, and the options that feed them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from migrator.errors import ConfigError, StagingError
from migrator.extract import parse_since
from migrator.extract.extractor import activity, replaced_text
from migrator.extract.state import MARGIN, Checkpoint, Cursor, Scope, next_cursor
from migrator.model import Attachment, Comment, Ticket
from migrator.trackers import IdSet

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def cursor_after(previous: Cursor | None, scope: Scope, seen: datetime | None) -> Cursor | None:
    # A run that started at T0 + 1 h and took ten minutes, by this machine's clock.
    start = T0 + timedelta(hours=1)
    return next_cursor(
        previous, "trac:demo", scope, started=start, finished=start + 10 * MINUTE, max_seen=seen
    )


def test_first_complete_extract_sets_the_cursor_with_a_lookback() -> None:
    cursor = cursor_after(None, Scope(), T0)
    assert cursor is not None
    assert cursor.updated == T0  # the newest time seen
    # Changes made while the run went on are at or after the source's clock at its start.
    assert cursor.since == T0 - 10 * MINUTE - MARGIN


def test_incremental_extract_moves_the_cursor_never_back() -> None:
    previous = Cursor("trac:demo", T0, T0 - MARGIN)
    moved = cursor_after(previous, Scope(since=previous.since), T0 + 2 * MINUTE)
    assert moved is not None
    assert moved.updated == T0 + 2 * MINUTE
    assert moved.since == T0 - MARGIN  # the previous newest time bounds the run's start
    nothing = cursor_after(previous, Scope(since=previous.since), None)
    assert nothing == Cursor("trac:demo", T0, T0 - MARGIN)


def test_partial_and_gapped_extracts_leave_the_cursor() -> None:
    previous = Cursor("trac:demo", T0, T0 - MARGIN)
    assert cursor_after(previous, Scope(ids=IdSet.parse("1-5")), T0 + MINUTE) is None
    assert cursor_after(previous, Scope(project="demo"), T0 + MINUTE) is None
    # --since later than the cursor: the changes in between were not read.
    assert cursor_after(previous, Scope(since=T0 + MINUTE), T0 + 2 * MINUTE) is None
    # A cursor of another source is no floor: this one starts its own.
    other = next_cursor(
        previous, "csv:bugs", Scope(), started=T0, finished=T0 + MINUTE, max_seen=T0
    )
    assert other is not None and other.source == "csv:bugs"


def test_a_ticket_dated_in_the_future_cannot_push_the_cursor_past_now() -> None:
    cursor = cursor_after(None, Scope(), datetime(2099, 1, 1, tzinfo=UTC))
    assert cursor is not None
    assert cursor.updated == T0 + timedelta(hours=1, minutes=10)  # capped at the run's end


def test_cursor_and_checkpoint_json_are_versioned() -> None:
    cursor = Cursor("trac:demo", T0, T0 - MARGIN)
    data = json.loads(cursor.dumps())
    assert data == {
        "v": 1,
        "source": "trac:demo",
        "updated": "2024-05-01T12:00:00Z",
        "since": "2024-05-01T11:55:00Z",
    }
    assert Cursor.loads(cursor.dumps()) == cursor
    # The brief form without "since" starts at updated less the margin.
    brief = Cursor.loads('{"v": 1, "source": "trac:demo", "updated": "2024-05-01T12:00:00Z"}')
    assert brief.since == T0 - MARGIN
    with pytest.raises(StagingError, match="format version 2"):
        Cursor.loads('{"v": 2, "source": "trac:demo", "updated": "2024-05-01T12:00:00Z"}')
    with pytest.raises(StagingError, match="not JSON"):
        Cursor.loads("2024-05-01")
    point = Checkpoint("trac:demo", Scope().key(), "400", T0, T0, 400)
    assert Checkpoint.loads(point.dumps(), T0) == point
    legacy = Checkpoint.loads("400", T0)  # the bare page checkpoint of earlier versions
    assert legacy.page == "400" and legacy.matches("trac:demo", Scope())
    assert not legacy.matches("trac:demo", Scope(ids=IdSet.parse("1")))


def test_since_option() -> None:
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_since("2024-05-01T18:30:00+09:00") == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert parse_since("2024-05-01 09:30") == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert parse_since("2024-05-01T09:30:00Z") == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(ConfigError, match="not a date"):
        parse_since("yesterday")


def test_id_selection() -> None:
    ids = IdSet.parse(" 9, 1,2, 5-7,6-8, BUG-3")
    assert str(ids) == "1-2,5-9,BUG-3"
    assert str(IdSet.parse("5-9,1-2,BUG-3")) == str(ids)  # one spelling per selection
    assert all(i in ids for i in ("1", "2", "5", "9", "007", "BUG-3"))
    assert "3" not in ids and "10" not in ids and "bug-3" not in ids
    assert not ids.numeric_only and IdSet.parse("1-3").numeric_only
    for bad in ("", "1,", "9-2"):
        with pytest.raises(ConfigError):
            IdSet.parse(bad)


def test_activity_and_replacement_characters() -> None:
    ticket = Ticket(
        origin="x:y#1",
        source_id="1",
        project="y",
        title="Ab\ufffdc",
        updated="2024-05-01T12:00:00Z",
        comments=[Comment("1", "a", "2024-05-02T00:00:00.5Z", "ok")],
        attachments=[Attachment("a", "f\ufffd.txt", 1, "00", time="2024-05-03T00:00:00Z")],
        custom={"顧客": "x\ufffd"},
    )
    assert activity(ticket) == datetime(2024, 5, 3, tzinfo=UTC)
    assert replaced_text(ticket) == ["title", "custom.顧客", "attachments.name"]


def test_progress_meters() -> None:
    from migrator.progress import ExtractBars, Meter, Silent, TicketsOnly, as_meter, make_meter

    class Counting:
        def __init__(self) -> None:
            self.calls: list[tuple[str, object]] = []

        def start(self, what: str, total: int | None) -> None:
            self.calls.append(("start", total))

        def advance(self, n: int = 1) -> None:
            self.calls.append(("advance", n))

        def finish(self) -> None:
            self.calls.append(("finish", None))

    plain = Counting()
    meter = as_meter(plain)
    assert isinstance(meter, TicketsOnly)
    meter.begin(300, 100)  # resumed: 100 committed by an earlier attempt
    meter.page(50, 120, 3, 4096)
    meter.end()
    assert plain.calls == [("start", 300), ("advance", 100), ("advance", 50), ("finish", None)]
    bars = make_meter(quiet=False)
    assert isinstance(bars, ExtractBars) and isinstance(bars, Meter) and as_meter(bars) is bars
    bars.begin(None, 0)  # off the terminal tqdm draws nothing, but counts
    bars.page(1, 2, 3, 4)
    bars.end()
    quiet = make_meter(quiet=True)
    assert isinstance(quiet, Silent) and as_meter(quiet) is quiet  # --quiet: one silent object
