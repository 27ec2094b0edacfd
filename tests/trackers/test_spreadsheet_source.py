"""The CSV and Excel sources against files written from the fixture dataset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fixtures.generate import counts, is_comment
from fixtures.spreadsheets import (
    COMMENT_COLUMNS,
    TICKET_COLUMNS,
    UNMAPPED,
    VARIANTS,
    Variant,
    section,
    utc,
    write,
)
from migrator.errors import ConfigError, SourceError
from migrator.model import Ticket, iso
from migrator.staging.blobs import BlobStore
from migrator.trackers.spreadsheet.source import (
    CsvSource,
    SpreadsheetSource,
    XlsxSource,
    detect_encoding,
    from_config,
    parse_datetime,
)

NAMES = list(VARIANTS)
CSV_NAMES = [n for n in NAMES if VARIANTS[n].kind == "csv"]
MINIMAL = {"id": "No.", "title": "件名"}


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    folder = tmp_path_factory.mktemp("sheets")
    write(folder, dataset)
    return folder


def read(source: SpreadsheetSource, checkpoint: str | None = None) -> list[tuple[Ticket, Any]]:
    try:
        blobs = BlobStore(Path("unused-blobs"))  # spreadsheets have no attachments
        return [item for page in source.pages(checkpoint, blobs) for item in page.items]
    finally:
        source.close()


def tickets(source: SpreadsheetSource) -> list[Ticket]:
    return [t for t, _ in read(source)]


def open_variant(sheets: Path, name: str, **changes: Any) -> CsvSource | XlsxSource:
    return from_config(section(VARIANTS[name]) | changes, sheets)


def as_written(text: str, variant: Variant) -> str:
    """What survives the file: Excel writes "?" for what CP932 cannot hold."""
    if variant.encoding == "cp932":
        return text.encode("cp932", "replace").decode("cp932")
    return text


def expected_time(us: int, variant: Variant) -> str:
    return iso(utc(us - us % variant.precision)) or ""


def csv_file(tmp_path: Path, text: str, name: str = "bugs.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def error_text(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# ----------------------------------------------------------------- the dataset


@pytest.mark.parametrize("name", NAMES)
def test_counts_match_the_dataset(sheets: Path, dataset: dict[str, Any], name: str) -> None:
    source = open_variant(sheets, name)
    assert source.count() == len(dataset["tickets"])
    found = tickets(source)
    expected = counts(dataset)
    assert len(found) == expected["tickets"]
    assert sum(len(t.comments) for t in found) == expected["comments"]
    for status, n in expected["status"].items():
        assert sum(t.status == status for t in found) == n, status


@pytest.mark.parametrize("name", NAMES)
def test_every_field_round_trips(sheets: Path, dataset: dict[str, Any], name: str) -> None:
    variant = VARIANTS[name]
    by_id = {t.source_id: t for t in tickets(open_variant(sheets, name))}
    for raw in dataset["tickets"]:
        t = by_id[str(raw["id"])]
        assert t.origin == f"{variant.kind}:bugs#{raw['id']}"
        assert t.project == "bugs"
        assert t.title == as_written(raw["summary"], variant)
        assert t.description == as_written(raw["description"], variant)  # CRLF included
        assert (t.type, t.status, t.priority) == (raw["type"], raw["status"], raw["priority"])
        assert t.resolution == (raw["resolution"] or None)
        assert (t.reporter, t.assignee) == (raw["reporter"] or None, raw["owner"] or None)
        assert t.watchers == (re.split(r"[,\s]+", raw["cc"]) if raw["cc"] else [])
        assert t.created == expected_time(raw["time"], variant)
        assert t.updated == expected_time(raw["changetime"], variant)
        assert (t.milestone, t.version) == (raw["milestone"] or None, raw["version"] or None)
        assert t.components == ([raw["component"]] if raw["component"] else [])
        assert t.labels == raw["keywords"].split()
        assert t.custom == {
            header: as_written(raw["custom"][field], variant)
            for field, header in UNMAPPED.items()
            if raw["custom"].get(field)
        }
        wanted = [c for c in raw["changes"] if is_comment(c)]
        assert [c.body for c in t.comments] == [as_written(c["newvalue"], variant) for c in wanted]
        assert [c.author for c in t.comments] == [c["author"] for c in wanted]
        assert [c.time for c in t.comments] == [expected_time(c["time"], variant) for c in wanted]


@pytest.mark.parametrize("name", NAMES)
def test_japanese_text_is_byte_exact(sheets: Path, name: str) -> None:
    found = tickets(open_variant(sheets, name))
    titles = [t.title.encode("utf-8") for t in found]
    assert "ログイン画面でエラーが発生する".encode() in titles
    assert any("[認証] " in t.title for t in found)
    assert any(t.components == ["認証"] for t in found)
    assert any(c.body == "再現しました。" for t in found for c in t.comments)
    emoji = any("🐛" in t.title + t.description for t in found)
    assert emoji is (VARIANTS[name].encoding != "cp932")  # CP932 has no emoji: Excel wrote "?"


def test_cp932_is_detected_with_auto_encoding(sheets: Path) -> None:
    path = sheets / VARIANTS["cp932"].file
    assert detect_encoding(path) == "cp932"
    source = CsvSource(path, TICKET_COLUMNS, encoding="auto", timezone="Asia/Tokyo")
    assert "cp932 detected" in source.describe()
    assert any(t.title == "ログイン画面でエラーが発生する" for t in tickets(source))


@pytest.mark.parametrize(("name", "encoding"), [("utf8", "utf-8"), ("utf8-bom", "utf-8-sig")])
def test_utf8_with_and_without_bom_is_detected(sheets: Path, name: str, encoding: str) -> None:
    assert detect_encoding(sheets / VARIANTS[name].file) == encoding


def test_excel_unicode_text_is_detected(tmp_path: Path) -> None:
    """Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated."""
    path = csv_file(tmp_path, "\ufeffNo.\t件名\r\n1\t文字化け 🐛\r\n", "bugs.txt", "utf-16-le")
    assert detect_encoding(path) == "utf-16"
    (ticket,) = tickets(CsvSource(path, MINIMAL, delimiter="\t"))
    assert ticket.title == "文字化け 🐛"


def test_header_row_below_a_title(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "不具合一覧,,\n\nNo.,件名\n1,a\n")
    source = CsvSource(path, MINIMAL, header_row=3)
    ((ticket, raw),) = read(source)
    assert (ticket.source_id, ticket.title, raw["row"]) == ("1", "a", 4)


def test_workbook_with_comments_in_a_csv(sheets: Path, dataset: dict[str, Any]) -> None:
    source = XlsxSource(
        sheets / "bugs.xlsx",
        TICKET_COLUMNS,
        sheet="Bugs",
        header_row=3,
        comments_file=sheets / "comments-utf8.csv",
        comment_columns=COMMENT_COLUMNS,
        timezone="Asia/Tokyo",
    )
    assert source.describe().endswith("sheet 'Bugs'; comments from comments-utf8.csv")
    found = tickets(source)
    assert sum(len(t.comments) for t in found) == counts(dataset)["comments"]


def test_explicit_encoding_is_used(sheets: Path, dataset: dict[str, Any]) -> None:
    source = open_variant(sheets, "cp932", encoding="cp932")
    assert "cp932 configured" in source.describe()
    assert len(tickets(source)) == len(dataset["tickets"])


def test_raw_record_is_the_row_as_text(sheets: Path, dataset: dict[str, Any]) -> None:
    first = dataset["tickets"][0]
    ticket, raw = read(open_variant(sheets, "xlsx"))[0]
    assert raw["row"] == 4  # title row, blank row, header row
    assert raw["cells"]["No."] == str(first["id"])
    assert raw["cells"]["件名"] == first["summary"]
    local = utc(first["time"]).astimezone(ZoneInfo("Asia/Tokyo")).replace(microsecond=0)
    assert raw["cells"]["登録日"] == local.replace(tzinfo=None).isoformat(sep=" ")  # a date cell
    assert set(raw["cells"]) == set(TICKET_COLUMNS.values()) | set(UNMAPPED.values())
    assert [c["cells"]["コメント"] for c in raw["comments"]] == [c.body for c in ticket.comments]


# ------------------------------------------------------------------ behaviours


def test_unmapped_columns_become_custom_fields(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "No.,件名,顧客,備考,\r\n1,件名A,株式会社サンプル,  要確認  ,\r\n2,件名B,,,余分\r\n",
    )
    first, second = tickets(CsvSource(path, MINIMAL))
    assert first.custom == {"顧客": "株式会社サンプル", "備考": "要確認"}
    assert second.custom == {"column E": "余分"}  # blank header: named after its column


def test_a_cell_right_of_the_last_header_is_kept(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a,stray\n")
    ((ticket, raw),) = read(CsvSource(path, MINIMAL))
    assert ticket.custom == {"column C": "stray"}
    assert raw["cells"]["column C"] == "stray"


def test_quoted_multiline_cells_and_a_tab_delimiter(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        'No.\t件名\t詳細\n1\t"タブ\tと ""引用符"""\t"一行目\r\n二行目\n"\n2\tb\t\n',
        "bugs.tsv",
    )
    first, second = tickets(CsvSource(path, MINIMAL | {"description": "詳細"}, delimiter="\t"))
    assert first.title == 'タブ\tと "引用符"'
    assert first.description == "一行目\r\n二行目\n"
    assert (second.source_id, second.description) == ("2", "")


