"""Extract: old tracker -> staging, page by page, incremental and resumable."""

from migrator.extract.extractor import ExtractSummary, extract, extract_configured
from migrator.extract.state import Cursor, Scope
from migrator.progress import Meter, make_meter
from migrator.trackers.filters import parse_since

__all__ = [
    "Cursor",
    "ExtractSummary",
    "Meter",
    "Scope",
    "extract",
    "extract_configured",
    "make_meter",
    "parse_since",
]
