"""CSV and Excel (.xlsx) source: the bug lists teams keep in a spreadsheet.

One row is one ticket.  Which column holds which field is configuration
(``[source.columns]``); every column left unmapped is kept as the custom field
``custom.<header>``, so nothing in the sheet is dropped without a word.
Comments, when there are any, come from a second sheet or file with one row per
comment, joined to the tickets by id.

Reading streams: CSV through :mod:`csv`, workbooks through openpyxl's
read-only mode, so memory stays flat however long the sheet is (comments are
the exception: they are grouped by ticket in memory before the first page).

The checkpoint is the number of ticket rows committed plus a fingerprint of the
files (``"500@1f0c…"``).  Resuming skips that many rows; when the files have
changed since, the row count means nothing any more and extraction starts over
from the first row, which is safe because staging stores by origin and hash.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrator.errors import ConfigError, SourceError
from migrator.model import Comment, Ticket, iso, parse_iso
from migrator.staging.blobs import BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, IdSet, no_projects
from migrator.trackers.protocols import Page

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

PAGE_SIZE = 500

# Canonical fields a column can be mapped to, in Ticket order.
TICKET_FIELDS = (
    "id",
    "title",
    "description",
    "type",
    "status",
    "resolution",
    "priority",
    "severity",
    "reporter",
    "assignee",
    "watchers",
    "created",
    "updated",
    "closed",
    "milestone",
    "version",
    "components",
    "labels",
    "parent",
)
REQUIRED_FIELDS = ("id", "title")
COMMENT_FIELDS = ("ticket", "author", "time", "body", "id")
REQUIRED_COMMENT_FIELDS = ("ticket", "body")

_TIME_FIELDS = ("created", "updated", "closed")
# Kept exactly as written: line endings and outer whitespace included.
_EXACT_FIELDS = ("description",)
# Lists: components and labels may contain spaces ("user interface"), people may not.
_LIST_SPLIT = re.compile(r"\s*[,;、，；\n]\s*")
_PEOPLE_SPLIT = re.compile(r"[,;、，；\s]+")

_SECTION_KEYS = frozenset(
    {
        "type",
        "name",
        "file",
        "sheet",
        "header_row",
        "encoding",
        "delimiter",
        "timezone",
        "markup",
        "columns",
        "comments_file",
        "comments_sheet",
        "comment_columns",
    }
)

# A cell as read: text, or a date-time from an Excel date cell (naive, local time).
Cell = str | datetime

_DATE_FORMATS = (
    "ISO 8601 (2024-03-01T09:30:00+09:00), YYYY/MM/DD[ HH:MM[:SS]] or an Excel date cell"
)

# --------------------------------------------------------------------------- dates

_SLASHED = re.compile(
    r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
)


def parse_datetime(value: Cell, tz: tzinfo) -> datetime | None:
    """A cell as an aware date-time; naive values are local times in ``tz``.

    Accepts ISO 8601, ``YYYY/MM/DD[ HH:MM[:SS]]`` (months, days and hours may
    have one digit, as Japanese Excel writes them) and Excel date cells.  An
    empty cell is ``None``; anything else raises :class:`ValueError`.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            m = _SLASHED.fullmatch(text)
            if m is None:
                raise
            y, mo, d, h, mi, s, frac = m.groups()
            parsed = datetime(
                int(y),
                int(mo),
                int(d),
                int(h or 0),
                int(mi or 0),
                int(s or 0),
                int((frac or "0").ljust(6, "0")),
            )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


# --------------------------------------------------------------------------- cells


def _column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def _text(cell: Cell) -> str:
    if isinstance(cell, datetime):
        if cell.time() == time(0) and cell.tzinfo is None:
            return cell.date().isoformat()
        return cell.isoformat(sep=" ")
    return cell


def _texts(row: _Row) -> list[str]:
    return [c if isinstance(c, str) else _text(c) for c in row.cells]


def _is_empty(cells: list[Cell]) -> bool:
    return all(isinstance(c, str) and not c.strip() for c in cells)


