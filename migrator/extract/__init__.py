"""Extract: old tracker -> staging, page by page, resumable."""

from migrator.extract.extractor import ExtractSummary, extract

__all__ = ["ExtractSummary", "extract"]
