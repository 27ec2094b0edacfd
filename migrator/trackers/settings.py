"""Reading a connector's section of ``migration.toml``: the checks every connector shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.http import RateGovernor
from migrator.secrets import Secret, resolve_secret


@dataclass(frozen=True)
class Transport:
    """How every request of one side reaches its server: :class:`~migrator.http.HttpClient`'s
    settings that are not the tracker's own."""

    timeout: float = 30.0
    governor: RateGovernor | None = None  # shared by the load workers of one target
    attempts: int = 5


def transport(
    section: dict[str, Any], where: str, governor: RateGovernor | None = None
) -> Transport:
    """``timeout`` (seconds) and ``rate_limit`` (requests/s); load workers share one governor."""
    timeout = section.get("timeout", 30)
    rate = section.get("rate_limit")
    for name, value in (("timeout", timeout), ("rate_limit", rate)):
        if value is not None and (
            not isinstance(value, int | float) or isinstance(value, bool) or value <= 0
        ):
            raise ConfigError(
                f"{where} {name} must be a positive number of "
                f"{'seconds' if name == 'timeout' else 'requests per second'}, not {value!r}",
                remedy=f"e.g. {name} = {'30' if name == 'timeout' else '10'}",
            )
    return Transport(float(timeout), governor or RateGovernor(float(rate) if rate else None))


def required(
    section: Mapping[str, Any], key: str, side: str, what: str, example: str, note: str = ""
) -> str:
    """The value of a key a connector cannot do without, or the error saying what to write.

    An empty value counts as missing.  ``what`` names the tracker in the message
    ("Trac"); ``example`` is the value the remedy suggests, and a secret reference
    (``$env:NAME``) is to be exported too.  ``note`` ends the remedy.
    """
    value = section.get(key)
    if not isinstance(value, str) or not value:
        export = " and export it" if example.startswith("$env:") else ""
        raise ConfigError(
            f"[{side}] {key} is required for a {what} {side}",
            remedy=f'add {key} = "{example}" under [{side}]{export}{note}',
        )
    return value


def login(section: dict[str, Any], base: Path, side: str, what: str) -> tuple[str, Secret]:
    """``user`` and ``password`` (a secret reference) of a tracker that logs in by password.

    ``side`` is "source" or "target"; ``what`` names the tracker in messages.
    """
    user = required(section, "user", side, what, "LOGIN", " (a user with the Admin role)")
    ref = required(section, "password", side, what, "$env:ROUNDUP_PASSWORD")
    return user, resolve_secret(ref, base=base, key=f"[{side}] password")


@dataclass(frozen=True)
class Keys:
    """The keys one side of a tracker reads from its section of ``migration.toml``.

    Each tracker's ``config.py`` declares them (name -> what it means, in a few
    words), so the keys a connector reads, the ones ``migrator init`` writes and
    the ones a section may hold are one list.
    """

    side: str  # "source" or "target"
    meanings: dict[str, str]
    docs: str  # where the keys are explained, for messages

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.meanings)

    def refuse_unknown(self, section: Mapping[str, Any]) -> None:
        """Refuse a key this side does not read: a misspelt key would be ignored silently."""
        unknown = sorted(set(section) - self.names)
        if not unknown:
            return
        known = sorted(self.names)
        close = [
            f"{match[0]} instead of {key}"
            for key in unknown
            if (match := get_close_matches(key, known, n=1))
        ]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in [{self.side}]",
            where=f"[{self.side}]",
            remedy=f"{hint}use only {', '.join(known)} (see {self.docs})",
        )
