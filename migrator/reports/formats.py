"""Writers: the report's tables in HTML, Markdown, CSV, Excel and JSON.

Ticket text is untrusted and each format defends against it in its own way:
HTML is rendered by Jinja2 with autoescaping (and a Content-Security-Policy
that forbids scripts); Markdown cells escape every character that could open
markup; CSV cells that Excel would read as a formula get a leading quote; in
Excel workbooks every text is written as a string cell, never a formula.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from migrator.errors import MigratorError
from migrator.reports.chart import bar_chart
from migrator.reports.tables import (
    SECTIONS,
    Column,
    Table,
    build_tables,
    human_size,
    route,
    verdict,
)
from migrator.templating import environment

BASE = "reconciliation"
CSV_DIR = f"{BASE}-csv"

# A cell starting with one of these is a formula (or DDE payload) to Excel and LibreOffice.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

XLSX_MAX_CELL = 32_767  # characters Excel keeps in one cell


# --------------------------------------------------------------------- values


def show(value: Any, column: Column) -> str:
    """A cell as people read it (HTML and Markdown)."""
    if value is None or value == "":
        return ""
    if column.kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if column.kind == "rate" and isinstance(value, int | float):
        return f"{value:,.1f}" if value >= 1 else f"{value:.2f}"
    if column.kind == "bytes" and isinstance(value, int):
        return human_size(value)
    if column.kind == "time":
        return show_time(str(value))
    return str(value)


def show_time(iso: str | None) -> str:
    """``2024-05-01T12:00:05Z`` -> ``2024-05-01 12:00:05`` (columns say UTC)."""
    return iso.replace("T", " ").rstrip("Z") if iso else ""


def cell_value(row: dict[str, Any], column: Column, brief: bool) -> Any:
    if brief and column.brief:
        return row.get(column.brief)
    return row.get(column.key)


def is_flagged(row: dict[str, Any], column: Column) -> bool:
    return column.check is not None and row.get(column.key) != row.get(column.check)


# ------------------------------------------------------------------- Markdown

_MD_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "~": "\\~",
    }
)


def md_text(value: Any) -> str:
    """Untrusted text inside a Markdown table cell: no markup, no HTML, one line."""
    text = "" if value is None else str(value)
    text = text.translate(_MD_ESCAPES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<br>")


def _md_link(url: str | None, text: str) -> str:
    # Our own URLs: http(s), percent-encoded, so no ``<``, ``>`` or newline.
    return f"[{text}](<{url}>)" if url else ""


def markdown(data: dict[str, Any], labels: dict[str, str], tables: list[Table]) -> str:
    L = labels
    by_name = {t.name: t for t in tables}
    when = show_time(data["generated"]) + " UTC"
    out = [
        f"# {L['title']}",
        "",
        md_text(route(data, L)),
        "",
        L["generated"].format(when=when, version=data["version"]),
        "",
        f"**{verdict(data, L)}**",  # our words and numbers only
        "",
    ]
    for number, (section, names) in enumerate(SECTIONS, 1):
        out += [f"## {number}. {L[section]}", ""]
        if f"{section}.intro" in L:
            out += [L[f"{section}.intro"], ""]
        for name in names:
            table = by_name[name]
            if name != section:
                out += [f"### {table.title}", ""]
            if table.intro:
                out += [md_text(table.intro), ""]
            out += [*_md_table(table, L), ""]
            out += [f"_{note}_" for note in table.notes] + ([""] if table.notes else [])
    return "\n".join(out).rstrip("\n") + "\n"


def _md_table(table: Table, labels: dict[str, str]) -> list[str]:
    if not table.rows:
        return [table.empty or labels["none"]]
    columns = [c for c in table.columns if c.kind != "url" or any(r.get(c.key) for r in table.rows)]
    numeric = {"int", "rate", "bytes"}
    lines = [
        "| " + " | ".join(md_text(c.label) for c in columns) + " |",
        "|" + "|".join("---:" if c.kind in numeric else "---" for c in columns) + "|",
    ]
    for row in table.rows:
        cells = []
        for c in columns:
            if c.kind == "url":
                cells.append(_md_link(row.get(c.key), labels["open"]))
            else:
                cells.append(md_text(show(cell_value(row, c, brief=True), c)))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_md(data: dict[str, Any], labels: dict[str, str], lang: str, out: Path) -> list[Path]:
    path = out / f"{BASE}.md"
    path.write_text(markdown(data, labels, build_tables(data, labels)), encoding="utf-8")
    return [path]


# ----------------------------------------------------------------------- HTML


def _env() -> Environment:
    env = environment("migrator.reports")
    env.globals.update(show=show, cell_value=cell_value, is_flagged=is_flagged)
    env.filters["num"] = lambda n: "" if n is None else f"{n:,}"
    env.filters["code"] = code_spans
    return env


def code_spans(text: str) -> Markup:
    """A label with its `commands` set as code; the label is escaped first."""
    return Markup(re.sub(r"`([^`<>]+)`", r"<code>\1</code>", str(escape(text))))


def html(data: dict[str, Any], labels: dict[str, str], lang: str) -> str:
    tables = build_tables(data, labels)
    by_name = {t.name: t for t in tables}
    sections = [
        {
            "id": section,
            "number": number,
            "title": labels[section],
            "intro": labels.get(f"{section}.intro", ""),
            "tables": [by_name[n] for n in names],
        }
        for number, (section, names) in enumerate(SECTIONS, 1)
    ]
    charts = {name: bar_chart(rows, labels) for name, rows in data["totals"].items()}
    return (
        _env()
        .get_template(f"{BASE}.html")
        .render(
            data=data,
            L=labels,
            lang=lang,
            sections=sections,
            charts=charts,
            verdict=verdict(data, labels),
            route=route(data, labels),
            generated=show_time(data["generated"]) + " UTC",
        )
    )


def write_html(data: dict[str, Any], labels: dict[str, str], lang: str, out: Path) -> list[Path]:
    path = out / f"{BASE}.html"
    path.write_text(html(data, labels, lang), encoding="utf-8")
    return [path]


# ------------------------------------------------------------------------ CSV


def csv_value(value: Any) -> Any:
    """A CSV cell Excel opens as the same text, never as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(data: dict[str, Any], labels: dict[str, str], lang: str, out: Path) -> list[Path]:
    """One file per table, UTF-8 with a byte-order mark so Excel reads Japanese right."""
    folder = out / CSV_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, table in enumerate(build_tables(data, labels), 1):
        path = folder / f"{number:02d}-{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([csv_value(c.label) for c in table.columns])
            for row in table.rows:
                writer.writerow(
                    [
                        csv_value(show_time(row.get(c.key)) if c.kind == "time" else row.get(c.key))
                        for c in table.columns
                    ]
                )
        written.append(path)
    return written


