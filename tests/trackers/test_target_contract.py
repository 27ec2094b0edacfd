"""The Target contract (tests/trackers/target_contract.py) against every target.

Each target runs against a server of this module's own: Redmine 5 (the
session's server, in a project made for this module), a real Roundup 2.6
tracker started for this module with the properties the Roundup target's own
tests give it (and a ``customer`` property, a custom field), and the GitHub
double, which holds every request to GitHub's API description and must have
recorded no violation after each check.  Origins are unique to each check.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.github_api import GitHubDouble
from tests.load import test_github_target as github_tests
from tests.load import test_roundup_target as roundup_tests
from tests.trackers import target_contract as contract
from tests.trackers.target_contract import Case, Run

TARGETS = [
    pytest.param("redmine", marks=pytest.mark.redmine),
    pytest.param("roundup", marks=pytest.mark.roundup),
    pytest.param("github", marks=pytest.mark.github),
]


def _name(param: Any) -> str:
    return str(param.values[0])


def combos() -> list[Any]:
    return [
        pytest.param(_name(p), check, marks=p.marks, id=f"{_name(p)}-{check}")
        for p in TARGETS
        for check in contract.CHECKS
    ]


# ---------------------------------------------------------------- the servers


@pytest.fixture(scope="module")
def roundup_tracker() -> Iterator[Any]:
    tracker = roundup_tests.start_tracker((*roundup_tests.TRACKER_SCHEMA, "customer=String()"))
    try:
        yield tracker
    finally:
        tracker.stop()


@pytest.fixture(scope="module")
def github_double() -> Iterator[GitHubDouble]:
    server = GitHubDouble(token=github_tests.TOKEN, assignable=github_tests.PEOPLE, page_cap=7)
    try:
        yield server
    finally:
        server.close()


# ---------------------------------------------------------------- the cases


def redmine_case(instance: Any, admin: Any) -> Case:
    project = admin.create_project(f"target-contract-{os.getpid()}")
    return Case(
        name="redmine",
        section={"type": "redmine", "url": instance.url, "api_key": "$env:CONTRACT_REDMINE_KEY"},
        values={
            "project": project,
            "tracker": "Bug",
            "status": "In Progress",  # not the tracker's default: set by a second request
            "priority": "High",
            "author": "tanaka",
            "assignee": "suzuki",
        },
        lacks={"status": "No such status", "user": "nobody-here"},
        deletes=True,
        secret=instance.api_key,
        custom_fields={"Customer": "株式会社サンプル <b>"},
        env={"CONTRACT_REDMINE_KEY": instance.api_key},
    )


def roundup_case(tracker: Any) -> Case:
    return Case(
        name="roundup",
        section={
            "type": "roundup",
            "url": tracker.url,
            "user": tracker.user,
            "password": "$env:CONTRACT_ROUNDUP_PASSWORD",
        },
        values={
            "project": "demo",
            "tracker": "issue",
            # Classic's auditor would turn a resolved issue that gets a message "chatting".
            "status": "resolved",
            "priority": "urgent",
            "author": "tanaka",
            "assignee": "suzuki",
        },
        lacks={"status": "no-such-status", "user": "nobody-here"},
        deletes=True,  # docs/targets/roundup.md: delete retires the issue
        secret=tracker.password,
        custom_fields={"customer": "株式会社サンプル <b>"},
        env={"CONTRACT_ROUNDUP_PASSWORD": tracker.password},
    )


def github_case(double: GitHubDouble) -> Case:
    seen = len(double.violations)
    return Case(
        name="github",
        section={
            "type": "github",
            "url": double.url,
            "repo": f"{double.owner}/{double.repo}",
            "token": "$env:CONTRACT_GITHUB_TOKEN",
        },
        values={
            "project": double.repo,
            "tracker": "Bug",
            "status": "in progress",  # an open issue with a status label
            "priority": "High",
            "author": "tanaka",
            "assignee": "suzuki",
        },
        # Any other status is an open issue with a label; a near miss of GitHub's own is not.
        lacks={"status": "Closed", "user": "nobody-here"},
        deletes=False,  # docs/targets/github.md: REST cannot delete an issue
        secret=github_tests.TOKEN,
        env={"CONTRACT_GITHUB_TOKEN": github_tests.TOKEN},
        problems=lambda: double.violations[seen:],
    )


@pytest.fixture(scope="module")
def contract_env() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def cases(request: pytest.FixtureRequest, contract_env: pytest.MonkeyPatch) -> dict[str, Case]:
    """Cases by target name, each (and its server) made the first time a test asks for it."""

    class Lazy(dict[str, Case]):
        def __missing__(self, name: str) -> Case:
            if name == "redmine":
                case = redmine_case(
                    request.getfixturevalue("redmine"), request.getfixturevalue("redmine_admin")
                )
            elif name == "roundup":
                case = roundup_case(request.getfixturevalue("roundup_tracker"))
            else:
                case = github_case(request.getfixturevalue("github_double"))
            for key, value in case.env.items():
                contract_env.setenv(key, value)
            self[name] = case
            return case

    return Lazy()


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize(("target", "check"), combos())
def test_target(target: str, check: str, cases: dict[str, Case], tmp_path: Path) -> None:
    case = cases[target]
    contract.CHECKS[check](Run(case, tmp_path / check, check))
    assert case.problems() == []


def test_every_target_type_is_in_the_contract() -> None:
    from migrator.trackers import targets

    assert set(targets()) == {_name(p) for p in TARGETS}
