"""The dry-run comparison: what every ticket will become, for both teams to sign off before loading.

It reads staging only (the plan's payloads and warnings, the staged source
tickets), so it needs neither tracker and every number in it comes from a
stored record.  One streaming pass over the plan counts the value tables,
warnings and the hardest tickets; only the previewed tickets are read in full.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import or_, select

from migrator import __version__
from migrator.errors import ConfigError, MigratorError
from migrator.mapping import Mapping, load_mapping
from migrator.mapping.references import display_payload
from migrator.plan.compare import find_plan, utc
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.templating import environment

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".json": "json"}
PREVIEW_CHARS = 20_000  # per text in a preview; the rest is counted, not shown
EXAMPLES = 3  # example tickets per warning kind

# Hardest tickets to review, by what makes them hard: (key, heading, unit).
HARDEST = (
    ("description", "longest description", "characters"),
    ("comments", "most comments", "comments"),
    ("warnings", "most warnings", "warnings"),
)
# Source fields of a preview shown beside nothing: the target keeps them in the text, or not.
OTHER_SOURCE_FIELDS = (
    "severity",
    "milestone",
    "version",
    "components",
    "labels",
    "watchers",
    "parent",
    "created",
    "updated",
    "closed",
    "history",
)


def report_format(path: Path) -> str:
    """``html``, ``md`` or ``json`` from the file's suffix; check it before planning."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"--report {path}: unknown report format {path.suffix or '(no suffix)'!r}",
            remedy="name the file .html, .md or .json",
        )
    return fmt


def build_dry_run(
    staging: Staging,
    plan_id: int,
    show: list[str] | tuple[str, ...] = (),
    hardest: int = 3,
    mapping: Mapping | None = None,
) -> dict[str, Any]:
    """Everything the dry-run report shows, as plain data (also the ``.json`` report).

    ``show`` names tickets to preview by source id (``12``, ``#12``) or origin key.
    ``mapping`` is the one the plan was made with; without it (or when it is not
    the plan's) the mapping file recorded with the plan is used if unchanged, so
    source values can be labelled with every field the rules read (``closed /
    wontfix``); otherwise they are labelled with the ``from`` field alone.
    """
    plan = find_plan(staging, plan_id)
    summary: dict[str, Any] = plan.summary or {}
    sources = _value_sources(plan, mapping)
    targets = list(sources) if sources is not None else list(summary.get("values", {}))

    pairs: dict[str, Counter[tuple[str, str]]] = {t: Counter() for t in targets}
    kinds: Counter[str] = Counter()
    kind_tickets: Counter[str] = Counter()
    examples: dict[str, list[dict[str, str]]] = {}
    top: dict[str, list[tuple[int, str]]] = {key: [] for key, _, _ in HARDEST}
    for row in staging.iter_planned(plan.id):
        p = row.payload
        if sources is not None:
            src = p.get("source") or {}
            for t, names in sources.items():
                pairs[t][(_label(src, names), _text(p.get(t)))] += 1
        seen: set[str] = set()
        for w in row.warnings:
            kind, _, detail = w.partition(":")
            kinds[kind] += 1
            if kind not in seen:
                seen.add(kind)
                kind_tickets[kind] += 1
                found = examples.setdefault(kind, [])
                if len(found) < EXAMPLES:
                    found.append({"origin": row.origin, "detail": detail.strip()})
        measures = {
            "description": len(p.get("description") or ""),
            "comments": len(p.get("comments") or []),
            "warnings": len(row.warnings),
        }
        for key, n in measures.items():
            if n and hardest > 0:
                # Largest first, then origin order: the same plan always picks the same tickets.
                top[key].append((-n, row.origin))
                top[key].sort()
                del top[key][hardest:]
    if sources is None:
        for t in targets:
            for pair, n in summary["values"][t].items():
                source, _, target = pair.rpartition(" -> ")
                pairs[t][(source, target)] += n

    fields: list[dict[str, Any]] = []
    lossy: list[dict[str, Any]] = []
    for t in targets:
        rows: list[dict[str, Any]] = [
            {"source": src, "target": tgt, "tickets": n}
            for (src, tgt), n in sorted(pairs[t].items())
        ]
        fields.append({"field": t, "from": list(sources[t]) if sources else None, "rows": rows})
        by_target: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_target.setdefault(r["target"], []).append(r)
        for tgt, group in sorted(by_target.items()):
            if len(group) > 1:
                lossy.append(
                    {
                        "field": t,
                        "target": tgt,
                        "tickets": sum(r["tickets"] for r in group),
                        "sources": [
                            {"source": r["source"], "tickets": r["tickets"]} for r in group
                        ],
                    }
                )

    requested, not_found = _resolve(staging, plan.id, list(show))
    reasons: dict[str, list[str]] = {}
    for ident, origins in requested:
        for origin in origins:
            reasons.setdefault(origin, []).append(f"requested ({ident})")
    hardest_out: list[dict[str, Any]] = []
    for key, heading, unit in HARDEST:
        picked: list[dict[str, Any]] = [{"origin": o, "value": -n} for n, o in top[key]]
        hardest_out.append({"key": key, "heading": heading, "unit": unit, "tickets": picked})
        for item in picked:
            reasons.setdefault(item["origin"], []).append(f"{heading}: {item['value']} {unit}")

    previews = _previews(staging, plan.id, reasons, sources)
    anchors = {v["origin"]: v["anchor"] for v in previews}
    for h in hardest_out:
        for item in h["tickets"]:
            item["anchor"] = anchors.get(item["origin"], "")
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "plan": {
            "id": int(plan.id),
            "created": utc(plan.created_at, "%Y-%m-%d %H:%M UTC"),
            "digest": plan.digest,
            "mapping_file": Path(plan.mapping_path).name,
            "mapping_digest": plan.mapping_digest,
            "tickets": int(plan.tickets),
            "comments": int(summary.get("comments", 0)),
            "warnings": sum(kinds.values()),
        },
        "labels": "rules" if sources is not None else "from-field",
        "fields": fields,
        "lossy": lossy,
        "warnings": [
            {
                "kind": k,
                "warnings": kinds[k],
                "tickets": kind_tickets[k],
                "examples": examples[k],
            }
            for k in sorted(kinds)
        ],
        "dropped": [{"field": f, "tickets": n} for f, n in summary.get("dropped", {}).items()],
        "names": summary.get("names", {}),
        "hardest": hardest_out,
        "previews": previews,
        "not_found": not_found,
    }