def _padded(cells: list[Cell], width: int) -> list[Cell]:
    """At least one cell per header: short CSV records and trimmed sheet rows."""
    if len(cells) < width:
        cells.extend([""] * (width - len(cells)))
    return cells


_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _xlsx_value(value: object) -> Cell:
    """An openpyxl value as a cell; Excel's number and escape forms made text."""
    if value is None:
        return ""
    if isinstance(value, str):
        # Excel writes characters XML cannot hold (CR above all) as _xHHHH_, and a
        # literal "_x" as "_x005F_x"; one left-to-right pass undoes both.
        return _XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids typed as numbers: 12, not 12.0
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- tables


@dataclass
class _Row:
    number: int  # the spreadsheet's row number: the header row counts, 1-based
    line: int | None  # CSV only: physical line where the record starts
    cells: list[Cell]


class _Table(Protocol):
    """A header and the data rows below it, one sheet or one CSV file."""

    label: str  # what error messages call it: "bugs.csv", "bugs.xlsx [Bugs]"
    path: Path
    header_row: int
    headers: list[str]

    def rows(self) -> Iterator[_Row]:
        """Non-empty data rows, in file order; a fresh pass on every call."""
        ...

    def declared_rows(self) -> int | None: ...

    def describe(self) -> str: ...


def _headers(cells: list[Cell], label: str, row: int) -> list[str]:
    """Header texts, stripped; blank headers are named after their column letter."""
    headers: list[str] = []
    first: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = _text(cell).strip().lstrip("\ufeff").strip()
        if not name:
            name = f"column {_column_letter(i)}"
        if name in first:
            raise SourceError(
                f"two columns are headed {name!r} "
                f"({_column_letter(first[name])} and {_column_letter(i)})",
                where=f"{label}, row {row}",
                remedy="rename one of them so every header is unique",
            )
        first[name] = i
        headers.append(name)
    return headers


def _where(label: str, row: _Row) -> str:
    if row.line is not None and row.line != row.number:
        return f"{label}, row {row.number} (line {row.line})"
    return f"{label}, row {row.number}"


_KANA = re.compile(r"[\u3040-\u30ff]")
_CHUNK = 1 << 20


def _decodes(path: Path, encoding: str, *, need_kana: bool = False) -> bool:
    """Whether the whole file decodes strictly (and shows Japanese kana, if asked)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    kana = not need_kana
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                text = decoder.decode(chunk)
                kana = kana or _KANA.search(text) is not None
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return kana


def detect_encoding(path: Path) -> str | None:
    """The encoding ``encoding = "auto"`` picks; ``None`` when it will not guess.

    A byte-order mark decides first (UTF-8, or UTF-16 as Excel's "Unicode text"
    writes).  Then the whole file must decode as UTF-8; failing that, as CP932
    *and* contain hiragana or katakana.  The kana test matters because CP932
    decodes much Latin-1 text without error (as nonsense kanji); Latin-1 and
    other single-byte encodings decode anything, so they are never guessed.
    """
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp932", need_kana=True):
        return "cp932"
    return None


@dataclass
class _DecodeProblem:
    line: int
    row: int
    column: str
    bad: bytes


def _locate_decode_error(
    path: Path, encoding: str, delimiter: str, header_row: int
) -> _DecodeProblem | None:
    """Where the first undecodable bytes are: line, CSV row and column."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        start, end = exc.start, exc.end
    else:
        return None
    prefix = data[:start].decode(encoding, "replace")
    line = len(re.findall(r"\r\n|\r|\n", prefix)) + 1
    # A sentinel marks where decoding stopped; the record that holds it is the row.
    reader = csv.reader(io.StringIO(prefix + "\ue000", newline=""), delimiter=delimiter)
    row, record, headers = 0, [], []
    for record in reader:
        row += 1
        if row == header_row:
            headers = [h.strip().lstrip("\ufeff").strip() for h in record]
    index = max(len(record) - 1, 0)
    column = _column_letter(index)
    if row != header_row and index < len(headers) and headers[index]:
        column = f"{headers[index]!r} ({column})"
    return _DecodeProblem(line, row, column, data[start : max(end, start + 1)])


