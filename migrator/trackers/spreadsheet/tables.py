"""Reading a bug list's rows: CSV files and Excel sheets as tables of text cells.

CSV is read through :mod:`csv` after its encoding is found (UTF-8 with or
without BOM, UTF-16, Shift_JIS/CP932, Latin-1); a workbook through openpyxl's
read-only mode, so memory stays flat however long the sheet is.  Errors name
the file, the row and (for bytes that do not decode) the column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from migrator.errors import SourceError

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

# A cell as read: text, or a date-time from an Excel date cell (naive, local time).
Cell = str | datetime

DATE_FORMATS = "ISO 8601 (2024-03-01T09:30:00+09:00), YYYY/MM/DD[ HH:MM[:SS]] or an Excel date cell"

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


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def cell_text(cell: Cell) -> str:
    if isinstance(cell, datetime):
        if cell.time() == time(0) and cell.tzinfo is None:
            return cell.date().isoformat()
        return cell.isoformat(sep=" ")
    return cell


def row_texts(row: Row) -> list[str]:
    return [c if isinstance(c, str) else cell_text(c) for c in row.cells]


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
class Row:
    number: int  # the spreadsheet's row number: the header row counts, 1-based
    line: int | None  # CSV only: physical line where the record starts
    cells: list[Cell]


class Table(Protocol):
    """A header and the data rows below it, one sheet or one CSV file."""

    label: str  # what error messages call it: "bugs.csv", "bugs.xlsx [Bugs]"
    path: Path
    header_row: int
    headers: list[str]

    def rows(self) -> Iterator[Row]:
        """Non-empty data rows, in file order; a fresh pass on every call."""
        ...

    def declared_rows(self) -> int | None: ...

    def describe(self) -> str: ...


def _headers(cells: list[Cell], label: str, row: int) -> list[str]:
    """Header texts, stripped; blank headers are named after their column letter."""
    headers: list[str] = []
    first: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = cell_text(cell).strip().lstrip("\ufeff").strip()
        if not name:
            name = f"column {column_letter(i)}"
        if name in first:
            raise SourceError(
                f"two columns are headed {name!r} "
                f"({column_letter(first[name])} and {column_letter(i)})",
                where=f"{label}, row {row}",
                remedy="rename one of them so every header is unique",
            )
        first[name] = i
        headers.append(name)
    return headers


def where(label: str, row: Row) -> str:
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
    column = column_letter(index)
    if row != header_row and index < len(headers) and headers[index]:
        column = f"{headers[index]!r} ({column})"
    return _DecodeProblem(line, row, column, data[start : max(end, start + 1)])


class CsvTable:
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

    def _records(self) -> Generator[Row, None, None]:
        with self.path.open("r", encoding=self.encoding, errors="strict", newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter, strict=True)
            number, line = 0, 1
            try:
                for cells in reader:
                    number += 1
                    yield Row(number, line, list(cells))
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

    def rows(self) -> Iterator[Row]:
        width = len(self.headers)
        for row in self._records():
            if row.number > self.header_row and not _is_empty(row.cells):
                _padded(row.cells, width)
                yield row

    def declared_rows(self) -> int | None:
        return sum(1 for _ in self.rows())


class XlsxTable:
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

    def rows(self) -> Iterator[Row]:
        start, width = self.header_row + 1, len(self.headers)
        for number, values in enumerate(self._ws.iter_rows(min_row=start, values_only=True), start):
            cells = [_xlsx_value(v) for v in values]
            if not _is_empty(cells):
                yield Row(number, None, _padded(cells, width))

    def declared_rows(self) -> int | None:
        return self._declared


def open_workbook(path: Path, label: str) -> Workbook:
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


def require_file(path: Path, key: str) -> None:
    if not path.is_file():
        raise SourceError(
            f"file {path} not found",
            remedy=f"check {key} under [source]; a relative path is relative to the config file",
        )


def files_fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()[:16]


_XLSX_SUFFIXES = (".xlsx", ".xlsm")


def comment_table(
    path: Path, sheet: str | None, encoding: str, delimiter: str, workbooks: list[Workbook]
) -> Table:
    """A separate comments file: a workbook by its suffix, CSV otherwise."""
    require_file(path, "comments_file")
    if path.suffix.lower() in _XLSX_SUFFIXES:
        workbook = open_workbook(path, path.name)
        workbooks.append(workbook)
        return XlsxTable(workbook, path, path.name, sheet=sheet, header_row=1)
    return CsvTable(path, path.name, encoding=encoding, delimiter=delimiter, header_row=1)
