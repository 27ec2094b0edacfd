"""The seeded dataset generator: determinism, required content, consistency."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import (
    DEFAULT_PATH,
    END,
    HISTORY_FIELDS,
    START,
    counts,
    dumps,
    generate,
    groups,
    is_comment,
    load_dataset,
    validate,
    write,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset() -> dict[str, Any]:
    return load_dataset()


def _texts(ds: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for tk in ds["tickets"]:
        out += [tk["summary"], tk["description"], tk["keywords"], tk["cc"]]
        out += [ch["newvalue"] for ch in tk["changes"]]
    return out


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_json() -> None:
    assert dumps(generate(120, 11)) == dumps(generate(120, 11))


def test_different_seed_gives_different_json() -> None:
    assert dumps(generate(120, 11)) != dumps(generate(120, 12))


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    """No iteration over sets/dicts keyed by str hashes: same bytes across processes."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"d{hash_seed}.json"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "fixtures.generate",
                "--tickets",
                "40",
                "--seed",
                "3",
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] == dumps(generate(40, 3)).encode("utf-8")


def test_committed_dataset_is_the_generator_output(dataset: dict[str, Any]) -> None:
    """fixtures/dataset.json must be regenerated whenever the generator changes."""
    assert dataset["seed"] == 7
    expected = dumps(generate(len(dataset["tickets"]), dataset["seed"])).encode("utf-8")
    assert DEFAULT_PATH.read_bytes() == expected, (
        "regenerate: python -m fixtures.generate --tickets 200 --seed 7 --out fixtures/dataset.json"
    )


def test_committed_dataset_is_small(dataset: dict[str, Any]) -> None:
    assert DEFAULT_PATH.stat().st_size < 1_000_000
    assert 150 <= len(dataset["tickets"]) <= 250


def test_write_and_load_roundtrip(tmp_path: Path) -> None:
    ds = generate(15, 5)
    path = write(ds, tmp_path / "sub" / "ds.json")
    assert load_dataset(path) == ds


