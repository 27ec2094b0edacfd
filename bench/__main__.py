"""``make bench``: run every benchmark and print its figures."""

from __future__ import annotations

import sys

from bench import trac_pipeline


def main() -> int:
    trac_pipeline.main(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
