"""Progress behind a tiny interface: tqdm on a terminal, silence under tests and --quiet.

Two shapes.  A :class:`Progress` is one counter of tickets: plan, load, verify
and rollback take one.  Extract takes a :class:`Meter`, one counter per entity
(tickets of the total where the source can count them cheaply; comments,
attachments and bytes as they arrive), or a plain Progress, which then counts
tickets only (:func:`as_meter`).  Bars go to stderr, so stdout stays clean for
``--json`` output, and only on a terminal, so tests and pipes see nothing.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, runtime_checkable

from tqdm import tqdm


class Progress(Protocol):
    def start(self, what: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


@runtime_checkable
class Meter(Protocol):
    def begin(self, tickets: int | None, done: int) -> None:
        """Start; ``done`` tickets were committed by earlier attempts of this extract."""
        ...

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None: ...

    def end(self) -> None: ...


class Silent:
    """Shows nothing: a Progress and a Meter, for --quiet and for tests."""

    def start(self, what: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass

    def begin(self, tickets: int | None, done: int) -> None:
        pass

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None:
        pass

    def end(self) -> None:
        pass


def _bar(desc: str, **kw: Any) -> Any:
    """A tqdm bar on stderr that draws only on a terminal and leaves no line behind."""
    return tqdm(desc=desc, file=sys.stderr, leave=False, disable=None, **kw)


class Bars:
    """One bar per stage, counting tickets."""

    def __init__(self) -> None:
        self._bar: Any = None  # a tqdm bar while a stage runs

    def start(self, what: str, total: int | None) -> None:
        self.finish()
        self._bar = _bar(what, total=total, unit="ticket")

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class ExtractBars:
    """Four bars: tickets (of the total), comments, attachments, attachment bytes."""

    def __init__(self) -> None:
        self._bars: list[Any] = []

    def begin(self, tickets: int | None, done: int) -> None:
        self.end()
        self._bars = [
            _bar("tickets", position=0, total=tickets, initial=done, unit="ticket"),
            _bar("comments", position=1, unit="comment"),
            _bar("attachments", position=2, unit="file"),
            _bar("bytes", position=3, unit="B", unit_scale=True, unit_divisor=1024),
        ]

    def page(self, tickets: int, comments: int, attachments: int, nbytes: int) -> None:
        for bar, n in zip(self._bars, (tickets, comments, attachments, nbytes), strict=False):
            bar.update(n)

    def end(self) -> None:
        for bar in reversed(self._bars):
            bar.close()
        self._bars = []


class TicketsOnly:
    """A plain :class:`Progress` (one bar) used as a Meter: it counts tickets."""

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


def make_progress(quiet: bool) -> Progress:
    return Silent() if quiet else Bars()


def make_meter(quiet: bool) -> Meter:
    return Silent() if quiet else ExtractBars()


def as_meter(progress: Progress | Meter) -> Meter:
    """A Meter as is; a one-bar Progress (what the other stages take) counting tickets."""
    return progress if isinstance(progress, Meter) else TicketsOnly(progress)
