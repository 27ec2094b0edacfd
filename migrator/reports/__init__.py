"""Reports: read staging only, render for people who sign the migration off."""

from migrator.reports.labels import LANGS
from migrator.reports.reconciliation import FORMATS, build, write_reports

__all__ = ["FORMATS", "LANGS", "build", "write_reports"]
