"""Reading a connector's section of ``migration.toml``: the checks every connector shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.http import RateGovernor
from migrator.secrets import Secret, resolve_secret


@dataclass(frozen=True)
class Transport:
    timeout: float
    governor: RateGovernor


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


def login(section: dict[str, Any], base: Path, side: str, what: str) -> tuple[str, Secret]:
    """``user`` and ``password`` (a secret reference) of a tracker that logs in by password.

    ``side`` is "source" or "target"; ``what`` names the tracker in messages.
    """
    user = section.get("user")
    if not isinstance(user, str) or not user:
        raise ConfigError(
            f"[{side}] user is required for a {what} {side}",
            remedy=f'add user = "LOGIN" under [{side}] (a user with the Admin role)',
        )
    ref = section.get("password")
    if not isinstance(ref, str):
        raise ConfigError(
            f"[{side}] password is required for a {what} {side}",
            remedy=f'add password = "$env:ROUNDUP_PASSWORD" under [{side}] and export it',
        )
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