class _CsvTable:
    def __init__(
        self, path: Path, label: str, *, encoding: str, delimiter: str, header_row: int
    ) -> None:
        self.path = path
        self.label = label
        self.delimiter = delimiter
        self.header_row = header_row
        self.guessed = encoding == "auto"
        if self.guessed:
            detected = detect_encoding(path)
            if detected is None:
                p = _locate_decode_error(path, "utf-8", delimiter, header_row)
                at = (
                    f" (first bad bytes at line {p.line} (row {p.row}), column {p.column}: "
                    f"bytes {p.bad.hex(' ')})"
                    if p
                    else ""
                )
                raise SourceError(
                    f"cannot tell the encoding: not UTF-8{at} and not Japanese Shift_JIS/CP932",
                    where=label,
                    remedy='set encoding = "..." under [source], e.g. "latin-1" or "cp1252" '
                    "for Western European exports",
                )
            encoding = detected
        self.encoding = encoding
        self.headers: list[str] = []
        records = self._records()
        try:
            header = next((r for r in records if r.number == header_row), None)
        finally:
            records.close()
        if header is None:
            raise SourceError(
                f"no header row: the file has fewer than {header_row} rows",
                where=label,
                remedy="check the file, or set header_row to the row that holds the headers",
            )
        self.headers = _headers(header.cells, label, header_row)

    def describe(self) -> str:
        how = "detected" if self.guessed else "configured"
        return f"CSV file {self.path} ({self.encoding} {how}, delimiter {self.delimiter!r})"

    def _records(self) -> Generator[_Row, None, None]:
        with self.path.open("r", encoding=self.encoding, errors="strict", newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter, strict=True)
            number, line = 0, 1
            try:
                for cells in reader:
                    number += 1
                    yield _Row(number, line, list(cells))
                    line = reader.line_num + 1
            except UnicodeDecodeError:
                raise self._decode_error() from None
            except csv.Error as exc:
                raise SourceError(
                    f"malformed CSV: {exc}",
                    where=f"{self.label}, line {reader.line_num}",
                    remedy="check the quotes around that line: a cell with the delimiter, a "
                    "quote or a line break must be quoted, and quotes inside doubled",
                ) from None

    def _decode_error(self) -> SourceError:
        problem = _locate_decode_error(self.path, self.encoding, self.delimiter, self.header_row)
        remedy = (
            f"save the file as {self.encoding}, or set encoding under [source] to the one it "
            'was written in ("utf-8", "cp932", "latin-1"...), or "auto" to detect it'
        )
        if problem is None:  # decoded fine on a second look: the file changed meanwhile
            return SourceError(f"cannot decode as {self.encoding}", where=self.label, remedy=remedy)
        return SourceError(
            f"cannot decode bytes {problem.bad.hex(' ')} as {self.encoding} "
            f"in column {problem.column}",
            where=f"{self.label}, line {problem.line} (row {problem.row})",
            remedy=remedy,
        )

    def rows(self) -> Iterator[_Row]:
        width = len(self.headers)
        for row in self._records():
            if row.number > self.header_row and not _is_empty(row.cells):
                _padded(row.cells, width)
                yield row

    def declared_rows(self) -> int | None:
        return sum(1 for _ in self.rows())


