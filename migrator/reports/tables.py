"""The report as a list of labelled tables: one shape for every format.

HTML, Markdown, CSV and Excel all render these same tables, so a number can
never appear in one format and not in another.  Cells hold data (ticket text
untouched, numbers as numbers); each writer escapes for its own syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | rate | bytes | time | url | code
    link: str | None = None  # key of a URL that this cell links to (HTML)
    brief: str | None = None  # key of a shortened value for HTML and Markdown
    check: str | None = None  # key of a value this cell should equal; flagged when not
    grouped: bool = False  # shown once per group of rows (HTML), see Table.group


@dataclass(frozen=True)
class Table:
    name: str  # stable: CSV file and anchor names
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    intro: str = ""
    empty: str = ""
    notes: list[str] = field(default_factory=list)
    group: str | None = None  # rows with the same value here belong together

    def spans(self) -> list[int]:
        """Per row: how many rows its group spans from here, or 0 inside a group."""
        if self.group is None:
            return [1] * len(self.rows)
        out = [0] * len(self.rows)
        start = 0
        for i in range(1, len(self.rows) + 1):
            if i == len(self.rows) or self.rows[i][self.group] != self.rows[start][self.group]:
                out[start] = i - start
                start = i
        return out


# Sections in document order, each with its tables; a table named like its
# section is the section itself (no sub-heading).
SECTIONS: list[tuple[str, list[str]]] = [
    ("summary", ["summary", "projects"]),
    ("cross", ["status", "tracker", "priority"]),
    ("differences", ["differences"]),
    ("failures", ["failures"]),
    ("not_migrated", ["dropped", "warnings", "attachments"]),
    ("timeline", ["timeline"]),
    ("signoff", ["signoff", "approvers"]),
]

STAGES = ("source", "planned", "loaded", "verified", "differ", "failed", "pending")


def field_label(labels: dict[str, str], name: str) -> str:
    """A verifier field name in the report's language (``comment 3`` -> ``コメント 3``)."""
    m = re.fullmatch(r"comment (\d+)", name)
    if m:
        return labels["field.comment"].format(n=m.group(1))
    if name.startswith("attachment "):
        return labels["field.attachment"].format(name=name[len("attachment ") :])
    return labels.get(f"field.{name}", name)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def verdict(data: dict[str, Any], labels: dict[str, str]) -> str:
    summary = data["summary"]
    return labels[f"verdict.{summary['verdict']}"].format(**summary["tickets"])


def route(data: dict[str, Any], labels: dict[str, str]) -> str:
    """``From trac (core, docs) to https://redmine.example.com (demo)``."""
    sources = ", ".join(data["source_systems"]) or labels["route.source_unknown"]
    if data["source_projects"]:
        sources += f" ({', '.join(data['source_projects'])})"
    target = data["target_url"] or labels["route.target_unknown"]
    if data["target_projects"]:
        target += f" ({', '.join(data['target_projects'])})"
    return labels["route"].format(sources=sources, target=target)


