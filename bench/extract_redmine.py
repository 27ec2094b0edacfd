"""Extraction from a real Redmine: migrator's rate against a minimal raw loop, and peak memory.

A fresh Redmine is started on loopback and seeded in bulk
(``fixtures.trackers.redmine_seed``: about 5 journals and 1 attachment per
issue).  At each size two processes read every issue from it, one after the
other, against the same server:

* ``migrator``: ``RedmineSource`` through the real extract stage
  (``migrator.extract.extract``) into a fresh SQLite staging and blob store;
* ``raw``: plain ``requests`` on the same endpoints (issue list pages by id,
  one ``/issues/ID.json?include=...`` per issue, every attachment downloaded)
  with the same number of worker threads, a session per thread, and the bytes
  thrown away.

The ratio migrator/raw is the cost of everything migrator adds (mapping to
canonical tickets, staging commits, blob writes with fsync, retries and
checks); the server is the same for both, so the ratio means more than either
rate.  Each run is its own process so peak RSS (``ru_maxrss`` from
``os.wait4``) is that run's alone; flat RSS across sizes shows memory does not
grow with the number of issues.

    python -m bench.extract_redmine [--sizes 1000,5000] [--workers 4] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from fixtures.trackers import redmine

REPO = Path(__file__).resolve().parents[1]
KEY_ENV = "MIGRATOR_BENCH_REDMINE_KEY"  # the key reaches children by environment, not argv
INCLUDE = "journals,attachments,relations,watchers,children"
TARGET_RATIO = 0.9
RSS_BUDGET_MB = 50.0


# --------------------------------------------------------------------------- children


def run_migrator(url: str, workers: int, workdir: Path) -> dict[str, Any]:
    from migrator.extract import extract
    from migrator.progress import Silent
    from migrator.secrets import Secret
    from migrator.staging import Staging
    from migrator.staging.blobs import BlobStore
    from migrator.trackers.redmine.source import RedmineSource

    staging = Staging(f"sqlite:///{workdir / 'staging.sqlite'}")
    source = RedmineSource(url, Secret(os.environ[KEY_ENV]), workers=workers)
    started = time.perf_counter()
    try:
        summary = extract(staging, source, BlobStore(workdir / "blobs"), Silent())
    finally:
        source.close()
        staging.close()
    return {
        "seconds": time.perf_counter() - started,
        "tickets": summary.tickets,
        "comments": summary.comments,
        "attachments": summary.attachments,
        "bytes": summary.bytes,
    }


def run_raw(url: str, workers: int) -> dict[str, Any]:
    """The least a client can do to read the same data: no parsing beyond the ids."""
    key = os.environ[KEY_ENV]
    local = threading.local()

    def session() -> requests.Session:
        s: requests.Session | None = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.headers["X-Redmine-API-Key"] = key
        return s

    def one(issue_id: int) -> tuple[int, int, int]:
        s = session()
        r = s.get(f"{url}/issues/{issue_id}.json", params={"include": INCLUDE}, timeout=30)
        r.raise_for_status()
        issue = r.json()["issue"]
        size = 0
        for a in issue.get("attachments", []):
            with s.get(f"{url}/attachments/download/{a['id']}", stream=True, timeout=30) as d:
                d.raise_for_status()
                for chunk in d.iter_content(1 << 20):
                    size += len(chunk)
        comments = sum(
            1
            for j in issue.get("journals", [])
            if (j.get("notes") or "").strip() and not j.get("private_notes")
        )
        return comments, len(issue.get("attachments", [])), size

    started = time.perf_counter()
    lister = requests.Session()
    lister.headers["X-Redmine-API-Key"] = key
    last, tickets, comments, attachments, size = 0, 0, 0, 0, 0
    with ThreadPoolExecutor(workers) as pool:
        while True:
            params: dict[str, Any] = {"status_id": "*", "sort": "id", "limit": 100}
            if last:
                params["issue_id"] = f">={last + 1}"
            r = lister.get(f"{url}/issues.json", params=params, timeout=30)
            r.raise_for_status()
            ids = [int(i["id"]) for i in r.json()["issues"]]
            if not ids:
                break
            for c, a, b in pool.map(one, ids):
                comments, attachments, size = comments + c, attachments + a, size + b
            tickets += len(ids)
            last = ids[-1]
    return {
        "seconds": time.perf_counter() - started,
        "tickets": tickets,
        "comments": comments,
        "attachments": attachments,
        "bytes": size,
    }


def _own_peak_mb() -> float:
    """This process's peak RSS as the kernel keeps it for its own memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- parent


def _seed(instance: redmine.RedmineInstance, n: int, seed_value: int) -> int:
    """Seed in a process of its own: the parent must stay small (see :func:`measure`)."""
    from fixtures.trackers.redmine_seed import seed

    return int(seed(instance, n, seed_value)["issues"])


_COMPLETED = re.compile(r"\[(\d{4}-\d\d-\d\dT[\d:.]+) #\d+\].*Completed \d+ .* in (\d+)ms")


def server_busy(log: Path, start: float, end: float) -> float:
    """Seconds the Redmine spent answering between START and END, from its own log.

    thin serves one request at a time, so busy/wall is how well a client keeps
    the server fed; unlike a rate, it hardly moves with the machine's load.
    """
    busy = 0
    with log.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = _COMPLETED.search(line)
            if m and start <= datetime.fromisoformat(m.group(1)).timestamp() <= end:
                busy += int(m.group(2))
    return busy / 1000


