"""Loading into a real Redmine: migrator against a minimal raw loop and python-redmine.

One run builds a Trac environment of N tickets shaped alike (5 non-empty
comments and 1 attachment each, the generator's fields and statuses, no
links), starts one fresh Redmine on loopback, and has four clients load the
same tickets, each into a fresh project of its own, each as its own process:

* ``raw``: plain ``requests`` and one ``Session`` sending the payloads
  migrator planned (read from its staging database, attachment bytes from its
  blob store) as migrator sends them: upload, create with the upload token,
  the status PUT when the status is not the tracker's default, one PUT per
  comment, and nothing else (no bookkeeping, no retries);
* ``migrator``: ``migrator extract`` and ``plan`` (not timed), then
  ``migrator load``, exactly-once bookkeeping included;
* ``python-redmine``: the way most people script it, one object at a time:
  ``redmine.issue.create(..., uploads=[...])``, then ``issue.save()`` for the
  status and for every comment, authors switched the library's way,
  ``with redmine.session(impersonate=login)``;
* ``migrator --workers 2``: the same load with two sessions side by side.

The machine is shared and noisy (the server's time per request swings by 2x
within minutes), so the clients take turns: the tickets are cut into rounds
(10 by default) and in each round every client loads the next slice, the
order rotating, migrator as a ``migrator batch`` of exactly those tickets.
Ratios of clients measured minutes apart would mostly measure the neighbours.

One Redmine rather than one per client: all clients meet the same warmed-up
server process and database file, so the ratios compare clients, not
instances; fresh instances would each add a cold start and their own noise.

Every request the server received is counted from its own log (``Started``
lines written while a client ran), which counts all clients alike, and the
server's own time is the sum of its ``Completed ... in X ms`` lines: wall
time minus server time is what a ticket costs outside Rails (client, network,
thin, process start).  CPU time is the client process's own (``wait4``).
Afterwards every project is read back (the status of every issue against the
plan, and the newest issue's comments and attachment) so a fast client that
did less is caught.

    python -m bench.load_redmine [--tickets 1000] [--rounds 10] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "mappings" / "trac-to-redmine.yaml"
KEY_ENV = "MIGRATOR_BENCH_REDMINE_KEY"  # the key reaches children by environment, not argv
COMMENTS = 5
SEED = 11
TARGET_RATIO = 0.9
TIMEOUT = 60.0

CONFIG = """\
[source]
type = "trac"
env = "{env}"
name = "{project}"

[target]
type = "redmine"
url = "{url}"
api_key = "$env:{key_env}"