class _XlsxTable:
    def __init__(
        self, workbook: Workbook, path: Path, label: str, *, sheet: str | None, header_row: int
    ) -> None:
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet

        names = workbook.sheetnames
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            raise SourceError(
                f"no sheet {sheet!r}; the workbook has: {', '.join(names)}",
                where=label,
                remedy="set sheet (or comments_sheet) under [source] to one of those names",
            )
        ws = workbook[sheet]
        if not isinstance(ws, ReadOnlyWorksheet):
            raise SourceError(
                f"sheet {sheet!r} is a chart, not a worksheet",
                where=label,
                remedy="name the sheet that holds the rows",
            )
        self.path = path
        self.label = f"{label} [{sheet}]"
        self.sheet = sheet
        self.header_row = header_row
        self._ws = ws
        declared = ws.max_row
        self._declared = declared - header_row if declared and declared > header_row else None
        # Some writers declare a wrong size (often "A1"); openpyxl would stop there.
        ws.reset_dimensions()
        rows = ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True)
        try:
            header = next(rows, None)
        finally:
            rows.close()
        if header is None:
            raise SourceError(
                f"no header row: the sheet has fewer than {header_row} rows",
                where=self.label,
                remedy="check the sheet, or set header_row to the row that holds the headers",
            )
        self.headers = _headers([_xlsx_value(v) for v in header], self.label, header_row)

    def describe(self) -> str:
        return f"Excel workbook {self.path}, sheet {self.sheet!r}"

    def rows(self) -> Iterator[_Row]:
        start, width = self.header_row + 1, len(self.headers)
        for number, values in enumerate(self._ws.iter_rows(min_row=start, values_only=True), start):
            cells = [_xlsx_value(v) for v in values]
            if not _is_empty(cells):
                yield _Row(number, None, _padded(cells, width))

    def declared_rows(self) -> int | None:
        return self._declared


def _open_workbook(path: Path, label: str) -> Workbook:
    import warnings
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # Workbooks from other tools often lack styles or use extensions openpyxl
            # skips (data validation, conditional formats); values are unaffected.
            warnings.simplefilter("ignore", UserWarning)
            return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(
            f"cannot open as an Excel workbook: {exc}",
            where=label,
            remedy='save it from Excel as "Excel Workbook (*.xlsx)"; legacy .xls is not read',
        ) from None


# --------------------------------------------------------------------------- source


def _require_file(path: Path, key: str) -> None:
    if not path.is_file():
        raise SourceError(
            f"file {path} not found",
            remedy=f"check {key} under [source]; a relative path is relative to the config file",
        )


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def _indexes(
    table: _Table, columns: Mapping[str, str], fields: tuple[str, ...], section: str
) -> dict[str, int]:
    """Column index of each mapped field; unknown fields and absent headers are errors."""
    unknown = sorted(set(columns) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown field(s) {', '.join(unknown)} in [{section}]",
            where=f"[{section}]",
            remedy=f"map only {', '.join(fields)}; a column left unmapped is kept as "
            "custom.<header>",
        )
    found = ", ".join(table.headers)
    out: dict[str, int] = {}
    for name in fields:
        header = columns.get(name)
        if header is None:
            continue
        if header not in table.headers:
            raise SourceError(
                f"column {header!r} (mapped to {name} in [{section}]) not found; "
                f"headers found: {found}",
                where=f"{table.label}, row {table.header_row}",
                remedy=f"set {name} under [{section}] to one of the headers found, "
                "or header_row to the row that holds the headers",
            )
        out[name] = table.headers.index(header)
    return out


def _check_required(columns: Mapping[str, str], required: tuple[str, ...], section: str) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        raise ConfigError(
            f"[{section}] must map {' and '.join(missing)} to a column header",
            where=f"[{section}]",
            remedy=f'add e.g. {missing[0]} = "<header>" under [{section}]',
        )


