"""Expectations shared by the load tests of every target."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from migrator.mapping.references import render_references
from migrator.model import normalize_text


def final_text(
    payload: Mapping[str, Any],
    text: str,
    new_ids: Mapping[str, object],
    reference: str,
    inert: Callable[[str], str] = str,
) -> str:
    """A planned text as the target holds it once every ticket is loaded: references to
    migrated tickets as REFERENCE (e.g. ``"#{}"``) with their new id, the others INERT."""
    return normalize_text(
        render_references(
            text,
            payload.get("refs", []),
            lambda o: reference.format(new_ids[o]) if o in new_ids else None,
            inert,
        )
    )
