"""The reconciliation report: counts and differences between old and new.

It reads staging only, so it can be produced at any time, by anyone, without
credentials for either tracker; every cell comes from a staged record.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from migrator import __version__
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.status import status

FORMATS = ("md", "html")


def _cross(rows: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    """(source value, planned target value, actual target value) -> counted rows."""
    planned: Counter[tuple[str, str]] = Counter()
    actual: Counter[tuple[str, str]] = Counter()
    for src, want, got in rows:
        planned[(src, want)] += 1
        if got is not None and got == want:
            actual[(src, want)] += 1
    return [
        {"source": src, "target": tgt, "planned": n, "in_target": actual[(src, tgt)]}
        for (src, tgt), n in sorted(planned.items())
    ]


def build(staging: Staging, target_url: str | None = None) -> dict[str, Any]:
    st = status(staging)
    plan = staging.latest_plan() if st["plan_id"] else None
    ls, v = s.load_state, s.verifications
    with staging.begin() as conn:
        target_ids = dict(
            conn.execute(select(ls.c.key, ls.c.target_id).where(ls.c.kind == "ticket")).all()
        )
        checks = {r.origin: r for r in conn.execute(select(v))}
    by: dict[str, list[tuple[str, str, str | None]]] = {"status": [], "type": []}
    source_counts: Counter[str] = Counter()
    for ticket in staging.iter_tickets():
        source_counts[ticket.project] += 1
    mismatches = []
    if plan is not None:
        for row in staging.iter_planned(plan.id):
            check = checks.get(row.origin)
            actual = check.actual if check is not None and check.actual else {}
            p = row.payload
            src = p.get("source", {})
            by["status"].append(
                (_label(src, "status", "resolution"), p["status"], actual.get("status"))
            )
            by["type"].append((_label(src, "type"), p["tracker"], actual.get("tracker")))
            if check is not None and not check.ok:
                mismatches.append(
                    {
                        "origin": row.origin,
                        "target_id": check.target_id,
                        "url": f"{target_url}/issues/{check.target_id}" if target_url else None,
                        "differences": check.differences,
                    }
                )
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "status": st,
        "plan": {
            "id": plan.id,
            "digest": plan.digest,
            "mapping_digest": plan.mapping_digest,
            "mapping_path": Path(plan.mapping_path).name,
            "summary": plan.summary,
        }
        if plan is not None
        else None,
        "projects": dict(source_counts),
        "by_status": _cross(by["status"]),
        "by_type": _cross(by["type"]),
        "mismatches": mismatches,
        "failures": [{**f, "target_id": target_ids.get(f["key"])} for f in st["failures"]],
    }


def _label(source: dict[str, Any], *names: str) -> str:
    """``closed / wontfix``: the source values a target value was mapped from."""
    return " / ".join(str(source[n]) for n in names if source.get(n)) or "(empty)"


def _md(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped (ticket text is untrusted)."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    return text.replace("\r", " ").replace("\n", " ")


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("migrator.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    return env


def write_reports(
    data: dict[str, Any], out_dir: Path, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    written = []
    for fmt in formats:
        path = out_dir / f"reconciliation.{fmt}"
        path.write_text(env.get_template(f"reconciliation.{fmt}").render(**data), encoding="utf-8")
        written.append(path)
    return written
