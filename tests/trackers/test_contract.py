"""The Source contract (tests/trackers/contract.py) against every source's real server or files.

Each source runs over the fixture its own test module seeds, through that
module's fixture: Trac over the session's environment, Roundup over a real
Roundup 2.6 tracker, CSV and Excel over the files written from the dataset,
Redmine over a real Redmine seeded in bulk.  Fixtures imported from another
test module are instantiated again for this one (module scope), so these
tests never share a server with tests that write to it.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fixtures.generate import counts, groups, is_comment
from fixtures.spreadsheets import VARIANTS
from fixtures.spreadsheets import section as sheet_section
from fixtures.trackers import roundup as roundup_server
from tests.trackers import contract
from tests.trackers import test_roundup_source as roundup_tests
from tests.trackers import test_spreadsheet_source as spreadsheet_tests
from tests.trackers.contract import BadBytes, Case, Expected, Extraction, Project

try:
    from tests.trackers import test_redmine_source as redmine_tests
except ImportError:  # pragma: no cover - the Redmine source's own tests are what seed it
    # TODO(contract): the Redmine case needs the ``seeded`` fixture of
    # tests/trackers/test_redmine_source.py (a real Redmine seeded by
    # fixtures.trackers.redmine_seed); without that module it is not run.
    redmine_tests = None

# The other modules' fixtures, instantiated again for this module.
roundup_tracker = roundup_tests.tracker
sheets = spreadsheet_tests.sheets
if redmine_tests is not None:
    redmine_seeded = redmine_tests.seeded

JAPANESE = ("ログイン画面でエラーが発生する",)

# What a source cannot meet, and why (these combinations are not generated).
NOT_APPLICABLE = {
    ("xlsx", "bad_bytes"): "a workbook keeps text as XML in UTF-8: it cannot hold other bytes",
    ("redmine", "bad_bytes"): "Redmine's REST API answers JSON text, always valid UTF-8",
    ("trac", "wrong_credentials"): "a Trac environment is read from disk, without a login",
    ("csv", "wrong_credentials"): "a file has no login",
    ("xlsx", "wrong_credentials"): "a file has no login",
}
SOURCES = [
    pytest.param("trac", marks=pytest.mark.trac),
    pytest.param("roundup", marks=pytest.mark.roundup),
    "csv",
    "xlsx",
]
if redmine_tests is not None:
    SOURCES.append(pytest.param("redmine", marks=pytest.mark.redmine))


def _name(param: Any) -> str:
    return str(param.values[0] if hasattr(param, "values") else param)


def combos(checks: dict[str, Any]) -> list[Any]:
    out = []
    for param in SOURCES:
        name = _name(param)
        marks = getattr(param, "marks", ())
        for check in checks:
            if (name, check) not in NOT_APPLICABLE:
                out.append(pytest.param(name, check, marks=marks, id=f"{name}-{check}"))
    return out


# ---------------------------------------------------------------- the cases


def trac_case(env: Path, dataset: dict[str, Any], work: Path) -> Case:
    fields: dict[str, dict[str, Any]] = {}
    files: dict[str, list[tuple[str, str]]] = {}
    for tk in dataset["tickets"]:
        sid = str(tk["id"])
        fields[sid] = {
            "title": tk["summary"],
            "description": tk["description"],
            "type": tk["type"],
            "status": tk["status"],
            "priority": tk["priority"],
            "reporter": tk["reporter"] or None,
            "assignee": tk["owner"] or None,
            "comments": [
                c["newvalue"] for c in tk["changes"] if c["field"] == "comment" and c["newvalue"]
            ],
        }
        if tk.get("attachments"):
            files[sid] = sorted(
                (a["filename"], hashlib.sha256(base64.b64decode(a["content_b64"])).hexdigest())
                for a in tk["attachments"]
            )
    # A copy whose ticket 1 has a title that is not UTF-8, as old Trac databases do.
    broken = work / "broken-env"
    shutil.copytree(env, broken)
    with closing(sqlite3.connect(broken / "db" / "trac.db")) as db:
        db.execute("UPDATE ticket SET summary = CAST(X'4162FF63' AS TEXT) WHERE id = 1")
        db.commit()
    section = {"type": "trac", "env": str(env), "name": "demo"}
    return Case(
        name="trac",
        section=section,
        expected=Expected(
            tickets=len(dataset["tickets"]),
            comments=counts(dataset)["comments"],
            fields=fields,
            attachments=files,
            japanese=JAPANESE,
            # MasterTickets rows appear on both tickets (blocks / blocked-by).
            links=2 * counts(dataset)["blocked_by"],
        ),
        bad_bytes=BadBytes({**section, "env": str(broken)}, replaced="trac:demo#1"),
        projects=[Project("demo", frozenset({"demo"})), Project("other")],
    )


def roundup_case(tracker: Any, dataset: dict[str, Any]) -> Case:
    instance, report = tracker.instance, tracker.report
    extras = roundup_server.extras(dataset)
    raw_ticket, raw_body = extras.raw_message or (0, b"")
    fields: dict[str, dict[str, Any]] = {}
    for tk in dataset["tickets"]:
        comments = [g[-1]["newvalue"] for g in groups(tk) if is_comment(g[-1])]
        if tk["id"] == raw_ticket:
            comments.append(raw_body.decode("utf-8", "replace"))
        fields[str(tk["id"])] = {
            "title": tk["summary"],
            "description": tk["description"],
            "status": tk["status"],
            "priority": tk["priority"] or None,
            "reporter": tk["reporter"],
            "assignee": tk["owner"] or None,
            "comments": comments,
        }
    files: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for f in extras.files:
        files[str(f.ticket)].append((f.name, f.sha256))
    section = {
        "type": "roundup",
        "url": instance.tracker_url,
        "user": instance.user,
        "password": "$env:MIGRATOR_CONTRACT_ROUNDUP_PASSWORD",
        "tracker_dir": str(instance.directory),
    }
    return Case(
        name="roundup",
        section=section,
        expected=Expected(
            tickets=report.tickets,
            comments=report.comments,
            fields=fields,
            attachments={k: sorted(v) for k, v in files.items()},
            japanese=JAPANESE,
            links=report.superseders,
        ),
        bad_bytes=BadBytes(None, replaced=f"roundup:demo#{raw_ticket}"),
        projects=[Project("demo")],
        wrong_credentials={**section, "password": "$env:MIGRATOR_CONTRACT_WRONG_PASSWORD"},
        refusal=f"rejected the login of user {instance.user!r}",
        env={
            "MIGRATOR_CONTRACT_ROUNDUP_PASSWORD": instance.password,
            "MIGRATOR_CONTRACT_WRONG_PASSWORD": "not-" + instance.password,
        },
    )


def sheet_case(kind: str, folder: Path, dataset: dict[str, Any], work: Path) -> Case:
    variant = VARIANTS["utf8" if kind == "csv" else "xlsx"]
    section = sheet_section(variant)
    for key in ("file", "comments_file"):
        if key in section:
            section[key] = str(folder / section[key])
    fields = {
        str(tk["id"]): {
            "title": tk["summary"],
            "description": tk["description"],
            "status": tk["status"],
            "priority": tk["priority"],
            "reporter": tk["reporter"] or None,
            "assignee": tk["owner"] or None,
            "comments": [c["newvalue"] for c in tk["changes"] if is_comment(c)],
        }
        for tk in dataset["tickets"]
    }
    bad_bytes = None
    if kind == "csv":
        # A byte that UTF-8 does not have, in a file declared UTF-8.
        data = (folder / variant.file).read_bytes()
        broken = work / "broken.csv"
        phrase = JAPANESE[0].encode()
        broken.write_bytes(data.replace(phrase, b"\xff" + phrase, 1))
        bad_bytes = BadBytes(
            {**section, "file": str(broken), "encoding": "utf-8"},
            refused=r"broken\.csv, line \d+ \(row \d+\): cannot decode bytes ff as utf-8 in col",
        )
    return Case(
        name=kind,
        section=section,
        expected=Expected(
            tickets=len(dataset["tickets"]),
            comments=counts(dataset)["comments"],
            fields=fields,
            attachments={},
            japanese=JAPANESE,
        ),
        bad_bytes=bad_bytes,
        projects=[Project("bugs")],
    )


def redmine_case(seeded: Any) -> Case:
    instance, facts = seeded.instance, seeded.facts
    fields = {}
    files = {}
    for iid, f in facts["issues_by_id"].items():
        fields[str(iid)] = {
            "title": f["subject"],
            "description": f["description"],
            "type": f["tracker"],
            "status": f["status"],
            "priority": f["priority"],
            "reporter": f["author"],
            "assignee": f["assignee"],
            "comments": [body for _id, _author, body in f["comments"]],
        }
        if f["attachments"]:
            files[str(iid)] = sorted((a["filename"], a["sha256"]) for a in f["attachments"])
    per = facts["per_project"]
    section = {
        "type": "redmine",
        "url": instance.url,
        "api_key": "$env:MIGRATOR_CONTRACT_REDMINE_KEY",
        "name": "old",
    }
    return Case(
        name="redmine",
        section=section,
        expected=Expected(
            tickets=facts["issues"],
            comments=facts["comments"],
            fields=fields,
            attachments=files,
            japanese=JAPANESE,
            links=sum(len(f["links"]) for f in facts["issues_by_id"].values()),
        ),
        bad_bytes=None,
        projects=[Project("demo", frozenset({"demo", "demo-sub"}), per["demo"] + per["demo-sub"])],
        wrong_credentials={**section, "api_key": "$env:MIGRATOR_CONTRACT_WRONG_KEY"},
        refusal="rejected the API key",
        env={
            "MIGRATOR_CONTRACT_REDMINE_KEY": instance.api_key,
            "MIGRATOR_CONTRACT_WRONG_KEY": "0" * 40,
        },
    )


@pytest.fixture(scope="module")
def contract_env() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def cases(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    dataset: dict[str, Any],
    contract_env: pytest.MonkeyPatch,
) -> dict[str, Case]:
    """Cases by source name, each built the first time a test asks for it."""

    class Lazy(dict[str, Case]):
        def __missing__(self, name: str) -> Case:
            work = tmp_path_factory.mktemp(f"contract-{name}")
            if name == "trac":
                case = trac_case(request.getfixturevalue("trac_env"), dataset, work)
            elif name == "roundup":
                case = roundup_case(request.getfixturevalue("roundup_tracker"), dataset)
            elif name in ("csv", "xlsx"):
                case = sheet_case(name, request.getfixturevalue("sheets"), dataset, work)
            else:
                case = redmine_case(request.getfixturevalue("redmine_seeded"))
            for key, value in case.env.items():
                contract_env.setenv(key, value)
            self[name] = case
            return case

    return Lazy()


@pytest.fixture(scope="module")
def extractions(cases: dict[str, Case], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One complete extraction per source, taken the first time a test asks for it."""

    class Lazy(dict[str, Extraction]):
        def __missing__(self, name: str) -> Extraction:
            got = contract.extract_all(cases[name], tmp_path_factory.mktemp(f"extract-{name}"))
            self[name] = got
            return got

    return Lazy()


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize(("source", "check"), combos(contract.CHECKS))
def test_extraction(source: str, check: str, cases: dict[str, Case], extractions: Any) -> None:
    contract.CHECKS[check](cases[source], extractions[source])


