"""Staging: SQLAlchemy tables and the store that every stage reads and writes."""

from migrator.staging.store import Staging

__all__ = ["Staging"]
