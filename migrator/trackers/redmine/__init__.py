"""Redmine over its REST API: a source and a target."""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("Redmine", sources=("redmine",), targets=("redmine",))
