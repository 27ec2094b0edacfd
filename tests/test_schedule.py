"""``migrator schedule``: phases and dates that follow from the pilot, in three formats."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from migrator.schedule import next_working_day, working_days_from
from tests.cli_runner import run

START = "2027-01-04"  # a Monday
FREEZE = "2027-03-01"


def test_working_days_skip_weekends() -> None:
    friday = date(2027, 1, 8)
    assert next_working_day(date(2027, 1, 9)) == date(2027, 1, 11)  # Saturday -> Monday
    assert working_days_from(friday, 1) == friday
    assert working_days_from(friday, 2) == date(2027, 1, 11)
    assert working_days_from(friday, 6) == date(2027, 1, 15)


def test_before_the_pilot_the_first_batch_is_the_pilot_at_an_assumed_pace(
    make_migration: Any, small_trac_env: Path
) -> None:
    m = make_migration(env=small_trac_env)
    for args in (("extract", "-q"), ("plan", "-q"), ("batch", "create", "pilot", "--limit", "5")):
        assert run(m.config, *args).exit_code == 0
    assert run(m.config, "batch", "create", "rest", "--where", "id > 0").exit_code == 0
    result = run(m.config, "schedule", "--freeze", FREEZE, "--start", START, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    keys = [p["key"] for p in data["phases"]]
    assert keys[:3] == ["preparation", "pilot", "batch"]
    assert keys[-3:] == ["freeze", "verification", "signoff"]
    assert any("no load has been measured" in w for w in data["warnings"])
    assert any("assumed" in line for line in data["basis"])


def test_dates_follow_from_the_pilot(
    make_migration: Any, small_trac_env: Path, tmp_path: Path
) -> None:
    m = make_migration(env=small_trac_env)
    for args in (("extract", "-q"), ("plan", "-q"), ("batch", "create", "pilot", "--limit", "10")):
        assert run(m.config, *args).exit_code == 0
    assert run(m.config, "batch", "create", "rest", "--where", "id > 0").exit_code == 0
    assert run(m.config, "load", "--batch", "pilot", "-q").exit_code == 0
    estimate = json.loads(run(m.config, "estimate", "--json").output)
    assert estimate["rate_source"] == "measured"

    # A window of a few seconds a day makes the rest of the load span several days, so
    # the dates depend on the measured rate.
    seconds = estimate["batches"][0]["seconds"]
    hours = seconds / 3600 / 3
    result = run(
        m.config,
        "schedule",
        "--freeze",
        FREEZE,
        "--start",
        START,
        "--hours-per-day",
        f"{hours:.8f}",
        "--json",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    phases = {p["key"]: p for p in data["phases"]}
    assert "pilot" not in phases  # the pilot is done: its pace is the measure
    batch = phases["batch"]
    days = math.ceil(seconds / (float(f"{hours:.8f}") * 3600))
    assert batch["days"] == days
    assert date.fromisoformat(batch["end"]) == working_days_from(
        date.fromisoformat(batch["start"]), days
    )
    assert date.fromisoformat(phases["preparation"]["start"]) == date(2027, 1, 4)
    assert phases["freeze"]["start"] == FREEZE
    syncs = [p for p in data["phases"] if p["key"] == "sync"]
    assert syncs and all(date.fromisoformat(s["start"]) < date(2027, 3, 1) for s in syncs)
    assert any("measured in 1 load" in line for line in data["basis"])
    assert not any("no load has been measured" in w for w in data["warnings"])

    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "schedule-en.ics",
        "schedule-en.md",
        "schedule-en.xlsx",
    ]
    sheet = load_workbook(out / "schedule-en.xlsx").active
    assert sheet is not None
    assert sheet["A1"].value == "Phase" and sheet.max_row >= len(data["phases"]) + 1
    ics = (out / "schedule-en.ics").read_text(encoding="utf-8")
    assert ics.count("BEGIN:VEVENT") == len(data["phases"])
    end = date.fromisoformat(batch["end"]) + timedelta(days=1)
    assert f"DTEND;VALUE=DATE:{end.strftime('%Y%m%d')}" in ics  # all-day events end after

    ja = run(m.config, "schedule", "--freeze", FREEZE, "--start", START, "--lang", "ja")
    assert ja.exit_code == 0, ja.output
    assert "凍結・切り替え" in ja.output and "本移行バッチ（rest）" in ja.output


def test_a_freeze_before_the_start_is_refused(make_migration: Any, small_trac_env: Path) -> None:
    m = make_migration(env=small_trac_env)
    for command in ("extract", "plan"):
        assert run(m.config, command, "-q").exit_code == 0
    result = run(m.config, "schedule", "--freeze", "2027-01-01", "--start", START)
    assert result.exit_code == 2
    assert "is not after the start" in result.output
    result = run(m.config, "schedule", "--freeze", "1 March")
    assert result.exit_code == 2 and "not a date" in result.output
