"""Progress behind a tiny interface: tqdm on a terminal, silence under --quiet."""

from __future__ import annotations

import sys
from typing import Any, Protocol

from tqdm import tqdm


class Progress(Protocol):
    def start(self, what: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class Silent:
    def start(self, what: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class Bars:
    """tqdm bars on stderr, so stdout stays clean for ``--json`` output."""

    def __init__(self) -> None:
        self._bar: Any = None  # a tqdm bar while a stage runs

    def start(self, what: str, total: int | None) -> None:
        self.finish()
        self._bar = tqdm(
            total=total, desc=what, unit="ticket", file=sys.stderr, leave=False, disable=None
        )

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_progress(quiet: bool) -> Progress:
    return Silent() if quiet else Bars()
