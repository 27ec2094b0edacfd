"""``make bench``: run every benchmark and print its figures (see docs/performance.md)."""

from __future__ import annotations

import sys

from bench import markup, plan, staging, trac_pipeline


def main() -> int:
    args = sys.argv[1:]
    quick = "--quick" in args
    markup.main(["--no-pandoc"] if quick else [])
    trac_pipeline.main(["--sizes", "1000,10000" if quick else "1000,10000,50000"])
    plan.main(["--sizes", "10000" if quick else "10000,100000"])
    staging.main(["--sizes", "10000" if quick else "10000,100000"])
    from bench import extract_redmine

    extract_redmine.main(["--sizes", "1000"] if quick else [])
    from bench import load_redmine

    load_redmine.main(["--quick"] if quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
