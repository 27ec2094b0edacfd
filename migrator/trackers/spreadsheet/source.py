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
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrator.errors import ConfigError, SourceError
from migrator.model import Comment, Ticket, iso, parse_iso
from migrator.staging.blobs import BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, IdSet, no_projects
from migrator.trackers.protocols import Page
from migrator.trackers.spreadsheet.config import SOURCE
from migrator.trackers.spreadsheet.tables import (
    DATE_FORMATS,
    CsvTable,
    Row,
    Table,
    XlsxTable,
    cell_text,
    column_letter,
    comment_table,
    detect_encoding,
    files_fingerprint,
    open_workbook,
    parse_datetime,
    require_file,
    row_texts,
    where,
)

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


def _indexes(
    table: Table, columns: Mapping[str, str], fields: tuple[str, ...], section: str
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
    """What a CSV file and an Excel sheet share: rows to tickets, comments, paging.

    A subclass only opens its file: the ticket table (:meth:`_table`) and, in a
    workbook, a sheet of comments (:meth:`_comments_sheet`).  ``sheet`` and
    ``comments_sheet`` name sheets, so a CSV file reads its tickets from the file
    itself and its comments from ``comments_file`` only.
    """

    kind = "spreadsheet"

    def __init__(
        self,
        path: Path,
        columns: Mapping[str, str],
        *,
        name: str | None = None,
        sheet: str | None = None,
        header_row: int = 1,
        encoding: str = "auto",
        delimiter: str = ",",
        comments_file: Path | None = None,
        comments_sheet: str | None = None,
        comment_columns: Mapping[str, str] | None = None,
        timezone: str = "UTC",
        markup: str = "plain",
        page_size: int = PAGE_SIZE,
        since: datetime | None = None,
        ids: IdSet | None = None,
    ) -> None:
        require_file(path, "file")
        self._workbooks: list[Workbook] = []  # what close() closes, after any error below too
        try:
            table = self._table(path, sheet, header_row, encoding, delimiter)
            comments = (
                comment_table(comments_file, comments_sheet, encoding, delimiter, self._workbooks)
                if comments_file is not None
                else self._comments_sheet(table, comments_sheet)
            )
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
        except BaseException:
            self.close()
            raise

    def _table(
        self, path: Path, sheet: str | None, header_row: int, encoding: str, delimiter: str
    ) -> Table:
        """The ticket table of the file at ``path``."""
        raise NotImplementedError

    def _comments_sheet(self, table: Table, sheet: str | None) -> Table | None:
        """Comments on a sheet of the tickets' own file: only a workbook has sheets."""
        return None

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

    def _selected(self, row: Row, tid: str, comments: list[_CommentRow]) -> bool:
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
        fingerprint = files_fingerprint(files)
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
            tid = cell_text(row.cells[id_column]).strip()
            if not tid:
                raise SourceError(
                    f"empty ticket id in column {self.table.headers[id_column]!r}",
                    where=where(self.table.label, row),
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
    def _raw(table: Table, row: Row, texts: list[str]) -> dict[str, Any]:
        cells = dict(zip(table.headers, texts, strict=False))
        for i in range(len(table.headers), len(texts)):
            if texts[i].strip():
                cells[f"column {column_letter(i)}"] = texts[i]
        return {"row": row.number, "cells": cells}

    def _time(self, table: Table, row: Row, index: int) -> str:
        value = row.cells[index]
        try:
            parsed = parse_datetime(value, self.tz)
        except ValueError:
            raise SourceError(
                f"cannot read {cell_text(value)!r} in column {table.headers[index]!r} as a date",
                where=where(table.label, row),
                remedy=f"write it as {DATE_FORMATS}",
            ) from None
        return iso(parsed) or ""

    def _ticket(self, row: Row, tid: str, comments: list[_CommentRow]) -> tuple[Ticket, Any]:
        texts = row_texts(row)
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
                custom[f"column {column_letter(index)}"] = text
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
            texts = row_texts(row)
            tid = texts[idx["ticket"]].strip()
            if not tid:
                raise SourceError(
                    f"empty ticket id in column {table.headers[idx['ticket']]!r}",
                    where=where(table.label, row),
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

    def _table(
        self, path: Path, sheet: str | None, header_row: int, encoding: str, delimiter: str
    ) -> Table:
        return CsvTable(
            path, path.name, encoding=encoding, delimiter=delimiter, header_row=header_row
        )


class XlsxSource(SpreadsheetSource):
    """An Excel workbook, read in openpyxl's streaming (read-only) mode."""

    kind = "xlsx"

    def _table(
        self, path: Path, sheet: str | None, header_row: int, encoding: str, delimiter: str
    ) -> Table:
        self._workbooks.append(open_workbook(path, path.name))
        return XlsxTable(self._workbooks[0], path, path.name, sheet=sheet, header_row=header_row)

    def _comments_sheet(self, table: Table, sheet: str | None) -> Table | None:
        if sheet is None:
            return None
        return XlsxTable(self._workbooks[0], table.path, table.path.name, sheet=sheet, header_row=1)


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
    SOURCE.refuse_unknown(section)
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


__all__ = [
    "CsvSource",
    "SpreadsheetSource",
    "XlsxSource",
    "detect_encoding",
    "from_config",
    "parse_datetime",
]
