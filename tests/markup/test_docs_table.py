"""docs/markup.md's conversion table says what the converter does.

Every row whose Trac cell holds examples in backticks and whose target cells
each hold one result in backticks is checked: each example converts to that
result in each target.  The other rows describe what a table cannot show in
one line of code; test_constructs.py pins those.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator.markup import convert

DOC = Path(__file__).resolve().parents[2] / "docs" / "markup.md"
TARGETS = ("markdown", "textile", "jira", "plain")


def _code(cell: str) -> list[str]:
    """The backticked spans of a table cell, unescaped as Markdown shows them."""
    spans = re.findall(r"(`+) ?(.+?) ?\1(?!`)", cell)
    return [s.replace("\\|", "|") for _, s in spans]


def table_rows() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("### Conversion table (from Trac)", 1)[1].split("\n\n", 2)[1]
    rows: list[tuple[str, str, str]] = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if len(cells) != 5:
            continue
        examples = _code(cells[0])
        results = [_code(c) for c in cells[1:]]
        if not examples or any(
            len(r) != 1 or c != f"`{r[0]}`" for r, c in zip(results, cells[1:], strict=True)
        ):
            continue
        for example in examples:
            for target, result in zip(TARGETS, results, strict=True):
                rows.append((example, target, result[0]))
    return rows


ROWS = table_rows()


def test_the_table_has_checkable_rows() -> None:
    assert len(ROWS) >= 30


@pytest.mark.parametrize(("trac", "target", "expected"), ROWS)
def test_a_documented_conversion_is_what_convert_does(
    trac: str, target: str, expected: str
) -> None:
    assert convert(trac, "trac", target).text == expected
