"""Run one command and measure it: wall time and memory of it and its worker processes.

Peak RSS is read from the process's own ``VmHWM`` (``ru_maxrss`` would count
the memory of the benchmark process it was forked from, before exec), and the
tree's RSS (the command plus its workers) is sampled while it runs.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    seconds: float
    peak_mb: float  # the command's own peak resident memory
    tree_mb: float  # peak sum over the command and its descendants (sampled)


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _kb(fields: dict[str, str], key: str) -> int:
    return int(fields.get(key, "0 kB").split()[0])


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _status(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
                rss[int(entry.name)] = _kb(fields, "VmRSS")
    total = 0
    for pid, kb in rss.items():
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += kb
    return total


def run(cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.2) -> Measured:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    peak = tree = 0
    while proc.poll() is None:
        peak = max(peak, _kb(_status(proc.pid), "VmHWM"))
        tree = max(tree, _tree_rss_kb(proc.pid))
        time.sleep(interval)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:2])} failed with exit code {proc.returncode}")
    return Measured(seconds, peak / 1024, max(tree, peak) / 1024)
