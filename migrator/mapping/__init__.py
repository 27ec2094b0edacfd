"""Mapping rules: load and validate a mapping file, apply it to a ticket."""

from migrator.mapping.engine import Planned, apply
from migrator.mapping.rules import Mapping, load_mapping

__all__ = ["Mapping", "Planned", "apply", "load_mapping"]
