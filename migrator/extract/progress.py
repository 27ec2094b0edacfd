"""Extract's progress: one counter per entity, with a total where the source gives one.

Tickets have a total when the source can count them cheaply; comments,
attachments and bytes are counted as they arrive.  Bars go to stderr and only
on a terminal, so tests and pipes see nothing; ``--quiet`` turns them off.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, runtime_checkable

from tqdm import tqdm

from migrator.progress import Progress


@runtime_checkable
class Meter(Protocol):
    def begin(self, tickets: int | None, done: int) -> None:
        """Start; ``done`` tickets were committed by earlier attempts of this extract."""
        ...

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None: ...

    def end(self) -> None: ...


class Quiet:
    def begin(self, tickets: int | None, done: int) -> None:
        pass

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None:
        pass

    def end(self) -> None:
        pass


class TicketsOnly:
    """A plain :class:`migrator.progress.Progress` (one bar) counting tickets."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def begin(self, tickets: int | None, done: int) -> None:
        self.progress.start("extract", tickets)
        if done:
            self.progress.advance(done)

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None:
        self.progress.advance(tickets)

    def end(self) -> None:
        self.progress.finish()


class Bars:
    """Four tqdm bars: tickets (of the total), comments, attachments, attachment bytes."""

    def __init__(self) -> None:
        self._bars: list[Any] = []

    def begin(self, tickets: int | None, done: int) -> None:
        self.end()

        def bar(position: int, desc: str, **kw: Any) -> Any:
            return tqdm(
                desc=desc, position=position, file=sys.stderr, leave=False, disable=None, **kw
            )

        self._bars = [
            bar(0, "tickets", total=tickets, initial=done, unit="ticket"),
            bar(1, "comments", unit="comment"),
            bar(2, "attachments", unit="file"),
            bar(3, "bytes", unit="B", unit_scale=True, unit_divisor=1024),
        ]

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None:
        for bar, n in zip(self._bars, (tickets, comments, attachments, nbytes), strict=False):
            bar.update(n)

    def end(self) -> None:
        for bar in reversed(self._bars):
            bar.close()
        self._bars = []


def make_meter(quiet: bool) -> Meter:
    return Quiet() if quiet else Bars()


def as_meter(progress: Progress | Meter) -> Meter:
    """A Meter as is; a one-bar Progress (what the other stages take) counting tickets."""
    return progress if isinstance(progress, Meter) else TicketsOnly(progress)
