"""Ticket text is untrusted: hostile titles, comments, file names and errors stay inert.

The hostile text enters through a real Trac environment and the real extract
and plan.  The offline test then records load and verify outcomes directly in
staging (a failure whose server message echoes ticket text, credentials in an
error); the Redmine test makes the real target refuse and change tickets.
"""

from __future__ import annotations

import base64
import csv
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from fixtures import browser
from fixtures.trackers import trac
from migrator.config import load_config
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now
from tests.cli_runner import run
from tests.reports.helpers import (
    CLOSE,
    FORMULA,
    FORMULAS,
    HOSTILE,
    IMG,
    SCRIPT,
    Elements,
    assert_html_safe,
    file_text,
    hostile_dataset,
    md_rows,
    write_all,
)

REPO = Path(__file__).resolve().parents[2]
MAPPING_NAME = f"{IMG}.yaml"
PROJECT = "=1+2 <b>core</b> | x"
PASSWORD, KEY = "hunter2-not-for-reports", "0123abcdef4567"
TARGET_URL = f"https://admin:{PASSWORD}@redmine.invalid/base/?key={KEY}#frag"
SOURCE_URL = "https://trac.invalid/core"


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    return trac.build(tmp_path_factory.mktemp("trac-hostile") / "env", hostile_dataset(dataset))


def offline_migration(directory: Path, env: Path) -> Path:
    """A migration directory whose target is never contacted (extract and plan only)."""
    (directory / "mappings").mkdir(parents=True)
    shutil.copy(REPO / "mappings" / "trac-to-redmine.yaml", directory / "mappings" / MAPPING_NAME)
    config = directory / "migration.toml"
    config.write_text(
        f"""\
[source]
type = "trac"
env = {json.dumps(str(env))}
name = {json.dumps(PROJECT)}

[target]
type = "redmine"
url = {json.dumps(TARGET_URL)}
api_key = "$env:MIGRATOR_TEST_UNUSED_KEY"

[mapping]
file = {json.dumps("mappings/" + MAPPING_NAME)}
""",
        encoding="utf-8",
    )
    return config


def record_outcomes(config: Path) -> dict[str, str]:
    """Load and verify outcomes written into staging as the loader and verifier write them."""
    staging = Staging(load_config(config).staging_url)
    ls, v = s.load_state, s.verifications
    long = "x" * 400
    try:
        with staging.begin() as conn:
            plan = conn.execute(select(s.plans)).one()
            planned = {
                r.origin: r.payload
                for r in conn.execute(
                    select(s.planned_tickets).order_by(s.planned_tickets.c.origin)
                )
            }
            origins = sorted(planned, key=lambda o: int(o.rsplit("#", 1)[1]))
            first, second = origins[:2]
            run_id = conn.execute(
                s.runs.insert().values(
                    command="load",
                    started_at=now(),
                    finished_at=now(),
                    status="done",
                    summary={"tickets_created": len(origins) - 1, "tickets_failed": 1},
                )
            ).inserted_primary_key[0]
            for i, origin in enumerate(origins):
                failed = origin == second
                conn.execute(
                    ls.insert().values(
                        key=origin,
                        kind="ticket",
                        ticket_origin=origin,
                        seq=0,
                        state="failed" if failed else "done",
                        target_id=None if failed else str(100 + i),
                        attempts=1,
                        last_error=(
                            f"Redmine at https://admin:{PASSWORD}@redmine.invalid/issues.json?"
                            f"key={KEY} rejected POST /issues.json (HTTP 422: Subject {SCRIPT} "
                            f"{IMG} {CLOSE} is invalid; X-Redmine-API-Key: {KEY})"
                        )
                        if failed
                        else None,
                        plan_id=plan.id,
                        updated_at=now(),
                    )
                )
                if failed:
                    continue
                diffs = []
                if origin == first:
                    diffs = [
                        {"field": "subject", "expected": planned[origin]["subject"], "actual": IMG},
                        {"field": "comment 1", "expected": f"{SCRIPT}\n{CLOSE}", "actual": CLOSE},
                        {"field": "description", "expected": long + SCRIPT, "actual": long + IMG},
                        {"field": f"attachment {IMG}.png", "expected": "0" * 64, "actual": None},
                        {"field": "priority", "expected": FORMULAS[1], "actual": FORMULAS[2]},
                        {"field": "assignee", "expected": FORMULAS[3], "actual": None},
                    ]
                conn.execute(
                    v.insert().values(
                        origin=origin,
                        target_id=str(100 + i),
                        ok=not diffs,
                        differences=diffs,
                        actual={"status": planned[origin]["status"]},
                        run_id=run_id,
                        verified_at=now(),
                    )
                )
            talkative = next(o for o in origins[2:] if planned[o]["comments"])
            conn.execute(
                ls.insert().values(
                    key=planned[talkative]["comments"][0]["key"],
                    kind="comment",
                    ticket_origin=talkative,
                    seq=0,
                    state="failed",
                    attempts=2,
                    last_error=f"{FORMULA} {IMG}",
                    plan_id=plan.id,
                    updated_at=now(),
                )
            )
    finally:
        staging.close()
    return {"first": first, "failed": second}


