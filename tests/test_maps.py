from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from coverage._errors import CoverageWarning
from coverage.maps import coverage_map, save_map
from tests._browser import LEAFLET_SUMMARY_JS, render_in_chromium

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def futian(futian_run):
    """The RunResult of the session's one Futian CLI run (tests/conftest.py)."""
    return futian_run.result


def map_data(html: str) -> dict:
    """The data the page script receives (``coverageMapApp(map_0001, {...})``)."""
    m = re.search(r"coverageMapApp\(map_\d+, ", html)
    assert m is not None
    return json.JSONDecoder().raw_decode(html, m.end())[0]


def geojson_layers(html: str) -> list[dict]:
    """The FeatureCollections of the map's layers."""
    return [layer["features"] for layer in map_data(html)["layers"]]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_layers_and_counts(futian, tmp_path: Path, lang: str) -> None:
    r = futian
    m = coverage_map(r.network, service=r.areas, coverage=r.coverage, plan=r.plan, title="t", lang=lang)
    path = save_map(m, tmp_path / "m.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link)[^>]*(src|href)=["']https?://""", html)  # nothing loads from the network
    assert "OpenStreetMap contributors (ODbL)" in html or "OpenStreetMap 贡献者（ODbL）" in html
    # Every hall, gap and proposed site is on the map.
    assert html.count("Build order" if lang == "en" else "建设顺序") >= len(r.plan.sites)
    halls = len(r.areas.sites)
    assert f"({halls})" in html or f"（{halls}）" in html
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


@pytest.mark.slow
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
    for label in ("现有服务站点", "服务空白区", "建议新增站点", "500 米直线圆", "步行路网"):
        assert label in names
    # Halls are circle markers (proposed sites are numbered markers).
    assert summary["circleMarkers"] >= len(r.areas.sites)
    assert (output_dir / "futian_map.png").stat().st_size > 10_000


# --------------------------------------------------------------------------
# A small map with hostile names (fast; the full CLI run is in test_hostile.py)
# --------------------------------------------------------------------------


def small_case(names: list[str]):
    import networkx as nx
    import shapely

    from coverage.assess import assess_coverage
    from coverage.network import network_from_graph
    from coverage.service_areas import service_areas

    x0, y0 = 193_000.0, 2_494_000.0
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for i in range(4):
        for j in range(4):
            G.add_node(i * 4 + j, x=x0 + 100 * j, y=y0 + 100 * i)
    for i in range(4):
        for j in range(4):
            if j < 3:
                G.add_edge(i * 4 + j, i * 4 + j + 1, length=100.0, highway="residential")
            if i < 3:
                G.add_edge(i * 4 + j, (i + 1) * 4 + j, length=100.0, highway="primary")
    net = network_from_graph(G)
    halls = gpd.GeoDataFrame(
        {"site_id": [f"{n}#{k}" for k, n in enumerate(names)], "name": names, "address": names},
        geometry=[shapely.Point(x0 + 10 + 30 * (k % 10), y0 + 5 + 30 * (k // 10)) for k in range(len(names))] + [],
        crs="EPSG:32650",
    )
    far = gpd.GeoDataFrame(
        {"site_id": ["far"], "name": ["{{7*7}} far"], "address": ["x"]},
        geometry=[shapely.Point(x0 + 2000, y0 + 2000)],
        crs="EPSG:32650",
    )
    halls = pd.concat([halls, far], ignore_index=True)
    pts = [shapely.Point(x0 + 50 + 100 * (k % 3), y0 + 20 + 100 * (k // 3)) for k in range(9)]
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"{names[k % len(names)]}#{k}" for k in range(9)],
            "group": "residents",
            "population": 10.0,
            "estimate": False,
        },
        geometry=pts,
        crs="EPSG:32650",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        areas = service_areas(net, halls, radius_m=[150.0])
        cov = assess_coverage(net, halls, demand, radius_m=150.0)
    return net, areas, cov


def test_small_map_keeps_hostile_text_as_data(tmp_path: Path) -> None:
    from coverage._text import display
    from tests._hostile import corpus

    pwned = tmp_path / "PWNED"
    names = corpus(pwned)
    net, areas, cov = small_case(names)
    zones = gpd.GeoDataFrame(
        {"name": [names[0], names[4]]},
        geometry=[net.edges_gdf().union_all().envelope.buffer(10)] * 2,
        crs="EPSG:32650",
    )
    m = coverage_map(
        net,
        service=areas,
        coverage=cov,
        areas=zones,
        area_name_col="name",
        title=" ".join(names[:6]),
        subtitle=names[12],
        notes=[names[2]],
        stand_in=True,
        lang="zh",
    )
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert not pwned.exists()
    for raw in ("{{7*7}}", "{%", "${", "<img src=x", "</script><script>", "back`tick"):
        assert raw not in html, raw
    shown = json.dumps(map_data(html), ensure_ascii=False)
    for name in names:
        assert json.dumps(display(name), ensure_ascii=False)[1:-1] in shown, name[:30]
    assert "<title>" in html and "&#123;&#123;7*7&#125;&#125;" in html
    # The off-network hall is drawn in its own layer, with the reason.
    names_of_layers = [layer["name"] for layer in map_data(html)["layers"]]
    assert "未接入路网的站点（1）" in names_of_layers
    assert "超过 300 米上限" in shown


def test_amap_basemap_shifts_every_overlay_into_gcj02(tmp_path: Path) -> None:
    import shapely

    from coverage.crs import wgs84_to_gcj02

    net, areas, cov = small_case(["a", "b"])
    plain = map_data(
        save_map(coverage_map(net, service=areas, coverage=cov, basemap="offline"), tmp_path / "a.html").read_text(
            encoding="utf-8"
        )
    )
    amap_html = save_map(coverage_map(net, service=areas, coverage=cov, basemap="amap"), tmp_path / "b.html").read_text(
        encoding="utf-8"
    )
    amap = map_data(amap_html)
    assert "webrd0{s}.is.autonavi.com" in amap_html

    def hall_points(data: dict) -> list[list[float]]:
        layer = next(x for x in data["layers"] if x["name"] and x["name"].startswith("现有服务站点"))
        return [f["geometry"]["coordinates"] for f in layer["features"]["features"]]

    wgs = hall_points(plain)
    gcj = hall_points(amap)
    lon, lat = wgs84_to_gcj02([p[0] for p in wgs], [p[1] for p in wgs])
    for (glon, glat), elon, elat in zip(gcj, lon, lat, strict=True):
        assert glon == pytest.approx(elon, abs=2e-6) and glat == pytest.approx(elat, abs=2e-6)
    # The shift is the ~500 m one of Shenzhen, not zero.
    assert abs(gcj[0][0] - wgs[0][0]) > 0.004
    # A known pair (wandergis/coordtransform's test point): WGS-84 (116.404, 39.915) is GCJ-02
    # (116.41024449916938, 39.91640428150164); a hall there is drawn at the GCJ-02 point on Amap tiles.
    hall = gpd.GeoDataFrame({"site_id": ["k"], "name": ["k"]}, geometry=[shapely.Point(116.404, 39.915)], crs=4326)
    data = map_data(save_map(coverage_map(halls=hall, basemap="amap"), tmp_path / "k.html").read_text("utf-8"))
    (point,) = hall_points(data)
    assert point[0] == pytest.approx(116.41024449916938, abs=1e-6)
    assert point[1] == pytest.approx(39.91640428150164, abs=1e-6)


def test_city_budgets_coarsen_layers_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over their budgets, cells grow, dots merge, outlines simplify; the map says what it did."""
    from coverage import _map_layers, _map_residents, _map_sites, maps
    from coverage._format import labels
    from coverage._map_residents import resident_cells

    net, areas, cov = small_case(["a", "b", "c"])
    L = labels("zh")
    exact = resident_cells(cov, "residents", None, L, "zh", cell_m=50.0, main=True)
    coarse = resident_cells(cov, "residents", None, L, "zh", cell_m=50.0, main=True, max_cells=2)
    for fine, big in zip(exact, coarse, strict=True):
        assert sum(big["cells"]["n"]) == sum(fine["cells"]["n"])  # the same residents, fewer cells
        assert len(big["cells"]["n"]) <= len(fine["cells"]["n"]) and "note" in big and "note" not in fine
    assert sum(len(s["cells"]["n"]) for s in coarse) <= 2
    plain = save_map(maps.coverage_map(net, service=areas, coverage=cov, lang="zh"), tmp_path / "p.html")
    assert not any(line["label"].startswith("大范围地图") for line in map_data(plain.read_text("utf-8"))["summary"])
    assert "preferCanvas: false" in plain.read_text("utf-8") or '"preferCanvas": false' in plain.read_text("utf-8")
    monkeypatch.setattr(_map_residents, "MAX_CELLS", 2)
    monkeypatch.setattr(_map_layers, "MAX_STREET_VERTICES", 10)
    monkeypatch.setattr(_map_sites.ml, "MAX_AREA_VERTICES", 20)
    m = maps.coverage_map(net, service=areas, coverage=cov, lang="zh", max_resident_points=3)
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    data = map_data(html)
    note = next(line for line in data["summary"] if line["label"].startswith("大范围地图"))
    assert "网格由 100 米放大为" in note["extra"] and "轮廓简化至" in note["extra"]
    assert any("合并为" in (s["name"] or "") for s in data["layers"])
    assert "preferCanvas: true" in html or '"preferCanvas": true' in html
