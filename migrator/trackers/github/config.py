"""The keys of ``[target]`` for GitHub Issues (``type = "github"``)."""

from migrator.trackers.settings import Keys

TARGET = Keys(
    "target",
    {
        "type": '"github"',
        "repo": "the repository, owner/name",
        "token": "a secret reference to a token that may write Issues and Contents",
        "url": "the REST API (default https://api.github.com; Enterprise: https://HOST/api/v3)",
        "attachments_branch": "where attached files are committed (default migrated-attachments)",
        "timeout": "seconds per request",
        "rate_limit": "requests per second, all workers together (default: no limit)",
    },
    docs="docs/targets/github.md",
)