def measure(
    kind: str, instance: redmine.RedmineInstance, workers: int, workdir: Path
) -> dict[str, Any]:
    """Run one child process: its figures, its peak RSS (MB), CPU time and the server's load.

    The parent must be small when it starts a child: at exec Linux folds the
    peak RSS of the memory being replaced (the parent's, after fork or vfork)
    into the child's ``ru_maxrss``.  Seeding 5,000 issues in this process once
    made a 58 MB extraction read as 126 MB, so seeding runs in a process of its
    own, and the child's own ``VmHWM`` is checked against ``ru_maxrss``.
    """
    workdir.mkdir(parents=True)
    command = [sys.executable, "-m", "bench.extract_redmine", "--child", kind]
    command += ["--url", instance.url, "--workers", str(workers), "--workdir", str(workdir)]
    started = time.time()
    proc = subprocess.Popen(
        command, cwd=REPO, env={**os.environ, KEY_ENV: instance.api_key}, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} extraction failed (exit {proc.returncode})")
    ended = time.time()
    result: dict[str, Any] = json.loads(out)
    result["rss_mb"] = usage.ru_maxrss / 1024
    if result["rss_mb"] > result["hwm_mb"] + 5:
        print(
            f"warning: ru_maxrss {result['rss_mb']:.0f} MB exceeds the child's own peak "
            f"{result['hwm_mb']:.0f} MB: this process was large when it started the child",
            file=sys.stderr,
        )
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["rate"] = result["tickets"] / result["seconds"]
    busy = server_busy(instance.directory / "log" / "production.log", started, ended)
    result["busy"] = busy / (ended - started)
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.extract_redmine")
    parser.add_argument("--sizes", default="1000,5000", help="issue counts, ascending")
    parser.add_argument("--workers", type=int, default=4, help="threads, both clients")
    parser.add_argument("--rounds", type=int, default=1, help="runs per client and size (best)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", choices=("migrator", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = (
            run_migrator(args.url, args.workers, args.workdir)
            if args.child == "migrator"
            else run_raw(args.url, args.workers)
        )
        result["hwm_mb"] = _own_peak_mb()
        print(json.dumps(result))
        return

    from fixtures.trackers import redmine

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Redmine -> staging (extract), {args.workers} workers, best of {args.rounds}")
    head = ("issues", "comments", "attach.", "raw/s", "migrator/s", "ratio", "busy r/m", "CPU ms/i")
    head += ("RSS MB",)
    widths = (7, 9, 8, 7, 11, 6, 10, 9, 7)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as tmp:
        redmine.install()
        instance = redmine.start(Path(tmp) / "redmine")
        try:
            seeded = 0
            for n in sizes:
                # Seeding adds issues, so each size is the previous one plus more.
                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as seeder:
                    seeder.submit(_seed, instance, n - seeded, args.seed + seeded).result()
                seeded = n
                runs: dict[str, list[dict[str, Any]]] = {"raw": [], "migrator": []}
                for r in range(args.rounds):
                    # Alternate who goes first, so drift in the machine's load evens out.
                    for kind in ("raw", "migrator") if r % 2 == 0 else ("migrator", "raw"):
                        work = Path(tmp) / f"{kind}-{n}-{r}"
                        runs[kind].append(measure(kind, instance, args.workers, work))
                raw = max(runs["raw"], key=lambda x: x["rate"])
                mig = max(runs["migrator"], key=lambda x: x["rate"])
                facts = ("tickets", "comments", "attachments", "bytes")
                if [mig[k] for k in facts] != [raw[k] for k in facts]:
                    raise SystemExit(f"the two clients read different data: {mig} vs {raw}")
                row = {
                    "issues": n,
                    "comments": mig["comments"],
                    "attachments": mig["attachments"],
                    "raw_rate": raw["rate"],
                    "rate": mig["rate"],
                    "ratio": mig["rate"] / raw["rate"],
                    "raw_busy": raw["busy"],
                    "busy": mig["busy"],
                    "raw_cpu_ms": raw["cpu_s"] / n * 1000,
                    "cpu_ms": mig["cpu_s"] / n * 1000,
                    "rss_mb": max(x["rss_mb"] for x in runs["migrator"]),
                }
                rows.append(row)
                busy = f"{row['raw_busy']:.2f}/{row['busy']:.2f}"
                cpu = f"{row['raw_cpu_ms']:.1f}/{row['cpu_ms']:.1f}"
                print(
                    f"{n:>7} {row['comments']:>9} {row['attachments']:>8} "
                    f"{row['raw_rate']:>7.1f} {row['rate']:>11.1f} {row['ratio']:>6.2f} "
                    f"{busy:>10} {cpu:>9} {row['rss_mb']:>7.0f}",
                    flush=True,
                )
        finally:
            redmine.stop(instance)
    worst = min(r["ratio"] for r in rows)
    print(f"rate ratio migrator/raw: worst {worst:.2f} (target >= {TARGET_RATIO})")
    print("busy: share of the run the server spent answering (raw/migrator); CPU: client ms/issue")
    if len(rows) > 1:
        growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"]
        print(
            f"peak RSS {rows[0]['issues']} -> {rows[-1]['issues']} issues: "
            f"{rows[0]['rss_mb']:.0f} -> {rows[-1]['rss_mb']:.0f} MB "
            f"({growth:+.0f} MB, budget {RSS_BUDGET_MB:.0f} MB)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
