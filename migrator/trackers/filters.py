"""The filters of one extract run (``--since``, ``--ids``, ``--project``), alike for every source.

Every source takes them in the same types, and a filter a source cannot apply
is an error rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from migrator.errors import ConfigError
from migrator.trackers.protocols import Page, Source

if TYPE_CHECKING:
    from migrator.staging.blobs import BlobStore

_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


def parse_since(text: str) -> datetime:
    """``--since``: a date (midnight UTC) or an ISO time; a time without zone is UTC."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is not a date or an ISO time",
            remedy="write e.g. --since 2024-05-01 or --since 2024-05-01T09:30:00+09:00",
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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


class OnlyIds:
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


@dataclass(frozen=True)
class Filters:
    """What one extract run reads: tickets updated at or after ``since``, with an id in
    ``ids``, in ``project`` (each optional).  Every source's ``from_config`` takes them."""

    since: datetime | None = None
    ids: IdSet | None = None
    project: str | None = None


EVERYTHING = Filters()
