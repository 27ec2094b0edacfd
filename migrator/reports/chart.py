"""Geometry of the report's bar charts; the HTML template draws them as inline SVG.

Only numbers are computed here: labels stay data and are escaped by the
template like every other text, so a chart cannot carry markup either.
"""

from __future__ import annotations

import unicodedata
from typing import Any

LABEL_WIDTH = 170  # px for the target value names
BAR_AREA = 360
VALUE_WIDTH = 70
ROW_HEIGHT = 34
BAR_HEIGHT = 12
TOP = 30  # legend
LABEL_CHARS = 22  # display columns before a label is shortened


def _shorten(text: str, columns: int = LABEL_CHARS) -> str:
    """Cut to ``columns`` display columns (East Asian wide characters count two)."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > columns:
            return text[:i] + "…"
    return text


def bar_chart(totals: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Planned and found-in-target counts per target value, in the order given."""
    top = max((max(r["planned"], r["in_target"]) for r in totals), default=0) or 1
    bars = []
    for i, r in enumerate(totals):
        y = TOP + i * ROW_HEIGHT
        name = r["value"] or labels["empty"]
        bars.append(
            {
                "label": name,
                "short": _shorten(name),
                "y": y,
                "planned": r["planned"],
                "in_target": r["in_target"],
                "planned_width": round(BAR_AREA * r["planned"] / top, 1),
                "in_target_width": round(BAR_AREA * r["in_target"] / top, 1),
                "ok": r["planned"] == r["in_target"],
            }
        )
    return {
        "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        "height": TOP + len(bars) * ROW_HEIGHT + 6,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "bars": bars,
    }
