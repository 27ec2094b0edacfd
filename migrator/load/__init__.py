"""Load: push planned payloads to the target, exactly once, resumable."""

from migrator.load.loader import LoadSummary, load

__all__ = ["LoadSummary", "load"]