def test_hostile_text_is_inert_in_every_format(hostile_env: Path, tmp_path: Path) -> None:
    config = offline_migration(tmp_path / "migration", hostile_env)
    for command in ("extract", "plan"):
        result = run(config, command, "-q")
        assert result.exit_code == 0, result.output
    origins = record_outcomes(config)
    written = write_all(config, tmp_path / "reports", source_url=SOURCE_URL)
    every = [p for paths in written.values() for p in paths]

    data = json.loads((tmp_path / "reports" / "en" / "reconciliation.json").read_text("utf-8"))
    # The hostile text reached the report as data, untouched.
    failure = next(f for f in data["failures"] if f["key"] == origins["failed"])
    assert failure["title"] == IMG
    assert data["differences"][0]["title"].startswith(SCRIPT)
    assert data["source_projects"] == [PROJECT]
    assert data["signoff"]["mapping_file"] == MAPPING_NAME
    # Long texts are shown around their first difference.
    description = next(d for d in data["differences"] if d["field"] == "description")
    assert description["expected_brief"].startswith("…") and SCRIPT in description["expected_brief"]
    assert description["expected"].endswith(SCRIPT)  # the full value stays in the data
    # Links only to the configured trackers, without their credentials.
    assert data["target_url"] == "https://redmine.invalid/base"
    assert data["differences"][0]["target_url"] == "https://redmine.invalid/base/issues/100"
    assert failure["source_url"] == "https://trac.invalid/core/ticket/2"

    # No credential anywhere, in any format or language.
    for path in every:
        text = file_text(path)
        assert PASSWORD not in text and KEY not in text, path

    # HTML: only the report's elements and attributes; the hostile text shown as text.
    for lang in ("en", "ja"):
        page = (tmp_path / "reports" / lang / "reconciliation.html").read_text("utf-8")
        assert_html_safe(page)
        assert "Content-Security-Policy" in page
        assert f"{SCRIPT}.txt" not in page and "&lt;script&gt;" in page

    # Markdown: nothing opens markup; every row has its table's number of cells.
    for lang in ("en", "ja"):
        md = (tmp_path / "reports" / lang / "reconciliation.md").read_text("utf-8")
        for raw in ("<script", "<img", "</td>", "<b>", "](javascript"):
            assert raw not in md
        assert "&lt;script&gt;" in md
        widths: list[int] = []
        for line in md.split("\n\n"):
            rows = md_rows(line)
            if rows:
                widths = [len(r) for r in rows]
                assert len(set(widths)) == 1, line
        project_row = next(r for r in md_rows(md) if r and r[0].startswith("=1+2"))
        assert project_row[0] == r"=1+2 &lt;b&gt;core&lt;/b&gt; \| x"

    # CSV: no cell starts like a formula; such text is kept behind a quote.
    cells: list[str] = []
    for path in every:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                cells += [c for row in csv.reader(f) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for text in (FORMULA, PROJECT, *FORMULAS):
        assert "'" + text in cells or any(c.startswith("'" + text) for c in cells), text

    # Excel: every text a string cell, unchanged; no formula anywhere in the workbook.
    for lang in ("en", "ja"):
        path = tmp_path / "reports" / lang / "reconciliation.xlsx"
        with zipfile.ZipFile(path) as z:
            sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not [x for x in sheets if "<f>" in x or "<f " in x]
        book = openpyxl.load_workbook(path)
        found = {}
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate)
                    if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                        found[cell.value] = cell
        for text in (f"{FORMULA} {IMG}", PROJECT):
            assert text in found, sorted(found)
            assert found[text].data_type == "s" and found[text].quotePrefix

    # JSON: Japanese as written, the whole model.
    raw = (tmp_path / "reports" / "en" / "reconciliation.json").read_text("utf-8")
    assert "日本語の件名" in raw and "\\u" not in raw


