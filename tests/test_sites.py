from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.crs import gcj02_to_wgs84
from coverage.network import load_network, network_from_graph
from coverage.sites import read_sites, snap_points, snap_sites
from tests._graphs import line_graph


def csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "halls.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_named_columns(tmp_path: Path) -> None:
    sites = read_sites(
        csv(tmp_path, "code,title,lng,lat\nA,Hall A,114.05,22.54\nB,Hall B,114.06,22.55\n"),
        id_col="code",
        name_col="title",
    )
    assert sites["site_id"].tolist() == ["A", "B"]
    assert sites["name"].tolist() == ["Hall A", "Hall B"]
    assert sites.crs.to_epsg() == 4326
    assert sites.geometry.x.tolist() == [114.05, 114.06]


def test_gcj02_and_bd09_are_converted(tmp_path: Path) -> None:
    path = csv(tmp_path, "id,lon,lat\nA,114.0579,22.5431\n")
    wgs = read_sites(path, id_col="id")
    gcj = read_sites(path, id_col="id", crs="gcj02")
    bd = read_sites(path, id_col="id", crs="bd09")
    x, y = gcj02_to_wgs84(114.0579, 22.5431)
    assert gcj.geometry.x.iloc[0] == pytest.approx(float(x))
    assert gcj.geometry.y.iloc[0] == pytest.approx(float(y))
    shift = gpd.GeoSeries([wgs.geometry.iloc[0], gcj.geometry.iloc[0], bd.geometry.iloc[0]], crs=4326).to_crs(32650)
    assert 300 < shift.iloc[0].distance(shift.iloc[1]) < 700  # GCJ-02 offset in Shenzhen
    assert shift.iloc[0].distance(shift.iloc[2]) > shift.iloc[0].distance(shift.iloc[1])


def test_json_records_and_geojson(tmp_path: Path) -> None:
    records = [{"id": "1", "title": "AED", "location": {"lat": 22.54, "lng": 114.05}}]
    path = tmp_path / "poi.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    sites = read_sites(path, id_col="id")
    assert sites["name"].tolist() == ["AED"]
    gj = tmp_path / "halls.geojson"
    gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.Point(114.05, 22.54)], crs=4326).to_file(gj)
    assert read_sites(gj, id_col="id")["site_id"].tolist() == ["x"]


