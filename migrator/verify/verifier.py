"""Read back every loaded ticket and compare it with the payload that was sent.

A verify run covers every loaded ticket.  If one is interrupted, the next
``migrator verify`` continues that run (skipping tickets it already checked)
instead of starting over; a finished run is followed by a fresh full one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from migrator.load.links import planned_links
from migrator.load.references import Renderer, render_payload
from migrator.model import normalize_text
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now
from migrator.trackers.protocols import ReadBack, Target

COMPARED = ("subject", "description", "tracker", "status", "priority", "assignee")
# Compared only when the plan sets them (the mapping may not route them).
OPTIONAL = (
    "category",
    "version",
    "custom_fields",
    "watchers",
    "private",
    "start_date",
    "due_date",
    "done_ratio",
    "estimated_hours",
)
RUN = "verify.run"


@dataclass
class VerifySummary:
    checked: int = 0
    ok: int = 0
    mismatched: int = 0
    skipped: int = 0  # already checked by the interrupted run this one continues
    orphans: list[dict[str, str]] = field(default_factory=list)  # marked, unknown to staging
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # one origin, several tickets
    missing: int = 0  # planned tickets with no target yet
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.mismatched or self.orphans or self.duplicates)

    def line(self) -> str:
        return (
            f"verified {self.checked} tickets: {self.ok} match, {self.mismatched} differ"
            + (f" ({self.skipped} checked before the interruption)" if self.skipped else "")
            + f"; {len(self.duplicates)} duplicated, {len(self.orphans)} unknown to staging, "
            f"{self.missing} planned but not loaded; in {self.seconds:.1f} s"
        )


def compare(
    payload: dict[str, Any],
    back: ReadBack,
    sha256: Callable[[str], str] | None = None,
    origin_of: dict[str, str] | None = None,
    links_from: dict[str, set[str]] | None = None,
    holds_parent: bool = True,
) -> list[dict[str, Any]]:
    """Differences that are data, not rendering (line endings, outer whitespace).

    With ``sha256`` (a downloader), attachments are compared by the hash of
    the bytes the target serves, not only by name and size.
    """
    diffs = []
    if back.origin != payload["origin"]:
        diffs.append({"field": "origin", "expected": payload["origin"], "actual": back.origin})
    names = [*COMPARED, *(n for n in OPTIONAL if payload.get(n))]
    for name in names:
        want, got = payload.get(name), back.fields.get(name)
        if name == "watchers":
            # Trackers add watchers on their own (Redmine 5 auto-watches authors and
            # commenters): every planned watcher must be there; extra ones are not data.
            same = set(want or ()) <= set(got or ())
        elif isinstance(want, str) or isinstance(got, str):
            same = normalize_text(want) == normalize_text(got)
        else:
            same = want == got
        if not same:
            diffs.append({"field": name, "expected": want, "actual": got})
    bodies = [normalize_text(c["body"]) for c in payload["comments"]]
    got_bodies = [normalize_text(c) for c in back.comments]
    if len(bodies) != len(got_bodies):
        diffs.append({"field": "comment count", "expected": len(bodies), "actual": len(got_bodies)})
    for i, (want, got) in enumerate(zip(bodies, got_bodies, strict=False), 1):
        if want != got:
            diffs.append({"field": f"comment {i}", "expected": want, "actual": got})
    diffs += _compare_attachments(payload.get("attachments", []), back.attachments, sha256)
    if origin_of is not None:
        diffs += _compare_links(payload, back, origin_of, links_from or {}, holds_parent)
    return diffs


def links_by_source(payloads: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Every planned relation, keyed by the ticket it is created from ("kind other").

    A relation may be planned on its other end only (the source names it the
    inverse way), so expectations are gathered over the whole plan first.
    """
    out: dict[str, set[str]] = {}
    for payload in payloads:
        for link in planned_links(payload):
            if link.kind != "parent":
                out.setdefault(link.source, set()).add(f"{link.kind} {link.other}")
    return out


def _compare_links(
    payload: dict[str, Any],
    back: ReadBack,
    origin_of: dict[str, str],
    links_from: dict[str, set[str]],
    holds_parent: bool = True,
) -> list[dict[str, Any]]:
    """Relations this ticket is the source of, and its parent, by origin on both sides.

    Links to tickets that are not loaded yet (a later batch) are not expected yet.
    """
    loaded = set(origin_of.values())
    origin = payload["origin"]
    want = sorted(entry for entry in links_from.get(origin, ()) if entry.split(" ", 1)[1] in loaded)
    got = sorted(
        f"{kind} {origin_of.get(tid, 'unknown #' + tid)}"
        for kind, tid in (entry.split(" ", 1) for entry in back.fields.get("links", []))
    )
    diffs: list[dict[str, Any]] = []
    if want != got:
        diffs.append({"field": "links", "expected": want, "actual": got})
    parent = payload.get("parent") if payload.get("parent") in loaded and holds_parent else None
    actual_parent = back.fields.get("parent")
    got_parent = origin_of.get(actual_parent, actual_parent) if actual_parent else None
    if parent != got_parent:
        diffs.append({"field": "parent", "expected": parent, "actual": got_parent})
    return diffs


