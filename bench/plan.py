"""Plan throughput and peak memory on large synthetic stagings (target: 100k in 60 s, 400 MB).

Staging is filled directly with canonical tickets cloned from the fixture
dataset (real Trac markup, Japanese text, ~10 comments each), then
``migrator plan`` runs as its own process with the shipped Trac -> Redmine
mapping (markup conversion included), so its time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import Measured, run
from fixtures.generate import load_dataset
from migrator.model import Comment, Ticket, content_hash
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now

MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "trac-to-redmine.yaml"
COMMENTS_PER_TICKET = 10


def _texts(dataset: dict[str, Any]) -> list[str]:
    out = [t["description"] for t in dataset["tickets"] if t["description"]]
    out += [c["newvalue"] for t in dataset["tickets"] for c in t["changes"] if c["newvalue"]]
    return [x for x in out if x.strip()]


def fill(staging: Staging, n: int) -> None:
    """n tickets cloned round-robin from the fixture dataset, inserted in large batches."""
    ds = load_dataset()
    templates = ds["tickets"]
    texts = _texts(ds)
    rows: list[dict[str, Any]] = []
    stamp = now()
    for i in range(1, n + 1):
        t = templates[i % len(templates)]
        comments = [
            Comment(
                str(k),
                "tanaka" if k % 3 else "yamada",
                "2020-01-01T00:00:00Z",
                texts[(i * 7 + k) % len(texts)],
            )
            for k in range(1, COMMENTS_PER_TICKET + 1)
        ]
        ticket = Ticket(
            origin=f"trac:bench#{i}",
            source_id=str(i),
            project="bench",
            title=t["summary"],
            description=t["description"],
            markup="trac",
            type=t["type"],
            status=t["status"],
            resolution=t["resolution"] or None,
            priority=t["priority"],
            reporter=t["reporter"],
            assignee=t["owner"] or None,
            components=[t["component"]] if t["component"] else [],
            milestone=t["milestone"] or None,
            version=t["version"] or None,
            custom={k: v for k, v in t["custom"].items() if v},
            created="2019-01-01T00:00:00Z",
            comments=comments,
        )
        canonical = ticket.to_dict()
        rows.append(
            dict(
                origin=ticket.origin,
                source_id=ticket.source_id,
                project="bench",
                raw={},
                canonical=canonical,
                content_hash=content_hash(canonical),
                source_updated=None,
                extracted_at=stamp,
                run_id=None,
            )
        )
        if len(rows) == 5000:
            with staging.begin() as conn:
                conn.execute(s.source_tickets.insert(), rows)
            rows.clear()
    if rows:
        with staging.begin() as conn:
            conn.execute(s.source_tickets.insert(), rows)


def run_plan(directory: Path, config: str = "migration.toml") -> Measured:
    migrator = str(Path(sys.executable).with_name("migrator"))
    return run([migrator, "plan", "-q", "-c", str(directory / config)])


def measure(n: int, workdir: Path) -> dict[str, float]:
    directory = workdir / f"n{n}"
    directory.mkdir()
    # The same staging planned twice: with the shipped mapping, and with reference
    # rewriting off, to show what rewriting costs.
    keep = directory / "mapping-keep.yaml"
    text = MAPPING.read_text(encoding="utf-8")
    keep.write_text(text.replace("references: rewrite", "references: keep"), encoding="utf-8")
    for config, mapping in (("migration.toml", MAPPING), ("migration-keep.toml", keep)):
        (directory / config).write_text(
            '[source]\ntype = "trac"\nenv = "unused"\n'
            '[target]\ntype = "redmine"\nurl = "http://127.0.0.1:9"\napi_key = "$env:UNUSED"\n'
            f'[mapping]\nfile = "{mapping.as_posix()}"\n'.replace("demo", "bench"),
            encoding="utf-8",
        )
    staging = Staging(f"sqlite:///{directory / 'staging.sqlite'}")
    t0 = time.perf_counter()
    fill(staging, n)
    staging.close()
    fill_s = time.perf_counter() - t0
    m = run_plan(directory)
    kept = run_plan(directory, "migration-keep.toml")
    return {
        "keep_s": kept.seconds,
        "tickets": n,
        "fill_s": fill_s,
        "plan_s": m.seconds,
        "tps": n / m.seconds,
        "rss_mb": m.peak_mb,
        "tree_mb": m.tree_mb,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.plan")
    parser.add_argument("--sizes", default="10000,100000", help="ticket counts, ascending")
    args = parser.parse_args(argv)
    print(f"plan: synthetic staging, {COMMENTS_PER_TICKET} comments/ticket, shipped mapping")
    print(
        f"{'tickets':>8} {'plan s':>8} {'tickets/s':>10} {'peak RSS MB':>12} {'+workers MB':>12}"
        f" {'refs kept s':>12}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrator-bench-plan-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            r = measure(n, Path(tmp))
            rows.append(r)
            print(
                f"{n:>8} {r['plan_s']:>8.1f} {r['tps']:>10.0f} {r['rss_mb']:>12.0f} "
                f"{r['tree_mb']:>12.0f} {r['keep_s']:>12.1f}",
                flush=True,
            )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"x{b['tickets'] / a['tickets']:.0f} tickets: time x{b['plan_s'] / a['plan_s']:.1f}, "
            f"RSS {a['rss_mb']:.0f} -> {b['rss_mb']:.0f} MB, "
            f"with workers {a['tree_mb']:.0f} -> {b['tree_mb']:.0f} MB"
        )
    for r in rows:
        print(
            f"{r['tickets']} tickets: reference rewriting costs "
            f"x{r['plan_s'] / r['keep_s']:.2f} the time of a plan without it"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
