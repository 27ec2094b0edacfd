"""Verify: read migrated tickets back from the target and compare them with the plan."""

from migrator.verify.verifier import VerifySummary, compare, verify

__all__ = ["VerifySummary", "compare", "verify"]
