"""Roundup (>= 2.0) over its REST API: a source (history through its Python API) and a target."""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("Roundup", sources=("roundup",), targets=("roundup",))
