"""The dry-run report: value tables with the right counts, lossy mappings, previews, escaping."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import HTML_SCRIPT, is_comment
from migrator.errors import ConfigError
from migrator.plan.report import build_dry_run, write_dry_run
from tests.cli_runner import run
from tests.plan.trial import Trial

# What the shipped mapping (mappings/trac-to-redmine.yaml) says, restated for the expectations.
REJECTED = {"wontfix", "invalid", "duplicate", "worksforme"}
TRACKER = {"defect": "Bug", "enhancement": "Feature", "task": "Support"}
STATUS = {
    "new": "New",
    "assigned": "In Progress",
    "accepted": "In Progress",
    "reopened": "New",
    "closed": "Closed",
}
PRIORITY = {
    "blocker": "Immediate",
    "critical": "Urgent",
    "major": "High",
    "minor": "Normal",
    "trivial": "Low",
}


def expected_values(tickets: list[dict[str, Any]]) -> dict[str, Counter[tuple[str, str]]]:
    out: dict[str, Counter[tuple[str, str]]] = {
        "tracker": Counter(),
        "status": Counter(),
        "priority": Counter(),
    }
    for tk in tickets:
        out["tracker"][(tk["type"], TRACKER[tk["type"]])] += 1
        rejected = tk["status"] == "closed" and tk["resolution"] in REJECTED
        label = " / ".join(v for v in (tk["status"], tk["resolution"]) if v)
        out["status"][(label, "Rejected" if rejected else STATUS[tk["status"]])] += 1
        out["priority"][(tk["priority"], PRIORITY[tk["priority"]])] += 1
    return out


class Page(HTMLParser):
    """Tables by id (cell text, unescaped) and every text node, as a browser would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: list[str] = []
        self.tags: Counter[str] = Counter()
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag == "table":
            self._rows = self.tables.setdefault(dict(attrs).get("id") or f"#{len(self.tables)}", [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._rows = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def comments_of(tk: dict[str, Any]) -> int:
    return sum(1 for ch in tk["changes"] if ch["field"] == "comment" and is_comment(ch))


VERSION_LINE = (
    '  - version                  # Trac "version" (found in); Redmine has no such field\n'
)


def test_html_report_counts_every_value_and_lists_lossy_mappings(
    trial: Callable[..., Trial], small_trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    summary = t.plan()
    tickets = dataset["tickets"][:30]

    data = build_dry_run(t.staging, summary["plan_id"], show=["3", f"{t.origin}7", "#12", "9999"])
    page = Page(write_dry_run(data, tmp_path / "dry-run.html").read_text(encoding="utf-8"))

    expected = expected_values(tickets)
    for field, counted in expected.items():
        rows = page.tables[f"values-{field}"][1:]
        assert rows == [[s, tgt, str(n)] for (s, tgt), n in sorted(counted.items())], field
        assert sum(int(r[2]) for r in rows) == len(tickets)
    lossy = []
    for field, counted in expected.items():
        by_target: dict[str, list[tuple[str, int]]] = {}
        for (s, tgt), n in sorted(counted.items()):
            by_target.setdefault(tgt, []).append((s, n))
        for tgt, sources in sorted(by_target.items()):
            if len(sources) > 1:
                listed = ", ".join(f"{s} ({n})" for s, n in sources)
                lossy.append([field, tgt, listed, str(sum(n for _, n in sources))])
    assert ["status", "Rejected"] in [row[:2] for row in lossy]  # closed / wontfix, ...
    assert page.tables["lossy-table"][1:] == lossy

    warnings = {row[0]: row for row in page.tables["warnings-table"][1:]}
    assert {k: int(r[2]) for k, r in warnings.items()} == summary["warnings"]  # tickets
    for kind, row in warnings.items():
        assert 0 < int(row[2]) <= int(row[1])
        assert f"{t.origin}" in row[3], kind  # example tickets

    # Previews: the three asked for, then the hardest; an unknown id is named, not fatal.
    assert [v["origin"] for v in data["previews"][:3]] == [f"{t.origin}{i}" for i in (3, 7, 12)]
    assert data["not_found"] == ["9999"]
    assert f"Not in plan {summary['plan_id']}: 9999" in page.texts
    for v in data["previews"][:3]:
        tk = tickets[int(v["source_id"]) - 1]
        fields = {f["target"]: f for f in v["fields"]}
        assert fields["subject"]["old"] == tk["summary"] == fields["subject"]["new"]
        assert len(v["comments"]) == v["source_comments"] == comments_of(tk)
        assert v["description"]["old"]["text"] == tk["description"]
        assert v["description"]["new"]["text"].startswith(f"_Migrated from {v['origin']} ·")
        assert any(tk["summary"] in text for text in page.texts)
    most = max(comments_of(tk) for tk in tickets)
    hardest = {h["key"]: h["tickets"] for h in data["hardest"]}
    assert [len(h) for h in hardest.values()] == [3, 3, 3]
    assert hardest["comments"][0]["value"] == most
    previewed = {v["origin"] for v in data["previews"]}
    assert {x["origin"] for h in hardest.values() for x in h} <= previewed
    assert len(page.tables["hardest"]) == 1 + 9


def test_markdown_and_json_reports(
    trial: Callable[..., Trial], small_trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    data = build_dry_run(t.staging, t.plan()["plan_id"], show=["4"])

    md = write_dry_run(data, tmp_path / "dry-run.md").read_text(encoding="utf-8")
    counted = expected_values(dataset["tickets"][:30])["status"]
    assert f"| closed / wontfix | Rejected | {counted[('closed / wontfix', 'Rejected')]} |" in md
    assert "| status | Rejected | closed / duplicate (" in md
    assert f"### {t.origin}4\n" in md

    as_json = write_dry_run(data, tmp_path / "dry-run.json").read_text(encoding="utf-8")
    assert json.loads(as_json) == data

    with pytest.raises(ConfigError) as err:
        write_dry_run(data, tmp_path / "dry-run.txt")
    assert err.value.exit_code == 2 and ".html, .md or .json" in str(err.value)


def test_fields_not_migrated_are_listed(
    trial: Callable[..., Trial], small_trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    t.edit_mapping(VERSION_LINE, "")
    data = build_dry_run(t.staging, t.plan()["plan_id"])

    with_version = sum(1 for tk in dataset["tickets"][:30] if tk["version"])
    assert data["dropped"] == [{"field": "version", "tickets": with_version}]
    page = Page(write_dry_run(data, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert page.tables["dropped-table"][1:] == [["version", str(with_version)]]


def test_after_a_mapping_edit_values_are_labelled_by_the_from_field(
    trial: Callable[..., Trial], small_trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    """The rules that were applied are unknown once the file changed: fall back to the summary."""
    t = trial(small_trac_env)
    t.extract()
    plan_id = t.plan()["plan_id"]
    t.edit_mapping("reopened: New", "reopened: Feedback")

    data = build_dry_run(t.staging, plan_id)

    assert data["labels"] == "from-field"
    status = {(r["source"], r["target"]): r["tickets"] for r in data["fields"][1]["rows"]}
    tickets = dataset["tickets"][:30]
    rejected = sum(1 for tk in tickets if tk["resolution"] in REJECTED)
    assert status[("closed", "Rejected")] == rejected
    assert status[("reopened", "New")] == sum(1 for tk in tickets if tk["status"] == "reopened")
    html = write_dry_run(data, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "mapping file changed since this plan was made" in html


def test_hostile_ticket_text_is_escaped_and_the_page_is_self_contained(
    trial: Callable[..., Trial], dataset: dict[str, Any], tmp_path: Path
) -> None:
    t = trial()  # the full fixture environment: it holds the HTML-in-the-title ticket
    hostile = next(tk for tk in dataset["tickets"] if HTML_SCRIPT in tk["summary"])
    t.extract()
    t.edit_mapping("new: New", 'new: "<i>New</i>"')
    data = build_dry_run(t.staging, t.plan()["plan_id"], show=[str(hostile["id"]), "<svg/x>"])

    html = write_dry_run(data, tmp_path / "r.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.tags["script"] == page.tags["svg"] == page.tags["i"] == page.tags["b"] == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    subjects = [row for table in page.tables.values() for row in table if row[:1] == ["subject"]]
    title = hostile["summary"]
    assert ["subject", f"title: {title}", title] in subjects  # shown as text, both sides
    assert [
        "new",
        "<i>New</i>",
        str(Counter(tk["status"] for tk in dataset["tickets"])["new"]),
    ] in (page.tables["values-status"])
    assert "<svg/x>" in " ".join(page.texts)  # the unknown --show id, as text
    # Self-contained: no external script, style sheet, image, font or link.
    assert not re.search(r"<link|@import|url\(|\ssrc=", html)
    assert re.findall(r'href="([^"]*)"', html) and all(
        h.startswith("#") for h in re.findall(r'href="([^"]*)"', html)
    )

    md = write_dry_run(data, tmp_path / "r.md").read_text(encoding="utf-8")
    fence = ""
    for line in md.splitlines():
        if fence and line == fence:
            fence = ""
        elif not fence and re.match(r"^`{3,}text$", line):
            fence = line.removesuffix("text")
        elif not fence:
            assert "<" not in line, line  # outside code blocks, markup is escaped


@pytest.mark.usefixtures("plan_cli")
def test_plan_report_option_writes_the_file(
    trial: Callable[..., Trial], small_trac_env: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    result = run(t.m.config, "plan", "-q", "--report", "out/dry-run.html", "--show", "3")
    assert result.exit_code == 0, result.output
    html = (t.m.directory / "out" / "dry-run.html").read_text(encoding="utf-8")
    assert f"{t.origin}3" in html and 'id="values-status"' in html

    bad = run(t.m.config, "plan", "-q", "--report", "dry-run.txt")
    assert bad.exit_code == 2 and ".html, .md or .json" in bad.stderr
    assert run(t.m.config, "plan", "-q", "--show", "3").exit_code == 2  # --show needs --report
