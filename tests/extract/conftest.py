"""Extract tests: migrations over real Trac environments, run through the CLI.

``big_trac_env`` is a Trac 1.6 environment of 3,000 generated tickets (seeded,
so every run builds the same one), for tests that need many pages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import generate
from fixtures.trackers import trac as trac_env_builder
from tests.trackers.contract import write_config

BIG_TICKETS = 3000
BIG_SEED = 11


@pytest.fixture(scope="session")
def big_trac_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("trac-big") / "big"
    trac_env_builder.build(env, generate(BIG_TICKETS, BIG_SEED))
    return env


@pytest.fixture
def trac_migration(tmp_path: Path) -> Callable[..., Path]:
    """A migration.toml reading a Trac environment (as project ``demo``) into tmp staging."""

    def make(env: Path, directory: Path | None = None, **source: Any) -> Path:
        section = {"type": "trac", "env": str(env), "name": "demo", **source}
        return write_config(directory or tmp_path / "migration", section)

    return make
