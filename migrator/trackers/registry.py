"""Which trackers migrator knows, found from their folders rather than listed by hand.

A tracker is a package: one folder under ``migrator/trackers/`` (or a plugin
package named by a ``migrator.trackers`` entry point), whose ``__init__.py``
declares a :class:`Tracker` named ``TRACKER``.  Beside it, as the tracker has
them: ``api.py`` (its HTTP client), ``source.py`` and ``target.py`` (each with a
``from_config``), ``config.py`` (the keys its sections take), ``templates/``
(the commented ``[source]``/``[target]`` sections ``migrator init`` writes) and
``mappings/`` (example mappings into it, ``SOURCE-to-TARGET.yaml``).

So adding a tracker touches no other file: ``migrator init``, ``extract``,
``load`` and the contract suites find it here.  A tracker kept outside the
package (an in-house tracker's folder) is found through ``MIGRATOR_TRACKERS``,
a list of folders holding tracker folders, like ``PATH``.  Declarations are read
lazily: listing trackers imports only their ``__init__`` modules, which must
stay light (no HTTP libraries, no parsers).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import ModuleType
from typing import Literal

from migrator.errors import ConfigError

Side = Literal["source", "target"]
ENTRY_POINTS = "migrator.trackers"
PATH_VARIABLE = "MIGRATOR_TRACKERS"


@dataclass(frozen=True)
class Tracker:
    """What a tracker folder declares about itself."""

    title: str  # as people write it: "Redmine"
    sources: tuple[str, ...] = ()  # the [source] type values it reads
    targets: tuple[str, ...] = ()  # the [target] type values it writes
    package: str = field(default="", compare=False)  # set by discovery

    @property
    def name(self) -> str:
        return self.package.rsplit(".", 1)[-1]

    def module(self, side: Side) -> ModuleType:
        """``source.py`` or ``target.py`` of this tracker (imported on first use)."""
        return importlib.import_module(f"{self.package}.{side}")

    def resource(self, *parts: str) -> Traversable:
        """A file the tracker ships (a template, a mapping), found in a wheel too."""
        return files(self.package).joinpath(*parts)

    def template(self, side: Side) -> Traversable:
        """The commented ``[source]`` or ``[target]`` section ``migrator init`` writes."""
        return self.resource("templates", f"{side}.toml")

    def mappings(self) -> list[Traversable]:
        """The example mappings this tracker ships (``SOURCE-to-TARGET.yaml``)."""
        folder = self.resource("mappings")
        if not folder.is_dir():
            return []
        return sorted(
            (item for item in folder.iterdir() if item.name.endswith(".yaml")),
            key=lambda item: item.name,
        )


def _declared(module: ModuleType) -> Tracker | None:
    declared = getattr(module, "TRACKER", None)
    if not isinstance(declared, Tracker):
        return None
    # The package is where the declaration lives: a copy under another name is a new tracker.
    return Tracker(declared.title, declared.sources, declared.targets, module.__name__)


@cache
def trackers() -> tuple[Tracker, ...]:
    """Every tracker: the folders of this package, then plugins, by name."""
    found: dict[str, Tracker] = {}
    here = importlib.import_module("migrator.trackers")
    # Folders named by the variable join the package (after its own folder): their
    # trackers import as migrator.trackers.NAME, exactly like the shipped ones.
    shipped = [os.path.dirname(os.path.abspath(__file__))]  # this module's folder
    named = [os.path.abspath(f) for f in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if f]
    here.__path__[:] = shipped + [f for f in named if f not in shipped]
    for info in pkgutil.iter_modules(here.__path__, "migrator.trackers."):
        if info.ispkg:
            tracker = _declared(importlib.import_module(info.name))
            if tracker is not None:
                found.setdefault(tracker.name, tracker)
    for point in entry_points(group=ENTRY_POINTS):
        module = point.load()
        tracker = _declared(module) if isinstance(module, ModuleType) else None
        if tracker is not None:
            found.setdefault(tracker.name, tracker)
    return tuple(found[name] for name in sorted(found))


def refresh() -> None:
    """Forget what was discovered (a plugin installed while the process runs: tests)."""
    trackers.cache_clear()


def types(side: Side) -> dict[str, Tracker]:
    """Each ``[source]`` (or ``[target]``) type value and the tracker that serves it."""
    out: dict[str, Tracker] = {}
    for tracker in trackers():
        for kind in tracker.sources if side == "source" else tracker.targets:
            out.setdefault(kind, tracker)
    return out


def tracker_for(side: Side, kind: object, where: str | None = None) -> Tracker:
    """The tracker serving ``type = KIND`` in ``[SIDE]``, or the error listing those there are."""
    known = types(side)
    if isinstance(kind, str) and kind in known:
        return known[kind]
    raise ConfigError(
        f"unknown {side} type {kind!r}",
        where=where,
        remedy=f"use one of: {', '.join(sorted(known))}",
    )