# ---------------------------------------------------------------------- Excel


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(data: dict[str, Any], labels: dict[str, str], lang: str, out: Path) -> list[Path]:
    """One sheet per table; every text a string cell (never a formula)."""
    try:
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise MigratorError(
            "the xlsx report needs openpyxl",
            remedy="pip install openpyxl, or choose other formats with --format",
        ) from None

    def text_cell(value: str) -> str:
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        return text if len(text) <= XLSX_MAX_CELL else text[: XLSX_MAX_CELL - 1] + "…"

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # a new Workbook always has one sheet
    book.properties.title = labels["title"]
    book.properties.creator = f"migrator {data['version']}"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F3A5F")
    top = Alignment(vertical="top", wrap_text=True)
    used: set[str] = set()
    for table in build_tables(data, labels):
        sheet = book.create_sheet(_sheet_name(table.title, used))
        widths = [_width(c.label) for c in table.columns]
        for j, column in enumerate(table.columns, 1):
            cell = sheet.cell(row=1, column=j)
            cell.value = text_cell(column.label)
            cell.data_type = "s"
            cell.font, cell.fill = header_font, header_fill
        for i, row in enumerate(table.rows, 2):
            for j, column in enumerate(table.columns, 1):
                value = row.get(column.key)
                cell = sheet.cell(row=i, column=j)
                if value is None or value == "":
                    continue
                if column.kind == "time":
                    cell.value = datetime.fromisoformat(str(value).rstrip("Z"))
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                    widths[j - 1] = max(widths[j - 1], 19)
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell.value = value
                    widths[j - 1] = max(widths[j - 1], len(f"{value:,}"))
                    continue
                text = text_cell(str(value))
                cell.value = text
                # Assigning "=..." makes openpyxl write a formula; force a string cell,
                # and quotePrefix keeps Excel from re-reading it as one on edit.
                cell.data_type = "s"
                if text.startswith(FORMULA_START):
                    cell.quotePrefix = True
                if column.kind == "url":
                    cell.hyperlink = text
                    cell.style = "Hyperlink"
                cell.alignment = top
                widths[j - 1] = max(widths[j - 1], min(_width(text), 60))
        for j, w in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 8), 62)
        sheet.freeze_panes = "A2"
        if table.rows:
            sheet.auto_filter.ref = sheet.dimensions
    path = out / f"{BASE}.xlsx"
    book.save(path)
    return [path]


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


# ----------------------------------------------------------------------- JSON


def write_json(data: dict[str, Any], labels: dict[str, str], lang: str, out: Path) -> list[Path]:
    """The whole data model, as :func:`~migrator.reports.build` returned it (no labels)."""
    path = out / f"{BASE}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [path]


Writer = Callable[[dict[str, Any], dict[str, str], str, Path], list[Path]]

WRITERS: dict[str, Writer] = {
    "html": write_html,
    "xlsx": write_xlsx,
    "md": write_md,
    "csv": write_csv,
    "json": write_json,
}
