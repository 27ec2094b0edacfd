"""Trac (>= 0.12): its environment's database and attachment folder, read directly."""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("Trac", sources=("trac",))
