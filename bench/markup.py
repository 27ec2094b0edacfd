"""Markup conversion against the trackers' own renderers, migrator next to pandoc.

For every pair of syntaxes, each construct case (tests/markup/corpus.py: the
examples of Trac's and Redmine's help pages, and one case per construct of
each syntax) is converted, the input rendered by the source tracker's renderer
and the output by the target's (Trac's formatter, Redmine's Textile and
CommonMark formatters, Atlassian's wiki-markup transformer for Jira), and both
reduced to their visible text and structure (tests/markup/oracles.py).  The
share of cases that come out equal is printed for migrator and, on the same
cases, for pandoc (which reads Textile, Jira and Markdown, not Trac).

Also printed: cases where a word of the input is missing from the output
(over the construct cases and whole sample pages), and conversions per second
(CPU time of ``convert`` over the construct cases, one core).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from migrator.markup import convert
from tests.markup.corpus import SOURCES, Case, cases, long_texts
from tests.markup.oracles import ATTACHMENTS, TRAC_BASE, Normal, normal_forms, show
from tests.markup.words import adf_shown, lost_words

TARGETS = ("markdown", "textile", "jira", "adf")
PANDOC_FORMATS = {"textile": "textile", "jira": "jira", "markdown": "gfm"}


def hooks() -> dict[str, Any]:
    """What a migration passes: every user mapped to itself, attachments migrated."""
    return {
        "mention": lambda login: login,
        "attachment": lambda name: ATTACHMENTS + name,
        "old_url": TRAC_BASE,
    }


def migrator(text: str, source: str, target: str) -> str:
    return convert(text, source, target, **hooks()).text


def pandoc(text: str, source: str, target: str) -> str | None:
    """pandoc's conversion, lines kept as written (a newline shows as a break in trackers)."""
    if source not in PANDOC_FORMATS or target not in PANDOC_FORMATS:
        return None
    import pypandoc

    try:
        out: str = pypandoc.convert_text(
            text,
            PANDOC_FORMATS[target],
            format=PANDOC_FORMATS[source],
            extra_args=["--wrap=preserve"],
        )
    except RuntimeError:
        return ""
    return out


@dataclass
class PairResult:
    source: str
    target: str
    cases: int = 0
    ours: int = 0
    theirs: int | None = None
    computed: int = 0  # Trac cases whose rendering Trac computes (macros, #!td tables)
    ours_plain: int = 0  # equal among the cases that are not computed
    failures: list[tuple[Case, str, Normal, Normal]] = field(default_factory=list)
    per_second: float = 0.0


def run_pairs(
    pairs: Sequence[tuple[str, str]],
    with_pandoc: bool,
    progress: Callable[[str], None] = lambda s: None,
) -> list[PairResult]:
    from tests.markup.corpus import TRAC_COMPUTED

    results: list[PairResult] = []
    items: list[tuple[str, str]] = []  # every text to render, in one batch per renderer
    plan: list[tuple[PairResult, Case, int, int, int | None, str]] = []
    source_index: dict[tuple[str, str], int] = {}

    def add(syntax: str, text: str) -> int:
        key = (syntax, text)
        if key not in source_index:
            source_index[key] = len(items)
            items.append(key)
        return source_index[key]

    pool = ThreadPoolExecutor(max_workers=2)
    for source, target in pairs:
        r = PairResult(source, target)
        results.append(r)
        corpus = cases(source)
        outs = [migrator(c.text, source, target) for c in corpus]
        theirs: list[str | None] = [None] * len(corpus)
        if with_pandoc and source in PANDOC_FORMATS and target in PANDOC_FORMATS:
            progress(f"pandoc {source} -> {target}")
            texts = [c.text for c in corpus]
            theirs = list(pool.map(pandoc, texts, [source] * len(texts), [target] * len(texts)))
            r.theirs = 0
        for c, out, their in zip(corpus, outs, theirs, strict=True):
            k_in = add(source, c.text)
            k_out = add(target, out)
            k_their = add(target, their) if their is not None else None
            plan.append((r, c, k_in, k_out, k_their, out))
        r.per_second = _rate(corpus, source, target)
    progress(f"rendering {len(items)} texts")
    normals = normal_forms(items)
    for r, c, k_in, k_out, k_their, out in plan:
        r.cases += 1
        computed = r.source == "trac" and TRAC_COMPUTED.search(c.text) is not None
        r.computed += computed
        if normals[k_in] == normals[k_out]:
            r.ours += 1
            r.ours_plain += not computed
        else:
            r.failures.append((c, out, normals[k_in], normals[k_out]))
        if k_their is not None and r.theirs is not None and normals[k_in] == normals[k_their]:
            r.theirs += 1
    pool.shutdown()
    return results


def _rate(corpus: Sequence[Case], source: str, target: str) -> float:
    kwargs = hooks()
    done = 0
    start = time.process_time()
    while True:
        for c in corpus:
            convert(c.text, source, target, **kwargs)
        done += len(corpus)
        spent = time.process_time() - start
        if spent > 0.3:
            return done / spent


def word_losses(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str, str, list[str]]]:
    """(pair, case, text, lost words) for every case and sample page that loses a word."""
    lost: list[tuple[str, str, str, list[str]]] = []
    for source, target in pairs:
        for c in cases(source) + long_texts(source):
            out = migrator(c.text, source, target)
            if target == "adf":
                out = adf_shown(json.loads(out))
            text = adf_shown(json.loads(c.text)) if source == "adf" else c.text
            missing = lost_words(text, out, "plain" if source == "adf" else source, target)
            if missing:
                lost.append((f"{source}->{target}", c.name, c.text, missing))
    return lost


def _pct(n: int | None, d: int) -> str:
    return "-" if n is None or not d else f"{100 * n / d:.0f} %"


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.markup", description=__doc__)
    parser.add_argument("--no-pandoc", action="store_true", help="skip pandoc")
    parser.add_argument("--show", metavar="SOURCE-TARGET", help="print this pair's failures")
    parser.add_argument("--pairs", help="comma-separated SOURCE-TARGET pairs (default: all)")
    args = parser.parse_args(list(argv))
    pairs = [(s, t) for s in SOURCES for t in TARGETS if s != t]
    if args.pairs:
        pairs = [tuple(p.split("-", 1)) for p in args.pairs.split(",")]  # type: ignore[misc]
    results = run_pairs(pairs, not args.no_pandoc, lambda s: print(f"  ({s})", file=sys.stderr))
    print("markup: constructs equal after rendering (source renderer vs target renderer)")
    print(f"{'pair':<20} {'cases':>6} {'migrator':>9} {'pandoc':>8} {'conv/s':>9}  note")
    for r in results:
        note = ""
        if r.source == "trac" and r.computed:
            plain = r.cases - r.computed
            note = f"{_pct(r.ours_plain, plain)} of {plain} without Trac-computed macros/cells"
        print(
            f"{r.source + ' -> ' + r.target:<20} {r.cases:>6} {_pct(r.ours, r.cases):>9} "
            f"{_pct(r.theirs, r.cases):>8} {r.per_second:>9.0f}  {note}"
        )
    lost = word_losses(pairs)
    print(f"word-loss cases: {len(lost)}")
    for pair, name, _text, missing in lost[:20]:
        print(f"  {pair} {name}: {missing[:8]}")
    if args.show:
        source, target = args.show.split("-", 1)
        for r in results:
            if (r.source, r.target) != (source, target):
                continue
            for c, out, want, got in r.failures:
                print(f"\n=== {c.name}\n--- input\n{c.text}\n--- output\n{out}")
                print(f"--- source shows\n{show(want)}\n--- output shows\n{show(got)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
