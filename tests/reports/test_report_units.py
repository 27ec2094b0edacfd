"""The report's building blocks, on staging databases made for each case."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from migrator.errors import ConfigError
from migrator.reports import FORMATS, LANGS, build, write_reports
from migrator.reports.formats import _sheet_name, csv_value, md_text
from migrator.reports.labels import CATALOGS
from migrator.reports.reconciliation import excerpts, safe_base_url, scrub, source_link
from migrator.reports.tables import SECTIONS, Table, build_tables, field_label, human_size
from migrator.staging import Staging
from migrator.staging import schema as s


@pytest.fixture
def staging(tmp_path: Path) -> Staging:
    st = Staging(f"sqlite:///{tmp_path / 'staging.sqlite'}")
    yield st  # type: ignore[misc]
    st.close()


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_label_exists_in_every_language_with_the_same_placeholders() -> None:
    en = CATALOGS["en"]
    assert set(LANGS) == set(CATALOGS)
    for lang, labels in CATALOGS.items():
        assert labels.keys() == en.keys(), lang
        for key, text in labels.items():
            assert _fields(text) == _fields(en[key]), (lang, key)
    # Every section and table the renderers ask for has a label.
    for section, names in SECTIONS:
        assert section in en and all(n in en for n in names)


def test_markdown_cells_cannot_open_markup_or_break_the_row() -> None:
    assert md_text("a|b") == r"a\|b"
    assert md_text("one\r\ntwo\nthree") == "one<br>two<br>three"
    assert md_text("<script>&") == "&lt;script&gt;&amp;"
    assert md_text("[x](javascript:alert(1)) `c` *b* _i_ ~s~") == (
        r"\[x\](javascript:alert(1)) \`c\` \*b\* \_i\_ \~s\~"
    )
    assert md_text("back\\slash") == "back\\\\slash"
    assert md_text(None) == "" and md_text(12) == "12"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_csv_cells_that_excel_would_evaluate_are_quoted(text: str) -> None:
    assert csv_value(text) == "'" + text


def test_csv_keeps_numbers_and_plain_text() -> None:
    assert csv_value(5) == 5 and csv_value(2.5) == 2.5
    assert csv_value(None) == "" and csv_value("日本語") == "日本語"
    assert csv_value("a=1") == "a=1"


def test_links_never_carry_credentials_or_other_schemes() -> None:
    assert safe_base_url("https://u:p@redmine.example.com/base/?key=1#x") == (
        "https://redmine.example.com/base"
    )
    assert safe_base_url("HTTP://host:8080/") == "http://host:8080"
    assert safe_base_url("http://[::1]:3000") == "http://[::1]:3000"
    assert safe_base_url("http://host/a b<c>") == "http://host/a%20b%3Cc%3E"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "ftp://host", "", None, "host"):
        assert safe_base_url(bad) is None
    assert source_link("https://t.example/core", "trac:core#7", "7") == (
        "https://t.example/core/ticket/7"
    )
    assert source_link("https://t.example", "spreadsheet:bugs#3", "3") is None
    assert source_link(None, "trac:core#7", "7") is None


def test_error_texts_lose_credentials_they_may_carry() -> None:
    text = scrub(
        "GET https://admin:s3cret@host/issues.json?key=abc123&limit=1 failed; "
        "X-Redmine-API-Key: abc123; Authorization: Bearer tok; password=pw token=t"
    )
    for secret in ("s3cret", "abc123", "Bearer tok", "pw", "=t"):
        assert secret not in text.replace("***", ""), secret
    assert "limit=1" in text
    assert scrub("onerror=alert(1) <img src=x>") == "onerror=alert(1) <img src=x>"


def test_long_differences_are_shown_around_their_first_difference() -> None:
    assert excerpts("short", "shirt") == ("short", "shirt")
    head = "_Migrated from trac:core#1 · originally by alice_ " * 10
    a, b = excerpts(head + "expected tail", head + "actual tail")
    assert a.startswith("…") and "expected tail" in a
    assert b.startswith("…") and "actual tail" in b
    assert len(a) <= 162


def test_field_labels_and_sizes() -> None:
    ja = CATALOGS["ja"]
    assert field_label(ja, "comment 3") == "コメント 3"
    assert field_label(ja, "attachment a|b.png") == "添付ファイル a|b.png"
    assert field_label(CATALOGS["en"], "status") == "status"
    assert field_label(ja, "something new") == "something new"
    assert human_size(512) == "512 B" and human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024**3) == "5.0 GiB"


def test_sheet_names_are_valid_and_unique() -> None:
    used: set[str] = set()
    names = [_sheet_name("a/b:c*d?[e]" * 5, used) for _ in range(3)]
    assert len(set(names)) == 3
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


def test_grouped_rows_span_their_group() -> None:
    rows = [{"o": "a"}, {"o": "a"}, {"o": "b"}, {"o": "a"}]
    assert Table("t", "T", [], rows, group="o").spans() == [2, 0, 1, 1]
    assert Table("t", "T", [], rows).spans() == [1, 1, 1, 1]


def test_an_empty_staging_gives_a_complete_report(staging: Staging, tmp_path: Path) -> None:
    data = build(staging)
    assert data["summary"]["verdict"] == "no_plan"
    assert data["plan"] is None and data["differences"] == [] and data["timeline"] == []
    for lang in LANGS:
        written = write_reports(data, tmp_path / lang, FORMATS, lang)
        assert {p.suffix for p in written} == {".html", ".xlsx", ".md", ".csv", ".json"}
        md = (tmp_path / lang / "reconciliation.md").read_text("utf-8")
        assert md.count("\n## ") == len(SECTIONS)
    assert "`migrator plan`" in (tmp_path / "en" / "reconciliation.md").read_text("utf-8")
    assert len(build_tables(data, CATALOGS["en"])) == 13


def test_unknown_formats_and_languages_are_usage_errors(staging: Staging, tmp_path: Path) -> None:
    data = build(staging)
    with pytest.raises(ConfigError, match="pdf"):
        write_reports(data, tmp_path / "a", ("md", "pdf"))
    assert not (tmp_path / "a").exists()  # nothing half-written
    with pytest.raises(ConfigError, match="fr"):
        write_reports(data, tmp_path / "b", ("md",), "fr")


def test_timeline_durations_and_throughput(staging: Staging) -> None:
    t0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    with staging.begin() as conn:
        conn.execute(
            s.runs.insert(),
            [
                dict(
                    command="extract",
                    started_at=t0,
                    finished_at=t0 + timedelta(seconds=10),
                    status="done",
                    summary={"tickets": 50, "comments": 7},
                ),
                dict(
                    command="load",
                    started_at=t0 + timedelta(minutes=2),
                    finished_at=None,
                    status="started",
                    summary=None,
                ),
                dict(
                    command="verify",
                    started_at=t0 + timedelta(minutes=5),
                    finished_at=t0 + timedelta(minutes=6),
                    status="done",
                    summary={"checked": 40, "skipped": 10, "seconds": 3.0},
                ),
            ],
        )
        conn.execute(
            s.plans.insert().values(
                created_at=t0 + timedelta(minutes=1),
                mapping_path="gone.yaml",
                mapping_digest="m" * 64,
                digest="p" * 64,
                tickets=50,
                summary={"comments": 7},
            )
        )
    rows = build(staging)["timeline"]
    assert [r["step"] for r in rows] == ["extract", "plan", "load", "verify"]
    extract, plan, load, verify = rows
    assert extract["started"] == "2024-05-01T09:00:00Z"
    assert extract["seconds"] == 10.0 and extract["tickets_per_second"] == 5.0
    assert plan["run"] is None and plan["tickets"] == 50 and plan["seconds"] is None
    assert load["status"] == "started" and load["seconds"] is None
    assert load["tickets_per_second"] is None
    # A resumed verify: only what this run checked counts, over its own duration.
    assert verify["tickets"] == 30 and verify["tickets_per_second"] == 10.0
    json.dumps(rows)  # plain data


def test_a_changed_or_missing_mapping_file_is_said_so(staging: Staging) -> None:
    with staging.begin() as conn:
        conn.execute(
            s.plans.insert().values(
                created_at=datetime.now(UTC),
                mapping_path="/nonexistent/mapping.yaml",
                mapping_digest="m" * 64,
                digest="p" * 64,
                tickets=0,
                summary={"dropped": {"custom.secret_field": 3}},
            )
        )
    data = build(staging)
    assert data["not_migrated"]["mapping_read"] is False
    assert data["not_migrated"]["fields"] == [
        {"field": "custom.secret_field", "reason": "unmentioned", "tickets": 3}
    ]
    assert data["signoff"]["mapping_file"] == "mapping.yaml"  # the name, never the path
    table = next(t for t in build_tables(data, CATALOGS["en"]) if t.name == "dropped")
    assert table.notes == [CATALOGS["en"]["dropped.no_mapping"]]