class SpreadsheetSource:
    """What a CSV file and an Excel sheet share: rows to tickets, comments, paging."""

    kind = "spreadsheet"
    _workbooks: list[Workbook]  # set first by the subclass, so close() works on any error

    def __init__(
        self,
        table: _Table,
        columns: Mapping[str, str],
        *,
        name: str | None,
        comments: _Table | None,
        comment_columns: Mapping[str, str] | None,
        timezone: str,
        markup: str,
        page_size: int,
        since: datetime | None = None,
        ids: IdSet | None = None,
    ) -> None:
        _check_required(columns, REQUIRED_FIELDS, "source.columns")
        self.since = since
        self.ids = ids
        try:
            self.tz: tzinfo = UTC if timezone.upper() == "UTC" else ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown time zone {timezone!r}",
                where="[source]",
                remedy='use an IANA name such as "Asia/Tokyo", "Europe/Berlin" or "UTC"',
            ) from None
        self.table = table
        self.name = name or table.path.stem
        self.warnings: list[str] = []  # the Source protocol; a spreadsheet has nothing partial
        self.markup = markup
        self.page_size = page_size
        self.index = _indexes(table, columns, TICKET_FIELDS, "source.columns")
        mapped = set(self.index.values())
        self.unmapped = [(i, h) for i, h in enumerate(table.headers) if i not in mapped]
        self.comments = comments
        self.comment_index: dict[str, int] = {}
        if comments is not None:
            if comment_columns is None:
                raise ConfigError(
                    "comments are configured but [source.comment_columns] is missing",
                    where="[source]",
                    remedy="add [source.comment_columns] with ticket, body and optionally "
                    "author, time and id",
                )
            _check_required(comment_columns, REQUIRED_COMMENT_FIELDS, "source.comment_columns")
            self.comment_index = _indexes(
                comments, comment_columns, COMMENT_FIELDS, "source.comment_columns"
            )
        elif comment_columns is not None:
            raise ConfigError(
                "[source.comment_columns] is set but no comments_file or comments_sheet",
                where="[source]",
                remedy="add comments_file (or comments_sheet for a workbook), or remove "
                "[source.comment_columns]",
            )

    # -- protocol

    def describe(self) -> str:
        text = self.table.describe()
        if self.comments is not None:
            text += f"; comments from {self.comments.label}"
        return text

    def count(self) -> int | None:
        """Ticket rows; for a workbook, the sheet's declared size (progress only)."""
        if self.since is not None or self.ids is not None:
            return None  # known only by reading every row
        return self.table.declared_rows()

    def _selected(self, row: _Row, tid: str, comments: list[_CommentRow]) -> bool:
        """Whether the filters keep a row: its id is chosen, and it (or one of its
        comments) was updated at or after ``since``.

        Without an ``updated`` column every row is kept (unchanged ones stay
        unchanged in staging), and so is a row whose ``updated`` cell is empty.
        """
        if self.ids is not None and tid not in self.ids:
            return False
        if self.since is None or "updated" not in self.index:
            return True
        since = self.since

        def recent(text: str) -> bool:
            when = parse_iso(text) if text else None
            return when is None or when >= since

        if recent(self._time(self.table, row, self.index["updated"])):
            return True
        return any(recent(c.comment.time) for c in comments)

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        files = [self.table.path]
        if self.comments is not None and self.comments.path != self.table.path:
            files.append(self.comments.path)
        fingerprint = _fingerprint(files)
        done = 0
        if checkpoint:
            rows, _, seen_print = checkpoint.partition("@")
            if rows.isdigit() and seen_print == fingerprint:
                done = int(rows)
            # else: the files changed since (or the checkpoint is not ours): start over.
        comments = self._comments()
        seen: dict[str, int] = {}
        items: list[tuple[Ticket, Any]] = []
        n = 0
        id_column = self.index["id"]
        for row in self.table.rows():
            tid = _text(row.cells[id_column]).strip()
            if not tid:
                raise SourceError(
                    f"empty ticket id in column {self.table.headers[id_column]!r}",
                    where=_where(self.table.label, row),
                    remedy="give every row an id, or delete the row",
                )
            if tid in seen:
                raise SourceError(
                    f"duplicate ticket id {tid!r} on rows {seen[tid]} and {row.number}",
                    where=self.table.label,
                    remedy="ids must be unique: fix or remove one of the two rows",
                )
            seen[tid] = row.number
            n += 1
            if n <= done or not self._selected(row, tid, comments.get(tid, [])):
                continue
            # A full page waits for the next row, so the last page always comes after the
            # end-of-file checks below.
            if len(items) >= self.page_size:
                yield Page(items, f"{n - 1}@{fingerprint}")
                items = []
            items.append(self._ticket(row, tid, comments.get(tid, [])))
        orphans = sorted(set(comments) - set(seen))
        if orphans and self.comments is not None:
            first = comments[orphans[0]][0]
            raise SourceError(
                f"{len(orphans)} ticket id(s) in the comments are not in {self.table.label}: "
                f"{', '.join(orphans[:10])}{' ...' if len(orphans) > 10 else ''}",
                where=f"{self.comments.label}, row {first.row}",
                remedy="fix the ticket column of those comments, or add the tickets",
            )
        if items:
            yield Page(items, f"{n}@{fingerprint}")

    def close(self) -> None:
        """Close the workbooks; CSV files are opened per pass and hold nothing."""
        for wb in self._workbooks:
            wb.close()
        self._workbooks.clear()

    # -- rows to tickets

    @staticmethod
    def _raw(table: _Table, row: _Row, texts: list[str]) -> dict[str, Any]:
        cells = dict(zip(table.headers, texts, strict=False))
        for i in range(len(table.headers), len(texts)):
            if texts[i].strip():
                cells[f"column {_column_letter(i)}"] = texts[i]
        return {"row": row.number, "cells": cells}

    def _time(self, table: _Table, row: _Row, index: int) -> str:
        value = row.cells[index]
        try:
            parsed = parse_datetime(value, self.tz)
        except ValueError:
            raise SourceError(
                f"cannot read {_text(value)!r} in column {table.headers[index]!r} as a date",
                where=_where(table.label, row),
                remedy=f"write it as {_DATE_FORMATS}",
            ) from None
        return iso(parsed) or ""

    def _ticket(self, row: _Row, tid: str, comments: list[_CommentRow]) -> tuple[Ticket, Any]:
        texts = _texts(row)
        values: dict[str, Any] = {}
        for name, index in self.index.items():
            if name in _TIME_FIELDS:
                values[name] = self._time(self.table, row, index) or None
                continue
            text = texts[index]
            if name in _EXACT_FIELDS:
                values[name] = text
            elif name in ("components", "labels"):
                values[name] = [v for v in _LIST_SPLIT.split(text.strip()) if v]
            elif name == "watchers":
                values[name] = [v for v in _PEOPLE_SPLIT.split(text) if v]
            else:
                values[name] = text.strip() or None
        custom: dict[str, str] = {}
        for index, header in self.unmapped:
            text = texts[index].strip()
            if text:
                custom[header] = text
        for index in range(len(self.table.headers), len(texts)):
            text = texts[index].strip()
            if text:  # a cell right of the last header: kept, named by its column
                custom[f"column {_column_letter(index)}"] = text
        prefix = f"{self.kind}:{self.name}"
        parent = values.pop("parent", None)
        values.pop("id")
        ticket = Ticket(
            origin=f"{prefix}#{tid}",
            source_id=tid,
            project=self.name,
            title=values.pop("title") or "",
            markup=self.markup,
            parent=f"{prefix}#{parent}" if parent else None,
            custom=dict(sorted(custom.items())),
            comments=[c.comment for c in comments],
            **values,
        )
        raw = self._raw(self.table, row, texts)
        raw["comments"] = [c.raw for c in comments]
        return ticket, raw

    def _comments(self) -> dict[str, list[_CommentRow]]:
        """Every comment, grouped by ticket id, ordered by time then row."""
        table = self.comments
        if table is None:
            return {}
        idx = self.comment_index
        out: dict[str, list[_CommentRow]] = {}
        for row in table.rows():
            texts = _texts(row)
            tid = texts[idx["ticket"]].strip()
            if not tid:
                raise SourceError(
                    f"empty ticket id in column {table.headers[idx['ticket']]!r}",
                    where=_where(table.label, row),
                    remedy="say which ticket every comment belongs to, or delete the row",
                )
            body = texts[idx["body"]]
            if not body.strip():
                continue  # like a Trac change without text: not a comment
            author = texts[idx["author"]].strip() if "author" in idx else ""
            when = self._time(table, row, idx["time"]) if "time" in idx else ""
            cid = texts[idx["id"]].strip() if "id" in idx else ""
            out.setdefault(tid, []).append(
                _CommentRow(
                    row.number,
                    Comment(id=cid, author=author or "anonymous", time=when, body=body),
                    self._raw(table, row, texts),
                )
            )
        for group in out.values():
            # Rows without a time sort first; equal times keep the file's order.
            group.sort(key=lambda c: (c.comment.time, c.row))
            for n, c in enumerate(group, 1):
                c.comment.id = c.comment.id or str(n)
        return out