def _compare_attachments(
    planned: list[dict[str, Any]],
    actual: list[dict[str, Any]],
    sha256: Callable[[str], str] | None,
) -> list[dict[str, Any]]:
    diffs: list[dict[str, Any]] = []
    unmatched = list(actual)
    for want in planned:
        match = next(
            (a for a in unmatched if a["name"] == want["name"] and a["size"] == want["size"]),
            None,
        )
        label = f"attachment {want['name']}"
        if match is None:
            diffs.append({"field": label, "expected": want["sha256"], "actual": None})
            continue
        unmatched.remove(match)
        if sha256 is not None:
            got = sha256(match["url"])
            if got != want["sha256"]:
                diffs.append({"field": label, "expected": want["sha256"], "actual": got})
    for extra in unmatched:
        diffs.append({"field": f"attachment {extra['name']}", "expected": None, "actual": "extra"})
    return diffs


def _census(
    staging: Staging, target: Target, plan: Any, loaded: dict[str, str], summary: VerifySummary
) -> None:
    """Every marked ticket in the target's projects, against staging's id map.

    Catches what per-ticket read-back cannot: a second copy of a ticket (from an
    earlier run or another tool), and marked tickets staging never made.
    """
    projects = set(plan.summary.get("names", {}).get("project", []))
    planned = staging.planned_origins(plan.id)
    copies: dict[str, list[str]] = {}
    for target_id, origin in target.marked(projects):
        copies.setdefault(origin, []).append(target_id)
    for origin, ids in sorted(copies.items()):
        if origin.startswith("rolled-back:"):
            continue  # retired by `migrator rollback --close`
        if len(ids) > 1:
            summary.duplicates.append(
                {"origin": origin, "target_ids": ids, "ours": loaded.get(origin)}
            )
        if origin not in loaded:
            for target_id in ids:
                summary.orphans.append(
                    {
                        "origin": origin,
                        "target_id": target_id,
                        "why": "planned but not recorded as loaded"
                        if origin in planned
                        else "not in this migration's staging",
                    }
                )
    summary.missing = len(planned - set(loaded))


def verify(staging: Staging, target: Target, progress: Progress) -> VerifySummary:
    started = time.monotonic()
    summary = VerifySummary()
    plan = staging.latest_plan()
    resumed = staging.get_meta(RUN)
    run_id = int(resumed) if resumed else staging.start_run("verify")
    if not resumed:
        with staging.begin() as conn:
            Staging.set_meta(conn, RUN, str(run_id))
    v = s.verifications
    loaded = staging.id_map()
    with staging.begin() as conn:
        already = set(conn.scalars(select(v.c.origin).where(v.c.run_id == run_id)))
    origin_of = {tid: origin for origin, tid in loaded.items()}
    links_from = {
        source: {e for e in entries if target.holds(e.split(" ", 1)[0])}
        for source, entries in links_by_source(
            row.payload for row in staging.iter_planned(plan.id)
        ).items()
    }
    target.preflight()
    progress.start("verify", len(loaded))
    try:
        for planned in staging.iter_planned(plan.id):
            target_id = loaded.get(planned.origin)
            if target_id is None:
                continue
            if planned.origin in already:
                summary.skipped += 1
                progress.advance()
                continue
            back = target.read_back(target_id)
            # References are expected as the id map renders them now; those to tickets
            # not loaded yet are expected inert, as the loader leaves them.
            expected = render_payload(
                planned.payload, Renderer(planned.payload, loaded, (), target)
            )
            diffs = compare(
                expected,
                back,
                target.attachment_sha256,
                origin_of,
                links_from,
                holds_parent=target.holds("parent"),
            )
            with staging.begin() as conn:
                conn.execute(v.delete().where(v.c.origin == planned.origin))
                conn.execute(
                    v.insert().values(
                        origin=planned.origin,
                        target_id=target_id,
                        ok=not diffs,
                        differences=diffs,
                        actual={
                            **back.fields,
                            "comments": len(back.comments),
                            "attachments": len(back.attachments),
                        },
                        run_id=run_id,
                        verified_at=now(),
                    )
                )
            summary.checked += 1
            summary.ok += not diffs
            summary.mismatched += bool(diffs)
            progress.advance()
    finally:
        progress.finish()
    _census(staging, target, plan, loaded, summary)
    summary.seconds = time.monotonic() - started
    with staging.begin() as conn:
        Staging.set_meta(conn, RUN, None)
        total = conn.execute(select(v.c.ok).where(v.c.run_id == run_id)).scalars().all()
    summary.checked = len(total)
    summary.ok = sum(1 for ok in total if ok)
    summary.mismatched = summary.checked - summary.ok
    staging.finish_run(run_id, "done", asdict(summary))
    with staging.begin() as conn:
        Staging.event(
            conn,
            "verify-census",
            run_id=run_id,
            detail={"orphans": summary.orphans, "duplicates": summary.duplicates},
        )
    return summary
