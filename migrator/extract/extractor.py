"""Copy tickets from a source into staging.

Each page is committed together with the checkpoint after it, so a killed
extract resumes at the first page it had not committed and refetches nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from migrator.connectors.base import Source
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore

CHECKPOINT = "extract.checkpoint"


@dataclass
class ExtractSummary:
    tickets: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    comments: int = 0
    attachments: int = 0
    bytes: int = 0
    seconds: float = 0.0
    resumed_from: str | None = None
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"extracted {self.tickets} tickets ({self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged), {self.comments} comments, {self.attachments} "
            f"attachments ({self.bytes:,} bytes) in {self.seconds:.1f} s"
        )


def extract(
    staging: Staging, source: Source, blobs: BlobStore, progress: Progress
) -> ExtractSummary:
    started = time.monotonic()
    summary = ExtractSummary(resumed_from=staging.get_meta(CHECKPOINT))
    run_id = staging.start_run("extract")
    progress.start("extract", source.count())
    try:
        for page in source.pages(summary.resumed_from, blobs):
            with staging.begin() as conn:
                for ticket, raw in page.items:
                    outcome = staging.upsert_ticket(conn, ticket, raw, run_id)
                    setattr(summary, outcome, getattr(summary, outcome) + 1)
                    summary.tickets += 1
                    summary.comments += len(ticket.comments)
                    summary.attachments += len(ticket.attachments)
                    summary.bytes += sum(a.size for a in ticket.attachments)
                for warning in source.warnings[len(summary.warnings) :]:
                    Staging.event(conn, "extract-warning", run_id=run_id, detail={"text": warning})
                summary.warnings = list(source.warnings)
                staging.set_meta(conn, CHECKPOINT, page.checkpoint)
            progress.advance(len(page.items))
        with staging.begin() as conn:
            staging.set_meta(conn, CHECKPOINT, None)
    except BaseException:
        staging.finish_run(run_id, "failed", asdict(summary))
        raise
    finally:
        progress.finish()
    summary.seconds = time.monotonic() - started
    staging.finish_run(run_id, "done", asdict(summary))
    return summary
