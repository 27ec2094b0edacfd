"""Extract and plan throughput from a real Trac environment, and peak memory, at growing sizes.

Each stage runs as its own ``migrator`` process, as a user runs it, so peak RSS
is the process's own.  Linear cost shows as a flat tickets/s and a flat RSS
across sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.measure import run
from fixtures.generate import generate
from fixtures.trackers import trac

MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "trac-to-redmine.yaml"

CONFIG = """\
[source]
type = "trac"
env = "trac"
[target]
type = "redmine"
url = "http://127.0.0.1:9"
api_key = "$env:BENCH_UNUSED_KEY"
[mapping]
file = "mapping.yaml"
"""


def _run(directory: Path, stage: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``migrator STAGE`` process."""
    migrator = str(Path(sys.executable).with_name("migrator"))
    m = run(
        [migrator, stage, "-q", "-c", str(directory / "migration.toml")],
        env={**os.environ, "BENCH_UNUSED_KEY": "unused"},
    )
    return m.seconds, m.tree_mb


def measure(tickets: int, workdir: Path) -> dict[str, float]:
    directory = workdir / f"n{tickets}"
    directory.mkdir()
    dataset = generate(tickets=tickets, seed=11)
    trac.build(directory / "trac", dataset)
    (directory / "migration.toml").write_text(CONFIG, encoding="utf-8")
    (directory / "mapping.yaml").write_text(MAPPING.read_text(encoding="utf-8"), encoding="utf-8")
    comments = sum(
        1
        for t in dataset["tickets"]
        for c in t["changes"]
        if c["field"] == "comment" and c["newvalue"]
    )
    extract_s, extract_mb = _run(directory, "extract")
    plan_s, plan_mb = _run(directory, "plan")
    return {
        "tickets": tickets,
        "comments": comments,
        "extract_s": extract_s,
        "extract_tps": tickets / extract_s,
        "extract_mb": extract_mb,
        "plan_s": plan_s,
        "plan_tps": tickets / plan_s,
        "plan_mb": plan_mb,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--sizes", default="1000,10000,50000", help="comma-separated ticket counts (ascending)"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("Trac -> staging (extract) and staging -> plan, one process per stage")
    head = ("tickets", "comments", "extract/s", "RSS MB", "plan/s", "RSS MB")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (8, 9, 10, 7, 8, 7), strict=True)))
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as tmp:
        for n in sizes:
            r = measure(n, Path(tmp))
            rows.append(r)
            print(
                f"{r['tickets']:>8} {r['comments']:>9} {r['extract_tps']:>10.0f} "
                f"{r['extract_mb']:>7.0f} {r['plan_tps']:>8.0f} {r['plan_mb']:>7.0f}",
                flush=True,
            )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"ratio {b['tickets']}/{a['tickets']} tickets: "
            f"extract rate x{b['extract_tps'] / a['extract_tps']:.2f}, "
            f"plan rate x{b['plan_tps'] / a['plan_tps']:.2f}, "
            f"extract RSS +{b['extract_mb'] - a['extract_mb']:.0f} MB, "
            f"plan RSS +{b['plan_mb'] - a['plan_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
