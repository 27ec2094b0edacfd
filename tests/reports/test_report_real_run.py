"""Reports of a real Trac -> Redmine migration: the numbers, every format, both languages."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fixtures import browser
from fixtures.generate import counts
from migrator.mapping import load_mapping
from tests.cli_runner import run
from tests.reports.helpers import Elements, file_text, md_rows, write_all

pytestmark = pytest.mark.redmine


def test_reports_of_a_real_migration(
    make_migration: Any,
    small_trac_env: Path,
    redmine: Any,
    dataset: dict[str, Any],
    tmp_path: Path,
) -> None:
    m = make_migration(env=small_trac_env)
    for command in ("extract", "plan", "load", "verify"):
        result = run(m.config, command, "-q")
        assert result.exit_code == 0, result.output
    small = {**dataset, "tickets": dataset["tickets"][:30]}
    expected = counts(small)
    n = expected["tickets"]

    written = write_all(m.config, tmp_path / "reports")
    en, ja = tmp_path / "reports" / "en", tmp_path / "reports" / "ja"

    # The data model: every stage accounted for, per project and in total.
    data = json.loads((en / "reconciliation.json").read_text(encoding="utf-8"))
    assert data["summary"]["verdict"] == "complete"
    assert data["summary"]["tickets"] == {
        "source": n,
        "planned": n,
        "loaded": n,
        "verified": n,
        "differ": 0,
        "failed": 0,
        "pending": 0,
    }
    comments = data["summary"]["comments"]
    assert comments == dict.fromkeys(comments, expected["comments"]) | {"failed": 0}
    files = data["summary"]["attachments"]
    assert files["source"] == files["planned"] == expected["attachments"]
    assert [p["project"] for p in data["projects"]] == [m.project]
    assert data["projects"][0]["source"] == data["projects"][0]["verified"] == n

    # Cross tables: source values as Trac has them, every planned value read back.
    statuses = Counter(
        " / ".join(v for v in (t["status"], t["resolution"]) if v) for t in small["tickets"]
    )
    assert {r["source"]: 0 for r in data["cross"]["status"]}.keys() == statuses.keys()
    by_source = Counter()
    for r in data["cross"]["status"]:
        by_source[r["source"]] += r["planned"]
    assert by_source == statuses
    for name in ("status", "tracker", "priority"):
        rows = data["cross"][name]
        assert sum(r["planned"] for r in rows) == n
        assert all(r["in_target"] == r["planned"] for r in rows), rows
    types = Counter(r["source"] for r in data["cross"]["tracker"] for _ in range(r["planned"]))
    assert types == Counter(t["type"] for t in small["tickets"])

    # Timeline: one row per step, with what it processed and a throughput.
    steps = {r["step"]: r for r in data["timeline"]}
    assert set(steps) == {"extract", "plan", "load", "verify"}
    for step in ("extract", "load", "verify"):
        assert steps[step]["tickets"] == n
        assert steps[step]["tickets_per_second"] > 0
        assert steps[step]["status"] == "done"
    assert steps["load"]["comments"] == expected["comments"]

    # Sign-off: the digests staging holds.
    plan = data["plan"]
    assert data["signoff"]["plan_digest"] == plan["digest"] and len(plan["digest"]) == 64
    assert data["signoff"]["mapping_digest"] == plan["mapping_digest"]
    assert data["signoff"]["mapping_file"] == "trac-to-redmine.yaml"
    assert data["not_migrated"]["mapping_read"] is True
    mapping = load_mapping(m.mapping)
    reasons = {r["field"]: r["reason"] for r in data["not_migrated"]["fields"]}
    assert reasons["history"] == "drop"
    assert {f for f, r in reasons.items() if r == "drop"} <= set(mapping.drop)
    assert {f for f, r in reasons.items() if r == "preserve"} <= set(mapping.preserve)
    assert "preserve" in reasons.values()

    # Markdown, both languages.
    md = (en / "reconciliation.md").read_text(encoding="utf-8")
    assert f"| Verified identical | {n} |" in md
    assert ["Verified identical", str(n), str(expected["comments"])] == md_rows(md)[5][:3]
    md_ja = (ja / "reconciliation.md").read_text(encoding="utf-8")
    assert md_ja.startswith("# 移行照合レポート\n")
    assert f"| 検証済み（一致） | {n} |" in md_ja
    for heading in ("## 1. 概要", "差異", "失敗", "## 5. 移行しなかった項目", "## 7. 承認"):
        assert heading in md_ja

    # HTML: the same numbers; self-contained.
    for folder, lang in ((en, "en"), (ja, "ja")):
        page = (folder / "reconciliation.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in page
        assert "<script" not in page and "<link" not in page and "src=" not in page
        assert "<svg" in page and "@media print" in page
    assert "承認" in (ja / "reconciliation.html").read_text(encoding="utf-8")

    # Excel: one sheet per table, numbers as numbers.
    book = openpyxl.load_workbook(en / "reconciliation.xlsx")
    assert len(book.sheetnames) == 13
    summary = book[book.sheetnames[0]]
    row = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Verified identical")
    assert row[1] == n and isinstance(row[1], int)
    book_ja = openpyxl.load_workbook(ja / "reconciliation.xlsx")
    assert book_ja.sheetnames[0] == "概要"

    # CSV: one UTF-8 file with BOM per table.
    csvs = sorted((ja / "reconciliation-csv").glob("*.csv"))
    assert len(csvs) == 13
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in csvs)
    with csvs[0].open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][1] == "チケット" and ["検証済み（一致）", str(n)] == rows[4][:2]

    # No credential in any file, in any language (the workbook's parts included).
    every = [p for paths in written.values() for p in paths]
    assert len(every) == 2 * (4 + 13)
    for path in every:
        assert redmine.api_key not in file_text(path), path

    # A real browser renders it: the numbers are in the DOM, the page is painted.
    for folder in (en, ja):
        page = folder / "reconciliation.html"
        dom = browser.dump_dom(page)
        verified = re.search(r'id="kpi-verified".*?class="kpi-value">([^<]*)<', dom, re.S)
        assert verified is not None and verified.group(1) == f"{n:,}"
        assert f"{expected['comments']:,}" in "".join(Elements(dom).text)
        shot = browser.screenshot(page, tmp_path / f"{folder.name}.png", width=1280, height=2000)
        assert browser.png_size(shot) == (1280, 2000)
        assert shot.stat().st_size > 40_000  # a blank or unstyled page compresses far smaller
        # Printable: A4 pages from the print stylesheet, the sign-off on a page of its own.
        pdf = browser.print_pdf(page, tmp_path / f"{folder.name}.pdf")
        assert browser.pdf_pages(pdf) >= 2

    # The CLI as wired today still writes its reports.
    result = run(m.config, "report")
    assert result.exit_code == 0, result.output
    assert (m.directory / "reports" / "reconciliation.md").exists()