@pytest.mark.parametrize(("source", "check"), combos(contract.SOURCE_CHECKS))
def test_reading_again(
    source: str, check: str, cases: dict[str, Case], extractions: Any, tmp_path: Path
) -> None:
    contract.SOURCE_CHECKS[check](cases[source], extractions[source], tmp_path)


@pytest.mark.parametrize(("source", "check"), combos({"resume": None}))
def test_paging_resumes_after_any_checkpoint(
    source: str, check: str, cases: dict[str, Case], tmp_path: Path
) -> None:
    contract.check_resume(cases[source], tmp_path)


def test_every_source_type_is_in_the_contract() -> None:
    from migrator.trackers import sources

    covered = {_name(p) for p in SOURCES}
    missing = set(sources()) - covered - ({"redmine"} if redmine_tests is None else set())
    assert not missing, f"source types without a contract case: {missing}"


@pytest.mark.roundup
def test_roundup_incremental_extract_reads_what_changed(
    cases: dict[str, Case], extractions: Any
) -> None:
    """Last in this module, as it changes the tracker: three issues retitled over REST."""
    case, first = cases["roundup"], extractions["roundup"]
    url, user = case.section["url"], case.section["user"]
    before = contract.content_hashes(first.staging_path)
    session = requests.Session()
    session.auth = (user, case.env["MIGRATOR_CONTRACT_ROUNDUP_PASSWORD"])
    session.trust_env = False
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    headers = {"X-Requested-With": "rest", "Referer": url, "Origin": origin}
    changed = ("5", "50", "150")
    for iid in changed:
        item = f"{url}rest/data/issue/{iid}"
        data = session.get(item, headers=headers, timeout=30).json()["data"]
        title = data["attributes"]["title"] + "（更新）"
        r = session.patch(
            item, headers={**headers, "If-Match": data["@etag"]}, json={"title": title}, timeout=30
        )
        assert r.status_code == 200, r.text
    again = contract.extract_all(case, first.staging_path.parent)
    summary = again.summary
    assert summary.since is not None  # from the cursor the first extract stored
    assert (summary.new, summary.changed) == (0, 3)
    assert summary.unchanged == summary.tickets - 3 and summary.tickets < len(first.tickets)
    after = contract.content_hashes(first.staging_path)
    assert sorted(o for o in after if after[o] != before[o]) == [
        f"roundup:demo#{i}" for i in sorted(changed)
    ]
    assert all(again.tickets[i].title.endswith("（更新）") for i in changed)
