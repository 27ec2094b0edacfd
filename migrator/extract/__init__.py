"""Extract: old tracker -> staging, page by page, incremental and resumable."""

from migrator.extract.extractor import ExtractSummary, extract, extract_configured
from migrator.extract.state import Cursor, Scope, parse_since
from migrator.progress import Meter, make_meter

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
