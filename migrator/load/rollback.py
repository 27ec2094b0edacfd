"""Undo what a batch created in the target, and only that, so the batch can be loaded again.

Each ticket is removed from the target first and its staging rows reset
after, one ticket per transaction: a rollback killed half-way is simply run
again (a ticket already gone answers 404, which counts as removed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from migrator.load.batches import show_batch
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.trackers.protocols import Target


@dataclass
class RollbackSummary:
    batch: str
    removed: int = 0
    reset: int = 0
    close: bool = False

    def line(self) -> str:
        verb = "closed and unmarked" if self.close else "deleted"
        return (
            f"rolled back batch {self.batch}: {self.removed} ticket(s) {verb} in the target, "
            f"{self.reset} ticket(s) back to pending"
        )


def rollback(
    staging: Staging, target: Target, batch: str, progress: Progress, *, close: bool = False
) -> RollbackSummary:
    ls, bt = s.load_state, s.batch_tickets
    show_batch(staging, batch)  # raises when unknown
    summary = RollbackSummary(batch, close=close)
    with staging.begin() as conn:
        # A subquery, not a list: a batch can hold more origins than PostgreSQL takes
        # parameters in one statement (65,535).
        rows = conn.execute(
            select(ls.c.key, ls.c.state, ls.c.target_id).where(
                ls.c.kind == "ticket", ls.c.key.in_(select(bt.c.origin).where(bt.c.batch == batch))
            )
        ).all()
    target.preflight()
    progress.start("rollback", len(rows))
    try:
        for key, state, target_id in sorted(rows):
            if target_id is None and state in ("in-flight", "failed"):
                target_id = target.find_by_origin(key)  # a create whose answer was lost
            if target_id is not None:
                if close:
                    target.retire_ticket(target_id, key)
                else:
                    target.delete_ticket(target_id)
                summary.removed += 1
            with staging.begin() as conn:
                conn.execute(ls.delete().where(ls.c.ticket_origin == key))
                # Links from other tickets to this one vanished with it: make them again later.
                conn.execute(
                    ls.update()
                    .where(ls.c.kind.in_(("link", "parent")), ls.c.key.like(f"%/{key}"))
                    .values(state="pending", target_id=None)
                )
                conn.execute(s.verifications.delete().where(s.verifications.c.origin == key))
                Staging.event(
                    conn,
                    "rolled-back",
                    origin=key,
                    detail={"batch": batch, "target_id": target_id, "closed": close},
                )
            summary.reset += 1
            progress.advance()
        # Texts elsewhere may name a ticket that is gone now (and will come back under
        # another number): the next load's reference pass reads every such text again.
        # Done after every rollback, finished or resumed, so a crash cannot skip it.
        with staging.begin() as conn:
            conn.execute(
                ls.update()
                .where(ls.c.kind == "refs", ls.c.state.in_(("done", "waiting")))
                .values(state="waiting", seq=-1)
            )
    finally:
        progress.finish()
    return summary
