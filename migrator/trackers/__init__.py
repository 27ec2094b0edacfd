"""Trackers: one folder each, holding its API client, its source and its target.

The pipeline knows a tracker only through the two protocols in
:mod:`migrator.trackers.protocols` and the registry in
:mod:`migrator.trackers.registry`, which finds the folders.  Sources are built
here from ``[source]`` plus the filters of one extract run (``--since``,
``--ids``, ``--project``), so every source takes the same filters in the same
types; targets from ``[target]``, with the rate governor load workers share.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from migrator.trackers.filters import Filters, IdSet, OnlyIds, no_projects
from migrator.trackers.protocols import Capabilities, Page, ReadBack, Source, Target
from migrator.trackers.registry import Tracker, tracker_for, trackers, types

if TYPE_CHECKING:
    from migrator.config import Config
    from migrator.http import RateGovernor


def sources() -> tuple[str, ...]:
    """Every ``[source]`` type value, sorted."""
    return tuple(sorted(types("source")))


def targets() -> tuple[str, ...]:
    """Every ``[target]`` type value, sorted."""
    return tuple(sorted(types("target")))


def make_source(
    config: Config,
    *,
    since: datetime | None = None,
    ids: IdSet | None = None,
    project: str | None = None,
) -> Source:
    """The configured source, reading only tickets updated at or after ``since``,
    with an id in ``ids`` and in ``project`` (each filter optional)."""
    tracker = tracker_for("source", config.source.get("type"), str(config.path))
    build = tracker.module("source").from_config
    return cast(Source, build(config.source, config.base, Filters(since, ids, project)))


def make_target(config: Config, *, governor: RateGovernor | None = None) -> Target:
    """A target from ``[target]``; workers share one ``governor`` (the target's rate limit)."""
    tracker = tracker_for("target", config.target.get("type"), str(config.path))
    from migrator.staging.blobs import BlobStore

    build = tracker.module("target").from_config
    blobs = BlobStore(config.blobs_dir)
    return cast(Target, build(config.target, config.base, blobs, governor=governor))


__all__ = [
    "Capabilities",
    "Filters",
    "IdSet",
    "OnlyIds",
    "Page",
    "ReadBack",
    "Source",
    "Target",
    "Tracker",
    "make_source",
    "make_target",
    "no_projects",
    "sources",
    "targets",
    "trackers",
]