@dataclass
class _CommentRow:
    row: int
    comment: Comment
    raw: dict[str, Any]


class CsvSource(SpreadsheetSource):
    """A CSV export: UTF-8 (with or without BOM), Shift_JIS/CP932, Latin-1..."""

    kind = "csv"

    def __init__(
        self,
        path: Path,
        columns: Mapping[str, str],
        *,
        name: str | None = None,
        encoding: str = "auto",
        delimiter: str = ",",
        header_row: int = 1,
        comments_file: Path | None = None,
        comments_sheet: str | None = None,
        comment_columns: Mapping[str, str] | None = None,
        timezone: str = "UTC",
        markup: str = "plain",
        page_size: int = PAGE_SIZE,
        since: datetime | None = None,
        ids: IdSet | None = None,
    ) -> None:
        _require_file(path, "file")
        self._workbooks: list[Workbook] = []
        table = _CsvTable(
            path, path.name, encoding=encoding, delimiter=delimiter, header_row=header_row
        )
        try:
            comments = (
                _comment_table(comments_file, comments_sheet, encoding, delimiter, self._workbooks)
                if comments_file is not None
                else None
            )
            super().__init__(
                table,
                columns,
                name=name,
                comments=comments,
                comment_columns=comment_columns,
                timezone=timezone,
                markup=markup,
                page_size=page_size,
                since=since,
                ids=ids,
            )
        except BaseException:
            self.close()
            raise