[mapping]
file = "mapping.yaml"
"""


# --------------------------------------------------------------------------- dataset


def shaped_dataset(tickets: int, seed: int = SEED) -> dict[str, Any]:
    """The generator's tickets, each with exactly COMMENTS comments and one attachment.

    Fields, statuses, texts (Trac markup, Japanese) and attachment bytes stay
    the generator's; the history is replaced by comment-only edits a minute
    apart (so every ticket's values are its creation values), tickets without
    an attachment borrow one, and links are dropped (they would add a second
    pass that the other clients do not have).
    """
    from fixtures.generate import MINUTE, SECOND, generate, is_comment

    dataset = generate(tickets=tickets, seed=seed)
    texts = [c["newvalue"] for t in dataset["tickets"] for c in t["changes"] if is_comment(c)]
    spare = [a for t in dataset["tickets"] for a in t["attachments"]]
    for i, tk in enumerate(dataset["tickets"]):
        authors = [c["author"] for c in tk["changes"] if c["field"] == "comment"] or [
            tk["reporter"]
        ]
        tk["changes"] = [
            {
                "time": tk["time"] + (k + 1) * MINUTE,
                "author": authors[k % len(authors)],
                "field": "comment",
                "oldvalue": str(k + 1),
                "newvalue": texts[(i * COMMENTS + k) % len(texts)],
            }
            for k in range(COMMENTS)
        ]
        tk["changetime"] = max(tk["changetime"], tk["changes"][-1]["time"])
        attachment = dict((tk["attachments"] or [spare[i % len(spare)]])[0])
        attachment["time"] = tk["time"] + 30 * SECOND
        tk["attachments"] = [attachment]
        tk["blocked_by"], tk["parent"] = [], None
    return dataset


# --------------------------------------------------------------------------- Redmine


class Admin:
    """Set-up and read-back over REST with the admin key (never timed)."""

    def __init__(self, url: str, key: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Redmine-API-Key"] = key

    def get(self, path: str, **params: Any) -> Any:
        r = self.session.get(self.url + path, params=params, timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()

    def create_project(self, identifier: str) -> str:
        """A public project with every tracker, and every user a Manager in it.

        Managers may add issues and be switched to (``X-Redmine-Switch-User``)
        and assigned, as the payloads need.
        """
        trackers = [t["id"] for t in self.get("/trackers.json")["trackers"]]
        body = {
            "project": {
                "name": identifier,
                "identifier": identifier,
                "is_public": True,
                "tracker_ids": trackers,
                "enabled_module_names": ["issue_tracking"],
            }
        }
        r = self.session.post(self.url + "/projects.json", json=body, timeout=TIMEOUT)
        r.raise_for_status()
        role = next(r["id"] for r in self.get("/roles.json")["roles"] if r["name"] == "Manager")
        for user in self.get("/users.json", limit=100)["users"]:
            member = {"membership": {"user_id": user["id"], "role_ids": [role]}}
            r = self.session.post(
                f"{self.url}/projects/{identifier}/memberships.json", json=member, timeout=TIMEOUT
            )
            r.raise_for_status()
        return identifier

    def statuses(self, project: str) -> Counter[str]:
        """How many issues of the project are in each status."""
        seen: Counter[str] = Counter()
        offset = 0
        while True:
            page = self.get(
                "/issues.json",
                project_id=project,
                status_id="*",
                sort="id",
                limit=100,
                offset=offset,
            )
            seen.update(i["status"]["name"] for i in page["issues"])
            offset += len(page["issues"])
            if not page["issues"] or offset >= page["total_count"]:
                return seen

    def last_issue(self, project: str) -> tuple[int, int]:
        """Comments and attachments of the project's newest issue."""
        newest = self.get("/issues.json", project_id=project, status_id="*", sort="id:desc")
        issue_id = newest["issues"][0]["id"]
        issue = self.get(f"/issues/{issue_id}.json", include="journals,attachments")["issue"]
        notes = [j for j in issue["journals"] if j.get("notes")]
        return len(notes), len(issue["attachments"])


class ServerLog:
    """What Redmine wrote to its production.log during one run."""

    STARTED = re.compile(r'\[([0-9a-f-]{36})\] Started (\w+) "([^"?]*)')
    COMPLETED = re.compile(r"\[([0-9a-f-]{36})\] Completed \d+ .*? in (\d+)ms")

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def since_mark(self) -> tuple[Counter[str], Counter[str]]:
        """Requests by kind (``PUT /issues/ID``...) and the server's milliseconds per kind."""
        with self.path.open("rb") as f:
            f.seek(self.offset)
            text = f.read().decode("utf-8", errors="replace")
        kind_of: dict[str, str] = {}
        for rid, method, path in self.STARTED.findall(text):
            path = re.sub(r"/\d+", "/ID", re.sub(r"/projects/[^/]+", "/projects/P", path))
            kind_of[rid] = f"{method} {path.removesuffix('.json')}"
        server_ms: Counter[str] = Counter()
        for rid, ms in self.COMPLETED.findall(text):
            server_ms[kind_of.get(rid, "?")] += int(ms)
        return Counter(kind_of.values()), server_ms


# --------------------------------------------------------------------------- clients


def _planned(directory: Path, ids: range | None = None) -> Iterator[dict[str, Any]]:
    """The payloads of migrator's latest plan in DIRECTORY (Trac ids in IDS), in load order."""
    db = sqlite3.connect(f"file:{directory / 'staging.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT payload FROM planned_tickets"
            " WHERE plan_id = (SELECT max(id) FROM plans) ORDER BY origin"
        )
        for (payload,) in rows:
            p = json.loads(payload)
            if ids is None or int(p["origin"].rsplit("#", 1)[1]) in ids:
                yield p
    finally:
        db.close()


def _blob(directory: Path, sha256: str) -> Path:
    return directory / "blobs" / sha256[:2] / sha256


def run_raw(url: str, staging: Path, project: str, ids: range) -> None:
    """The least a client can do to send migrator's payloads: one session, no bookkeeping."""
    payloads = list(_planned(staging, ids))
    s = requests.Session()
    s.headers.update({"X-Redmine-API-Key": os.environ[KEY_ENV]})

    def get(path: str, **params: Any) -> Any:
        r = s.get(url + path, params=params, timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()

    trackers = {t["name"]: t["id"] for t in get("/trackers.json")["trackers"]}
    statuses = {x["name"]: x["id"] for x in get("/issue_statuses.json")["issue_statuses"]}
    priorities = {
        p["name"]: p["id"] for p in get("/enumerations/issue_priorities.json")["issue_priorities"]
    }
    fields = {f["name"]: f["id"] for f in get("/custom_fields.json")["custom_fields"]}
    users = {u["login"]: u["id"] for u in get("/users.json", limit=100)["users"]}
    scoped: dict[str, dict[str, int]] = {}

    def scoped_id(kind: str, name: str) -> int:
        """Category or version id, created on first use (as migrator does)."""
        many, one = (
            ("issue_categories", "issue_category")
            if kind == "category"
            else (
                "versions",
                "version",
            )
        )
        path = f"{url}/projects/{project}/{many}.json"
        known = scoped.setdefault(kind, {})
        if not known:
            known.update({x["name"]: x["id"] for x in get(path.removeprefix(url))[many]})
        if name not in known:
            r = s.post(path, json={one: {"name": name}}, timeout=TIMEOUT)
            r.raise_for_status()
            known[name] = r.json()[one]["id"]
        return known[name]

    def as_(login: str | None) -> dict[str, str]:
        return {"X-Redmine-Switch-User": login} if login in users else {}

    for p in payloads:
        uploads = []
        for a in p["attachments"]:
            with _blob(staging, a["sha256"]).open("rb") as f:
                r = s.post(
                    url + "/uploads.json",
                    params={"filename": a["name"]},
                    data=f,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=TIMEOUT,
                )
            r.raise_for_status()
            uploads.append(
                {
                    "token": r.json()["upload"]["token"],
                    "filename": a["name"],
                    "description": a.get("description") or "",
                    "content_type": a.get("content_type") or "application/octet-stream",
                }
            )
        issue: dict[str, Any] = {
            "project_id": project,
            "tracker_id": trackers[p["tracker"]],
            "status_id": statuses[p["status"]],
            "priority_id": priorities[p["priority"]],
            "subject": p["subject"],
            "description": p["description"],
            "custom_fields": [{"id": fields["Legacy ID"], "value": p["origin"]}]
            + [{"id": fields[k], "value": v} for k, v in p.get("custom_fields", {}).items()],
            "uploads": uploads,
        }
        if p.get("category"):
            issue["category_id"] = scoped_id("category", p["category"])
        if p.get("version"):
            issue["fixed_version_id"] = scoped_id("version", p["version"])
        if p.get("watchers"):
            issue["watcher_user_ids"] = [users[w] for w in p["watchers"]]
        if p.get("assignee"):
            issue["assigned_to_id"] = users[p["assignee"]]
        r = s.post(
            url + "/issues.json",
            json={"issue": issue},
            headers=as_(p.get("author")),
            timeout=TIMEOUT,
        )
        r.raise_for_status()
        created = r.json()["issue"]
        at = f"{url}/issues/{created['id']}.json"
        if created["status"]["name"] != p["status"]:
            body = {"issue": {"status_id": statuses[p["status"]]}}
            s.put(at, json=body, timeout=TIMEOUT).raise_for_status()
        for c in p["comments"]:
            body = {"issue": {"notes": c["body"]}}
            s.put(at, json=body, headers=as_(c.get("author")), timeout=TIMEOUT).raise_for_status()


def run_python_redmine(url: str, staging: Path, project: str, ids: range) -> None:
    """One object at a time through python-redmine, as its documentation shows."""
    from redminelib import Redmine

    payloads = list(_planned(staging, ids))
    redmine = Redmine(url, key=os.environ[KEY_ENV])
    trackers = {t.name: t.id for t in redmine.tracker.all()}
    statuses = {x.name: x.id for x in redmine.issue_status.all()}
    priorities = {p.name: p.id for p in redmine.enumeration.filter(resource="issue_priorities")}
    fields = {f.name: f.id for f in redmine.custom_field.all()}
    users = {u.login: u.id for u in redmine.user.all()}
    categories = {c.name: c.id for c in redmine.issue_category.filter(project_id=project)}
    versions = {v.name: v.id for v in redmine.version.filter(project_id=project)}

    def as_(login: str | None) -> Any:
        # A session with other engine options; the plain client when nobody to switch to.
        if login in users:
            return redmine.session(impersonate=login)
        return contextlib.nullcontext()

    for p in payloads:
        if p.get("category") and p["category"] not in categories:
            made = redmine.issue_category.create(project_id=project, name=p["category"])
            categories[p["category"]] = made.id
        if p.get("version") and p["version"] not in versions:
            versions[p["version"]] = redmine.version.create(
                project_id=project, name=p["version"]
            ).id
        files = [_blob(staging, a["sha256"]).open("rb") for a in p["attachments"]]
        extra: dict[str, Any] = {}
        if p.get("category"):
            extra["category_id"] = categories[p["category"]]
        if p.get("version"):
            extra["fixed_version_id"] = versions[p["version"]]
        if p.get("watchers"):
            extra["watcher_user_ids"] = [users[w] for w in p["watchers"]]
        if p.get("assignee"):
            extra["assigned_to_id"] = users[p["assignee"]]
        try:
            with as_(p.get("author")):
                issue = redmine.issue.create(
                    project_id=project,
                    tracker_id=trackers[p["tracker"]],
                    status_id=statuses[p["status"]],
                    priority_id=priorities[p["priority"]],
                    subject=p["subject"],
                    description=p["description"],
                    custom_fields=[{"id": fields["Legacy ID"], "value": p["origin"]}]
                    + [{"id": fields[k], "value": v} for k, v in p["custom_fields"].items()],
                    uploads=[
                        {
                            "path": f,
                            "filename": a["name"],
                            "description": a.get("description") or "",
                            "content_type": a.get("content_type") or "application/octet-stream",
                        }
                        for f, a in zip(files, p["attachments"], strict=True)
                    ],
                    **extra,
                )
        finally:
            for f in files:
                f.close()
        if issue.status.name != p["status"]:
            issue.status_id = statuses[p["status"]]
            issue.save()
        for c in p["comments"]:
            with as_(c.get("author")):
                issue.notes = c["body"]
                issue.save()


# --------------------------------------------------------------------------- parent


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one process, from spawn to exit, and its CPU seconds; it must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed (exit {proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime


def _migration(work: Path, trac_env: Path, url: str, project: str, env: dict[str, str]) -> Path:
    """A migration directory into PROJECT with extract and plan already run (not timed)."""
    directory = work / project
    directory.mkdir()
    (directory / "migration.toml").write_text(
        CONFIG.format(env=trac_env.as_posix(), project=project, url=url, key_env=KEY_ENV),
        encoding="utf-8",
    )
    mapping = MAPPING.read_text(encoding="utf-8")
    if "project: demo " not in mapping:
        raise SystemExit(f"{MAPPING.name}: no `project: demo` line to point at the bench project")
    (directory / "mapping.yaml").write_text(
        mapping.replace("project: demo ", f"project: {project} "), encoding="utf-8"
    )
    migrator = str(Path(sys.executable).with_name("migrator"))
    for stage in ("extract", "plan"):
        _timed([migrator, stage, "-q", "-c", str(directory / "migration.toml")], env)
    return directory


CLIENTS = ("raw", "migrator", "python-redmine", "migrator --workers 2")


def _setup(work: Path, url: str, env: dict[str, str]) -> dict[str, Any]:
    """A project per client, and the two migrations extracted and planned (nothing timed)."""
    admin = Admin(url, env[KEY_ENV])
    projects = {
        client: admin.create_project(f"bench-{i}-{os.getpid()}") for i, client in enumerate(CLIENTS)
    }
    migrations = {
        client: _migration(work, work / "trac", url, projects[client], env)
        for client in CLIENTS
        if client.startswith("migrator")
    }
    return {"admin": admin, "projects": projects, "migrations": migrations}


def _command(client: str, ids: range, setup: dict[str, Any], url: str, batch: str) -> list[str]:
    """The process that loads tickets IDS with CLIENT (a migrator batch is made first)."""
    project = setup["projects"][client]
    staging = setup["migrations"]["migrator"]
    if not client.startswith("migrator"):
        return [
            *(sys.executable, "-m", "bench.load_redmine", "--child", client),
            *("--url", url, "--staging", str(staging), "--project", project),
            *("--ids", f"{ids.start}-{ids.stop - 1}"),
        ]
    migrator = str(Path(sys.executable).with_name("migrator"))
    config = str(setup["migrations"][client] / "migration.toml")
    # Batches take the oldest tickets not in a batch yet: the same ids as the other clients.
    made = subprocess.run(
        [migrator, "batch", "create", batch, "--limit", str(len(ids)), "-c", config],
        env={**os.environ, KEY_ENV: "unused"},
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0 or f": {len(ids)} tickets" not in made.stdout:
        raise SystemExit(f"migrator batch create failed: {made.stdout}{made.stderr}")
    command = [migrator, "load", "-q", "-c", config, "--batch", batch]
    return [*command, "--workers", "2"] if client.endswith("2") else command


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load_redmine")
    parser.add_argument("--tickets", type=int, default=1000, help="tickets to load (1000)")
    parser.add_argument("--quick", action="store_true", help="200 tickets")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="slices of the tickets, each loaded by every client in turn (default 10, quick 4)",
    )
    parser.add_argument("--child", choices=("raw", "python-redmine"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--staging", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        first, last = (int(x) for x in args.ids.split("-"))
        run = run_raw if args.child == "raw" else run_python_redmine
        run(args.url, args.staging, args.project, range(first, last + 1))
        return
    n = 200 if args.quick else args.tickets
    rounds = args.rounds or (4 if args.quick else 10)
    if not 1 <= rounds <= n:
        parser.error("--rounds must be between 1 and the number of tickets")

    from fixtures.trackers import redmine, trac

    print(
        f"Loading into Redmine: {n} tickets ({COMMENTS} comments, 1 attachment each) in "
        f"{rounds} rounds; each round every client loads the next slice into its own project, "
        "as its own process, the order rotating",
        flush=True,
    )
    started = time.perf_counter()
    wall: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {c: Counter() for c in CLIENTS}
    server: dict[str, Counter[str]] = {c: Counter() for c in CLIENTS}
    per_round: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="migrator-bench-load-") as tmp:
        work = Path(tmp)
        trac.build(work / "trac", shaped_dataset(n))
        redmine.install()
        instance = redmine.start(work / "redmine")
        try:
            env = {**os.environ, KEY_ENV: instance.api_key}
            setup = _setup(work, instance.url, env)
            admin: Admin = setup["admin"]
            payloads = list(_planned(setup["migrations"]["migrator"]))
            trackers = admin.get("/trackers.json")["trackers"]
            defaults = {t["name"]: t["default_status"]["name"] for t in trackers}
            status_puts = sum(1 for p in payloads if p["status"] != defaults[p["tracker"]])
            planned = Counter(p["status"] for p in payloads)
            print(
                f"set-up {time.perf_counter() - started:.0f} s; {status_puts / n:.0%} of the "
                "tickets need a status PUT (planned: "
                f"{', '.join(f'{k} {v}' for k, v in sorted(planned.items()))})",
                flush=True,
            )
            log = ServerLog(instance.directory / "log" / "production.log")
            bounds = [1 + n * r // rounds for r in range(rounds + 1)]
            for r in range(rounds):
                ids = range(bounds[r], bounds[r + 1])
                order = CLIENTS[r % len(CLIENTS) :] + CLIENTS[: r % len(CLIENTS)]
                seconds: dict[str, float] = {}
                for client in order:
                    command = _command(client, ids, setup, instance.url, f"round-{r + 1}")
                    log.mark()
                    seconds[client], used = _timed(command, env)
                    cpu[client] += used
                    got, ms = log.since_mark()
                    kinds[client].update(got)
                    server[client].update(ms)
                wall.update(seconds)
                per_round.append({c: len(ids) / s for c, s in seconds.items()})
                print(
                    f"round {r + 1}/{rounds} ({len(ids)} tickets): "
                    + ", ".join(f"{c} {len(ids) / seconds[c]:.1f}/s" for c in CLIENTS),
                    flush=True,
                )
            for client in CLIENTS:
                project = setup["projects"][client]
                got_status = admin.statuses(project)
                notes, files = admin.last_issue(project)
                if got_status != planned or (notes, files) != (COMMENTS, 1):
                    raise SystemExit(
                        f"{client} loaded something else: statuses {dict(got_status)} "
                        f"(planned {dict(planned)}); newest issue: {notes} comments, "
                        f"{files} attachments"
                    )
        finally:
            redmine.stop(instance)
    _report(n, wall, cpu, kinds, server, per_round)
    print(
        f"whole run {time.perf_counter() - started:.0f} s (checked: every project holds the "
        "planned statuses, its newest issue its comments and attachment)"
    )


def _report(
    n: int,
    wall: Counter[str],
    cpu: Counter[str],
    kinds: dict[str, Counter[str]],
    server: dict[str, Counter[str]],
    per_round: list[dict[str, float]],
) -> None:
    head = ("client", "tickets/s", "vs raw", "wall s", "server s", "client ms/t", "CPU ms/t")
    widths = (21, 10, 7, 8, 9, 12, 9)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)) + "  req/ticket")
    raw_rate = n / wall["raw"]
    for client in CLIENTS:
        busy = sum(server[client].values()) / 1000
        rate = n / wall[client]
        print(
            f"{client:>21} {rate:>10.2f} {rate / raw_rate:>7.2f} {wall[client]:>8.1f} "
            f"{busy:>9.1f} {(wall[client] - busy) / n * 1000:>12.0f} "
            f"{cpu[client] / n * 1000:>9.1f}  {sum(kinds[client].values()) / n:>10.2f}"
        )

    def ratios(a: str, b: str) -> str:
        each = sorted(r[a] / r[b] for r in per_round)
        return f"median {statistics.median(each):.2f}, rounds {each[0]:.2f}..{each[-1]:.2f}"

    raw, mig, pyrm, two = CLIENTS
    print(
        f"migrator/raw {wall[raw] / wall[mig]:.2f} (target >= {TARGET_RATIO}; "
        f"{ratios(mig, raw)})\n"
        f"migrator/python-redmine {wall[pyrm] / wall[mig]:.2f} ({ratios(mig, pyrm)})\n"
        f"migrator --workers 2 / --workers 1 {wall[mig] / wall[two]:.2f} ({ratios(two, mig)})"
    )
    # The single-session clients send the same requests, so their server seconds differ only
    # by the neighbours' noise: with the same server time, rates differ by what each adds.
    busy = {c: sum(server[c].values()) / 1000 for c in (raw, mig, pyrm)}
    same = statistics.mean(busy.values())
    cost = {c: same + wall[c] - busy[c] for c in busy}
    print(
        f"at the same server time ({same / n * 1000:.0f} ms/ticket, the mean of the three "
        f"single-session clients): migrator/raw {cost[raw] / cost[mig]:.2f}, "
        f"migrator/python-redmine {cost[pyrm] / cost[mig]:.2f}"
    )
    print("requests per ticket, and the server's ms per request, by kind:")
    for client in CLIENTS:
        parts = [
            f"{k} {v / n:.2f} x {server[client][k] / v:.0f} ms"
            for k, v in sorted(kinds[client].items(), key=lambda kv: -kv[1])
            if v / n >= 0.05
        ]
        print(f"  {client}: " + ", ".join(parts))


if __name__ == "__main__":
    main(sys.argv[1:])
