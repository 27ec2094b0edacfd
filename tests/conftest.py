"""Real trackers for the test session: a Trac environment, a Redmine server and a
PostgreSQL server (for staging) on loopback.

Each is started once per session by the project's own scripts (fixtures/trackers)
and stopped at the end.  Tests that write to Redmine get a project of
their own, so they can run in any order and count what they created.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fixtures.generate import load_dataset
from fixtures.trackers import postgres as postgres_server
from fixtures.trackers import redmine as redmine_server
from fixtures.trackers import trac as trac_env_builder

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MAPPING = REPO / "mappings" / "trac-to-redmine.yaml"


@pytest.fixture(scope="session")
def dataset() -> dict[str, Any]:
    return load_dataset()


@pytest.fixture(scope="session")
def trac_env(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    """The fixture dataset as a real Trac 1.6 environment (read-only for tests)."""
    env = tmp_path_factory.mktemp("trac") / "demo"
    trac_env_builder.build(env, dataset)
    return env


@pytest.fixture(scope="session")
def small_trac_env(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    """The first 30 fixture tickets, for tests that load repeatedly."""
    env = tmp_path_factory.mktemp("trac-small") / "small"
    trac_env_builder.build(env, {**dataset, "tickets": dataset["tickets"][:30]})
    return env


@pytest.fixture(scope="session")
def redmine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redmine_server.RedmineInstance]:
    redmine_server.install()
    instance = redmine_server.start(tmp_path_factory.mktemp("redmine"))
    try:
        yield instance
    finally:
        redmine_server.stop(instance)


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.PostgresInstance]:
    """One real PostgreSQL for the session; tests make databases of their own in it."""
    postgres_server.install()
    # Not under tmp_path: the server runs as the postgres user, who must reach the directory.
    home = Path(tempfile.mkdtemp(prefix="migrator-postgres-"))
    instance = postgres_server.start(home)
    try:
        yield instance
    finally:
        postgres_server.stop(instance)
        shutil.rmtree(home, ignore_errors=True)


class RedmineAdmin:
    """Direct REST access for tests: set-up, and looking behind migrator's back."""

    def __init__(self, instance: redmine_server.RedmineInstance):
        self.instance = instance
        self.session = requests.Session()
        self.session.headers["X-Redmine-API-Key"] = instance.api_key
        self.session.trust_env = False

    def get(self, path: str, **params: Any) -> Any:
        r = self.session.get(self.instance.url + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def send(self, method: str, path: str, body: Any) -> Any:
        r = self.session.request(method, self.instance.url + path, json=body, timeout=30)
        assert r.status_code < 300, r.text
        return r.json() if r.content.strip() else None

    def issues(self, project: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.get(
                "/issues.json", project_id=project, status_id="*", limit=100, offset=len(out)
            )
            out += page["issues"]
            if len(out) >= page["total_count"]:
                return out

    def sha256(self, content_url: str) -> str:
        path = urlsplit(content_url).path
        r = self.session.get(self.instance.url + path, timeout=30)
        r.raise_for_status()
        return hashlib.sha256(r.content).hexdigest()

    def journals(self, issue_id: int) -> list[dict[str, Any]]:
        issue = self.get(f"/issues/{issue_id}.json", include="journals")["issue"]
        return [j for j in issue["journals"] if j.get("notes")]

    def create_project(self, identifier: str) -> str:
        trackers = [t["id"] for t in self.get("/trackers.json")["trackers"]]
        self.send(
            "POST",
            "/projects.json",
            {
                "project": {
                    "name": identifier,
                    "identifier": identifier,
                    "tracker_ids": trackers,
                    "issue_custom_field_ids": [self.instance.legacy_field_id],
                    "enabled_module_names": ["issue_tracking"],
                }
            },
        )
        role = next(r["id"] for r in self.get("/roles.json")["roles"] if r["name"] == "Manager")
        for user in self.get("/users.json", limit=100)["users"]:
            self.send(
                "POST",
                f"/projects/{identifier}/memberships.json",
                {"membership": {"user_id": user["id"], "role_ids": [role]}},
            )
        return identifier

    def requests_seen(self, method: str, path_prefix: str) -> int:
        """Requests the server actually received, from its own request log."""
        log = self.instance.directory / "log" / "production.log"
        return log.read_text(errors="replace").count(f'Started {method} "{path_prefix}')


@pytest.fixture(scope="session")
def redmine_admin(redmine: redmine_server.RedmineInstance) -> RedmineAdmin:
    return RedmineAdmin(redmine)


_projects = itertools.count(1)


@dataclass
class Migration:
    """A migration directory as a user would have it: migration.toml + mapping."""

    directory: Path
    project: str
    config: Path
    mapping: Path
    trac_env: Path
    env: dict[str, str]


@pytest.fixture
def make_migration(
    tmp_path: Path,
    trac_env: Path,
    redmine: redmine_server.RedmineInstance,
    redmine_admin: RedmineAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Migration]:
    """A fresh migration into a project of its own (source name = project, unique origins)."""

    def make(
        *, url: str | None = None, env: Path | None = None, api_key: str | None = None
    ) -> Migration:
        project = redmine_admin.create_project(f"t{next(_projects)}-{os.getpid()}")
        directory = tmp_path / project
        (directory / "mappings").mkdir(parents=True)
        mapping = directory / "mappings" / "trac-to-redmine.yaml"
        mapping.write_text(
            SHIPPED_MAPPING.read_text(encoding="utf-8").replace(
                "project: demo ", f"project: {project} "
            ),
            encoding="utf-8",
        )
        source_env = env or trac_env
        config = directory / "migration.toml"
        config.write_text(
            f"""\
[source]
type = "trac"
env = "{source_env}"
name = "{project}"

[target]
type = "redmine"
url = "{url or redmine.url}"
api_key = "$env:MIGRATOR_TEST_REDMINE_KEY"

[mapping]
file = "mappings/trac-to-redmine.yaml"
""",
            encoding="utf-8",
        )
        key = api_key or redmine.api_key
        monkeypatch.setenv("MIGRATOR_TEST_REDMINE_KEY", key)
        return Migration(
            directory, project, config, mapping, source_env, {"MIGRATOR_TEST_REDMINE_KEY": key}
        )

    return make


@pytest.fixture
def copy_trac_env(tmp_path: Path, trac_env: Path) -> Callable[[], Path]:
    def copy() -> Path:
        dest = tmp_path / "trac-copy"
        shutil.copytree(trac_env, dest)
        return dest

    return copy
