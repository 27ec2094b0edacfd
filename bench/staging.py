"""Planning with staging on SQLite and on PostgreSQL, side by side in one run.

The same synthetic staging as ``bench/plan.py`` (tickets cloned from the
fixture dataset, 10 comments each) is written once into an SQLite file and
once into a database of a real PostgreSQL started for the run
(``fixtures/trackers/postgres.py``, with its durable defaults: fsync on), then
``migrator plan`` runs as its own process against each, so its time and peak
RSS are its own.  Sizes alternate between the two stagings so that a change in
the machine's load hits both.  The server runs on the same machine (2 cores
here), so its CPU time, printed beside the PostgreSQL rows, is taken from the
planner's; with the database on another host it would not be.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import Measured, run
from bench.plan import COMMENTS_PER_TICKET, MAPPING, fill
from fixtures.trackers import postgres as postgres_server
from migrator.config import load_config
from migrator.staging import Staging

PASSWORD_VAR = "MIGRATOR_BENCH_STAGING_PASSWORD"
TICK = os.sysconf("SC_CLK_TCK")


def server_cpu_s(postmaster: int) -> float:
    """CPU seconds used so far by a PostgreSQL server: the postmaster, its live children
    (checkpointer, WAL writer, ...) and the children it has reaped (the backends)."""

    def stat(pid: int) -> list[str]:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return []

    fields = stat(postmaster)
    if not fields:
        return 0.0
    # After the ")": state is [0], utime [11], stime [12], cutime [13], cstime [14].
    ticks = sum(int(x) for x in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = stat(int(entry.name))
            if child and int(child[1]) == postmaster:
                ticks += int(child[11]) + int(child[12])
    return ticks / TICK


def _config(directory: Path, staging: str) -> Path:
    directory.mkdir(parents=True)
    config = directory / "migration.toml"
    config.write_text(
        '[source]\ntype = "trac"\nenv = "unused"\n'
        '[target]\ntype = "redmine"\nurl = "http://127.0.0.1:9"\napi_key = "$env:UNUSED"\n'
        f'[mapping]\nfile = "{MAPPING.as_posix()}"\n' + staging,
        encoding="utf-8",
    )
    return config


def measure(
    config: Path, n: int, env: dict[str, str], server: int | None = None
) -> dict[str, float]:
    cfg = load_config(config)
    staging = Staging(cfg.staging_url, password=cfg.staging_password)
    t0 = time.perf_counter()
    fill(staging, n)
    staging.close()
    fill_s = time.perf_counter() - t0
    migrator = str(Path(sys.executable).with_name("migrator"))
    cpu = server_cpu_s(server) if server else 0.0
    m: Measured = run([migrator, "plan", "-q", "-c", str(config)], env=env)
    cpu = server_cpu_s(server) - cpu if server else 0.0
    staging = Staging(cfg.staging_url, password=cfg.staging_password)
    try:
        assert staging.latest_plan().tickets == n
    finally:
        staging.close()
    return {
        "fill_s": fill_s,
        "plan_s": m.seconds,
        "tps": n / m.seconds,
        "rss_mb": m.peak_mb,
        "tree_mb": m.tree_mb,
        "server_cpu_s": cpu,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.staging")
    parser.add_argument("--sizes", default="10000,100000", help="ticket counts, ascending")
    args = parser.parse_args(argv)
    postgres_server.install()
    print(
        f"plan, staging on SQLite and PostgreSQL: synthetic, {COMMENTS_PER_TICKET} "
        "comments/ticket, shipped mapping"
    )
    print(
        f"{'staging':>10} {'tickets':>8} {'fill s':>7} {'plan s':>7} {'tickets/s':>10} "
        f"{'peak RSS MB':>12} {'+workers MB':>12} {'server CPU s':>13}"
    )
    # The server's user must reach the cluster: a directory of its own under the temp dir.
    home = Path(tempfile.mkdtemp(prefix="migrator-bench-postgres-"))
    work = Path(tempfile.mkdtemp(prefix="migrator-bench-staging-"))
    instance = postgres_server.start(home, durable=True)
    os.environ[PASSWORD_VAR] = instance.password  # read by this process and by `migrator plan`
    env = dict(os.environ)
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            db = f"bench_{n}"
            postgres_server.create_database(instance, db)
            configs = {
                "sqlite": _config(work / f"sqlite-{n}", ""),
                "postgresql": _config(
                    work / f"pg-{n}",
                    f'[staging]\nurl = "{instance.url(db, password=False)}"\n'
                    f'password = "$env:{PASSWORD_VAR}"\n',
                ),
            }
            for kind, config in configs.items():
                r = measure(config, n, env, instance.pid if kind == "postgresql" else None)
                results[kind].append(r)
                cpu = f"{r['server_cpu_s']:>13.1f}" if kind == "postgresql" else f"{'-':>13}"
                print(
                    f"{kind:>10} {n:>8} {r['fill_s']:>7.1f} {r['plan_s']:>7.1f} "
                    f"{r['tps']:>10.0f} {r['rss_mb']:>12.0f} {r['tree_mb']:>12.0f} {cpu}",
                    flush=True,
                )
    finally:
        postgres_server.stop(instance)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    last_sqlite, last_pg = results["sqlite"][-1], results["postgresql"][-1]
    ratio = last_pg["plan_s"] / last_sqlite["plan_s"]
    print(
        f"PostgreSQL/SQLite at the largest size: plan time x{ratio:.2f}, "
        f"peak RSS {last_sqlite['rss_mb']:.0f} -> {last_pg['rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
