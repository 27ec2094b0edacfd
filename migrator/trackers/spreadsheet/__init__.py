"""Bug lists kept as CSV files or Excel workbooks: a source."""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("CSV or Excel", sources=("csv", "xlsx"))
