"""The keys of ``[source]`` for a Trac environment (``type = "trac"``)."""

from migrator.trackers.settings import Keys

SOURCE = Keys(
    "source",
    {
        "type": '"trac"',
        "env": "the environment's folder (holding conf/trac.ini), read-only",
        "name": "the project and origin prefix, trac:NAME#ID (default: the folder's name)",
        "page_size": "tickets read and committed together",
    },
    docs="docs/extract.md",
)
