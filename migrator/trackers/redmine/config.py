"""The keys of ``[source]`` and ``[target]`` for a Redmine (``type = "redmine"``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migrator.secrets import Secret, resolve_secret
from migrator.trackers.redmine.api import root
from migrator.trackers.registry import Side
from migrator.trackers.settings import Keys, required

SOURCE = Keys(
    "source",
    {
        "type": '"redmine"',
        "url": "the old Redmine's root (with its path, if any)",
        "api_key": "a secret reference to an API key (My account > API access key)",
        "project": "one project (identifier) and its subprojects (default: every visible one)",
        "name": "origin keys are redmine:NAME#ID (default: the host); keep it stable",
        "workers": "threads fetching issues and attachments",
        "markup": "the old Redmine's text formatting: textile, markdown or common_mark",
        "private_notes": '"skip" (the default) or "include": private notes become comments',
    },
    docs="docs/sources/redmine.md",
)

TARGET = Keys(
    "target",
    {
        "type": '"redmine"',
        "url": "the Redmine root (with its path, if any)",
        "api_key": "a secret reference to an API key; an admin's keeps authors and watchers",
        "legacy_field": 'the origin custom field: its name (default "Legacy ID") or its id',
        "timeout": "seconds per request",
        "rate_limit": "requests per second, shared by all load workers (default: no limit)",
    },
    docs="docs/targets/redmine.md",
)

# The variable each side's template reads its key from: a Redmine -> Redmine
# migration has two keys.
KEY_VARIABLES = {"source": "OLD_REDMINE_KEY", "target": "REDMINE_API_KEY"}


def reach(section: dict[str, Any], base: Path, side: Side) -> tuple[str, Secret]:
    """``url`` and ``api_key`` (resolved), which either side needs to reach its Redmine."""
    url = root(section.get("url"), side)
    ref = required(section, "api_key", side, "Redmine", f"$env:{KEY_VARIABLES[side]}")
    return url, resolve_secret(ref, base=base, key=f"[{side}] api_key")
