"""Typed errors that carry their remedy.

Every failure a user can cause or fix (bad config, unreachable tracker, wrong
key, unmapped values) is a :class:`MigratorError`; the CLI prints it as one
clear message and exits with its ``exit_code``.  Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations


class MigratorError(Exception):
    """A failure the user can act on: what failed, where, and how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, remedy: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.remedy = remedy

    def __str__(self) -> str:
        text = self.message
        if self.where:
            text = f"{self.where}: {text}"
        if self.remedy:
            text = f"{text} — {self.remedy}"
        return text


class ConfigError(MigratorError):
    """The configuration or the invocation is wrong; nothing was attempted."""

    exit_code = 2


class SecretError(ConfigError):
    """A secret reference could not be resolved."""


class MappingError(ConfigError):
    """A mapping file is malformed; lists every problem at once."""

    def __init__(self, problems: list[str], *, remedy: str | None = None):
        self.problems = problems
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in the mapping"
        super().__init__(
            head,
            remedy=remedy
            or "edit the mapping file (see docs/mapping.md) and run the command again",
        )

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return super().__str__()
        lines = [f"{len(self.problems)} problems in the mapping:"]
        lines += [f"  {p}" for p in self.problems]
        if self.remedy:
            lines.append(f"  — {self.remedy}")
        return "\n".join(lines)


class SourceError(MigratorError):
    """The old tracker could not be read."""


class TargetError(MigratorError):
    """The new tracker refused or could not be reached."""


class PermanentTargetError(TargetError):
    """The target rejected one object (e.g. 422); retrying the same payload will not help."""


class StagingError(MigratorError):
    """The staging database is missing a prerequisite (e.g. no plan yet)."""


class PlanError(MigratorError):
    """The mapping cannot turn the staged tickets into payloads."""
