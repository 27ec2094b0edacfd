"""The reconciliation report: counts and differences between old and new.

It reads staging only, so it can be produced at any time, by anyone, without
credentials for either tracker; every cell comes from a staged record.

:func:`build` turns staging into one plain, JSON-ready data model (the
``json`` format writes it as is); :func:`write_reports` renders that model in
every requested format and language.  Building and rendering are separate so
that a report can be re-rendered, compared or archived without staging.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import select

from migrator import __version__
from migrator.errors import ConfigError, MigratorError
from migrator.mapping import load_mapping
from migrator.mapping.engine import present_fields
from migrator.reports.labels import catalog
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.status import status

FORMATS = ("html", "xlsx", "md", "csv", "json")

# Version of the data model :func:`build` returns (and the JSON report holds).
DATA_FORMAT = 1

# The cross tables: target field <- the source fields it was mapped from.
CROSS = {"status": ("status", "resolution"), "tracker": ("type",), "priority": ("priority",)}

# Where a source ticket lives under a tracker's web address, by origin prefix.
SOURCE_PATHS = {"trac": "/ticket/{id}", "roundup": "/issue{id}", "redmine": "/issues/{id}"}

# Long texts in differences are shown around their first differing character.
EXCERPT = 160
EXCERPT_BEFORE = 40


def build(
    staging: Staging, target_url: str | None = None, *, source_url: str | None = None
) -> dict[str, Any]:
    """The report's data model, from staging alone.

    ``target_url`` (the target tracker's base URL) and ``source_url`` (the old
    tracker's web address, when it has one) only make links; credentials and
    query strings in them are dropped.
    """
    target_base = safe_base_url(target_url)
    source_base = safe_base_url(source_url)
    st = status(staging)
    plan = staging.latest_plan() if st["plan_id"] else None
    ls, v = s.load_state, s.verifications
    with staging.begin() as conn:
        ticket_rows = conn.execute(
            select(ls.c.key, ls.c.state, ls.c.target_id).where(ls.c.kind == "ticket")
        ).all()
        checks = {r.origin: r for r in conn.execute(select(v).order_by(v.c.origin))}
        plans = conn.execute(select(s.plans).order_by(s.plans.c.id)).all()
    failed_rows = staging.failures()
    runs = staging.runs()
    target_ids = {r.key: r.target_id for r in ticket_rows if r.state == "done"}

    # Source side: one pass over the staged tickets.
    carried_as = _mapping_lists(plan) if plan is not None else None
    on_purpose: Counter[tuple[str, str]] = Counter()
    sources: dict[str, dict[str, Any]] = {}
    attachments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ticket in staging.iter_tickets():
        sources[ticket.origin] = {
            "project": ticket.project,
            "title": ticket.title,
            "comments": len(ticket.comments),
            "url": source_link(source_base, ticket.origin, ticket.source_id),
        }
        if carried_as is not None:
            present = present_fields(ticket)
            for reason, names in carried_as.items():
                on_purpose.update((reason, n) for n in names if n in present)
        for a in ticket.attachments:
            attachments[ticket.origin].append(
                {"key": f"{ticket.origin}/attachment/{a.id}", "name": a.name, "size": a.size}
            )

    def src(origin: str, key: str) -> Any:
        return sources.get(origin, {}).get(key)

    def target_link(target_id: str | None) -> str | None:
        if target_base is None or not target_id:
            return None
        return f"{target_base}/issues/{quote(str(target_id), safe='')}"

    per_project: dict[str, Counter[str]] = defaultdict(Counter)
    for info in sources.values():
        per_project[info["project"]]["source"] += 1
        per_project[info["project"]]["source_comments"] += info["comments"]

    # Plan side: cross tables, planned comments, what the target cannot hold.
    cross: dict[str, Counter[tuple[str, str]]] = {name: Counter() for name in CROSS}
    in_target: dict[str, Counter[tuple[str, str]]] = {name: Counter() for name in CROSS}
    read_back: dict[str, Counter[str]] = {name: Counter() for name in CROSS}
    planned_comments: dict[str, int] = {}
    planned_files: dict[str, int] = {}
    not_carried: list[dict[str, Any]] = []
    warned: dict[str, list[str]] = defaultdict(list)
    if plan is not None:
        for row in staging.iter_planned(plan.id):
            payload = row.payload
            source_values = payload.get("source", {})
            check = checks.get(row.origin)
            actual = (check.actual or {}) if check is not None else {}
            for name, fields in CROSS.items():
                if name not in payload:
                    continue
                pair = (_joined(source_values, fields), _text(payload[name]))
                cross[name][pair] += 1
                if check is not None:
                    read_back[name][_text(actual.get(name))] += 1
                    if _text(actual.get(name)) == pair[1]:
                        in_target[name][pair] += 1
            planned_comments[row.origin] = len(payload.get("comments", []))
            carried = payload.get("attachments")
            planned_files[row.origin] = len(carried or [])
            project = src(row.origin, "project") or ""
            per_project[project]["planned"] += 1
            # A payload without the key comes from a mapping that carries no attachment.
            keys = {a.get("key") for a in carried or []}
            for file in attachments.get(row.origin, []):
                if file["key"] not in keys:
                    not_carried.append(
                        {
                            "origin": row.origin,
                            "title": src(row.origin, "title"),
                            "file": file["name"],
                            "size": file["size"],
                            "source_url": src(row.origin, "url"),
                        }
                    )
            for kind in {w.split(":", 1)[0] for w in row.warnings or []}:
                warned[kind].append(row.origin)

    for origin, target_id in target_ids.items():
        if target_id is not None:
            per_project[src(origin, "project") or ""]["loaded"] += 1
    for origin, check in checks.items():
        per_project[src(origin, "project") or ""]["verified" if check.ok else "differ"] += 1
    for r in failed_rows:
        if r.kind == "ticket":
            per_project[src(r.ticket_origin, "project") or ""]["failed"] += 1

    differences = []
    for origin, check in checks.items():
        if check.ok:
            continue
        for d in check.differences or []:
            expected, actual = _text(d.get("expected")), _text(d.get("actual"))
            brief_expected, brief_actual = excerpts(expected, actual)
            differences.append(
                {
                    "origin": origin,
                    "project": src(origin, "project"),
                    "title": src(origin, "title"),
                    "source_url": src(origin, "url"),
                    "target_id": check.target_id,
                    "target_url": target_link(check.target_id),
                    "field": str(d.get("field", "")),
                    "expected": expected,
                    "actual": actual,
                    "expected_brief": brief_expected,
                    "actual_brief": brief_actual,
                }
            )

    failures = [
        {
            "key": r.key,
            "kind": r.kind,
            "origin": r.ticket_origin,
            "project": src(r.ticket_origin, "project"),
            "title": src(r.ticket_origin, "title"),
            "attempts": r.attempts,
            "error": scrub(r.last_error or ""),
            "source_url": src(r.ticket_origin, "url"),
            "target_id": target_ids.get(r.ticket_origin),
            "target_url": target_link(target_ids.get(r.ticket_origin)),
        }
        for r in failed_rows
    ]

    plan_summary: dict[str, Any] = dict(plan.summary or {}) if plan is not None else {}
    verified_ok = [o for o, c in checks.items() if c.ok]
    tickets = {
        "source": st["tickets_extracted"],
        "planned": st["tickets_planned"],
        "loaded": st["tickets_loaded"],
        "verified": st["tickets_verified"],
        "differ": st["tickets_mismatched"],
        "failed": st["tickets_failed"],
        "pending": st["tickets_pending"] + st["tickets_in_flight"],
    }
    comments = {
        "source": sum(info["comments"] for info in sources.values()),
        "planned": int(plan_summary.get("comments", sum(planned_comments.values()))),
        "loaded": st["comments_loaded"],
        "verified": sum(planned_comments.get(o, 0) for o in verified_ok),
        "failed": st["comments_failed"],
    }
    file_states = staging.state_counts().get("attachment", {})
    files = {
        "source": sum(len(found) for found in attachments.values()),
        "planned": sum(planned_files.values()),
        "loaded": file_states.get("done", 0),
        "verified": sum(planned_files.get(o, 0) for o in verified_ok),
        "failed": file_states.get("failed", 0),
    }
    data: dict[str, Any] = {
        "format": DATA_FORMAT,
        "generated": _iso(datetime.now(UTC)),
        "version": __version__,
        "source_systems": sorted({o.split(":", 1)[0] for o in sources}),
        "source_projects": sorted({info["project"] for info in sources.values()}),
        "target_url": target_base,
        "target_projects": list(plan_summary.get("names", {}).get("project", [])),
        "summary": {
            "verdict": _verdict(plan is not None, tickets),
            "tickets": tickets,
            "comments": comments,
            "attachments": files,
        },
        "projects": [
            {
                "project": name,
                **{
                    k: counts[k]
                    for k in (
                        "source",
                        "source_comments",
                        "planned",
                        "loaded",
                        "verified",
                        "differ",
                        "failed",
                    )
                },
            }
            for name, counts in sorted(per_project.items())
        ],
        "plan": {
            "id": plan.id,
            "created": _iso(plan.created_at),
            "digest": plan.digest,
            "mapping_file": Path(plan.mapping_path).name,
            "mapping_digest": plan.mapping_digest,
        }
        if plan is not None
        else None,
        "cross": {
            name: [
                {"source": a, "target": b, "planned": n, "in_target": in_target[name][(a, b)]}
                for (a, b), n in sorted(cross[name].items())
            ]
            for name in CROSS
        },
        # Per target value: planned, and found in the target whatever was planned.
        "totals": {name: _totals(cross[name], read_back[name]) for name in CROSS},
        "differences": differences,
        "failures": failures,
        "not_migrated": {
            "mapping_read": carried_as is not None,
            "fields": [
                {"field": name, "reason": reason, "tickets": n}
                for (reason, name), n in sorted(
                    on_purpose.items(), key=lambda i: (list(REASONS).index(i[0][0]), i[0][1])
                )
            ]
            + [
                {"field": name, "reason": "unmentioned", "tickets": n}
                for name, n in sorted(plan_summary.get("dropped", {}).items())
            ],
            "warnings": [
                {
                    "kind": kind,
                    "occurrences": n,
                    "tickets": len(warned.get(kind, [])),
                    "examples": sorted(warned.get(kind, []))[:3],
                }
                for kind, n in sorted(plan_summary.get("warnings", {}).items())
            ],
            "attachments": not_carried,
        },
        "timeline": _timeline(runs, plans),
    }
    data["signoff"] = {
        "date": data["generated"][:10],
        "plan_id": plan.id if plan is not None else None,
        "plan_digest": plan.digest if plan is not None else None,
        "mapping_file": data["plan"]["mapping_file"] if plan is not None else None,
        "mapping_digest": plan.mapping_digest if plan is not None else None,
        "version": __version__,
        "fingerprint": fingerprint(data),
        "roles": ["lead", "source_owner", "target_owner", "business"],
    }
    return data


def _totals(planned: Counter[tuple[str, str]], found: Counter[str]) -> list[dict[str, Any]]:
    per_value: Counter[str] = Counter()
    for (_, value), n in planned.items():
        per_value[value] += n
    return [
        {"value": value, "planned": per_value[value], "in_target": found[value]}
        for value in sorted(set(per_value) | set(found), key=lambda v: (-per_value[v], v))
    ]


def fingerprint(data: dict[str, Any]) -> str:
    """SHA-256 of the data a report shows, without its generation time.

    Two reports with the same fingerprint show the same numbers and rows,
    whatever their format or language: the signed copy can be matched to the
    archived JSON.
    """
    body = {k: v for k, v in data.items() if k not in ("generated", "signoff")}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Why a source field is not a field in the target, in the order the report lists them.
REASONS = ("drop", "preserve", "unmentioned")


def _mapping_lists(plan: Any) -> dict[str, tuple[str, ...]] | None:
    """The mapping's ``drop`` and ``preserve`` lists, if its file still is the planned one.

    Staging keeps the mapping's path and digest, not the file: when the file
    is gone or changed since the plan, the report counts only what the plan
    itself recorded (fields the mapping does not mention).
    """
    try:
        mapping = load_mapping(Path(plan.mapping_path))
    except (MigratorError, OSError):
        return None
    if mapping.digest != plan.mapping_digest:
        return None
    return {"drop": mapping.drop, "preserve": mapping.preserve}


def _verdict(planned: bool, t: dict[str, int]) -> str:
    if not planned:
        return "no_plan"
    if t["differ"] or t["failed"]:
        return "attention"
    if t["planned"] and t["verified"] == t["planned"]:
        return "complete"
    return "in_progress"


# What a run processed, by the keys of its stored summary: (tickets, comments, skipped).
_PROCESSED: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "extract": (("tickets",), ("comments",), ()),
    "plan": (("tickets",), ("comments",), ()),
    "load": (
        ("tickets_created", "tickets_found", "tickets_failed"),
        ("comments_created", "comments_found"),
        (),
    ),
    "verify": (("checked",), (), ("skipped",)),
}


def _timeline(runs: Sequence[Any], plans: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    starts: list[datetime | None] = []
    for run in runs:
        starts.append(_utc(run.started_at) if run.started_at else None)
        summary = run.summary if isinstance(run.summary, dict) else {}
        ticket_keys, comment_keys, skipped_keys = _PROCESSED.get(run.command, ((), (), ()))
        n_tickets = _total(summary, ticket_keys) - _total(summary, skipped_keys)
        n_comments = _total(summary, comment_keys) if comment_keys else None
        seconds = summary.get("seconds")
        if not isinstance(seconds, int | float) and run.finished_at is not None:
            seconds = (_utc(run.finished_at) - _utc(run.started_at)).total_seconds()
        rows.append(
            _run_row(
                run.id,
                run.command,
                run.started_at,
                run.finished_at,
                run.status,
                seconds,
                n_tickets if ticket_keys else None,
                n_comments,
            )
        )
    if not any(r["step"] == "plan" for r in rows):
        # Plans keep no run record; their creation time is the best there is.
        for p in plans:
            starts.append(_utc(p.created_at) if p.created_at else None)
            comments = (p.summary or {}).get("comments")
            rows.append(
                _run_row(None, "plan", p.created_at, None, "done", None, p.tickets, comments)
            )
    order = sorted(range(len(rows)), key=lambda i: (starts[i] is None, starts[i] or _EPOCH, i))
    return [rows[i] for i in order]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _run_row(
    run_id: int | None,
    step: str,
    started: datetime | None,
    finished: datetime | None,
    state: str,
    seconds: float | None,
    tickets: int | None,
    comments: int | None,
) -> dict[str, Any]:
    rate = tickets / seconds if tickets and seconds else None
    return {
        "run": run_id,
        "step": step,
        "started": _iso(started),
        "finished": _iso(finished),
        "status": state,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "tickets": tickets,
        "comments": comments,
        "tickets_per_second": round(rate, 2) if rate is not None else None,
    }


def _total(summary: dict[str, Any], keys: tuple[str, ...]) -> int:
    return sum(int(summary.get(k) or 0) for k in keys)


def _utc(t: datetime) -> datetime:
    # SQLite hands back naive datetimes; staging writes UTC.
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _iso(t: datetime | None) -> str | None:
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _joined(values: dict[str, Any], names: tuple[str, ...]) -> str:
    """``closed / wontfix``: the source values a target value was mapped from."""
    return " / ".join(str(values[n]) for n in names if values.get(n))


def excerpts(expected: str, actual: str) -> tuple[str, str]:
    """Both texts cut to the stretch around their first difference.

    Migrated texts share a long provenance line, so their first characters
    say nothing; the reader needs to see where they part.
    """
    if len(expected) <= EXCERPT and len(actual) <= EXCERPT:
        return expected, actual
    start = max(0, _first_difference(expected, actual) - EXCERPT_BEFORE)

    def cut(text: str) -> str:
        piece = text[start : start + EXCERPT]
        return ("…" if start else "") + piece + ("…" if start + EXCERPT < len(text) else "")

    return cut(expected), cut(actual)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def safe_base_url(url: str | None) -> str | None:
    """An http(s) base URL fit to print: no credentials, query or fragment."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = quote(parts.path.rstrip("/"), safe="/%-._~!$'()*+,;=:@")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def source_link(base: str | None, origin: str, source_id: str) -> str | None:
    kind = origin.split(":", 1)[0]
    if base is None or kind not in SOURCE_PATHS:
        return None
    return base + SOURCE_PATHS[kind].format(id=quote(str(source_id), safe=""))


_SECRET_PATTERNS = (
    # user:password@ in URLs
    (re.compile(r"(?<=//)[^/@\s]+@"), "***@"),
    # key=..., api_key=..., token=..., password=... in query strings and messages
    (
        re.compile(
            r"(?i)\b(api[_-]?key|key|access[_-]?token|token|password|passwd|secret)=[^&\s\"'<>]+"
        ),
        r"\1=***",
    ),
    # credentials sent as headers
    (
        re.compile(r"(?i)\b(x-redmine-api-key|authorization|private-token)(\s*[:=]\s*)[^\s,;]+"),
        r"\1\2***",
    ),
)


def scrub(text: str) -> str:
    """Second line of defence for error texts the report did not write.

    The HTTP layer already redacts the secrets it knows; this drops the shapes
    a credential takes in a message (URL userinfo, ``key=``, auth headers).
    """
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def write_reports(
    data: dict[str, Any],
    out_dir: Path,
    formats: tuple[str, ...] | list[str] = FORMATS,
    lang: str = "en",
) -> list[Path]:
    """Render ``data`` (from :func:`build`) into ``out_dir``; returns every file written.

    File names do not depend on ``lang``: ``reconciliation.{html,xlsx,md,json}``
    and one CSV file per table in ``reconciliation-csv/``.  Write each language
    into its own folder.
    """
    from migrator.reports import formats as render

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(
            f"unknown report format(s): {', '.join(unknown)}",
            remedy=f"use {', '.join(FORMATS)}",
        )
    labels = catalog(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in dict.fromkeys(formats):
        written += render.WRITERS[fmt](data, labels, lang, out_dir)
    return written