def test_lists_and_people_are_split(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        'No.,件名,部品,タグ,CC\n1,a,"user interface; 認証",regression、 ux,"alice bob;carol"\n',
    )
    columns = MINIMAL | {"components": "部品", "labels": "タグ", "watchers": "CC"}
    (ticket,) = tickets(CsvSource(path, columns))
    assert ticket.components == ["user interface", "認証"]
    assert ticket.labels == ["regression", "ux"]
    assert ticket.watchers == ["alice", "bob", "carol"]


def test_parent_and_markup(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名,親\n1,a,\n2,b,1\n")
    first, second = tickets(
        CsvSource(path, MINIMAL | {"parent": "親"}, name="qa", markup="textile")
    )
    assert (first.parent, second.parent) == (None, "csv:qa#1")
    assert second.origin == "csv:qa#2" and second.markup == "textile"


def test_comments_are_ordered_by_time_then_row(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n2,b\n")
    comments = csv_file(
        tmp_path,
        "チケット,日時,本文,投稿者\n"
        "1,2024/03/02 10:00,third,bob\n"
        "1,2024-03-01T10:00:00+09:00,first,alice\n"
        "2,,untimed,\n"
        "1,2024/03/02 10:00,fourth,carol\n"
        "1,,  ,carol\n"  # no text: not a comment
        "1,2024/3/1 12:30,second,alice\n",
        "comments.csv",
    )
    source = CsvSource(
        path,
        MINIMAL,
        comments_file=comments,
        comment_columns={"ticket": "チケット", "time": "日時", "body": "本文", "author": "投稿者"},
        timezone="Asia/Tokyo",
    )
    first, second = tickets(source)
    assert [c.body for c in first.comments] == ["first", "second", "third", "fourth"]
    assert [c.id for c in first.comments] == ["1", "2", "3", "4"]
    assert first.comments[0].time == "2024-03-01T01:00:00Z"
    assert first.comments[1].time == "2024-03-01T03:30:00Z"
    assert [(c.body, c.author, c.time) for c in second.comments] == [("untimed", "anonymous", "")]


def test_resumes_after_a_checkpoint(sheets: Path) -> None:
    variant = VARIANTS["xlsx"]
    path = sheets / variant.file

    def source() -> XlsxSource:
        return XlsxSource(path, TICKET_COLUMNS, sheet="Bugs", header_row=3, page_size=50)

    first_source = source()
    try:
        first = next(first_source.pages(None, BlobStore(Path("unused"))))
    finally:
        first_source.close()
    assert [t.source_id for t, _ in first.items] == [str(n) for n in range(1, 51)]
    assert first.checkpoint.startswith("50@")
    rest = [t.source_id for t, _ in read(source(), first.checkpoint)]
    assert rest == [str(n) for n in range(51, 201)]


def test_a_changed_file_restarts_from_the_first_row(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n2,b\n3,c\n")
    source = CsvSource(path, MINIMAL, page_size=2)
    checkpoint = next(source.pages(None, BlobStore(tmp_path))).checkpoint
    assert [t.source_id for t, _ in read(source, checkpoint)] == ["3"]
    path.write_text("No.,件名\n0,new\n1,a\n2,b\n3,c\n", encoding="utf-8")
    resumed = [t.source_id for t, _ in read(CsvSource(path, MINIMAL, page_size=2), checkpoint)]
    assert resumed == ["0", "1", "2", "3"]


def test_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n\n1,a\n,\n , \n2,b\n")
    source = CsvSource(path, MINIMAL)
    assert source.count() == 2
    assert [t.source_id for t in tickets(source)] == ["1", "2"]


def test_paths_are_relative_to_the_config(sheets: Path) -> None:
    config = section(VARIANTS["utf8"]) | {"file": "../bugs-utf8.csv"}
    config["comments_file"] = str(sheets / "comments-utf8.csv")  # absolute works too
    (sheets / "elsewhere").mkdir(exist_ok=True)
    source = from_config(config, sheets / "elsewhere")
    assert isinstance(source, CsvSource)
    assert len(tickets(source)) == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T09:30:00+09:00", "2024-03-01T00:30:00Z"),
        ("2024-03-01T00:30:00Z", "2024-03-01T00:30:00Z"),
        ("2024-03-01 09:30", "2024-03-01T00:30:00Z"),
        ("2024-03-01", "2024-02-29T15:00:00Z"),
        ("2024/03/01 09:30:15", "2024-03-01T00:30:15Z"),
        ("2024/3/1 9:30", "2024-03-01T00:30:00Z"),
        ("2024/3/1", "2024-02-29T15:00:00Z"),
        ("2024/03/01 09:30:15.25", "2024-03-01T00:30:15.250000Z"),
        (" 2024-03-01T09:30:00.123456 ", "2024-03-01T00:30:00.123456Z"),
    ],
)
def test_date_formats(text: str, expected: str) -> None:
    assert iso(parse_datetime(text, ZoneInfo("Asia/Tokyo"))) == expected


def test_excel_date_cells_and_empty_dates() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    assert iso(parse_datetime(datetime(2024, 3, 1, 9, 30), tz)) == "2024-03-01T00:30:00Z"
    aware = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_datetime(aware, tz) == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert parse_datetime("  ", tz) is None
    for bad in ("yesterday", "2024/13/01", "01/03/2024"):
        with pytest.raises(ValueError):
            parse_datetime(bad, tz)


def test_fixture_files_are_deterministic(tmp_path: Path, dataset: dict[str, Any]) -> None:
    one = write(tmp_path / "one", dataset)
    two = write(tmp_path / "two", dataset)
    for name in one:
        assert one[name].read_bytes() == two[name].read_bytes(), name
    assert (tmp_path / "one" / "comments-cp932.csv").read_bytes() == (
        tmp_path / "two" / "comments-cp932.csv"
    ).read_bytes()


# ---------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        from_config({"type": "csv", "file": "nope.csv", "columns": MINIMAL}, tmp_path)
    assert f"file {tmp_path / 'nope.csv'} not found" in error_text(exc)
    assert "relative to the config file" in error_text(exc)


def test_missing_comments_file(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n")
    with pytest.raises(SourceError, match=r"comments\.csv not found"):
        CsvSource(
            path,
            MINIMAL,
            comments_file=tmp_path / "comments.csv",
            comment_columns={"ticket": "No.", "body": "本文"},
        )


def test_missing_required_column_lists_the_headers(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,Subject,Status\n1,a,new\n")
    with pytest.raises(SourceError) as exc:
        CsvSource(path, MINIMAL)
    assert error_text(exc) == (
        "bugs.csv, row 1: column '件名' (mapped to title in [source.columns]) not found; "
        "headers found: No., Subject, Status — set title under [source.columns] to one of "
        "the headers found, or header_row to the row that holds the headers"
    )


def test_id_and_title_must_be_mapped(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n")
    with pytest.raises(ConfigError, match=r"\[source.columns\] must map title"):
        CsvSource(path, {"id": "No."})
    with pytest.raises(ConfigError, match=r"must map id and title"):
        from_config({"type": "csv", "file": "bugs.csv", "columns": {}}, tmp_path)


def test_unknown_field_in_columns(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n")
    with pytest.raises(ConfigError) as exc:
        CsvSource(path, MINIMAL | {"titel": "件名", "owner": "担当"})
    assert "unknown field(s) owner, titel in [source.columns]" in error_text(exc)
    assert "custom.<header>" in error_text(exc)


def test_mapped_column_missing_from_the_file(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名,状態\n1,a,new\n")
    with pytest.raises(SourceError) as exc:
        CsvSource(path, MINIMAL | {"status": "ステータス"})
    assert "column 'ステータス' (mapped to status in [source.columns]) not found" in error_text(exc)
    assert "headers found: No., 件名, 状態" in error_text(exc)


def test_duplicate_ticket_id_names_both_rows(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'No.,件名\n7,a\n8,"two\nlines"\n7,c\n')
    with pytest.raises(SourceError) as exc:
        read(CsvSource(path, MINIMAL))
    assert error_text(exc).startswith(
        "bugs.csv: duplicate ticket id '7' on rows 2 and 4 — ids must be unique"
    )


def test_empty_id(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n,orphan row\n")
    with pytest.raises(SourceError) as exc:
        read(CsvSource(path, MINIMAL))
    assert error_text(exc).startswith("bugs.csv, row 3: empty ticket id in column 'No.'")


def test_unparseable_date(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'No.,件名,登録日\n1,"a\nb",2024/01/02\n2,b,2024年1月2日\n')
    with pytest.raises(SourceError) as exc:
        read(CsvSource(path, MINIMAL | {"created": "登録日"}))
    assert error_text(exc).startswith(
        "bugs.csv, row 3 (line 4): cannot read '2024年1月2日' in column '登録日' as a date — "
        "write it as ISO 8601"
    )


def test_unparseable_comment_date(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n")
    comments = csv_file(tmp_path, "No.,日時,本文\n1,soon,text\n", "comments.csv")
    source = CsvSource(
        path,
        MINIMAL,
        comments_file=comments,
        comment_columns={"ticket": "No.", "time": "日時", "body": "本文"},
    )
    with pytest.raises(SourceError, match=r"^comments.csv, row 2: cannot read 'soon' in column"):
        read(source)


def test_undecodable_bytes_with_an_explicit_encoding(tmp_path: Path) -> None:
    body = 'No.,件名,詳細\r\n1,ok,"two\r\nlines"\r\n2,'.encode() + "文字化け".encode("cp932")
    path = tmp_path / "bugs.csv"
    path.write_bytes(body + b",x\r\n")
    with pytest.raises(SourceError) as exc:
        read(CsvSource(path, MINIMAL, encoding="utf-8"))
    assert error_text(exc).startswith(
        "bugs.csv, line 4 (row 3): cannot decode bytes 95 as utf-8 in column '件名' (B) — "
        "save the file as utf-8, or set encoding"
    )


def test_latin1_is_never_guessed(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "id,title\n1,Café crème\n2,Müller été\n", encoding="latin-1")
    assert detect_encoding(path) is None
    with pytest.raises(SourceError) as exc:
        CsvSource(path, {"id": "id", "title": "title"})
    assert error_text(exc).startswith(
        "bugs.csv: cannot tell the encoding: not UTF-8 (first bad bytes at line 2 (row 2), "
        "column 'title' (B): bytes e9) and not Japanese Shift_JIS/CP932"
    )
    assert 'set encoding = "..."' in error_text(exc)
    source = CsvSource(path, {"id": "id", "title": "title"}, encoding="latin-1")
    assert [t.title for t in tickets(source)] == ["Café crème", "Müller été"]


def test_malformed_csv(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'No.,件名\n1,"never closed\n2,b\n')
    with pytest.raises(SourceError, match=r"^bugs.csv, line 3: malformed CSV"):
        read(CsvSource(path, MINIMAL))


def test_duplicate_headers(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名,状態,件名\n1,a,b,c\n")
    with pytest.raises(SourceError, match=r"row 1: two columns are headed '件名' \(B and D\)"):
        CsvSource(path, MINIMAL)


def test_header_row_beyond_the_end(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n")
    with pytest.raises(SourceError, match="fewer than 5 rows"):
        CsvSource(path, MINIMAL, header_row=5)


def test_comment_for_an_unknown_ticket(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n2,b\n")
    comments = csv_file(tmp_path, "No.,本文\n1,fine\n9,lost\n", "comments.csv")
    source = CsvSource(
        path,
        MINIMAL,
        comments_file=comments,
        comment_columns={"ticket": "No.", "body": "本文"},
        page_size=1,
    )
    pages = source.pages(None, BlobStore(tmp_path))
    assert [t.source_id for t, _ in next(pages).items] == ["1"]
    with pytest.raises(SourceError) as exc:
        next(pages)  # the last page, full or not, comes after the check
    assert error_text(exc).startswith(
        "comments.csv, row 3: 1 ticket id(s) in the comments are not in bugs.csv: 9"
    )


def test_missing_sheet(sheets: Path) -> None:
    with pytest.raises(SourceError) as exc:
        open_variant(sheets, "xlsx", sheet="Tickets")
    assert error_text(exc).startswith(
        "bugs.xlsx: no sheet 'Tickets'; the workbook has: Bugs, Comments"
    )


def test_not_a_workbook(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "No.,件名\n1,a\n", "bugs.xlsx")
    with pytest.raises(SourceError, match="cannot open as an Excel workbook"):
        XlsxSource(path, MINIMAL)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"delimeter": ";"}, "unknown key(s) delimeter in [source]"),
        ({"type": "ods"}, "type csv or xlsx, not 'ods'"),
        ({"file": None}, "[source] file is required"),
        ({"columns": None}, "[source.columns] is required"),
        ({"columns": {"id": 1}}, "must map field names to column headers"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"delimiter": ";;"}, "delimiter must be one character"),
        ({"header_row": 0}, "header_row must be a positive integer"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"comments_sheet": "Comments", "comments_file": None}, "comments_sheet needs a workbook"),
        ({"comments_file": None}, "[source.comment_columns] is set but no comments_file"),
        ({"comment_columns": None}, "[source.comment_columns] is missing"),
        ({"comment_columns": {"ticket": "チケットNo."}}, "must map body"),
        ({"comment_columns": COMMENT_COLUMNS | {"who": "x"}}, "unknown field(s) who"),
    ],
)
def test_config_errors(sheets: Path, changes: dict[str, Any], message: str) -> None:
    config = {k: v for k, v in (section(VARIANTS["utf8"]) | changes).items() if v is not None}
    with pytest.raises(ConfigError) as exc:
        from_config(config, sheets)
    assert message in error_text(exc)