ROW = r"\(spreadsheet row numbers: the header is row 1\)"


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("id,lon,lat\n", {}, r"halls\.csv: the header is there but no rows; add one row"),
        ("", {}, r"halls\.csv: the file is empty"),
        (
            "id,x_coord,y_coord\nA,114,22\n",
            {"lon_col": "lon"},
            r"halls\.csv: no longitude column 'lon' \(lon_col\); the columns are 'id', 'x_coord', 'y_coord'\. "
            r"Pass lon_col= with the exact name",
        ),
        ("id,foo,bar\nA,114,22\n", {}, r"halls\.csv: cannot find a longitude column .*Pass lon_col= naming it"),
        (
            "id,lon,lat\nA,114.0,\nB,abc,22.5\n",
            {},
            r"halls\.csv: 2 row\(s\) have a missing, non-numeric or infinite lon/lat: rows 2, 3 "
            + ROW
            + r", values \('114\.0', empty\), \('abc', '22\.5'\); fill in numbers",
        ),
        ("id,lon,lat\nA,inf,22.5\n", {}, r"halls\.csv: 1 row\(s\) have a missing, non-numeric or infinite.*row 2"),
        ("id,lon,lat\nA,400.0,22.5\n", {}, r"halls\.csv: .*row 2 " + ROW + r" lie outside longitude -180\.\.180"),
        ("id,lon,lat\nA,114,999\n", {}, r"halls\.csv: .*\(x=114, y=999\) in row 2 .*outside longitude -180"),
        (
            "id,x,y\nA,500000,2500000\n",
            {},
            r"halls\.csv: .*\(x=500000, y=2500000\) in row 2 .*look like metres.*Pass crs=",
        ),
        (
            "id,lon,lat\nA,114,22\nA,114.1,22.1\n",
            {"id_col": "id"},
            r"halls\.csv: duplicate site ids 'A' in rows 2, 3 " + ROW + r"; ids must be unique",
        ),
        ("id,lon,lat\n,114,22\n", {"id_col": "id"}, r"halls\.csv: empty ids in row 2 " + ROW),
        ("id,lon,lat\nA,114,22\n", {"crs": "nonsense"}, r"crs='nonsense': not a coordinate reference system"),
        ("id,lon,lat\nA,114,22\n", {"id_col": "ID"}, r"halls\.csv: no id column 'ID' \(id_col\).*Did you mean 'id'"),
        (
            "id,name,lon,lat\nA,x,114,22\n",
            {"name_col": "nmae"},
            r"no name column 'nmae' \(name_col\).*Did you mean 'name'",
        ),
        ("id,lng,lat\nA,114,22\n", {"lon_col": "lon"}, r"no longitude column 'lon' \(lon_col\).*Did you mean 'lng'"),
        ("id,lon,lat\nA,114,22\n", {"lat_col": "latt"}, r"no latitude column 'latt' \(lat_col\).*Did you mean 'lat'"),
    ],
)
def test_bad_halls_files(tmp_path: Path, text: str, kwargs: dict, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        read_sites(csv(tmp_path, text), **kwargs)


def test_missing_file() -> None:
    with pytest.raises(CoverageInputError, match=r"/no/such/halls\.csv: file not found; check the path"):
        read_sites("/no/such/halls.csv")


def test_snap_onto_the_edge_not_the_node() -> None:
    net = network_from_graph(line_graph([1000.0]))
    pts = gpd.GeoSeries([shapely.Point(400.0, 30.0)], crs="EPSG:32650")
    snap = snap_points(net, pts)
    assert snap.edge.tolist() == [0]
    assert snap.offset_m[0] == pytest.approx(400.0)
    assert snap.access_m[0] == pytest.approx(30.0)


def test_snap_matches_strtree_brute_force(shared_data: Path) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    rng = np.random.default_rng(2)
    lo, hi = shapely.total_bounds(net.edge_geometry).reshape(2, 2)
    pts = gpd.GeoSeries(gpd.points_from_xy(*rng.uniform(lo, hi, (500, 2)).T), crs=net.crs)
    snap = snap_points(net, pts, max_snap_m=300.0)
    tree = shapely.STRtree(net.edge_geometry)
    (pi, ei), dist = tree.query_nearest(pts.to_numpy(), max_distance=300.0, return_distance=True, all_matches=True)
    best = pd.DataFrame({"p": pi, "e": ei, "d": dist}).sort_values(["p", "d", "e"]).groupby("p").first()
    assert set(np.flatnonzero(snap.ok)) == set(best.index)
    assert snap.access_m[best.index] == pytest.approx(best["d"].to_numpy(), abs=1e-6)
    # Equal distances may pick another edge only when it is exactly as near.
    assert (snap.edge[best.index] == best["e"].to_numpy()).mean() > 0.99


def test_far_and_swapped_halls(shared_data: Path) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    ok = read_sites(pd.DataFrame({"id": ["near", "far"], "lon": [114.02, 114.5], "lat": [22.53, 22.9]}), id_col="id")
    with pytest.warns(CoverageWarning, match=r"1 of 2 site\(s\).*'far'"):
        out, _ = snap_sites(net, ok)
    assert out["snapped"].tolist() == [True, False]
    # Swapped in Shenzhen: the latitude is out of range, caught when reading.
    with pytest.raises(CoverageInputError, match=r"look swapped\. Pass lon_col='lat', lat_col='lon'"):
        read_sites(pd.DataFrame({"id": ["a"], "lon": [22.53], "lat": [114.02]}), id_col="id")
    elsewhere = read_sites(pd.DataFrame({"id": ["x"], "lon": [2.35], "lat": [48.85]}), id_col="id")
    with pytest.raises(CoverageInputError, match="no site lies within"):
        snap_sites(net, elsewhere)


def test_swapped_but_in_range_is_caught_when_snapping() -> None:
    # Porto Alegre (-51.2, -30.03): swapped coordinates are valid numbers far away.
    G = line_graph([1000.0])
    G.graph["crs"] = "EPSG:32722"
    for n in G.nodes:
        G.nodes[n]["x"] += 480_000.0
        G.nodes[n]["y"] = 6_667_000.0
    net = network_from_graph(G)
    here = gpd.GeoSeries([shapely.Point(480_500.0, 6_667_000.0)], crs="EPSG:32722").to_crs(4326).iloc[0]
    swapped = read_sites(pd.DataFrame({"id": ["a"], "lon": [here.y], "lat": [here.x]}), id_col="id")
    with pytest.raises(CoverageInputError, match="lon and lat columns look swapped"):
        snap_sites(net, swapped)


def test_points_without_crs() -> None:
    net = network_from_graph(line_graph([100.0]))
    with pytest.raises(CoverageInputError, match="set_crs"):
        snap_points(net, gpd.GeoSeries([shapely.Point(0, 0)]))
