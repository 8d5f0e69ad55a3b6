"""Hostile text through every user-text field of a full command-line run.

The corpus (``tests/_hostile.py``): Jinja2 expressions and statements (one
that would create a file), JavaScript template-literal expressions, a
backtick, ``</script>``, an ``<img onerror>``, spreadsheet formulas, a
right-to-left override, a NUL byte, a 10,000-character name, Chinese and
emoji. They are hall ids, names and addresses, resident ids, street names,
area names, the scenario's name, description, labels and source note.
Nothing may be evaluated, every text must come out literally (escaped for
its context), and the map must open in Chromium with no error and no dialog.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest

from coverage._text import MAX_LABEL_CHARS, clean, display
from coverage.cli import main
from tests._browser import render_in_chromium
from tests._hostile import in_csv, write_hostile_scenario

pytestmark = pytest.mark.slow  # a full command-line run (about 15 s); the escaping itself is in test_text.py


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    folder = tmp_path_factory.mktemp("hostile")
    pwned = folder / "PWNED"
    scenario, texts = write_hostile_scenario(folder / "in", pwned)
    out = folder / "out"
    code = main(["run", str(scenario), "--out", str(out), "--quiet"])
    assert code == 0
    return out, texts, pwned


def map_data(html: str) -> dict:
    """The JSON the page script receives (``coverageMapApp(map_0001, {...})``)."""
    m = re.search(r"coverageMapApp\(map_\d+, ", html)
    assert m is not None
    return json.JSONDecoder().raw_decode(html, m.end())[0]


def strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


def test_nothing_is_evaluated(hostile_run) -> None:
    out, _texts, pwned = hostile_run
    assert not pwned.exists()
    for path in [out / "map.html", out / "summary.md", *sorted((out / "tables").glob("*.csv"))]:
        text = path.read_text(encoding="utf-8-sig")
        assert "loop" * 3 not in text.replace(" ", ""), path.name  # the for loop never ran


def test_map_html_holds_text_only_as_data(hostile_run) -> None:
    out, texts, _ = hostile_run
    html = (out / "map.html").read_text(encoding="utf-8")
    # No raw payload anywhere in the page source: not as template, HTML or script.
    for raw in ("{{7*7}}", "{%", "${alert", "<img src=x", "</script><script>alert", "back`tick"):
        assert raw not in html, raw
    data = map_data(html)
    shown = strings(data)
    for text in texts:
        text = in_csv(text)
        assert display(text) in shown or any(display(text) in s for s in shown), text[:40]
    assert "49" not in [s.strip() for s in shown]
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None and "&#123;&#123;7*7&#125;&#125;" in title.group(1)


def test_tables_are_literal_and_formula_free(hostile_run) -> None:
    out, texts, _ = hostile_run
    with (out / "tables" / "halls.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["name"] for r in rows]
    for text in texts:
        expected = clean(in_csv(text))
        if expected.startswith(("=", "+", "-", "@", "\t", "\r")):
            expected = "'" + expected
        assert expected in names, text[:40]
    for path in sorted((out / "tables").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _number(cell)):
                        pytest.fail(f"{path.name}: cell {cell[:40]!r} would run as a formula")
    assert (out / "tables" / "halls.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_workbook_has_no_formula(hostile_run) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out, _texts, _ = hostile_run
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert '\'=HYPERLINK("http://evil.example/","click")' in values
    assert "{{7*7}}" in values


def test_geopackage_keeps_the_text(hostile_run) -> None:
    out, texts, _ = hostile_run
    halls = gpd.read_file(out / "results.gpkg", layer="halls")
    for text in texts:
        assert clean(in_csv(text)) in halls["name"].tolist(), text[:40]
    areas = gpd.read_file(out / "results.gpkg", layer="coverage_by_area")
    assert any("${y}" in name for name in areas["area"])


def test_summary_escapes_markdown_and_html(hostile_run) -> None:
    out, _, _ = hostile_run
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for raw in ("<script", "<img", "{{", "${", "`"):
        assert raw not in summary, raw
    assert "&lt;/script&gt;" in summary


@pytest.mark.browser
def test_hostile_map_opens_cleanly_in_chromium(hostile_run, output_dir: Path) -> None:
    out, texts, _ = hostile_run
    opened = """
    () => {
      const map = Object.values(window).find((v) => { try { return v instanceof L.Map; } catch (e) { return false; } });
      const popups = [], tips = [];
      map.eachLayer((layer) => {
        if (layer.getPopup && layer.getPopup()) {
          layer.openPopup(layer.getLatLng ? layer.getLatLng() : undefined);
          const el = layer.getPopup().getElement();
          if (el) { popups.push(el.textContent); }
          layer.closePopup();
        }
        if (layer.getTooltip && layer.getTooltip()) {
          layer.openTooltip(layer.getLatLng ? layer.getLatLng() : undefined);
          const el = layer.getTooltip().getElement();
          if (el) { tips.push(el.textContent); }
          layer.closeTooltip();
        }
      });
      return {
        popups, tips,
        title: document.title,
        boxes: Array.from(document.querySelectorAll(".cov-box")).map((b) => b.textContent),
        labels: Array.from(document.querySelectorAll(".cov-area-label")).map((b) => b.textContent),
        injected: document.querySelectorAll("img[src='x'], [onerror]").length,
        scripts: document.scripts.length,
      };
    }
    """
    result = render_in_chromium(
        out / "map.html", output_dir / "hostile_map.png", evaluate={"opened": opened}, viewport=(1200, 800)
    )
    assert result.page_errors == [] and result.console_errors == [] and result.dialogs == []
    assert result.blocked_requests == []
    seen = result.values["opened"]
    assert seen["injected"] == 0
    assert "{{7*7}}" in seen["title"]
    popup_text = " ".join(seen["popups"])
    for text in texts:
        assert display(in_csv(text), MAX_LABEL_CHARS) in popup_text, text[:40]  # hall popups
    assert "{{7*7}} 街道" in " ".join(seen["labels"])
    assert any("{% for x in range(3) %}" in b for b in seen["boxes"])


@pytest.mark.parametrize("bad", ["nul\x00byte", "L" * 10_000])
def test_scenario_text_with_nul_or_10000_chars_is_a_clear_error(tmp_path: Path, bad: str) -> None:
    from coverage._errors import CoverageInputError
    from coverage.scenario import load_scenario

    scenario, _ = write_hostile_scenario(tmp_path, tmp_path / "PWNED")
    text = scenario.read_text(encoding="utf-8").replace("name_zh = ", f"name_en = {json.dumps(bad)}\nname_zh = ", 1)
    scenario.write_text(text, encoding="utf-8")
    with pytest.raises(CoverageInputError, match="name_en"):
        load_scenario(scenario)


def test_report_html_and_docx_keep_text_literal(hostile_run) -> None:
    docx = pytest.importorskip("docx")
    out, _texts, pwned = hostile_run
    html = (out / "report.html").read_text(encoding="utf-8")
    for raw in ("{{7*7}}", "{%", "<script>alert", "<img src=x", "${alert", "back`tick"):
        assert raw not in html, raw
    assert "<script" not in html
    assert "&#123;&#123;7*7&#125;&#125;" in html and "&lt;/script&gt;" in html
    text = " ".join(p.text for p in docx.Document(out / "report.docx").paragraphs)
    assert "{{7*7}}" in text and "${alert(1)}" in text
    assert (out / "map.pdf").stat().st_size > 10_000 and not pwned.exists()


def test_a_halls_csv_with_a_nul_byte_is_a_clear_error(tmp_path: Path, capsys) -> None:
    scenario, _ = write_hostile_scenario(tmp_path, tmp_path / "PWNED")
    halls = tmp_path / "halls.csv"
    halls.write_bytes(halls.read_bytes().replace(b"nulbyte", b"nul\x00byte"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "halls.csv" in err and "NUL" in err and err.count("\n") == 1
