"""Writers: one module per syntax, each a ``Writer`` that spells the tree in its syntax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from migrator.markup.writers.adf import AdfWriter
from migrator.markup.writers.base import Writer
from migrator.markup.writers.jira import JiraWriter
from migrator.markup.writers.markdown import MarkdownWriter
from migrator.markup.writers.plain import PlainWriter
from migrator.markup.writers.textile import TextileWriter
from migrator.markup.writers.trac import TracWriter

WRITERS: Final[dict[str, Callable[[list[str]], Writer]]] = {
    "markdown": MarkdownWriter,
    "textile": TextileWriter,
    "jira": JiraWriter,
    "plain": PlainWriter,
    "trac": TracWriter,
    "adf": AdfWriter,
}