class XlsxSource(SpreadsheetSource):
    """An Excel workbook, read in openpyxl's streaming (read-only) mode."""

    kind = "xlsx"

    def __init__(
        self,
        path: Path,
        columns: Mapping[str, str],
        *,
        name: str | None = None,
        sheet: str | None = None,
        header_row: int = 1,
        comments_sheet: str | None = None,
        comments_file: Path | None = None,
        comment_columns: Mapping[str, str] | None = None,
        encoding: str = "auto",
        delimiter: str = ",",
        timezone: str = "UTC",
        markup: str = "plain",
        page_size: int = PAGE_SIZE,
        since: datetime | None = None,
        ids: IdSet | None = None,
    ) -> None:
        _require_file(path, "file")
        workbook = _open_workbook(path, path.name)
        self._workbooks = [workbook]
        try:
            table = _XlsxTable(workbook, path, path.name, sheet=sheet, header_row=header_row)
            comments: _Table | None = None
            if comments_file is not None:
                comments = _comment_table(
                    comments_file, comments_sheet, encoding, delimiter, self._workbooks
                )
            elif comments_sheet is not None:
                comments = _XlsxTable(workbook, path, path.name, sheet=comments_sheet, header_row=1)
            super().__init__(
                table,
                columns,
                name=name,
                comments=comments,
                comment_columns=comment_columns,
                timezone=timezone,
                markup=markup,
                page_size=page_size,
                since=since,
                ids=ids,
            )
        except BaseException:
            self.close()
            raise


_XLSX_SUFFIXES = (".xlsx", ".xlsm")


def _comment_table(
    path: Path, sheet: str | None, encoding: str, delimiter: str, workbooks: list[Workbook]
) -> _Table:
    """A separate comments file: a workbook by its suffix, CSV otherwise."""
    _require_file(path, "comments_file")
    if path.suffix.lower() in _XLSX_SUFFIXES:
        workbook = _open_workbook(path, path.name)
        workbooks.append(workbook)
        return _XlsxTable(workbook, path, path.name, sheet=sheet, header_row=1)
    return _CsvTable(path, path.name, encoding=encoding, delimiter=delimiter, header_row=1)


