"""A misbehaving network between migrator and the real Redmine: the load still ends exactly once.

The fault proxy injects, at fixed points: 5xx, 429 with Retry-After, a
connection reset before the request reaches Redmine, a response lost after
Redmine committed, a request delayed past the client's timeout (it reaches
Redmine after migrator gave up on it: the race that duplicates tickets in
naive loaders), and slow answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_runner import run
from tests.faultproxy import FaultProxy, Rule
from tests.load.test_crash import assert_exactly_once, planned_payloads


def test_load_survives_every_kind_of_network_fault(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, redmine: Any
) -> None:
    proxy = FaultProxy(redmine.url)
    m = make_migration(env=small_trac_env, url=proxy.url)
    with m.config.open("a", encoding="utf-8") as f:
        f.write("\n[load]\nsettle_seconds = 6\n")
    text = m.config.read_text(encoding="utf-8").replace(
        'api_key = "$env:', 'timeout = 2\napi_key = "$env:'
    )
    m.config.write_text(text, encoding="utf-8")
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    proxy.rules = [
        Rule("GET", "/issues.json", 1, "status:502"),
        Rule("GET", "/trackers.json", 1, "status:429", retry_after="1"),
        Rule("POST", "/issues.json", 2, "delay:3.5"),  # reaches Redmine after our timeout
        Rule("POST", "/issues.json", 4, "drop-after"),  # committed, answer lost
        Rule("POST", "/issues.json", 6, "status:503", retry_after="0"),
        Rule("POST", "/issues.json", 8, "reset"),  # never reached Redmine
        Rule("PUT", "/issues/", 3, "drop-after"),
        Rule("PUT", "/issues/", 5, "reset"),
        Rule("PUT", "/issues/", 7, "delay:3.5"),
        Rule("POST", "/uploads.json", 1, "status:500"),
        Rule("GET", "/issues/", 2, "delay:1"),  # slow, within the timeout
    ]
    try:
        result = run(m.config, "load")
        assert result.exit_code == 0, result.output + result.stderr
        assert all(rule.fired for rule in proxy.rules), [r for r in proxy.rules if not r.fired]
        assert "recovered" in result.output
        assert_exactly_once(redmine_admin, m.project, planned_payloads(m.directory))
        assert run(m.config, "verify", "-q").exit_code == 0
    finally:
        proxy.close()
