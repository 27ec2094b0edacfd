"""The keys of ``[source]`` for a CSV file or an Excel workbook (``type = "csv"`` or ``"xlsx"``)."""

from migrator.trackers.settings import Keys

SOURCE = Keys(
    "source",
    {
        "type": '"csv", or "xlsx" for an Excel workbook',
        "name": "origin keys are csv:NAME#ID; also the tickets' project (default: the file's stem)",
        "file": "the ticket list, relative to migration.toml",
        "sheet": "xlsx: the sheet holding the tickets (default: the first)",
        "header_row": "the row holding the headers, as Excel numbers rows",
        "encoding": 'CSV: "auto" (UTF-8, UTF-16, Shift_JIS/CP932) or a codec name',
        "delimiter": 'CSV: one character; "\\t" for tab-separated files',
        "timezone": "IANA zone of times written without an offset",
        "markup": "what descriptions and comments are written in",
        "columns": "which column holds which canonical field (id and title required)",
        "comments_file": "comments, one row each, in a CSV file or a workbook",
        "comments_sheet": "xlsx: the sheet holding the comments",
        "comment_columns": "which column holds which comment field (ticket and body required)",
    },
    docs="docs/sources/spreadsheet.md",
)
