"""The provenance line: who wrote a text in the old tracker, and when.

Targets loaded over REST cannot set authors or dates (Redmine sets neither,
GitHub neither), so every migrated description, comment and history journal
starts with this line.  The wording is fixed: crash recovery and the Roundup
target recognise texts by it.
"""

from __future__ import annotations

from migrator.model import parse_iso


def when(iso_time: str | None) -> str:
    t = parse_iso(iso_time)
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else "an unknown date"


def attribution(origin: str | None, author: str | None, iso_time: str | None) -> str:
    """Provenance: the original author and date survive where the target cannot set them."""
    who = author or "anonymous"
    prefix = f"Migrated from {origin} · " if origin else ""
    return f"_{prefix}originally by {who} on {when(iso_time)}_"
