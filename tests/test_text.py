"""The escaping helpers, each against the hostile corpus (fast; the full CLI run is in test_hostile.py)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from jinja2 import Template

from coverage._text import clean, display, html_text, html_user, js_json, md_text, sheet_cell, sheet_frame
from tests._hostile import corpus

TEXTS = corpus(Path("/nonexistent/PWNED"))


@pytest.mark.parametrize("text", TEXTS)
def test_js_json_round_trips_and_survives_templates(text: str) -> None:
    blob = js_json({"name": text, "rows": [[text, 1.5]]})
    assert json.loads(blob) == {"name": clean(text), "rows": [[clean(text), 1.5]]}
    for bad in ("<", ">", "&", "{{", "{%", "{#", "$", "`", "'", "\u2028"):
        assert bad not in blob
    # branca renders rendered text again as a Jinja2 template: it must come out unchanged.
    assert Template(Template(blob).render()).render() == blob


@pytest.mark.parametrize("text", TEXTS)
def test_html_text_is_inert(text: str) -> None:
    out = html_text(text)
    for bad in ("<", ">", '"', "'", "{", "}", "$", "`", "\\"):
        assert bad not in out
    assert html.unescape(out) == clean(text)
    assert Template(out).render() == out
    assert html_user(text).startswith("<bdi>")


@pytest.mark.parametrize("text", TEXTS)
def test_markdown_cells_stay_one_cell(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out and "<" not in out and "{" not in out
    assert "|" not in out.replace("\\|", "")


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1-1", "'-1-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("福田", "福田"),
        ("a=b", "a=b"),
        ("nul\x00", "nul\ufffd"),
    ],
)
def test_sheet_cells_never_start_a_formula(text: str, safe: str) -> None:
    assert sheet_cell(text) == safe
    assert sheet_cell(-3.5) == -3.5  # numbers stay numbers


def test_sheet_frame_cleans_text_columns_only() -> None:
    import pandas as pd

    frame = pd.DataFrame({"name": ["=cmd", "ok"], "n": [-1, 2], "=head": ["x", "y"]})
    out = sheet_frame(frame)
    assert out["name"].tolist() == ["'=cmd", "ok"]
    assert out["n"].tolist() == [-1, 2]
    assert list(out.columns) == ["name", "n", "'=head"]


def test_display_cuts_and_flattens() -> None:
    assert display("a\n\tb") == "a b"
    assert len(display("L" * 10_000)) == 160
    assert display(float("nan")) == ""
