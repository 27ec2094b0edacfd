"""Exactly-once loading.

For every object (ticket, then each of its comments in order):

1. record the intent (``in-flight``, attempts + 1) and commit;
2. if the object had been attempted before, look for it in the target
   (tickets by their origin marker, comments by their exact body) — a crash
   may have happened between the create and its bookkeeping;
3. create it only if it is not there;
4. record ``done`` with the target id, and commit.

A crash at any instant therefore leaves at most one object whose existence is
unknown, and step 2 settles it on the next run.  A rerun after a complete load
reads only staging and sends nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from migrator.errors import PermanentTargetError, TargetError
from migrator.http import AmbiguousWriteError
from migrator.load.batches import batch_origins
from migrator.load.links import link_pass, planned_links
from migrator.load.references import (
    Renderer,
    has_refs,
    lookup,
    reference_pass,
    refs_key,
    render_payload,
)
from migrator.model import normalize_text
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import chunks, now
from migrator.trackers.protocols import Target

ls = s.load_state

# How often an ambiguous write is checked and retried before giving up on the run.
AMBIGUOUS_ATTEMPTS = 3
# How long the target may still be working on a request we stopped waiting for.
SETTLE_SECONDS = 10.0


@dataclass
class LoadSummary:
    plan_id: int
    tickets_created: int = 0
    tickets_found: int = 0  # recovered after a crash: already in the target
    tickets_skipped: int = 0  # done before this run
    tickets_failed: int = 0
    comments_created: int = 0
    comments_found: int = 0
    links_created: int = 0
    links_found: int = 0
    links_waiting: int = 0  # one end not loaded yet: done by a later load
    links_failed: int = 0
    links_dangling: int = 0  # the other end is not in the plan at all
    links_unsupported: int = 0  # the target has no place for the kind
    refs_rewritten: int = 0  # tickets whose texts were edited once the tickets they name existed
    refs_waiting: int = 0  # tickets naming tickets not loaded yet: a later load finishes them
    refs_failed: int = 0
    requests: int = 0  # HTTP requests sent to the target by this run
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"loaded plan {self.plan_id}: {self.tickets_created} tickets created, "
            f"{self.tickets_found} recovered, {self.tickets_skipped} already done, "
            f"{self.tickets_failed} failed; {self.comments_created} comments created, "
            f"{self.comments_found} recovered; {self.links_created} links created"
            + (f", {self.links_waiting} waiting for a later batch" if self.links_waiting else "")
            + (f", {self.links_failed} failed" if self.links_failed else "")
            + (f", {self.links_dangling} to tickets not in the plan" if self.links_dangling else "")
            + (
                f", {self.links_unsupported} of kinds the target cannot hold"
                if self.links_unsupported
                else ""
            )
            + (
                f"; references rewritten in {self.refs_rewritten} tickets"
                if self.refs_rewritten
                else ""
            )
            + (f", {self.refs_waiting} waiting for a later batch" if self.refs_waiting else "")
            + (f", {self.refs_failed} failed" if self.refs_failed else "")
            + f", in {self.seconds:.1f} s"
        )


def _seed_state(staging: Staging, plan_id: int, batch: str | None = None) -> int:
    """Give every planned object (of BATCH only, if given) a pending row, without touching
    existing ones: a batch's load costs its own size, not the plan's.

    Returns how many of those links point at tickets that are not in the plan at all
    (they are reported, not loaded).
    """
    planned = staging.planned_origins(plan_id)
    dangling = 0
    for chunk in chunks(staging.iter_planned(plan_id, batch=batch), 500):
        links = {
            link.key: link
            for r in chunk
            for link in planned_links(r.payload)
            if link.source in planned and link.other in planned
        }
        dangling += sum(
            1
            for r in chunk
            for link in planned_links(r.payload)
            if not (link.source in planned and link.other in planned)
        )
        with staging.begin() as conn:
            keys = (
                [r.origin for r in chunk]
                + [c["key"] for r in chunk for c in _children(r.payload)]
                + list(links)
            )
            known = _existing(conn, keys)
            rows = []
            for r in chunk:
                if r.origin not in known:
                    rows.append(_row(r.origin, "ticket", r.origin, 0, plan_id))
                for seq, c in enumerate(r.payload["comments"]):
                    if c["key"] not in known:
                        rows.append(_row(c["key"], "comment", r.origin, seq, plan_id))
                for seq, a in enumerate(r.payload.get("attachments", [])):
                    if a["key"] not in known:
                        rows.append(_row(a["key"], "attachment", r.origin, seq, plan_id))
            refs = [refs_key(r.origin) for r in chunk if has_refs(r.payload)]
            known |= _existing(conn, refs)
            for key in refs:
                if key not in known:
                    rows.append(_row(key, "refs", key.removesuffix("/refs"), 0, plan_id))
            for key, link in links.items():
                if key not in known:
                    kind = "parent" if link.kind == "parent" else "link"
                    rows.append(_row(key, kind, link.source, 0, plan_id))
                    known.add(key)
            if rows:
                conn.execute(ls.insert(), rows)
    return dangling


# Keys per IN list: PostgreSQL takes at most 65,535 parameters in a statement, and a
# chunk of tickets with many comments and attachments each could pass that.
KEYS_PER_QUERY = 1000


def _existing(conn: Connection, keys: list[str]) -> set[str]:
    """Which of these load-state keys already have a row."""
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        part = keys[start : start + KEYS_PER_QUERY]
        found.update(conn.scalars(select(ls.c.key).where(ls.c.key.in_(part))))
    return found


def _children(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [*payload["comments"], *payload.get("attachments", [])]


def _row(key: str, kind: str, ticket: str, seq: int, plan_id: int) -> dict[str, Any]:
    return dict(
        key=key,
        kind=kind,
        ticket_origin=ticket,
        seq=seq,
        state="pending",
        attempts=0,
        plan_id=plan_id,
        updated_at=now(),
    )


def _set(conn: Connection, key: str, **values: Any) -> None:
    conn.execute(update(ls).where(ls.c.key == key).values(updated_at=now(), **values))


class _Loader:
    """Loads tickets one at a time; with workers, one per thread, each with its own target."""

    def __init__(
        self,
        staging: Staging,
        targets: Callable[[], Target],
        summary: LoadSummary,
        retry_failed: bool,
        settle: float = SETTLE_SECONDS,
        plan_id: int = 0,
    ):
        self.staging = staging
        self.plan_id = plan_id
        self._targets = targets
        self._local = threading.local()
        self._lock = threading.Lock()
        self.opened: list[Target] = []
        self.summary = summary
        self.retry_failed = retry_failed
        self.settle = settle

    @property
    def target(self) -> Target:
        """This thread's target (its own HTTP session when loading with workers)."""
        target: Target | None = getattr(self._local, "target", None)
        if target is None:
            target = self._targets()
            target.preflight()
            self._local.target = target
            with self._lock:
                self.opened.append(target)
        return target

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self.summary, name, getattr(self.summary, name) + 1)

    def intent(self, key: str, attempts: int) -> None:
        with self.staging.begin() as conn:
            _set(conn, key, state="in-flight", attempts=attempts + 1)

    def done(
        self, key: str, target_id: str | None, kind: str, with_keys: tuple[str, ...] = ()
    ) -> None:
        """Record an object (and what was created with it in the same request) as done."""
        with self.staging.begin() as conn:
            _set(conn, key, state="done", target_id=target_id, last_error=None)
            for other in with_keys:
                _set(conn, other, state="done", last_error=None)
            Staging.event(conn, f"{kind}-done", origin=key, detail={"target_id": target_id})

    def failed(self, key: str, error: Exception) -> None:
        with self.staging.begin() as conn:
            _set(conn, key, state="failed", last_error=str(error))
            Staging.event(conn, "failed", origin=key, detail={"error": str(error)})

    def ticket(self, planned: Any, states: dict[str, Any]) -> None:
        origin, payload = planned.origin, planned.payload
        row = states[origin]
        if row.state == "failed" and not self.retry_failed:
            return
        target_id = row.target_id if row.state == "done" else None
        render = None
        if has_refs(payload):
            render = Renderer(payload, *lookup(self.staging, self.plan_id, payload), self.target)
        # Whether every text of the ticket is known to be written final by this run.
        final = render is not None and render.final and target_id is None
        if target_id is None:
            self.intent(origin, row.attempts)
            sent = payload if render is None else render_payload(payload, render)
            try:
                target_id, found = self._create(
                    lambda: self.target.find_by_origin(origin),
                    lambda: self.target.create_ticket(sent),
                    checked_first=row.attempts > 0,
                )
                if found:
                    self.target.reconcile(target_id, payload)
            except PermanentTargetError as exc:
                self.failed(origin, exc)
                self.count("tickets_failed")
                return
            # Attachments travel with the create (and reconcile), so they are done with it.
            attached = tuple(a["key"] for a in payload.get("attachments", []))
            self.done(origin, target_id, "ticket", attached)
            self.count("tickets_found" if found else "tickets_created")
            final = final and not found
        elif all(states[c["key"]].state == "done" for c in _children(payload)):
            self.count("tickets_skipped")
            return
        complete = self.comments(target_id, payload, states, render)
        if render is not None and final and complete:
            # Written with every reference resolved: the reference pass has nothing to do.
            with self.staging.begin() as conn:
                _set(conn, refs_key(origin), state="done", seq=render.resolved)

    def comments(
        self,
        target_id: str,
        payload: dict[str, Any],
        states: dict[str, Any],
        render: Renderer | None = None,
    ) -> bool:
        """Add the ticket's missing comments; True if this run created every one of them."""
        done_bodies: list[str] = []
        complete = True
        for comment in payload["comments"]:
            key, body = comment["key"], comment["body"]
            row = states[key]
            if row.state == "done":
                done_bodies.append(body)
                complete = False  # written by an earlier run
                continue
            if row.state == "failed" and not self.retry_failed:
                complete = False
                continue
            self.intent(key, row.attempts)

            def already(body: str = body) -> str | None:
                # Identical bodies may legitimately repeat: the comment exists when the
                # target holds more copies than the comments already recorded done.  A
                # body with references may have been sent before one of them resolved.
                pattern = render.pattern(body) if render is not None else None
                want = normalize_text(body)
                stored = (normalize_text(t) for _, t in self.target.texts(target_id).comments)
                there = sum(
                    1
                    for text in stored
                    if (pattern.fullmatch(text) is not None if pattern else text == want)
                )
                return "" if there > done_bodies.count(body) else None

            def create(comment: dict[str, Any] = comment) -> str:
                if render is not None:
                    comment = {**comment, "body": render(comment["body"])}
                self.target.add_comment(target_id, comment)
                return ""

            try:
                _, found = self._create(already, create, checked_first=row.attempts > 0)
            except PermanentTargetError as exc:
                self.failed(key, exc)
                complete = False
                continue
            self.done(key, None, "comment")
            done_bodies.append(body)
            complete = complete and not found
            self.count("comments_found" if found else "comments_created")
        return complete

    def _create(
        self, find: Callable[[], str | None], create: Callable[[], str], *, checked_first: bool
    ) -> tuple[str, bool]:
        """Create unless it exists; (id, found-instead-of-created)."""
        if checked_first:
            existing = find()
            if existing is not None:
                return existing, True
        for attempt in range(1, AMBIGUOUS_ATTEMPTS + 1):
            try:
                return create(), False
            except AmbiguousWriteError:
                existing = self._settle(find)
                if existing is not None:
                    return existing, True
                if attempt == AMBIGUOUS_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _settle(self, find: Callable[[], str | None]) -> str | None:
        """After a write of unknown fate, look again until the server has surely finished it.

        A request that timed out on our side may still be running (or queued)
        on the server: re-creating at once would race it into a duplicate.
        """
        deadline = time.monotonic() + self.settle
        delay = 0.25
        while True:
            existing = find()
            if existing is not None or time.monotonic() >= deadline:
                return existing
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay *= 2


