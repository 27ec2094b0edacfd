"""The example reports in docs/examples match what the renderer writes today.

They are regenerated from a real migration by ``python -m fixtures.example_reports``;
this test catches examples left behind by a change of sections or labels.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from migrator.reports.labels import CATALOGS
from migrator.reports.tables import SECTIONS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_examples_have_every_section_of_the_current_report(lang: str) -> None:
    labels = CATALOGS[lang]
    md = (EXAMPLES / f"report-{lang}.md").read_text(encoding="utf-8")
    html = (EXAMPLES / f"report-{lang}.html").read_text(encoding="utf-8")
    assert md.startswith(f"# {labels['title']}\n")
    for number, (section, names) in enumerate(SECTIONS, 1):
        assert f"## {number}. {labels[section]}\n" in md, section
        assert f'<section id="{section}">' in html
        for name in names:
            if name != section:
                assert f"### {labels[name]}\n" in md, name
    assert f'<html lang="{lang}">' in html


def test_examples_publish_nothing_local() -> None:
    local = [str(Path.cwd()), str(REPO), tempfile.gettempdir(), str(Path.home())]
    for path in EXAMPLES.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"127\.0\.0\.1|localhost", text), path
        assert not [p for p in local if p in text], path
        assert "example.com" in text
