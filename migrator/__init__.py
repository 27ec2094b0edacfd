"""migrator: move bug tickets between trackers, exactly once, and prove it."""

__version__ = "0.1.0"
