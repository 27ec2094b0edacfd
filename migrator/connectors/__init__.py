"""Connectors: one module per tracker, each a Source or a Target (see base.py).

Sources are built here from ``[source]`` plus the filters of one extract run
(``--since``, ``--ids``, ``--project``), so every source takes the same
filters in the same types, and a filter a source cannot apply is an error
rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from migrator.config import Config
from migrator.connectors.base import Capabilities, Page, ReadBack, Source, Target
from migrator.errors import ConfigError
from migrator.http import RateGovernor
from migrator.model import iso
from migrator.staging.blobs import BlobStore

SOURCES = ("trac", "roundup", "csv", "xlsx", "redmine")
TARGETS = ("redmine", "roundup", "github")

_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


@dataclass(frozen=True)
class IdSet:
    """Ticket ids chosen for a partial extract: ``1,2,5-9`` (ranges are inclusive).

    Numeric ids compare as numbers (``007`` is ``7``); anything else (``BUG-12``
    in a spreadsheet) compares as written.
    """

    numbers: frozenset[int] = frozenset()
    ranges: tuple[tuple[int, int], ...] = ()
    texts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> IdSet:
        ranges: list[tuple[int, int]] = []
        texts: set[str] = set()
        for part in (p.strip() for p in text.split(",")):
            if not part:
                raise ConfigError(
                    f"--ids {text!r}: empty item",
                    remedy="write ids and ranges separated by commas, e.g. --ids 1,2,5-9",
                )
            m = _RANGE.fullmatch(part)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo > hi:
                    raise ConfigError(
                        f"--ids {text!r}: range {part} runs backwards",
                        remedy=f"write it as {hi}-{lo}",
                    )
                ranges.append((lo, hi))
            elif part.isdigit():
                ranges.append((int(part), int(part)))
            else:
                texts.add(part)
        # One spelling per selection: overlapping and adjacent runs merged, singles apart.
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ranges):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        numbers = {lo for lo, hi in merged if lo == hi}
        runs = tuple((lo, hi) for lo, hi in merged if lo < hi)
        return cls(frozenset(numbers), runs, frozenset(texts))

    def __contains__(self, source_id: object) -> bool:
        sid = str(source_id).strip()
        if sid.isdigit():
            n = int(sid)
            return n in self.numbers or any(lo <= n <= hi for lo, hi in self.ranges)
        return sid in self.texts

    def __str__(self) -> str:
        """A canonical spelling, in numeric order: the same selection always prints the same."""
        runs = sorted([(n, n) for n in self.numbers] + list(self.ranges))
        parts = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in runs]
        return ",".join(parts + sorted(self.texts))

    @property
    def numeric_only(self) -> bool:
        return not self.texts


def no_projects(kind: str, project: str) -> ConfigError:
    """The error for ``--project`` on a source that has no projects."""
    return ConfigError(
        f"--project {project}: a {kind} source has no projects",
        remedy="leave out --project (use --ids to extract some tickets only)",
    )


class _OnlyIds:
    """Keeps the tickets whose id is in ``ids``, for a source that cannot select ids itself.

    The source still reads everything; checkpoints are the source's own, so a
    killed run resumes as the source would.
    """

    def __init__(self, source: Source, ids: IdSet):
        self.source = source
        self.ids = ids
        self.kind = source.kind
        self.name: str | None = getattr(source, "name", None)
        self.warnings = source.warnings  # the same list: the source keeps appending to it

    def describe(self) -> str:
        return f"{self.source.describe()}, ids {self.ids}"

    def count(self) -> int | None:
        return None  # unknown until read: the source counts everything

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        for page in self.source.pages(checkpoint, blobs):
            items = [(t, raw) for t, raw in page.items if t.source_id in self.ids]
            yield Page(items, page.checkpoint)

    def close(self) -> None:
        self.source.close()


def make_source(
    config: Config,
    *,
    since: datetime | None = None,
    ids: IdSet | None = None,
    project: str | None = None,
) -> Source:
    """The configured source, reading only tickets updated at or after ``since``,
    with an id in ``ids`` and in ``project`` (each filter optional)."""
    kind = config.source["type"]
    if kind == "trac":
        from migrator.connectors import trac

        return trac.from_config(config.source, config.base, since=since, ids=ids, project=project)
    if kind == "roundup":
        from migrator.connectors import roundup

        return roundup.from_config(
            config.source, config.base, since=since, ids=ids, project=project
        )
    if kind in ("csv", "xlsx"):
        from migrator.connectors import spreadsheet

        return spreadsheet.from_config(
            config.source, config.base, since=since, ids=ids, project=project
        )
    if kind == "redmine":
        from migrator.connectors import redmine_source

        section: dict[str, Any] = dict(config.source)
        if project is not None:
            section["project"] = project  # the project and its subprojects
        source: Source = redmine_source.from_config(section, config.base, since=iso(since))
        return source if ids is None else _OnlyIds(source, ids)
    raise ConfigError(
        f"unknown source type {kind!r}",
        where=str(config.path),
        remedy=f"use one of: {', '.join(SOURCES)}",
    )


def make_target(config: Config, *, governor: RateGovernor | None = None) -> Target:
    """A target from ``[target]``; workers share one ``governor`` (the target's rate limit)."""
    kind = config.target["type"]
    if kind == "redmine":
        from migrator.connectors import redmine

        return redmine.from_config(
            config.target, config.base, BlobStore(config.blobs_dir), governor=governor
        )
    if kind == "roundup":
        from migrator.connectors import roundup_target

        return roundup_target.from_config(
            config.target, config.base, BlobStore(config.blobs_dir), governor=governor
        )
    if kind == "github":
        from migrator.connectors import github

        return github.from_config(
            config.target, config.base, BlobStore(config.blobs_dir), governor=governor
        )
    raise ConfigError(
        f"unknown target type {kind!r}",
        where=str(config.path),
        remedy=f"use one of: {', '.join(TARGETS)}",
    )


__all__ = [
    "Capabilities",
    "IdSet",
    "Page",
    "ReadBack",
    "Source",
    "Target",
    "make_source",
    "make_target",
    "no_projects",
]