def build_tables(data: dict[str, Any], labels: dict[str, str]) -> list[Table]:
    L = labels
    col = Column
    tables: list[Table] = []
    t, c = data["summary"]["tickets"], data["summary"]["comments"]
    files = data["summary"].get("attachments") or {}
    columns = [col("stage", L["col.stage"]), col("tickets", L["col.tickets"], "int")]
    columns.append(col("comments", L["col.comments"], "int"))
    if files.get("source") or files.get("planned"):
        columns.append(col("attachments", L["col.attachments"], "int"))
    tables.append(
        Table(
            "summary",
            L["summary"],
            columns,
            [
                {"stage": L[f"stage.{k}"], "tickets": t[k], "comments": c.get(k)}
                | {"attachments": files.get(k)}
                for k in STAGES
            ],
        )
    )
    counts = ("source", "source_comments", "planned", "loaded", "verified", "differ", "failed")
    tables.append(
        Table(
            "projects",
            L["projects"],
            [col("project", L["col.project"])]
            + [
                col(k, L[f"col.{k}"], "int", check="planned" if k == "verified" else None)
                for k in counts
            ],
            list(data["projects"]),
            empty=L["none"],
        )
    )
    for name in ("status", "tracker", "priority"):
        rows = [
            {
                "source": r["source"] or L["empty"],
                "target": r["target"] or L["empty"],
                "planned": r["planned"],
                "in_target": r["in_target"],
            }
            for r in data["cross"][name]
        ]
        tables.append(
            Table(
                name,
                L[name],
                [
                    col("source", L["col.source_value"]),
                    col("target", L["col.target_value"]),
                    col("planned", L["col.planned"], "int"),
                    col("in_target", L["col.in_target"], "int", check="planned"),
                ],
                rows,
                empty=L["none"],
            )
        )
    tables.append(
        Table(
            "differences",
            L["differences"],
            [
                col("origin", L["col.origin"], "code", link="source_url", grouped=True),
                col("title", L["col.title"], grouped=True),
                col("target_id", L["col.target_id"], link="target_url", grouped=True),
                col("field", L["col.field"]),
                col("expected", L["col.expected"], brief="expected_brief"),
                col("actual", L["col.actual"], brief="actual_brief"),
                col("source_url", L["col.source_url"], "url"),
                col("target_url", L["col.target_url"], "url"),
            ],
            [{**d, "field": field_label(L, d["field"])} for d in data["differences"]],
            empty=L["differences.none"],
            group="origin",
        )
    )
    tables.append(
        Table(
            "failures",
            L["failures"],
            [
                col("key", L["col.key"], "code", link="source_url"),
                col("kind", L["col.kind"]),
                col("title", L["col.title"]),
                col("target_id", L["col.target_id"], link="target_url"),
                col("attempts", L["col.attempts"], "int"),
                col("error", L["col.error"]),
                col("source_url", L["col.source_url"], "url"),
                col("target_url", L["col.target_url"], "url"),
            ],
            [{**f, "kind": L.get(f"kind.{f['kind']}", f["kind"])} for f in data["failures"]],
            empty=L["none"],
        )
    )
    nm = data["not_migrated"]
    tables.append(
        Table(
            "dropped",
            L["dropped"],
            [
                col("field", L["col.dropped_field"], "code"),
                col("meaning", L["col.meaning"]),
                col("reason", L["col.reason"]),
                col("tickets", L["col.tickets_with"], "int"),
            ],
            [
                {
                    **r,
                    "meaning": L.get(f"meaning.{r['field']}", ""),
                    "reason": L[f"reason.{r['reason']}"],
                }
                for r in nm["fields"]
            ],
            empty=L["none"],
            notes=[] if nm.get("mapping_read", True) else [L["dropped.no_mapping"]],
        )
    )
    tables.append(
        Table(
            "warnings",
            L["warnings"],
            [
                col("kind", L["col.warning"], "code"),
                col("meaning", L["col.meaning"]),
                col("occurrences", L["col.occurrences"], "int"),
                col("tickets", L["col.tickets_affected"], "int"),
                col("examples", L["col.examples"], "code"),
            ],
            [
                {
                    **r,
                    "meaning": L.get(f"warning.{r['kind']}", ""),
                    "examples": ", ".join(r["examples"]),
                }
                for r in nm["warnings"]
            ],
            empty=L["none"],
        )
    )
    files = nm["attachments"]
    tables.append(
        Table(
            "attachments",
            L["attachments"],
            [
                col("origin", L["col.origin"], "code", link="source_url"),
                col("title", L["col.title"]),
                col("file", L["col.file"]),
                col("size", L["col.size"], "bytes"),
                col("source_url", L["col.source_url"], "url"),
            ],
            list(files),
            intro=L["attachments.intro"].format(
                files=f"{len(files):,}", size=human_size(sum(f["size"] or 0 for f in files))
            )
            if files
            else "",
            empty=L["none"],
        )
    )
    timeline = data["timeline"]
    tables.append(
        Table(
            "timeline",
            L["timeline"],
            [
                col("run", L["col.run"], "int"),
                col("step", L["col.step"]),
                col("started", L["col.started"], "time"),
                col("finished", L["col.finished"], "time"),
                col("seconds", L["col.seconds"], "rate"),
                col("status", L["col.status"]),
                col("tickets", L["col.tickets"], "int"),
                col("comments", L["col.comments"], "int"),
                col("tickets_per_second", L["col.rate"], "rate"),
            ],
            [
                {
                    **r,
                    "step": L.get(f"step.{r['step']}", r["step"]),
                    "status": L.get(f"run.{r['status']}", r["status"]),
                }
                for r in timeline
            ],
            empty=L["none"],
            notes=[L["timeline.plan_note"]]
            if any(r["step"] == "plan" and r["run"] is None for r in timeline)
            else [],
        )
    )
    so = data["signoff"]
    tables.append(
        Table(
            "signoff",
            L["signoff"],
            [col("item", L["col.item"]), col("value", L["col.value"])],
            [
                {"item": L["signoff.date"], "value": so["date"]},
                {"item": L["signoff.result"], "value": verdict(data, L)},
                {
                    "item": L["signoff.tickets"],
                    "value": " / ".join(f"{t[k]:,}" for k in STAGES[:-1]),
                },
                {
                    "item": L["signoff.comments"],
                    "value": " / ".join(
                        f"{c[k]:,}" for k in ("source", "planned", "loaded", "failed")
                    ),
                },
                {"item": L["signoff.plan"], "value": so["plan_id"]},
                {"item": L["signoff.plan_digest"], "value": so["plan_digest"]},
                {"item": L["signoff.mapping"], "value": so["mapping_file"]},
                {"item": L["signoff.mapping_digest"], "value": so["mapping_digest"]},
                {"item": L["signoff.fingerprint"], "value": so["fingerprint"]},
                {"item": L["signoff.version"], "value": so["version"]},
            ],
        )
    )
    tables.append(
        Table(
            "approvers",
            L["approvers"],
            [
                col("role", L["col.role"]),
                col("name", L["col.name"]),
                col("signature", L["col.signature"]),
                col("date", L["col.date"]),
            ],
            [
                {"role": L[f"role.{r}"], "name": "", "signature": "", "date": ""}
                for r in so["roles"]
            ],
        )
    )
    return tables
