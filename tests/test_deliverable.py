"""What an official receives from the Futian run: map (desktop and phone), report, PDF, workbook.

All tests share the session's one Futian CLI run (``futian_run`` in
tests/conftest.py). Screenshots go to the ignored ``tests/output/``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from tests._browser import LEAFLET_SUMMARY_JS, render_in_chromium

pytestmark = pytest.mark.slow

CONTROLS_JS = """
() => Array.from(document.querySelectorAll('.leaflet-control')).map((e) => {
  const r = e.getBoundingClientRect();
  return {cls: e.className, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
})
"""

OPEN_SITE_JS = """
() => {
  const marker = document.querySelector('.cov-rank');
  return marker ? marker.textContent : null;
}
"""


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"] - 1
        and b["left"] < a["right"] - 1
        and a["top"] < b["bottom"] - 1
        and (b["top"] < a["bottom"] - 1)
    )


def check_controls(boxes: list[dict], width: int, height: int) -> None:
    shown = [b for b in boxes if b["right"] > b["left"] and b["bottom"] > b["top"]]
    for b in shown:
        assert b["left"] >= 0 and b["top"] >= 0 and b["right"] <= width and b["bottom"] <= height, b
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            assert not overlaps(a, b), (a["cls"], b["cls"])


def click_first_site(page) -> dict:
    page.click(".cov-rank >> nth=0")
    page.wait_for_selector(".leaflet-popup-content .cov-popup")
    page.wait_for_timeout(400)  # let the popup finish fading in before the screenshot
    return {"popup": page.inner_text(".leaflet-popup-content")}


@pytest.mark.browser
@pytest.mark.parametrize(("name", "size"), [("desktop", (1400, 900)), ("phone", (412, 900))])
def test_map_reads_on_desktop_and_phone(futian_run, output_dir: Path, name: str, size: tuple[int, int]) -> None:
    result = render_in_chromium(
        futian_run.out / "map.html",
        output_dir / f"futian_map_{name}.png",
        viewport=size,
        evaluate={"summary": LEAFLET_SUMMARY_JS, "controls": CONTROLS_JS, "rank": OPEN_SITE_JS},
    )
    assert result.clean, (result.console_errors, result.page_errors, result.blocked_requests, result.dialogs)
    values = result.values
    check_controls(values["controls"], *size)
    summary = values["summary"]
    assert summary["scaleText"] and all("m" in t and "ft" not in t for t in summary["scaleText"])
    layers = " ".join(summary["overlayNames"]) if name == "desktop" else ""
    if name == "desktop":
        for label in ("步行路网", "现有服务站点（替代点", "服务空白区", "建议新增站点", "500 米直线圆", "已覆盖居民"):
            assert label in layers
    else:  # the layer list is folded into a button on a phone
        folded = [c for c in values["controls"] if "leaflet-control-layers" in c["cls"]]
        assert folded and all("expanded" not in c["cls"] for c in folded)
        assert folded[0]["right"] - folded[0]["left"] < 60
    assert values["rank"] == "1"
    html = (futian_run.out / "map.html").read_text(encoding="utf-8")
    assert "<title>福田中心区" in html


@pytest.mark.browser
def test_clicking_a_proposed_site_opens_its_popup(futian_run, output_dir: Path) -> None:
    result = render_in_chromium(
        futian_run.out / "map.html",
        output_dir / "futian_map_site_popup.png",
        viewport=(1400, 900),
        actions=click_first_site,
    )
    assert result.clean
    popup = result.values["actions"]["popup"]
    first = futian_run.result.plan.sites.iloc[0]
    assert "建设顺序 1" in popup and f"{first.marginal_population:,.0f}" in popup
    assert "WGS-84" in popup and "GCJ-02" in popup and re.search(r"114\.\d{7}, 22\.\d{7}", popup)


@pytest.mark.browser
def test_report_opens_and_prints(futian_run, output_dir: Path) -> None:
    path = futian_run.out / "report.html"
    result = render_in_chromium(
        path, output_dir / "futian_report.png", viewport=(1000, 1400), wait_for_selector=None, full_page=True
    )
    assert result.clean
    html = path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 2  # the map and the coverage curve
    order = [
        "分析方法与范围",
        "主要结论",
        "直线圆与步行范围",
        "各片区覆盖情况",
        "服务空白区",
        "建议新增站点",
        "覆盖曲线",
        "说明与局限",
    ]
    positions = [html.index(f"<h2>{h}</h2>") for h in order]
    assert positions == sorted(positions)
    s = futian_run.result.coverage.summary.set_index("group").loc["residents"]
    assert f"{s.covered:,.0f} 人（{s.covered_share:.1%}）" in html
    assert "人口为估算值" in html and "替代点" in html


def test_report_in_english_and_word(futian_run, tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    from coverage.report_doc import build_report
    from coverage.report_files import report_html, write_docx

    doc = build_report(
        futian_run.result,
        lang="en",
        title="Futian",
        halls_label="AED sites",
        source_note="",
        stand_in=True,
        map_png=None,
    )
    html = report_html(doc)
    assert '<html lang="en">' in html and "What was measured" in html and "GCJ-02" in html
    word = docx.Document(futian_run.out / "report.docx")
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:4] == ["分析方法与范围", "主要结论", "直线圆与步行范围"]
    assert len(word.tables) >= 4 and len(word.inline_shapes) == 2
    assert write_docx(doc, tmp_path / "en.docx").stat().st_size > 10_000


def test_pdf_is_one_a3_page_with_a_cjk_font(futian_run) -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(futian_run.out / "map.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(420 / 25.4 * 72, abs=1) and float(box.height) == pytest.approx(
        297 / 25.4 * 72, abs=1
    )
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        for desc in font.get("/DescendantFonts", [font]):
            fd = desc.get_object().get("/FontDescriptor")
            if fd is not None and any(k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                embedded.append(str(font["/BaseFont"]))
    assert any(("WenQuanYi" in f or "CJK" in f or "Hei" in f) for f in embedded), embedded
    png = (futian_run.out / "map.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_workbook_holds_the_numbers_of_the_csvs(futian_run) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from coverage._xlsx import HEADERS_ZH, SHEET_NAMES

    wb = openpyxl.load_workbook(futian_run.out / "tables.xlsx", read_only=True)
    names = SHEET_NAMES["zh"]
    checked = 0
    for csv_path in sorted((futian_run.out / "tables").glob("*.csv")):
        title = names.get(csv_path.stem, csv_path.stem)
        if title not in wb.sheetnames:
            continue
        with csv_path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        sheet = [list(r) for r in wb[title].iter_rows(values_only=True)]
        assert [HEADERS_ZH.get(h, h) for h in rows[0]] == list(sheet[0]), csv_path.name
        assert len(sheet) == len(rows), csv_path.name
        for text_row, cell_row in zip(rows[1:], sheet[1:], strict=True):
            for text, cell in zip(text_row, cell_row, strict=True):
                if cell is None:
                    assert text == "", (csv_path.name, text)
                elif isinstance(cell, bool):
                    assert text == str(cell), (csv_path.name, text, cell)
                elif isinstance(cell, (int, float)):
                    assert float(text) == pytest.approx(cell, rel=1e-12, abs=1e-9), (csv_path.name, text, cell)
                else:
                    assert text == cell, (csv_path.name, text, cell)
        checked += 1
    assert checked >= 6
    # Ids stay text (20-digit AED ids), people are whole numbers in display.
    halls = [list(r) for r in wb[names["halls"]].iter_rows(values_only=True)]
    assert all(isinstance(r[0], str) for r in halls[1:])
    summary = list(wb[names["coverage_summary"]].iter_rows(values_only=True))
    head = list(summary[0])
    row = summary[1]
    parts = [row[head.index(HEADERS_ZH[c])] for c in ("covered", "uncovered", "unreachable")]
    assert sum(parts) == row[head.index(HEADERS_ZH["total"])]