def load(
    staging: Staging,
    target: Target,
    progress: Progress,
    *,
    retry_failed: bool = False,
    limit: int | None = None,
    batch: str | None = None,
    workers: int = 1,
    target_factory: Callable[[], Target] | None = None,
    settle: float = SETTLE_SECONDS,
    chunk_size: int = 50,
) -> LoadSummary:
    """Load the latest plan (or one batch of it).

    With ``workers`` > 1, tickets are loaded by that many threads, each with a
    target from ``target_factory`` (its own session); a ticket's comments stay
    in order because one thread loads the whole ticket.  Tickets are read from
    staging ``chunk_size`` at a time (``[load] batch_size``): with workers, that is
    also how many may be in flight together.
    """
    started = time.monotonic()
    plan = staging.latest_plan()
    only = batch_origins(staging, batch) if batch is not None else None
    summary = LoadSummary(plan_id=plan.id)
    summary.links_dangling = _seed_state(staging, plan.id, batch)
    target.preflight()
    problems = target.check_plan({k: set(v) for k, v in plan.summary.get("names", {}).items()})
    if problems:
        raise TargetError(
            "the plan uses names the target does not have: " + "; ".join(problems),
            where=target.describe(),
            remedy="create them in the target, or change the mapping and run `migrator plan`",
        )
    run_id = staging.start_run("load")
    requests_before = target.requests_sent
    factory: Callable[[], Target] = lambda: target  # noqa: E731 - one shared target
    if workers > 1:
        if target_factory is None:
            raise ValueError("loading with workers needs a target_factory")
        factory = target_factory
    loader = _Loader(staging, factory, summary, retry_failed, settle, plan.id)
    total = plan.tickets if only is None else len(only)
    progress.start("load", total if limit is None else min(limit, total))
    seen = 0
    rows = staging.iter_planned(plan.id, batch=batch)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="load") if workers > 1 else None
    try:
        for chunk in chunks(rows, chunk_size):
            with staging.begin() as conn:
                states = {
                    r.key: r
                    for r in conn.execute(
                        select(ls).where(ls.c.ticket_origin.in_([p.origin for p in chunk]))
                    )
                }
            if limit is not None:
                chunk = chunk[: max(0, limit - seen)]
            if pool is None:
                for planned in chunk:
                    loader.ticket(planned, states)
                    progress.advance()
            else:
                # One chunk at a time keeps memory flat; its tickets run side by side.
                for future in as_completed([pool.submit(loader.ticket, p, states) for p in chunk]):
                    future.result()
                    progress.advance()
            seen += len(chunk)
            if limit is not None and seen >= limit:
                break
        # Second pass: relations and parents whose two ends now exist.
        links = link_pass(staging, target, retry_failed=retry_failed)
        summary.links_created, summary.links_found = links.created, links.found
        summary.links_waiting, summary.links_failed = links.waiting, links.failed
        summary.links_unsupported = links.unsupported
        # Third: texts naming tickets that did not exist when they were written.
        refs = reference_pass(staging, target, plan.id, retry_failed=retry_failed)
        summary.refs_rewritten, summary.refs_waiting = refs.rewritten, refs.waiting
        summary.refs_failed = refs.failed
    except (TargetError, KeyboardInterrupt):
        staging.finish_run(run_id, "failed", asdict(summary))
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        summary.requests = (
            target.requests_sent
            - requests_before
            + sum(t.requests_sent for t in loader.opened if t is not target)
        )
        for opened in loader.opened:
            if opened is not target:
                opened.close()
        progress.finish()
    summary.seconds = time.monotonic() - started
    staging.finish_run(run_id, "done", asdict(summary))
    return summary