@pytest.mark.redmine
def test_hostile_text_through_a_real_migration(
    make_migration: Any,
    redmine_admin: Any,
    redmine: Any,
    dataset: dict[str, Any],
    tmp_path: Path,
) -> None:
    ds = hostile_dataset(dataset)
    # Redmine refuses uploads over 5 MB (its default): a real failure, on a ticket whose
    # title and file name are hostile.
    refused = ds["tickets"][3]
    refused["attachments"] = [
        {
            "filename": f"{CLOSE}.bin",
            "time": refused["time"] + 1_000_000,
            "author": "bob",
            "description": "",
            "content_b64": base64.b64encode(bytes(range(256)) * 21_000).decode(),
        }
    ]
    m = make_migration(env=trac.build(tmp_path / "trac", ds))
    for command in ("extract", "plan"):
        result = run(m.config, command, "-q")
        assert result.exit_code == 0, result.output
    result = run(m.config, "load")
    assert result.exit_code == 1, result.output

    # Changes behind migrator's back, to hostile ticket text: subjects and a comment.
    by_origin = {
        cf["value"]: i
        for i in redmine_admin.issues(m.project)
        for cf in i["custom_fields"]
        if cf["name"] == "Legacy ID"
    }
    origin = f"trac:{m.project}#{{}}".format
    for number in (1, 2, 3):
        issue = by_origin[origin(number)]
        redmine_admin.send(
            "PUT", f"/issues/{issue['id']}.json", {"issue": {"subject": "changed in Redmine"}}
        )
    journal = next(
        j for j in redmine_admin.journals(by_origin[origin(5)]["id"]) if CLOSE in j["notes"]
    )
    redmine_admin.send("PUT", f"/journals/{journal['id']}.json", {"journal": {"notes": "edited"}})
    result = run(m.config, "verify", "-q")
    assert result.exit_code == 1, result.output

    written = write_all(m.config, tmp_path / "reports")
    data = json.loads((tmp_path / "reports" / "en" / "reconciliation.json").read_text("utf-8"))
    subjects = {d["origin"]: d for d in data["differences"] if d["field"] == "subject"}
    assert subjects[origin(1)]["expected"].startswith(SCRIPT)
    assert subjects[origin(2)]["expected"] == IMG
    assert subjects[origin(3)]["target_url"] == (
        f"{redmine.url}/issues/{by_origin[origin(3)]['id']}"
    )
    comment = next(d for d in data["differences"] if d["origin"] == origin(5))
    assert CLOSE in comment["expected"] and comment["actual"] == "edited"
    failed = {f["origin"]: f for f in data["failures"] if f["kind"] == "ticket"}
    assert failed[origin(4)]["title"] == FORMULA
    assert "422" in failed[origin(4)]["error"]
    assert data["summary"]["verdict"] == "attention"

    for path in (p for paths in written.values() for p in paths):
        assert redmine.api_key not in file_text(path), path
    for lang in ("en", "ja"):
        page = tmp_path / "reports" / lang / "reconciliation.html"
        assert_html_safe(page.read_text("utf-8"))
        # What a browser builds from it: still no element or handler from ticket text.
        dom = browser.dump_dom(page)
        assert_html_safe(dom)
        assert all(p in "".join(Elements(dom).text) for p in HOSTILE)
        shot = browser.screenshot(page, tmp_path / f"hostile-{lang}.png")
        assert shot.stat().st_size > 40_000
