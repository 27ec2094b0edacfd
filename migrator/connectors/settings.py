"""Reading a connector's section of ``migration.toml``: the checks every connector shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.errors import ConfigError
from migrator.http import RateGovernor


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