def _value_sources(plan: Any, mapping: Mapping | None) -> dict[str, tuple[str, ...]] | None:
    """Per target field, the source fields its value depends on: ``from`` first, then rules."""
    if mapping is None or mapping.digest != plan.mapping_digest:
        mapping = _recorded_mapping(plan)
    if mapping is None:
        return None
    return {
        t: (*([vm.source] if vm.source else []), *sorted(vm.reads() - {vm.source}))
        for t, vm in mapping.values.items()
    }


def _recorded_mapping(plan: Any) -> Mapping | None:
    """The mapping file named by the plan, if it is still byte for byte the one planned with."""
    path = Path(plan.mapping_path)
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != plan.mapping_digest:
            return None
        return load_mapping(path)
    except (OSError, MigratorError):
        return None


def _label(source: dict[str, Any], names: tuple[str, ...]) -> str:
    """``closed / wontfix``: the source values a target value was decided by."""
    return " / ".join(str(source[n]) for n in names if source.get(n)) or "(empty)"


def _unmapped(login: str | None) -> str | None:
    return f"(none: {login} is not mapped)" if login else None


def _text(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _resolve(
    staging: Staging, plan_id: int, idents: list[str]
) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """``--show`` arguments -> origins in this plan (a source id can match in several projects)."""
    if not idents:
        return [], []
    pt, st = s.planned_tickets, s.source_tickets
    bare = [i.removeprefix("#") for i in idents]
    with staging.begin() as conn:
        rows = conn.execute(
            select(pt.c.origin, st.c.source_id)
            .select_from(pt.outerjoin(st, st.c.origin == pt.c.origin))
            .where(pt.c.plan_id == plan_id, or_(pt.c.origin.in_(idents), st.c.source_id.in_(bare)))
            .order_by(pt.c.origin)
        ).all()
    found, missing = [], []
    for ident, b in zip(idents, bare, strict=True):
        origins = [r.origin for r in rows if r.origin == ident or r.source_id == b]
        if origins:
            found.append((ident, origins))
        else:
            missing.append(ident)
    return found, missing


def _clip(text: str | None) -> dict[str, Any]:
    text = text or ""
    return {"text": text[:PREVIEW_CHARS], "omitted": max(0, len(text) - PREVIEW_CHARS)}


def _previews(
    staging: Staging,
    plan_id: int,
    reasons: dict[str, list[str]],
    sources: dict[str, tuple[str, ...]] | None,
) -> list[dict[str, Any]]:
    if not reasons:
        return []
    pt, st = s.planned_tickets, s.source_tickets
    with staging.begin() as conn:
        rows = conn.execute(
            select(pt.c.origin, pt.c.payload, pt.c.warnings, st.c.canonical)
            .select_from(pt.outerjoin(st, st.c.origin == pt.c.origin))
            .where(pt.c.plan_id == plan_id, pt.c.origin.in_(list(reasons)))
        ).all()
    by_origin = {r.origin: r for r in rows}
    return [
        {**_preview(by_origin[o], why, sources), "anchor": f"ticket-{i}"}
        for i, (o, why) in enumerate(reasons.items(), 1)
        if o in by_origin
    ]


def _preview(
    row: Any, reasons: list[str], sources: dict[str, tuple[str, ...]] | None
) -> dict[str, Any]:
    """One ticket side by side: the staged source fields beside the payload the loader sends."""
    p: dict[str, Any] = display_payload(row.payload)
    src: dict[str, Any] = row.canonical or {}
    read = p.get("source") or {}

    def decided_by(t: str, fallback: str) -> tuple[str, str]:
        names = sources[t] if sources and t in sources else (fallback,)
        return " / ".join(names), _label(read, names) if read else _text(src.get(fallback))

    fields = [
        {"target": "subject", "source": "title", "old": src.get("title"), "new": p.get("subject")}
    ]
    for t, fallback in (("tracker", "type"), ("status", "status"), ("priority", "priority")):
        names, old = decided_by(t, fallback)
        fields.append({"target": t, "source": names, "old": old, "new": p.get(t)})
    for t, name in (("author", "reporter"), ("assignee", "assignee"), ("project", "project")):
        fields.append({"target": t, "source": name, "old": src.get(name), "new": p.get(t)})
    if src.get("attachments") or p.get("attachments"):
        old_files, new_files = _files(src.get("attachments")), _files(p.get("attachments"))
        fields.append(
            {"target": "attachments", "source": "attachments", "old": old_files, "new": new_files}
        )
    for f in fields:
        if f["target"] in ("author", "assignee") and f["old"] and f["new"] is None:
            f["new"] = _unmapped(f["old"])
        f["old"], f["new"] = _text(f["old"]), _text(f["new"])

    from_source = {c.get("id"): c for c in src.get("comments") or []}
    prefix = f"{p.get('origin')}/comment/"
    comments = []
    for c in p.get("comments") or []:
        key = str(c.get("key", ""))
        old = from_source.get(key.removeprefix(prefix), {})
        comments.append(
            {
                "key": key,
                "id": key.removeprefix(prefix),
                "old_author": _text(old.get("author")),
                "old_time": old.get("time") or "",
                "old_body": _clip(old.get("body")),
                "new_author": _text(c.get("author") or _unmapped(old.get("author"))),
                "new_body": _clip(c.get("body")),
            }
        )
    other = []
    for name in OTHER_SOURCE_FIELDS:
        value = src.get(name)
        if isinstance(value, list):
            value = f"{len(value)} change(s)" if name == "history" else ", ".join(map(str, value))
        if value:
            other.append({"field": name, "value": str(value)})
    other += [
        {"field": f"custom.{k}", "value": str(v)}
        for k, v in sorted((src.get("custom") or {}).items())
        if v
    ]
    links = src.get("links") or []
    if links:
        shown = ", ".join(f"{link.get('kind')} {link.get('other')}" for link in links)
        other.append({"field": "links", "value": shown})
    return {
        "origin": row.origin,
        "source_id": src.get("source_id", ""),
        "reasons": reasons,
        "fields": fields,
        "description": {"old": _clip(src.get("description")), "new": _clip(p.get("description"))},
        "markup": src.get("markup") or "",
        "comments": comments,
        "source_comments": len(src.get("comments") or []),
        "other_source_fields": other,
        "warnings": list(row.warnings),
    }


def _files(items: list[dict[str, Any]] | None) -> str | None:
    """Attachments as ``a.log (1,234 bytes), b.png (56 bytes)``: what a reviewer checks."""
    return ", ".join(f"{a.get('name')} ({a.get('size') or 0:,} bytes)" for a in items or []) or None


def _md(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped, no raw HTML (ticket text is untrusted)."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _fence(text: str) -> str:
    """A Markdown code block that the text cannot close early, whatever backticks it holds."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    return f"{fence}text\n{body}\n{fence}"


def _env() -> Environment:
    env = environment("migrator.plan")
    env.filters["md"] = _md
    env.filters["fence"] = _fence
    return env


def render_dry_run(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return _env().get_template(f"dry_run.{fmt}").render(**data)


def write_dry_run(data: dict[str, Any], path: Path) -> Path:
    """Write the report in the format its suffix names (``.html``, ``.md``, ``.json``)."""
    fmt = report_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_dry_run(data, fmt), encoding="utf-8")
    return path
