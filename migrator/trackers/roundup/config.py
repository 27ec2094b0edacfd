"""The keys of ``[source]`` and ``[target]`` for a Roundup tracker (``type = "roundup"``)."""

from migrator.trackers.settings import Keys

SOURCE = Keys(
    "source",
    {
        "type": '"roundup"',
        "url": "the tracker's address, ending in its name (read over REST, Roundup >= 2.0)",
        "user": "a user who may read every issue, message and file",
        "password": "the user's password, a secret reference ($env:NAME or $file:PATH)",
        "tracker_dir": "the tracker home, where field-change history is read (optional)",
        "name": "origin keys are roundup:NAME#ID (default: the last part of url's path)",
        "closed_statuses": "the statuses that mean closed",
    },
    docs="docs/configuration.md",
)

TARGET = Keys(
    "target",
    {
        "type": '"roundup"',
        "url": "the tracker's address, ending in its name (written over REST, Roundup >= 2.0)",
        "user": "a user with the Admin role",
        "password": "the user's password, a secret reference ($env:NAME or $file:PATH)",
        "legacy_property": "the issue property that holds each ticket's origin",
        "timeout": "seconds per request",
        "rate_limit": "requests per second, all workers together (default: no limit)",
    },
    docs="docs/targets/roundup.md",
)
