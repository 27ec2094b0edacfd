"""Reports: read staging only, render for people who sign the migration off."""

from migrator.reports.reconciliation import build, write_reports

__all__ = ["build", "write_reports"]
