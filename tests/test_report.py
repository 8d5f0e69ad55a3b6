"""Report, printable map, workbook and street names on a small case (fast; Futian is in test_deliverable.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.io import table_for_people, write_xlsx
from coverage.report_doc import build_report
from coverage.report_files import report_html, write_docx
from coverage.static_map import draw_static_map, save_static_map
from tests.test_maps import small_case


class _Run:
    """The parts of a RunResult the report reads."""

    def __init__(self, net, areas, cov) -> None:
        self.network, self.areas, self.coverage, self.plan = net, areas, cov, None
        self.scenario = {"": {"max_snap_m": 300.0}}


@pytest.mark.slow  # font subsetting of a CJK collection takes ~15 s
@pytest.mark.parametrize("paper", ["A4"])  # A3 is checked on the Futian run (test_deliverable.py)
def test_printable_map_is_one_landscape_sheet_with_an_embedded_cjk_font(tmp_path: Path, paper: str) -> None:
    pypdf = pytest.importorskip("pypdf")
    net, areas, cov = small_case(["福田 {{7*7}}", "b"])
    fig = draw_static_map(
        net,
        service=areas,
        coverage=cov,
        title="福田 <b>",
        notes=["人口为估算值"],
        lang="zh",
        paper=paper,
        date=dt.date(2026, 1, 2),
    )
    files = save_static_map(fig, tmp_path)
    reader = pypdf.PdfReader(files["pdf"])
    assert len(reader.pages) == 1
    w_mm, h_mm = {"A4": (297, 210), "A3": (420, 297)}[paper]
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(w_mm / 25.4 * 72, abs=1)
    assert float(box.height) == pytest.approx(h_mm / 25.4 * 72, abs=1)
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if any(k in str(f["/BaseFont"]) for k in ("WenQuanYi", "CJK", "Hei"))]
    assert cjk and all(f["/Subtype"] == "/Type0" for f in cjk)  # TrueType glyphs embedded, not Type 3
    assert files["png"].read_bytes()[:4] == b"\x89PNG"


def test_report_blocks_tell_the_story_in_order_and_escape_text(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    net, areas, cov = small_case(["<script>alert(1)</script>", "{{7*7}}"])
    doc = build_report(
        _Run(net, areas, cov),
        lang="zh",
        title="标题 {{7*7}} <b>",
        halls_label="替代点",
        source_note="估算",
        stand_in=True,
        map_png=None,
        date=dt.date(2026, 1, 2),
    )
    heads = [b.text for b in doc.blocks if b.kind == "h2"]
    assert heads[:3] == ["分析方法与范围", "主要结论", "直线圆与步行范围"] and heads[-1] == "说明与局限"
    html = report_html(doc)
    assert "<script>alert" not in html and "{{7*7}}" not in html and "&lt;script&gt;" in html
    assert "&#123;&#123;7*7&#125;&#125;" in html
    path = write_docx(doc, tmp_path / "r.docx")
    text = " ".join(p.text for p in docx.Document(path).paragraphs)
    assert "标题 {{7*7}} <b>" in text


def test_long_report_tables_show_their_first_rows_and_name_the_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    from coverage import report_doc

    names = [f"hall {i}" for i in range(6)]
    net, areas, cov = small_case(names)
    run = _Run(net, areas, cov)
    kw = {"lang": "zh", "title": "t", "halls_label": "h", "source_note": "", "stand_in": False, "map_png": None}
    full = build_report(run, **kw)
    monkeypatch.setitem(report_doc.MAX_ROWS, "halls", 2)
    monkeypatch.setitem(report_doc.MAX_ROWS, "gaps", 1)
    short = build_report(run, **kw)
    tables = [b.table for b in full.blocks if b.kind == "table"]
    capped = [b.table for b in short.blocks if b.kind == "table"]
    n = len(tables[0])
    assert n == len(areas.areas) > 2 and len(capped[0]) == 2
    assert capped[0].equals(tables[0].head(2))  # the first rows, in the table's own order (smallest ratio first)
    notes = [b.text for b in short.blocks if b.kind == "note" and "tables/service_areas.csv" in b.text]
    assert notes == [f"仅列出面积比最小的前 2 行（共 {n} 行）；完整数据见 tables.xlsx 与 tables/service_areas.csv。"]
    assert not any("tables/" in b.text for b in full.blocks if b.kind == "note")


def test_workbook_reads_back_with_the_table_values(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    _net, _areas, cov = small_case(["=cmd", "12345678901234567890"])
    layers = {"coverage_summary": cov.summary, "coverage_by_hall": cov.halls}
    path = write_xlsx(layers, tmp_path / "t.xlsx", lang="zh")
    wb = openpyxl.load_workbook(path)
    for name, title in (("coverage_summary", "覆盖概况"), ("coverage_by_hall", "各站点覆盖")):
        table = table_for_people(layers[name], name)
        rows = list(wb[title].iter_rows(values_only=True))
        assert len(rows) == len(table) + 1
        for got, (_, want) in zip(rows[1:], table.iterrows(), strict=True):
            for g, w in zip(got, want.tolist(), strict=True):
                if isinstance(w, float | int | np.number) and not isinstance(w, bool) and not pd.isna(w):
                    assert g == pytest.approx(float(w))
                elif isinstance(w, str):
                    assert g == w
    halls = list(wb["各站点覆盖"].iter_rows(values_only=True))
    assert "'=cmd" in [r[0] for r in halls] or "'=cmd" in [r[1] for r in halls]
    assert all(cell.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for cell in row)


def test_results_write_their_own_workbook(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    _net, _areas, cov = small_case(["a", "b"])
    path = cov.to_excel(tmp_path / "coverage.xlsx", lang="en")
    sheets = openpyxl.load_workbook(path).sheetnames
    assert sheets[0] == "about" and {"residents", "gaps", "coverage_summary", "coverage_by_hall"} <= set(sheets)
    from coverage.plan import plan_sites
    from tests.test_plan import line_case

    net, halls, before = line_case()
    plan = plan_sites(net, halls, before, k=2, k_max=None, target_share=None)
    book = openpyxl.load_workbook(plan.to_excel(tmp_path / "plan.xlsx"))
    rows = list(book["建议新增站点"].iter_rows(values_only=True))
    assert len(rows) == len(plan.sites) + 1 and "经度（GCJ-02）" in rows[0]


def test_street_names_come_from_the_osm_source(tmp_path: Path) -> None:
    from coverage._street_names import street_names
    from coverage.network import load_network
    from tests._hostile import write_hostile_scenario

    write_hostile_scenario(tmp_path, tmp_path / "PWNED")
    net = load_network(tmp_path / "streets.osm", cache=False)
    names = street_names(net, tmp_path / "streets.osm")
    assert names is not None and len(names) == net.n_edges
    assert "{{7*7}}" in set(names)  # the first east-west street, kept as text
    assert "" in set(names)  # north-south streets have no name


def test_notebook_tables_format_shares_ratios_and_areas() -> None:
    from coverage._format import frame_html

    frame = pd.DataFrame(
        {"name": ["<b>x</b>"], "area_vs_circle": [0.4321], "covered_share": [0.2121], "area_km2": [0.0712],
         "population": [55570.1], "reached_length_m": [1234.56]}
    )
    html = frame_html(frame)
    assert "0.43" in html and "21.2%" in html and "0.07" in html and "55,570" in html and "1,235" in html
    assert "<b>x</b>" not in html and "&lt;b&gt;" in html
    _net, areas, _cov = small_case(["a", "b"])
    assert f"{areas.areas['area_vs_circle'].iloc[0]:.2f}" in areas._repr_html_()
