"""Secrets: resolved late, never printed.

Config files name secrets by reference (``$env:NAME`` or ``$file:PATH``) so that
they are never committed or typed on a command line.  The resolved value lives
in a :class:`Secret` whose ``repr`` and ``str`` are redacted; code that needs
the value must ask for it with :meth:`Secret.reveal`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from migrator.errors import SecretError

_REDACTED = "***"


class Secret:
    """A value that must not reach logs, reports, staging or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED})"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def resolve_secret(ref: str, *, base: Path, key: str) -> Secret:
    """Resolve ``$env:NAME``, ``${NAME}`` or ``$file:PATH`` (relative to the config file).

    A literal value is refused: it would end up committed with the config.
    """
    m = re.fullmatch(r"\$env:([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}", ref)
    if m:
        name = m.group(1) or m.group(2)
        value = os.environ.get(name)
        if not value:
            raise SecretError(
                f"environment variable {name} is not set",
                where=key,
                remedy=f"export {name}=... before running migrator",
            )
        return Secret(value)
    if ref.startswith("$file:"):
        path = Path(ref[len("$file:") :]).expanduser()
        if not path.is_absolute():
            path = base / path
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(
                f"cannot read secret file {path}: {exc.strerror}",
                where=key,
                remedy="create the file with the token on its first line, readable only by you",
            ) from None
        if not value:
            raise SecretError(
                f"secret file {path} is empty", where=key, remedy="put the token in it"
            )
        return Secret(value)
    raise SecretError(
        "secrets must be references, not literal values",
        where=key,
        remedy='write "$env:VARIABLE" or "$file:path/to/token" and keep the value out of the file',
    )


class Redactor:
    """Replaces known secret values in text bound for logs, errors and reports."""

    def __init__(self, *secrets: Secret | None):
        self._values = [s.reveal() for s in secrets if s]

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, _REDACTED)
        return text