def test_load_rejects_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "ds.json"
    path.write_text(json.dumps({"format": 2, "tickets": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        load_dataset(path)


# ---------------------------------------------------------------- consistency


@pytest.mark.parametrize(("tickets", "seed"), [(0, 7), (1, 7), (5, 1), (40, 2), (300, 99)])
def test_generated_history_is_consistent(tickets: int, seed: int) -> None:
    ds = generate(tickets, seed)
    assert validate(ds) == []
    assert [t["id"] for t in ds["tickets"]] == list(range(1, tickets + 1))


def test_committed_dataset_is_consistent(dataset: dict[str, Any]) -> None:
    assert validate(dataset) == []


def test_validate_catches_inconsistent_history(dataset: dict[str, Any]) -> None:
    broken = copy.deepcopy(dataset)
    closed = next(t for t in broken["tickets"] if t["status"] == "closed")
    closed["status"] = "new"
    closed["resolution"] = ""
    errors = validate(broken)
    assert any(f"ticket {closed['id']}:" in e and "status" in e for e in errors)

    broken = copy.deepcopy(dataset)
    tk = next(t for t in broken["tickets"] if len(groups(t)) >= 2)
    tk["changes"][-1]["time"] = tk["time"] - 1
    assert validate(broken)


def test_final_values_follow_last_change(dataset: dict[str, Any]) -> None:
    """Independent of validate(): the last change of every field is the final value."""
    for tk in dataset["tickets"]:
        last: dict[str, str] = {}
        for ch in tk["changes"]:
            if ch["field"] != "comment":
                last[ch["field"]] = ch["newvalue"]
        for field, value in last.items():
            final = tk[field] if field in HISTORY_FIELDS else tk["custom"][field]
            assert final == value, (tk["id"], field)
        assert (tk["status"] == "closed") == (tk["resolution"] != "")
        assert tk["changetime"] == max([tk["time"]] + [c["time"] for c in tk["changes"]])


def test_times_are_microseconds_in_range_and_increasing(dataset: dict[str, Any]) -> None:
    subsecond = 0
    for tk in dataset["tickets"]:
        times = [tk["time"]] + [g[0]["time"] for g in groups(tk)]
        assert all(START <= t < END for t in times)
        assert times == sorted(times) and len(set(times)) == len(times)
        subsecond += sum(1 for t in times if t % 1_000_000)
    assert subsecond > len(dataset["tickets"])  # really microseconds, not seconds * 1e6
    created = [tk["time"] for tk in dataset["tickets"]]
    assert created == sorted(created)  # ids are given in creation order, as in Trac


def test_comment_rows_are_numbered_like_trac(dataset: dict[str, Any]) -> None:
    replies = 0
    for tk in dataset["tickets"]:
        for n, g in enumerate(groups(tk), 1):
            assert g[-1]["field"] == "comment"
            cnum = g[-1]["oldvalue"]
            assert cnum.rsplit(".", 1)[-1] == str(n)
            replies += "." in cnum
    assert replies >= 1


# ------------------------------------------------------------ required content


@pytest.mark.parametrize("ds_source", ["committed", "seed-1", "seed-2024"])
def test_required_content_present(ds_source: str, dataset: dict[str, Any]) -> None:
    ds = {"committed": dataset, "seed-1": generate(200, 1), "seed-2024": generate(60, 2024)}[
        ds_source
    ]
    tickets = ds["tickets"]
    texts = _texts(ds)
    c = counts(ds)

    assert {u["login"] for u in ds["users"]} == {
        "alice",
        "bob",
        "carol",
        "tanaka",
        "suzuki",
        "yamada",
    }
    assert [u["login"] for u in ds["users"] if not u["active"]] == ["yamada"]
    assert [c["name"] for c in ds["components"]] == ["core", "ui", "docs", "network", "認証"]
    assert [m["name"] for m in ds["milestones"]] == ["1.0", "1.1", "2.0"]
    assert [m["name"] for m in ds["milestones"] if m["completed"]] == ["1.0"]
    assert [v["name"] for v in ds["versions"]] == ["1.0", "2.0"]
    assert {f["name"]: f["type"] for f in ds["custom_fields"]} == {
        "customer": "text",
        "severity_level": "select",
    }
    assert next(f for f in ds["custom_fields"] if f["name"] == "severity_level")["options"] == [
        "low",
        "medium",
        "high",
    ]

    # every status, type and resolution occurs
    assert all(c["status"][s] > 0 for s in ds["statuses"]), c["status"]
    assert all(c["resolution"][r] > 0 for r in ds["resolutions"]), c["resolution"]
    assert all(c["type"][t] > 0 for t in ds["types"])
    assert sum(c["status"].values()) == len(tickets)
    assert sum(c["resolution"].values()) == c["status"]["closed"]

    # people
    assert any(t["reporter"] == "anonymous" for t in tickets)
    comment_authors = {ch["author"] for t in tickets for ch in t["changes"] if is_comment(ch)}
    assert len(comment_authors) >= 4
    assert any(t["owner"] == "yamada" and t["status"] != "closed" for t in tickets)

    # text
    assert any("ログイン画面でエラーが発生する" in t["summary"] for t in tickets)
    assert any(any("\u3040" <= ch <= "\u30ff" for ch in s) for s in texts)  # kana
    assert any(len(t["summary"]) > 255 for t in tickets)
    assert any("🐛" in t["summary"] for t in tickets)
    assert any("<script>alert(1)</script>" in s for s in texts)
    assert any('<b>bold</b> & "quotes"' in s for s in texts)
    assert any("\r\n" in s for s in texts)
    for markup in ("'''", "''", "{{{", "}}}", "= ", " * ", "[wiki:", "[http://", "#"):
        assert any(markup in t["description"] for t in tickets), markup
    assert any(t["description"].count("\n") >= 3 for t in tickets)
    assert any(t["keywords"] for t in tickets)
    assert any(t["cc"].startswith("bob, tanaka@example.com") for t in tickets)

    # odd and empty values
    assert any(t["description"] == "" for t in tickets)
    assert any(
        t["component"] == "" and t["milestone"] == "" and t["version"] == "" for t in tickets
    )
    assert any("severity_level" not in t["custom"] for t in tickets)
    assert any(t["custom"].get("customer") == "" for t in tickets)

    # history shapes
    per_ticket = [sum(1 for ch in t["changes"] if is_comment(ch)) for t in tickets]
    assert min(per_ticket) == 0 and max(per_ticket) == 6
    assert any(not t["changes"] for t in tickets)
    assert c["change_only_groups"] > 0
    status_paths = {
        tuple(ch["newvalue"] for ch in t["changes"] if ch["field"] == "status") for t in tickets
    }
    assert ("assigned", "closed") in status_paths
    assert any("reopened" in p and p[-1] == "closed" for p in status_paths)
    assert any(ch["field"] == "owner" for t in tickets for ch in t["changes"])


def test_counts_add_up(dataset: dict[str, Any]) -> None:
    c = counts(dataset)
    assert c["tickets"] == len(dataset["tickets"])
    assert c["comments"] + c["change_only_groups"] == c["comment_rows"]
    assert c["comment_rows"] + c["field_changes"] == c["ticket_change_rows"]
    assert c["comment_rows"] == sum(len(groups(t)) for t in dataset["tickets"])
    assert c["comments"] == sum(
        1
        for t in dataset["tickets"]
        for ch in t["changes"]
        if ch["field"] == "comment" and ch["newvalue"]
    )
    for key in ("status", "type", "priority", "component", "milestone"):
        assert sum(c[key].values()) == c["tickets"], key


def test_cli_writes_stdout() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fixtures.generate", "--tickets", "3", "--seed", "1"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    assert proc.stdout == dumps(generate(3, 1)).encode("utf-8")
