"""Readers: one module per syntax, each a ``read(text, warnings)`` giving the tree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from migrator.markup.readers import adf, jira, markdown, plain, textile, trac
from migrator.markup.tree import Block, Context

READERS: Final[dict[str, Callable[[str, list[str], Context], list[Block]]]] = {
    "trac": trac.read,
    "plain": plain.read,
    "markdown": markdown.read,
    "textile": textile.read,
    "jira": jira.read,
    "adf": adf.read,
}
