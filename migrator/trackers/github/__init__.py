"""GitHub Issues over the REST API: a target."""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("GitHub Issues", targets=("github",))
