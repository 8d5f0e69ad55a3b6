from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pytest

from coverage._errors import CoverageWarning
from coverage.maps import coverage_map, save_map
from coverage.pipeline import run_scenario
from coverage.scenario import load_scenario
from tests._browser import LEAFLET_SUMMARY_JS, render_in_chromium

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # every test here draws the full Futian run


@pytest.fixture(scope="module")
def futian(shared_data: Path):
    sc = load_scenario(REPO / "data" / "scenarios" / "futian.toml", data_dir=shared_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return run_scenario(sc)


def geojson_layers(html: str) -> list[dict]:
    """The FeatureCollections folium embeds as ``geo_json_NNNN_add({...});``."""
    decoder = json.JSONDecoder()
    out = []
    for m in re.finditer(r"geo_json_\d+_add\(", html):
        obj, _ = decoder.raw_decode(html, m.end())
        out.append(obj)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_layers_and_counts(futian, tmp_path: Path, lang: str) -> None:
    r = futian
    m = coverage_map(r.network, service=r.areas, coverage=r.coverage, plan=r.plan, title="t", lang=lang)
    path = save_map(m, tmp_path / "m.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(
        r"""<(script|link)[^>]*(src|href)=["']https?://""", html
    )  # nothing loads from the network
    assert "OpenStreetMap contributors (ODbL)" in html
    # Every hall, gap and proposed site is on the map.
    assert html.count("Build order" if lang == "en" else "建设顺序") >= len(r.plan.sites)
    halls = len(r.areas.sites)
    assert f"({halls})" in html
    layers = geojson_layers(html)
    counts = sorted(len(layer["features"]) for layer in layers)
    main_gaps = r.coverage.gaps[r.coverage.gaps["group"] == "residents"]
    assert len(main_gaps) in counts
    assert len(r.areas.areas) in counts
    # The summary box shows the coverage result's numbers.
    s = r.coverage.summary.set_index("group").loc["residents"]
    assert f"{s.covered:,.0f}" in html and f"{s.covered_share:.1%}" in html
    a = r.plan.after.summary.set_index("group").loc["residents"]
    assert f"{a.covered:,.0f}" in html


@pytest.mark.browser
def test_offline_map_renders_in_chromium(futian, output_dir: Path, shared_data: Path) -> None:
    r = futian
    boundary = gpd.read_file(shared_data / "shenzhen" / "districts.geojson")
    m = coverage_map(
        r.network,
        service=r.areas,
        coverage=r.coverage,
        plan=r.plan,
        boundary=boundary[boundary["qh"] == "福田"],
        title="福田 500 米服务圈",
        lang="zh",
    )
    path = save_map(m, output_dir / "futian_map.html")
    result = render_in_chromium(
        path, output_dir / "futian_map.png", evaluate={"summary": LEAFLET_SUMMARY_JS}, viewport=(1200, 900)
    )
    assert result.console_errors == [] and result.page_errors == []
    assert result.blocked_requests == [] and result.failed_requests == []
    summary = result.values["summary"]
    assert summary["tileLayers"] == 0
    names = " ".join(summary["overlayNames"])
    for label in ("现有服务站点", "服务空白区", "建议新增站点", "500 米直线圆", "街道"):
        assert label in names
    # Halls + proposed sites are circle markers, plus the resident dots.
    assert summary["circleMarkers"] >= len(r.areas.sites) + len(r.plan.sites)
    assert (output_dir / "futian_map.png").stat().st_size > 10_000