# --------------------------------------------------------------------------- config


def _string(section: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = section.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(
            f"[source] {key} must be a string, not {value!r}",
            where="[source]",
            remedy=f'write {key} = "..."',
        )
    return value


def _table_of_strings(section: Mapping[str, Any], key: str) -> dict[str, str] | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(
            f"[source.{key}] must map field names to column headers (strings)",
            where=f"[source.{key}]",
            remedy='write one line per field, e.g. title = "件名"',
        )
    return value


def from_config(
    section: dict[str, Any],
    base: Path,
    filters: Filters = EVERYTHING,
) -> CsvSource | XlsxSource:
    """Build the source from ``[source]``; paths are relative to the config (``base``).

    ``since`` keeps rows whose ``updated`` column (when mapped) or one of whose
    comments is at or after it; ``ids`` keeps the rows with those ids.
    """
    if filters.project is not None:
        raise no_projects("spreadsheet", filters.project)
    unknown = sorted(set(section) - _SECTION_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in [source]",
            where="[source]",
            remedy=f"use only {', '.join(sorted(_SECTION_KEYS))} (see docs/sources/spreadsheet.md)",
        )
    kind = section.get("type")
    if kind not in ("csv", "xlsx"):
        raise ConfigError(
            f"a spreadsheet source has type csv or xlsx, not {kind!r}",
            where="[source]",
            remedy='set type = "csv" or type = "xlsx"',
        )

    def path_of(key: str) -> Path | None:
        value = _string(section, key)
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    file = path_of("file")
    if file is None:
        raise ConfigError(
            f"[source] file is required for a {kind} source",
            where="[source]",
            remedy=f'add file = "bugs.{kind}" under [source]',
        )
    columns = _table_of_strings(section, "columns")
    if columns is None:
        raise ConfigError(
            "[source.columns] is required: which column holds which field",
            where="[source]",
            remedy='add [source.columns] with at least id = "..." and title = "..."',
        )
    header_row = section.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
        raise ConfigError(
            f"[source] header_row must be a positive integer, not {header_row!r}",
            where="[source]",
            remedy="set header_row = 1 (the row number of the headers, as Excel shows it)",
        )
    encoding = _string(section, "encoding", "auto") or "auto"
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(
                f"unknown encoding {encoding!r}",
                where="[source]",
                remedy='use "auto", "utf-8", "utf-8-sig", "cp932", "latin-1"...',
            ) from None
    delimiter = _string(section, "delimiter", ",") or ","
    if len(delimiter) != 1:
        raise ConfigError(
            f"[source] delimiter must be one character, not {delimiter!r}",
            where="[source]",
            remedy='write delimiter = "," or delimiter = "\\t" for tab-separated files',
        )
    comments_sheet = _string(section, "comments_sheet")
    comments_file = path_of("comments_file")
    if kind == "csv" and comments_sheet is not None and comments_file is None:
        raise ConfigError(
            "comments_sheet needs a workbook: a CSV source reads comments from comments_file",
            where="[source]",
            remedy='set comments_file = "comments.csv" (or an .xlsx with comments_sheet)',
        )
    common: dict[str, Any] = {
        "name": _string(section, "name"),
        "header_row": header_row,
        "encoding": encoding,
        "delimiter": delimiter,
        "comments_file": comments_file,
        "comments_sheet": comments_sheet,
        "comment_columns": _table_of_strings(section, "comment_columns"),
        "timezone": _string(section, "timezone", "UTC") or "UTC",
        "markup": _string(section, "markup", "plain") or "plain",
    }
    common |= {"since": filters.since, "ids": filters.ids}
    if kind == "csv":
        return CsvSource(file, columns, **common)
    return XlsxSource(file, columns, sheet=_string(section, "sheet"), **common)
