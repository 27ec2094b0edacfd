"""Connectors: one module per tracker, each a Source or a Target (see base.py)."""

from __future__ import annotations

from migrator.config import Config
from migrator.connectors.base import Capabilities, Page, ReadBack, Source, Target
from migrator.errors import ConfigError
from migrator.staging.blobs import BlobStore

SOURCES = ("trac", "roundup", "csv", "xlsx")
TARGETS = ("redmine",)


def make_source(config: Config) -> Source:
    kind = config.source["type"]
    if kind == "trac":
        from migrator.connectors import trac

        return trac.from_config(config.source, config.base)
    if kind == "roundup":
        from migrator.connectors import roundup

        return roundup.from_config(config.source, config.base)
    if kind in ("csv", "xlsx"):
        from migrator.connectors import spreadsheet

        return spreadsheet.from_config(config.source, config.base)
    raise ConfigError(
        f"unknown source type {kind!r}",
        where=str(config.path),
        remedy=f"use one of: {', '.join(SOURCES)}",
    )


def make_target(config: Config) -> Target:
    kind = config.target["type"]
    if kind == "redmine":
        from migrator.connectors import redmine

        return redmine.from_config(config.target, config.base, BlobStore(config.blobs_dir))
    raise ConfigError(
        f"unknown target type {kind!r}",
        where=str(config.path),
        remedy=f"use one of: {', '.join(TARGETS)}",
    )


__all__ = ["Capabilities", "Page", "ReadBack", "Source", "Target", "make_source", "make_target"]
