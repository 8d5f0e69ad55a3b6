"""Tests for coverage.demand: readers, spreading, validation, groups."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from coverage._errors import CoverageInputError, CoverageWarning, EstimateWarning
from coverage.demand import (
    DEMAND_COLUMNS,
    FUTIAN_AREA_KM2,
    FUTIAN_POPULATION_2020,
    combine_demand,
    demand_from_buildings,
    demand_from_polygons,
    demand_from_streets,
    demand_share,
    estimate_demand_along_streets,
    read_demand,
    read_h3_hexagons,
    read_population_grid,
    validate_demand,
)
from coverage.demand._spread import _clip_lines, _points_along
from coverage.demand.buildings import _parse_levels

UTM = "EPSG:32650"
POA_TOTAL = 812_935
HELSINKI_TOTAL = 71_724


def assert_schema(units: gpd.GeoDataFrame) -> None:
    assert tuple(units.columns) == DEMAND_COLUMNS
    assert units["population"].dtype == np.float64
    assert units["estimate"].dtype == bool
    assert (units["population"] >= 0).all()
    assert set(units.geom_type) == {"Point"}
    assert not units.duplicated(["group", "demand_id"]).any()
    assert isinstance(units.index, pd.RangeIndex)
    assert all(isinstance(v, str) for v in units["demand_id"])
    assert all(isinstance(v, str) for v in units["source_id"])


def cells(pops: list[float], *, crs: str | None = UTM, size: float = 500.0) -> gpd.GeoDataFrame:
    """A row of square cells of ``size`` metres, ids c0, c1, ..."""
    geoms = [box(i * size, 0, (i + 1) * size, size) for i in range(len(pops))]
    return gpd.GeoDataFrame(
        {"cell": [f"c{i}" for i in range(len(pops))], "population": pops},
        geometry=geoms,
        crs=crs,
    )


def streets(lines: list[LineString], crs: str | None = UTM, **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(dict(cols), geometry=lines, crs=crs)


# ---------------------------------------------------------------------------
# real data fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def poa_hexagons(shared_data: Path) -> gpd.GeoDataFrame:
    return read_h3_hexagons(shared_data / "porto_alegre" / "poa_hexgrid.csv")


@pytest.fixture(scope="session")
def poa_edges(shared_data: Path) -> gpd.GeoDataFrame:
    """Porto Alegre streets, split at every junction (~29,000 edges) and projected."""
    import osmium

    ways: list[tuple[str, list[tuple[int, float, float]]]] = []
    uses: dict[int, int] = {}
    processor = (
        osmium.FileProcessor(shared_data / "porto_alegre" / "poa_osm.pbf")
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if isinstance(way, osmium.osm.Way):
            nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
            ways.append((way.tags["highway"], nodes))
            for ref, _, _ in nodes:
                uses[ref] = uses.get(ref, 0) + 1
    geoms, kinds = [], []
    for kind, nodes in ways:
        current: list[tuple[float, float]] = []
        for i, (ref, x, y) in enumerate(nodes):
            current.append((x, y))
            if len(current) > 1 and (uses[ref] > 1 or i == len(nodes) - 1):
                geoms.append(LineString(current))
                kinds.append(kind)
                current = [(x, y)]
    return gpd.GeoDataFrame({"highway": kinds}, geometry=geoms, crs="EPSG:4326").to_crs("EPSG:32722")


@pytest.fixture(scope="session")
def futian_edges(shared_data: Path) -> gpd.GeoDataFrame:
    ox = pytest.importorskip("osmnx")
    graph = ox.project_graph(ox.load_graphml(shared_data / "shenzhen" / "futian_walk.graphml"))
    return ox.graph_to_gdfs(graph, nodes=False)


# ---------------------------------------------------------------------------
# Porto Alegre hexagons
# ---------------------------------------------------------------------------


def test_read_h3_hexagons_porto_alegre(poa_hexagons: gpd.GeoDataFrame) -> None:
    assert len(poa_hexagons) == 1227
    assert poa_hexagons["population"].sum() == POA_TOTAL
    assert set(poa_hexagons.geom_type) == {"Polygon"}
    assert poa_hexagons.crs == "EPSG:4326"
    assert {"id", "lon", "lat", "schools", "jobs", "healthcare"} <= set(poa_hexagons.columns)
    # h3 returns (lat, lng): the given lon/lat must fall inside each hexagon
    points = gpd.points_from_xy(poa_hexagons["lon"], poa_hexagons["lat"])
    assert poa_hexagons.contains(gpd.GeoSeries(points, crs="EPSG:4326")).all()
    # ~0.09 km² per resolution-9 cell at this latitude
    area_km2 = poa_hexagons.to_crs("EPSG:32722").area / 1e6
    assert area_km2.between(0.08, 0.12).all()


def test_hexagons_centroid_units(poa_hexagons: gpd.GeoDataFrame) -> None:
    units = demand_from_polygons(poa_hexagons, id_col="id", method="centroid")
    assert_schema(units)
    assert len(units) == 1227
    assert units["population"].sum() == pytest.approx(POA_TOTAL, rel=1e-12)
    assert not units["estimate"].any()
    assert (units["demand_id"] == poa_hexagons["id"]).all()
    assert poa_hexagons.contains(units.geometry).all()


@pytest.mark.slow  # real data: loads a whole street network first
def test_hexagons_spread_over_streets(poa_hexagons: gpd.GeoDataFrame, poa_edges: gpd.GeoDataFrame) -> None:
    before = poa_hexagons.copy()
    started = time.perf_counter()
    with pytest.warns(CoverageWarning, match=r"1 of 1,227 polygons .*89a90e926c3ffff"):
        units = demand_from_polygons(poa_hexagons, id_col="id", edges=poa_edges)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"spreading took {elapsed:.1f} s"  # ~0.6 s on a laptop
    assert_schema(units)
    assert units.crs == poa_edges.crs
    assert units["population"].sum() == pytest.approx(POA_TOTAL, rel=1e-12)
    per_hex = units.groupby("source_id")["population"].sum()
    expected = poa_hexagons.set_index("id")["population"]
    np.testing.assert_allclose(per_hex.reindex(expected.index), expected, rtol=1e-12, atol=1e-9)
    assert len(units) > 20 * len(poa_hexagons)
    # every unit lies in (or on the edge of) its own hexagon
    hexes = poa_hexagons.set_index("id").to_crs(poa_edges.crs).geometry
    own = hexes.reindex(units["source_id"]).to_numpy()
    assert shapely.dwithin(own, units.geometry.to_numpy(), 1e-6).all()
    assert units.attrs["fallback_polygons"] == ["89a90e926c3ffff"]
    pd.testing.assert_frame_equal(poa_hexagons, before)


@pytest.mark.slow  # real data: loads a whole street network first
def test_two_way_edges_count_once(poa_hexagons: gpd.GeoDataFrame, poa_edges: gpd.GeoDataFrame) -> None:
    sample = poa_hexagons.iloc[:50]
    reverse = poa_edges.assign(geometry=shapely.reverse(poa_edges.geometry.to_numpy()))
    both = gpd.GeoDataFrame(pd.concat([poa_edges, reverse], ignore_index=True), crs=poa_edges.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        one = demand_from_polygons(sample, id_col="id", edges=poa_edges)
        two = demand_from_polygons(sample, id_col="id", edges=both)
    assert len(one) == len(two)
    np.testing.assert_allclose(one["population"], two["population"])


# ---------------------------------------------------------------------------
# hand-built spreading cases
# ---------------------------------------------------------------------------


def test_two_streets_share_by_length() -> None:
    square = cells([400.0])
    lines = [LineString([(10, 100), (110, 100)]), LineString([(10, 300), (310, 300)])]
    units = demand_from_polygons(square, id_col="cell", edges=streets(lines))
    assert_schema(units)
    by_street = units.groupby(units.geometry.y)["population"].sum()
    assert by_street.to_dict() == pytest.approx({100.0: 100.0, 300.0: 300.0})
    assert not units["estimate"].any()  # census totals; only the placement is modelled
    assert "placement along the streets" in units.attrs["allocation_note"]
    assert (units["source_id"] == "c0").all()
    assert units["demand_id"].tolist() == [f"c0#{k}" for k in range(len(units))]
    # 100 m -> 2 points, 300 m -> 6 points at 50 m spacing, each standing for 50 m
    assert len(units) == 8
    np.testing.assert_allclose(units["population"], 50.0)


def test_street_crossing_cells_is_clipped() -> None:
    two = cells([100.0, 300.0])
    # 200 m inside c0, 400 m inside c1 (from x=300 to x=900)
    line = LineString([(300, 250), (900, 250)])
    units = demand_from_polygons(two, id_col="cell", edges=streets([line]), spacing_m=100)
    per_cell = units.groupby("source_id")["population"].sum()
    assert per_cell.to_dict() == pytest.approx({"c0": 100.0, "c1": 300.0})
    assert (units.loc[units["source_id"] == "c0"].geometry.x < 500).all()
    assert (units.loc[units["source_id"] == "c1"].geometry.x > 500).all()
    assert (units["source_id"] == "c0").sum() == 2
    assert (units["source_id"] == "c1").sum() == 4


def test_short_piece_gets_one_point_and_spacing_is_approximate() -> None:
    square = cells([10.0])
    units = demand_from_polygons(square, edges=streets([LineString([(100, 100), (105, 100)])]), spacing_m=50)
    assert len(units) == 1
    assert units.geometry.iloc[0].equals(Point(102.5, 100))
    units = demand_from_polygons(square, edges=streets([LineString([(0, 10), (130, 10)])]), spacing_m=50)
    assert len(units) == 3  # round(130 / 50)


def test_polygons_without_streets_fall_back_in_one_warning() -> None:
    four = cells([100.0, 50.0, 0.0, 25.0])
    line = LineString([(100, 100), (400, 100)])  # only in c0
    with pytest.warns(CoverageWarning, match=r"2 of 4 polygons .*'c1', 'c3'") as record:
        units = demand_from_polygons(four, id_col="cell", edges=streets([line]))
    assert len(record) == 1
    assert units.groupby("source_id")["population"].sum().to_dict() == pytest.approx(
        {"c0": 100.0, "c1": 50.0, "c2": 0.0, "c3": 25.0}
    )
    lone = units.loc[units["source_id"].isin(["c1", "c2", "c3"])]
    assert lone["demand_id"].tolist() == ["c1", "c2", "c3"]
    assert not lone["estimate"].any()
    assert lone.geometry.tolist() == [Point(750, 250), Point(1250, 250), Point(1750, 250)]
    assert units.attrs["fallback_polygons"] == ["c1", "c3"]


def test_polygons_reprojected_to_edges_crs() -> None:
    square = cells([100.0]).to_crs("EPSG:4326")
    units = demand_from_polygons(square, edges=streets([LineString([(0, 250), (500, 250)])]))
    assert units.crs == UTM
    assert units["population"].sum() == pytest.approx(100.0)
    assert len(units) == 10


def test_streets_method_needs_projected_edges_and_crs() -> None:
    square = cells([100.0])
    with pytest.raises(CoverageInputError, match="pass edges="):
        demand_from_polygons(square)
    geographic = streets([LineString([(0, 0), (0.01, 0)])], crs="EPSG:4326")
    with pytest.raises(CoverageInputError, match=r"geographic CRS .*to_crs"):
        demand_from_polygons(square, edges=geographic)
    with pytest.raises(CoverageInputError, match=r"edges has no CRS; call \.set_crs"):
        demand_from_polygons(square, edges=streets([LineString([(0, 0), (1, 0)])], crs=None))
    with pytest.raises(CoverageInputError, match=r"polygons has no CRS; call \.set_crs"):
        demand_from_polygons(cells([1.0], crs=None), method="centroid")
    with pytest.raises(CoverageInputError, match="not LineStrings"):
        demand_from_polygons(square, edges=gpd.GeoDataFrame(geometry=[Point(1, 1)], crs=UTM))
    with pytest.raises(CoverageInputError, match="spacing_m"):
        demand_from_polygons(square, edges=streets([LineString([(0, 0), (1, 0)])]), spacing_m=0)
    with pytest.raises(CoverageInputError, match="method must be"):
        demand_from_polygons(square, method="nearest")  # type: ignore[arg-type]


def test_centroid_of_concave_polygon_stays_inside() -> None:
    u_shape = Polygon([(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300)])
    frame = gpd.GeoDataFrame({"population": [10.0, 5.0]}, geometry=[u_shape, box(400, 0, 500, 100)], crs=UTM)
    units = demand_from_polygons(frame, method="centroid")
    assert not u_shape.centroid.within(u_shape)
    assert units.geometry.iloc[0].within(u_shape)
    assert units.geometry.iloc[1].equals(Point(450, 50))  # centroid when it is inside
    assert units["demand_id"].tolist() == ["0", "1"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pops=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=6),
    segments=st.lists(st.tuples(*[st.floats(-100, 3100, allow_nan=False)] * 4), min_size=0, max_size=12),
    spacing=st.floats(5, 300),
)
# Found by hypothesis: a 5e-324 m (denormal) segment overflowed a division (warnings are errors).
@example(pops=[1.0], segments=[(0.0, 0.0, 5e-324, 0.0)], spacing=5.0)
@example(pops=[1.0], segments=[(0.0, 5e-324, 0.0, 0.0)], spacing=5.0)
@example(pops=[7.0, 3.0], segments=[(10.0, 10.0, 200.0, 10.0), (200.0, 10.0, 200.00000000000003, 10.0)], spacing=5.0)
def test_spreading_conserves_every_polygon(
    pops: list[float], segments: list[tuple[float, float, float, float]], spacing: float
) -> None:
    frame = cells([*pops[:-1], pops[-1] + 1.0])  # at least one person
    lines = [LineString([(a, b), (c, d)]) for a, b, c, d in segments if (a, b) != (c, d)]
    lines.append(LineString([(0, 1), (1, 1)]))  # keeps the frame non-empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        units = demand_from_polygons(frame, id_col="cell", edges=streets(lines), spacing_m=spacing)
    assert_schema(units)
    per_cell = units.groupby("source_id")["population"].sum().reindex(frame["cell"])
    np.testing.assert_allclose(per_cell, frame["population"], rtol=1e-9, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rotate=st.floats(0, 90),
    spacing=st.floats(10, 200),
)
def test_clipping_matches_geos(seed: int, rotate: float, spacing: float) -> None:
    """Convex fast path and GEOS path give the street length GEOS measures."""
    rng = np.random.default_rng(seed)
    hexagon = shapely.Polygon([(300 + 150 * np.cos(a), 300 + 150 * np.sin(a)) for a in np.arange(6) * np.pi / 3])
    square = shapely.affinity.rotate(box(500, 0, 800, 300), rotate)
    ell = Polygon([(0, 500), (400, 500), (400, 600), (100, 600), (100, 900), (0, 900)])
    areas = np.array([hexagon, square, ell, ell.buffer(-20).union(box(600, 600, 700, 700))])
    lines = np.array(
        [
            LineString(rng.uniform(-50, 950, 2) + np.cumsum(rng.normal(0, 120, (k, 2)), axis=0))
            for k in rng.integers(2, 7, 40)
        ]
        + [LineString(list(hexagon.exterior.coords)[:3]), LineString([(0, 500), (400, 600)])]
    )
    pieces, area_of, line_of = _clip_lines(areas, lines)
    got = np.bincount(area_of, weights=shapely.length(pieces), minlength=areas.size)
    want = [shapely.length(shapely.intersection(lines, a)).sum() for a in areas]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    assert shapely.dwithin(pieces, areas[area_of], 1e-6).all()
    assert shapely.dwithin(pieces, lines[line_of], 1e-6).all()
    points, piece_of, metres = _points_along(pieces, spacing)
    np.testing.assert_allclose(np.bincount(piece_of, weights=metres, minlength=pieces.size), shapely.length(pieces))
    assert shapely.dwithin(points, pieces[piece_of], 1e-6).all()


def test_denormal_segment_keeps_its_people_without_overflow() -> None:
    frame = cells([90.0])  # box(0, 0, 500, 500): the tiny segments touch its edge, so they are clipped
    # GEOS measures these as 0 m long (its dx*dx underflows); the clipping divided by them.
    lines = [LineString([(0, 0), (5e-324, 0)]), LineString([(0, 0), (0, 1e-320)]), LineString([(0, 5), (100, 5)])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        units = demand_from_polygons(frame, edges=streets(lines))
    assert len(units) == 2  # the 100 m street at 50 m spacing
    assert units["population"].sum() == pytest.approx(90.0, rel=1e-12)
    assert np.isfinite(np.column_stack([units.geometry.x, units.geometry.y])).all()


@pytest.mark.parametrize("spacing", [0.5, 0.0, -3.0, float("nan")])
def test_spacing_below_the_floor_names_the_setting(spacing: float) -> None:
    lines = [LineString([(10, 100), (110, 100)])]
    with pytest.raises(CoverageInputError, match=r"spacing_m="):
        demand_from_polygons(cells([1.0]), edges=streets(lines), spacing_m=spacing)
    with pytest.raises(CoverageInputError, match=r"spacing_m=.*(smallest accepted value of 1 m|> 0 m|finite)"):
        demand_from_streets(streets(lines, highway=["residential"]), density_per_km2=100, spacing_m=spacing)


def test_memory_estimate_before_spreading(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [LineString([(0, y), (500, y)]) for y in range(10, 500, 10)]
    monkeypatch.setenv("COVERAGE_PLANNER_MAX_MEMORY_GB", str(1e6 / 1024**3))  # 1 MB
    with pytest.raises(
        CoverageInputError,
        match=r"spreading people over the streets at spacing_m=1 \(24,500 demand points\) would need about .* "
        r"make spacing_m coarser",
    ):
        demand_from_polygons(cells([100.0]), edges=streets(lines), spacing_m=1.0)
    assert len(demand_from_polygons(cells([100.0]), edges=streets(lines), spacing_m=50.0)) == 490


def test_concave_polygon_spread_is_exact() -> None:
    ell = Polygon([(0, 0), (400, 0), (400, 100), (100, 100), (100, 400), (0, 400)])
    frame = gpd.GeoDataFrame({"population": [90.0]}, geometry=[ell], crs=UTM)
    # 400 m horizontal at y=50 (all inside) and a vertical at x=200: 100 m inside
    lines = [LineString([(0, 50), (400, 50)]), LineString([(200, -100), (200, 400)])]
    units = demand_from_polygons(frame, edges=streets(lines))
    on_vertical = np.isclose(units.geometry.x, 200) & (units.geometry.y > 50)
    assert units.loc[on_vertical, "population"].sum() == pytest.approx(90 * 50 / 500)
    assert units["population"].sum() == pytest.approx(90.0)
    assert units.geometry.within(ell.buffer(1e-9)).all()


# ---------------------------------------------------------------------------
# read_demand
# ---------------------------------------------------------------------------


def test_read_demand_csv_points(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    pd.DataFrame(
        {
            "code": ["a", "b", "c"],
            "x": [114.05, 114.06, 114.07],
            "y": [22.54, 22.55, 22.53],
            "people": [10, 0, 5.5],
        }
    ).to_csv(path, index=False)
    units = read_demand(path, population_col="people", id_col="code", lon_col="x", lat_col="y")
    assert_schema(units)
    assert units["demand_id"].tolist() == ["a", "b", "c"]
    assert units["source_id"].tolist() == ["a", "b", "c"]
    assert units["population"].tolist() == [10.0, 0.0, 5.5]
    assert units.crs == "EPSG:4326"
    assert (units["group"] == "residents").all()
    assert units.geometry.iloc[0].equals(Point(114.05, 22.54))
    numbered = read_demand(path, population_col="people", lon_col="x", lat_col="y", group="kids")
    assert numbered["demand_id"].tolist() == ["0", "1", "2"]
    assert (numbered["group"] == "kids").all()


def test_read_demand_geojson_gpkg_and_frames(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(
        {"pid": [7, 8], "population": [3, 4], "estimate": [True, False]},
        geometry=[Point(0, 0), Point(10, 0)],
        crs=UTM,
    )
    pts.to_file(tmp_path / "pts.geojson")
    from_geojson = read_demand(tmp_path / "pts.geojson", id_col="pid")
    assert from_geojson["demand_id"].tolist() == ["7", "8"]
    assert from_geojson["estimate"].tolist() == [True, False]
    assert from_geojson.crs == UTM
    polys = cells([100.0, 200.0])
    polys.to_file(tmp_path / "cells.gpkg", layer="cells")
    centroid = read_demand(tmp_path / "cells.gpkg", id_col="cell")
    assert centroid.geometry.tolist() == [Point(250, 250), Point(750, 250)]
    spread = read_demand(
        tmp_path / "cells.gpkg",
        id_col="cell",
        edges=streets([LineString([(0, 250), (1000, 250)])]),
    )
    assert len(spread) == 20
    assert spread.groupby("source_id")["population"].sum().to_dict() == pytest.approx({"c0": 100.0, "c1": 200.0})
    from_frame = read_demand(pts, id_col="pid")
    pd.testing.assert_frame_equal(from_frame, from_geojson)
    from_table = read_demand(pd.DataFrame({"lon": [1.0], "lat": [2.0], "population": [3]}))
    assert from_table["population"].tolist() == [3.0]


def test_read_demand_mixed_points_and_polygons() -> None:
    frame = gpd.GeoDataFrame({"population": [5.0, 100.0]}, geometry=[Point(1000, 1000), box(0, 0, 500, 500)], crs=UTM)
    units = read_demand(frame)
    assert units["demand_id"].tolist() == ["0", "1"]
    assert units["population"].sum() == 105.0


def test_read_demand_errors(tmp_path: Path) -> None:
    with pytest.raises(CoverageInputError, match=r"missing\.csv: file not found; check the path"):
        read_demand(tmp_path / "missing.csv")
    path = tmp_path / "bad.csv"
    pd.DataFrame({"lng": [1.0], "lat": [2.0], "population": [1]}).to_csv(path, index=False)
    assert read_demand(path)["population"].sum() == 1.0  # 'lng' is a longitude name
    with pytest.raises(
        CoverageInputError, match=r"bad\.csv: no longitude column 'lon' \(lon_col\).*Did you mean 'lng'"
    ):
        read_demand(path, lon_col="lon")
    pd.DataFrame({"lon": [1.0, None], "lat": [2.0, 3.0], "population": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(CoverageInputError, match=r"bad\.csv: 1 row\(s\) have a missing.*: row 3 \(spreadsheet"):
        read_demand(path)
    pd.DataFrame({"lon": [22.5], "lat": [114.0], "population": [1]}).to_csv(path, index=False)
    with pytest.raises(CoverageInputError, match="swapped"):
        read_demand(path)
    pd.DataFrame({"lon": [1.0], "lat": [2.0], "pop": [1]}).to_csv(path, index=False)
    with pytest.raises(CoverageInputError, match=r"no population column 'population'.*'pop'"):
        read_demand(path)
    with pytest.raises(CoverageInputError, match="no id column 'code'"):
        read_demand(path, population_col="pop", id_col="code")
    gpkg = tmp_path / "two.gpkg"
    cells([1.0]).to_file(gpkg, layer="a")
    cells([2.0]).to_file(gpkg, layer="b")
    with pytest.raises(CoverageInputError, match=r"2 layers \('a', 'b'\); pass layer="):
        read_demand(gpkg)
    assert read_demand(gpkg, layer="b")["population"].sum() == 2.0
    with pytest.raises(CoverageInputError, match="source must be"):
        read_demand(42)
    with pytest.raises(CoverageInputError, match="group must be"):
        read_demand(gpkg, layer="a", group="")


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def points(pops: list[object], ids: list[object] | None = None, crs: str | None = UTM) -> gpd.GeoDataFrame:
    ids = ids if ids is not None else [f"p{i}" for i in range(len(pops))]
    return gpd.GeoDataFrame(
        {"demand_id": ids, "population": pops},
        geometry=[Point(i, 0) for i in range(len(pops))],
        crs=crs,
    )


@pytest.mark.parametrize(
    ("pops", "pattern"),
    [
        ([1, -2, 3], r"negative for 1 rows, ids 'p1'"),
        ([1, np.nan, 3], r"empty \(NaN\) for 1 rows, ids 'p1'"),
        ([1, "many", "1,200"], r"2 non-numeric values 'many', '1,200' in ids 'p1', 'p2'"),
        ([0, 0, 0], "zero in all 3 rows"),
        ([1, np.inf, 3], r"infinite for 1 rows, ids 'p1'"),
        ([True, False, True], "True/False"),
    ],
)
def test_validate_bad_population(pops: list[object], pattern: str) -> None:
    with pytest.raises(CoverageInputError, match=pattern):
        validate_demand(points(pops))


def test_validate_names_at_most_ten_ids_and_counts() -> None:
    with pytest.raises(CoverageInputError, match=r"negative for 12 rows.*'p9' … and 2 more"):
        validate_demand(points([-1] * 12))


def test_validate_crs_ids_and_geometry() -> None:
    with pytest.raises(CoverageInputError, match=r"no CRS; call .set_crs"):
        validate_demand(points([1, 2], crs=None))
    with pytest.raises(CoverageInputError, match=r"1 ids appear more than once.*'a'"):
        validate_demand(points([1, 2, 3], ids=["a", "b", "a"]))
    grouped = points([1, 2], ids=["a", "a"]).assign(group=["residents", "elderly"])
    assert len(validate_demand(grouped)) == 2  # unique within each group
    frame = points([1, 2, 3])
    frame.loc[1, "geometry"] = None
    frame.loc[2, "geometry"] = Point()
    with pytest.raises(CoverageInputError, match=r"2 rows have no geometry.*'p1', 'p2'"):
        validate_demand(frame)
    frame = points([1, 2]).set_geometry([Point(0, 0), Point(np.nan, 1)], crs=UTM)
    with pytest.raises(CoverageInputError, match=r"invalid coordinates.*'p1'"):
        validate_demand(frame)
    frame = points([1, 2]).set_geometry([Point(0, 0), LineString([(0, 0), (1, 1)])], crs=UTM)
    with pytest.raises(CoverageInputError, match=r"not points or polygons \(1 LineString\).*'p1'"):
        validate_demand(frame)
    with pytest.raises(CoverageInputError, match="no rows"):
        validate_demand(points([]))
    with pytest.raises(CoverageInputError, match="not a GeoDataFrame"):
        validate_demand(pd.DataFrame({"population": [1]}))


def test_validate_repairs_polygons_with_a_warning() -> None:
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    frame = gpd.GeoDataFrame(
        {"demand_id": ["ok", "bow"], "population": [1.0, 2.0]},
        geometry=[box(200, 0, 300, 100), bowtie],
        crs=UTM,
    )
    with pytest.warns(CoverageWarning, match=r"1 invalid polygons were repaired.*'bow'"):
        clean = validate_demand(frame)
    assert clean.geometry.is_valid.all()
    assert not frame.geometry.is_valid.all()  # input untouched
    flat = frame.set_geometry([box(200, 0, 300, 100), Polygon([(0, 0), (1, 0), (2, 0)])], crs=UTM)
    with pytest.raises(CoverageInputError, match=r"could not be repaired.*'bow'"):
        validate_demand(flat)


def test_validate_warns_on_overlapping_polygons() -> None:
    frame = gpd.GeoDataFrame(
        {"demand_id": ["a", "b", "c"], "population": [1.0, 2.0, 3.0]},
        geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100), box(100, 0, 200, 100)],
        crs=UTM,
    )
    with pytest.warns(CoverageWarning, match=r"2 pairs .*overlap.*\('a', 'b'\)"):
        validate_demand(frame)
    touching = frame.iloc[[0, 2]]
    validate_demand(touching)  # shared edges are not overlaps (no warning)


# ---------------------------------------------------------------------------
# Helsinki grid
# ---------------------------------------------------------------------------


def test_read_population_grid_helsinki(shared_data: Path) -> None:
    grid = read_population_grid(shared_data / "helsinki" / "helsinki_population_grid_2020.gpkg")
    assert len(grid) == 92
    assert grid["population"].sum() == HELSINKI_TOTAL
    assert grid.attrs["population_source_col"] == "population"
    units = demand_from_polygons(grid, id_col="id", method="centroid")
    assert_schema(units)
    assert units["population"].sum() == pytest.approx(HELSINKI_TOTAL)
    cell_m2 = grid.to_crs("EPSG:3067").area
    assert cell_m2.between(250 * 250 * 0.99, 250 * 250 * 1.01).all()


def test_read_population_grid_detects_and_complains(tmp_path: Path) -> None:
    path = tmp_path / "grid.gpkg"
    base = cells([1.0, 2.0]).drop(columns="population")
    base.assign(asukkaita=[5, 7], name=["x", "y"]).to_file(path)
    grid = read_population_grid(path)
    assert grid["population"].tolist() == [5.0, 7.0]
    assert grid.attrs["population_source_col"] == "asukkaita"
    base.assign(pop_2019=[1, 2], pop_2020=[3, 4]).to_file(path)
    with pytest.raises(CoverageInputError, match=r"several columns .*'pop_2019', 'pop_2020'"):
        read_population_grid(path)
    assert read_population_grid(path, population_col="pop_2020")["population"].sum() == 7.0
    base.assign(value=[1, 2]).to_file(path)
    with pytest.raises(CoverageInputError, match=r"no population column found.*'value'"):
        read_population_grid(path)
    with pytest.raises(CoverageInputError, match=r"no population column 'people'.*'value'"):
        read_population_grid(path, population_col="people")
    base.assign(value=[1, 2], population=[3, 4]).to_file(path)
    with pytest.raises(CoverageInputError, match="both 'value' and 'population'"):
        read_population_grid(path, population_col="value")
    pd.DataFrame({"lon": [1], "lat": [2], "population": [3]}).to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(CoverageInputError, match="no geometry"):
        read_population_grid(tmp_path / "p.csv")


# ---------------------------------------------------------------------------
# H3 edge cases
# ---------------------------------------------------------------------------


def test_read_h3_invalid_ids_fall_back_to_points(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    pd.DataFrame(
        {
            "id": ["89a901291abffff", "not-a-cell"],
            "lon": [-51.158, -51.2],
            "lat": [-30.054, -30.1],
            "population": [1, 2],
        }
    ).to_csv(path, index=False)
    with pytest.warns(CoverageWarning, match=r"1 of 2 values of 'id' are not valid H3.*not-a-cell"):
        frame = read_h3_hexagons(path)
    assert set(frame.geom_type) == {"Point"}
    assert frame["population"].sum() == 3


def test_read_h3_warns_when_lonlat_is_outside_cell(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    pd.DataFrame({"id": ["89a901291abffff"], "lon": [-51.0], "lat": [-30.0], "population": [1]}).to_csv(
        path, index=False
    )
    with pytest.warns(CoverageWarning, match="not inside its H3 cell"):
        frame = read_h3_hexagons(path)
    assert set(frame.geom_type) == {"Polygon"}
    with pytest.raises(CoverageInputError, match="no H3 id column 'h3'"):
        read_h3_hexagons(path, id_col="h3")


# ---------------------------------------------------------------------------
# buildings
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("2", (2.0, True)),
        ("2.5", (2.5, True)),
        ("3;4", (3.0, True)),
        ("2,5", (2.5, True)),
        (" 4 ", (4.0, True)),
        ("EG", (1.0, False)),
        ("", (1.0, False)),
        ("0", (1.0, False)),
        ("-1", (1.0, False)),
        (None, (1.0, True)),
    ],
)
def test_parse_levels(tag: str | None, expected: tuple[float, bool]) -> None:
    assert _parse_levels(tag, 1.0) == expected


def _osm_square(way_id: int, node0: int, lon: float, lat: float, tags: dict[str, str]) -> tuple[str, str]:
    d = 0.0002
    corners = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)]
    nodes = "".join(f'<node id="{node0 + i}" version="1" lat="{y}" lon="{x}"/>' for i, (x, y) in enumerate(corners))
    refs = "".join(f'<nd ref="{node0 + i}"/>' for i in [0, 1, 2, 3, 0])
    tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return nodes, f'<way id="{way_id}" version="1">{refs}{tag_xml}</way>'


def _town_osm(tmp_path: Path) -> Path:
    """Five equal squares: house (2 levels), yes ('EG' levels), yes, garage, no."""
    specs = [
        (1, {"building": "house", "building:levels": "2"}),
        (2, {"building": "yes", "building:levels": "EG"}),
        (3, {"building": "yes"}),
        (4, {"building": "garage"}),
        (5, {"building": "no"}),
    ]
    nodes, ways = [], []
    for k, tags in specs:
        n, w = _osm_square(k, 10 * k, 9.5 + 0.001 * k, 47.1, tags)
        nodes.append(n)
        ways.append(w)
    path = tmp_path / "town.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">' + "".join(nodes) + "".join(ways) + "</osm>"
    )
    return path


def test_buildings_by_floor_area(tmp_path: Path) -> None:
    path = _town_osm(tmp_path)
    with pytest.warns(CoverageWarning, match=r"1 buildings have a building:levels.*w2: 'EG'"):
        units = demand_from_buildings(path, 100)
    assert_schema(units)
    assert units["demand_id"].tolist() == ["w1", "w2", "w3"]
    # equal footprints: 2 levels, default 1, default 1 -> 50 / 25 / 25
    np.testing.assert_allclose(units["population"], [50.0, 25.0, 25.0], rtol=1e-3)
    assert units["population"].sum() == pytest.approx(100.0, rel=1e-12)
    assert units["estimate"].all()
    assert units.attrs["excluded"] == {"garage": 1, "building=no": 1}
    assert units.attrs["levels"]["unparseable (default used)"] == 1
    assert units.attrs["area_crs"] == "EPSG:32632"
    with pytest.warns(CoverageWarning):
        everything = demand_from_buildings(path, 100, residential_only=False, default_levels=2)
    assert everything["demand_id"].tolist() == ["w1", "w2", "w3", "w4"]
    np.testing.assert_allclose(everything["population"], 25.0, rtol=1e-3)
    assert everything.attrs["excluded"] == {"building=no": 1}


def test_buildings_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(CoverageInputError, match="total_population must be a positive"):
        demand_from_buildings(tmp_path / "x.pbf", 0)
    with pytest.raises(CoverageInputError, match=r"x\.pbf: no such file or folder"):
        demand_from_buildings(tmp_path / "x.pbf", 10)
    with pytest.raises(CoverageInputError, match="default_levels"):
        demand_from_buildings(tmp_path / "x.pbf", 10, default_levels=0)
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    with pytest.raises(CoverageInputError, match="no building areas"):
        demand_from_buildings(empty, 10)


def test_buildings_from_a_table_match_the_path_convenience(tmp_path: Path) -> None:
    from coverage.osm import buildings_from_file

    path = _town_osm(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        table = buildings_from_file(path)
        from_table = demand_from_buildings(table, 1000)
        from_path = demand_from_buildings(path, 1000)
    pd.testing.assert_frame_equal(from_table, from_path)
    assert from_table.attrs == from_path.attrs
    with pytest.raises(CoverageInputError, match=r"the buildings table lacks the columns \['footprint_m2'\]"):
        demand_from_buildings(table.drop(columns="footprint_m2"), 10)
    with pytest.raises(CoverageInputError, match=r"area_crs applies to an OSM file; .* Remove area_crs"):
        demand_from_buildings(table, 10, area_crs="EPSG:32632")
    with pytest.raises(CoverageInputError, match=r"repeats the ids 'w1'"):
        demand_from_buildings(pd.concat([table.iloc[:1], table.iloc[:1]]).assign(building_id="w1"), 10)


@pytest.mark.slow
def test_liechtenstein_buildings(shared_data: Path) -> None:
    pbf = shared_data / "liechtenstein" / "liechtenstein-latest.osm.pbf"
    started = time.perf_counter()
    with pytest.warns(CoverageWarning, match=r"1 buildings .*building:levels.*'EG'"):
        units = demand_from_buildings(pbf, 39_000, residential_only=False)
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"{elapsed:.1f} s"
    assert_schema(units)
    assert 17_500 <= len(units) <= 17_800
    assert units["population"].sum() == pytest.approx(39_000, rel=1e-12)
    assert (units["population"] > 0).all()
    assert units.attrs["area_crs"] == "EPSG:32632"
    assert units.total_bounds == pytest.approx([9.47, 47.04, 9.64, 47.28], abs=0.02)
    homes = demand_from_buildings(pbf, 39_000)
    assert homes["population"].sum() == pytest.approx(39_000, rel=1e-12)
    excluded = homes.attrs["excluded"]
    assert excluded["garage"] > 100
    assert excluded["industrial"] > 100
    dropped = sum(v for k, v in excluded.items() if k != "no footprint (node)")
    assert len(homes) + dropped == len(units)
    assert homes.attrs["levels"]["tagged"] > 500


# ---------------------------------------------------------------------------
# density estimates
# ---------------------------------------------------------------------------


def test_estimate_along_streets_weights_and_note() -> None:
    lines = [
        LineString([(0, 0), (1000, 0)]),
        LineString([(0, 500), (1000, 500)]),
        LineString([(0, 250), (1000, 250)]),
    ]
    edges = streets(lines, highway=["residential", "primary", "motorway"])
    with pytest.warns(EstimateWarning, match=r"10,000 residents/km² x 1.00 km²") as record:
        units = demand_from_streets(edges, density_per_km2=10_000, area=box(0, -500, 1000, 500))
    assert len(record) == 1
    assert_schema(units)
    assert units["estimate"].all()
    by_street = units.groupby(units.geometry.y)["population"].sum()
    assert by_street.to_dict() == pytest.approx({0.0: 8000.0, 500.0: 2000.0})  # weights 1 : 0.25
    assert units.attrs["estimate_note"].startswith("Estimated, not census data")
    assert units.attrs["total_population"] == pytest.approx(10_000)
    assert set(units["source_id"]) == {"0", "1"}
    with pytest.warns(EstimateWarning):
        equal = demand_from_streets(edges, density_per_km2=10_000, area=box(0, -500, 1000, 500), highway=None)
    assert equal.groupby(equal.geometry.y)["population"].sum().tolist() == pytest.approx([10_000 / 3] * 3)


def test_former_name_of_the_street_estimate() -> None:
    assert estimate_demand_along_streets is demand_from_streets


def test_estimate_along_streets_errors() -> None:
    edges = streets([LineString([(0, 0), (1000, 0)])], highway=["motorway"])
    with pytest.raises(CoverageInputError, match="density_per_km2 must be a positive"):
        demand_from_streets(edges, density_per_km2=-1)
    with pytest.raises(CoverageInputError, match="no street of the types"):
        demand_from_streets(edges, density_per_km2=100, area=box(0, -10, 10, 10))
    with pytest.raises(CoverageInputError, match="no 'highway' column"):
        demand_from_streets(streets([LineString([(0, 0), (1, 0)])]), density_per_km2=100)
    with pytest.raises(CoverageInputError, match="non-empty"):
        demand_from_streets(edges, density_per_km2=100, area=LineString([(0, 0), (1, 1)]))


@pytest.mark.slow  # real data: loads a whole street network first
def test_futian_estimate(shared_data: Path, futian_edges: gpd.GeoDataFrame) -> None:
    districts = gpd.read_file(shared_data / "shenzhen" / "districts.geojson")
    futian = districts.loc[districts["qh"] == "福田"].to_crs(futian_edges.crs).union_all()
    area = futian.intersection(shapely.convex_hull(futian_edges.union_all()))
    density = FUTIAN_POPULATION_2020 / FUTIAN_AREA_KM2
    with pytest.warns(EstimateWarning, match="Estimated, not census data"):
        units = demand_from_streets(futian_edges, density_per_km2=density, area=area)
    assert_schema(units)
    expected = density * area.area / 1e6
    assert units["population"].sum() == pytest.approx(expected, rel=1e-12)
    assert 150_000 < expected < 400_000  # 13.4 km² of CBD at ~19,700 per km²
    assert units["estimate"].all()
    assert units.crs == futian_edges.crs
    assert shapely.covered_by(units.geometry.to_numpy(), area.buffer(1e-6)).all()
    # residential streets carry more people per metre than primary roads
    hw = futian_edges["highway"].astype(str)
    label = ["-".join(map(str, i)) for i in futian_edges.index]
    kinds = pd.Series(hw.to_numpy(), index=label)
    per_m = units.assign(kind=kinds.reindex(units["source_id"]).to_numpy()).groupby("kind")["population"].mean()
    assert per_m["residential"] > 3 * per_m["primary"]
    # no area: the convex hull of the edges
    with pytest.warns(EstimateWarning):
        hull_units = demand_from_streets(futian_edges, density_per_km2=density)
    assert hull_units.attrs["area_km2"] >= units.attrs["area_km2"] * (1 - 1e-9)


# ---------------------------------------------------------------------------
# groups
# ---------------------------------------------------------------------------


def test_combine_and_share() -> None:
    residents = read_demand(points([10, 20, 30]), id_col="demand_id")
    elderly = demand_share(residents, 0.12, group="elderly")
    assert_schema(elderly)
    assert elderly["population"].sum() == pytest.approx(7.2)
    assert elderly["estimate"].all()
    assert not residents["estimate"].any()  # input untouched
    assert "12%" in elderly.attrs["estimate_note"]
    both = combine_demand(residents, elderly.to_crs("EPSG:4326"))
    assert_schema(both)
    assert both.crs == UTM
    assert both.groupby("group")["population"].sum().to_dict() == pytest.approx({"residents": 60.0, "elderly": 7.2})
    assert "12%" in both.attrs["estimate_note"]
    # An estimated source: its note comes once, not again inside the share's note.
    estimated = residents.copy()
    estimated.attrs = {"estimate_note": "Estimated, not census data: 60 residents."}
    notes = combine_demand(estimated, demand_share(estimated, 0.12, group="elderly")).attrs["estimate_note"]
    assert notes.count("Estimated, not census data") == 1
    assert "12%" in notes
    with pytest.raises(CoverageInputError, match=r"3 \(group, demand_id\) pairs.*'residents'"):
        combine_demand(residents, residents)
    with pytest.raises(CoverageInputError, match="share must be a fraction"):
        demand_share(residents, 1.5, group="x")
    with pytest.raises(CoverageInputError, match="several groups"):
        demand_share(both, 0.5, group="x")
    kids = demand_share(both, 0.5, group="kids", from_group="residents")
    assert kids["population"].sum() == pytest.approx(30.0)
    with pytest.raises(CoverageInputError, match="lacks the demand columns"):
        combine_demand(points([1]))
    with pytest.raises(CoverageInputError, match="at least one"):
        combine_demand()
