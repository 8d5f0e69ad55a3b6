"""coverage.osm.buildings: building footprints of an OSM file as a plain table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.osm.buildings import BUILDING_COLUMNS, buildings_from_file

D = 0.0002  # degrees: a square of about 15 x 22 m at 47 N


def _square(node0: int, lon: float, lat: float, size: float = D) -> tuple[list[str], list[int]]:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    nodes = [f'<node id="{node0 + i}" version="1" lat="{y}" lon="{x}"/>' for i, (x, y) in enumerate(corners)]
    return nodes, [node0, node0 + 1, node0 + 2, node0 + 3, node0]


def _way(way_id: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    return (
        f'<way id="{way_id}" version="1">{nds}' + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>"
    )


@pytest.fixture
def town(tmp_path: Path) -> Path:
    nodes: list[str] = []
    ways: list[str] = []
    for k, tags in [
        (1, {"building": "house", "building:levels": "2"}),
        (2, {"building": "yes", "building:levels": "EG"}),
        (3, {"building": "garage"}),
        (4, {"building": "no"}),
    ]:
        n, refs = _square(10 * k, 9.5 + 0.001 * k, 47.1)
        nodes += n
        ways.append(_way(k, refs, tags))
    # a courtyard building: multipolygon relation, outer 2D x 2D with a D/2 hole
    outer_nodes, outer = _square(100, 9.51, 47.1, 2 * D)
    inner_nodes, inner = _square(200, 9.51 + D / 2, 47.1 + D / 2, D)
    nodes += outer_nodes + inner_nodes
    ways += [_way(50, outer, {}), _way(51, inner, {})]
    relation = (
        '<relation id="9" version="1"><member type="way" ref="50" role="outer"/>'
        '<member type="way" ref="51" role="inner"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="apartments"/></relation>'
    )
    # a building mapped as a node, and an unclosed way
    nodes.append('<node id="300" version="1" lat="47.11" lon="9.52"><tag k="building" v="yes"/></node>')
    open_nodes, open_refs = _square(400, 9.53, 47.1)
    nodes += open_nodes
    ways.append(_way(60, open_refs[:3], {"building": "yes"}))
    path = tmp_path / "town.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
        + "".join(nodes)
        + "".join(ways)
        + relation
        + "</osm>"
    )
    return path


def test_one_row_per_building_area(town: Path) -> None:
    frame = buildings_from_file(town)
    assert isinstance(frame, pd.DataFrame) and not hasattr(frame, "geometry")
    assert tuple(frame.columns) == BUILDING_COLUMNS
    assert frame["building_id"].tolist() == ["w1", "w2", "w3", "w4", "r9"]
    assert frame["building"].tolist() == ["house", "yes", "garage", "no", "apartments"]
    assert frame["building_levels"].tolist() == ["2", "EG", None, None, None]
    assert frame.attrs["skipped"] == {"no footprint (node)": 1, "not closed (way)": 1}
    assert frame.attrs["area_crs"] == "EPSG:32632"


def test_footprint_area_matches_the_geodesic_area(town: Path) -> None:
    frame = buildings_from_file(town)
    geod = pyproj.Geod(ellps="WGS84")

    def geodesic(lon: float, lat: float, size: float) -> float:
        square = shapely.box(lon, lat, lon + size, lat + size)
        return abs(geod.geometry_area_perimeter(square)[0])

    expected = [geodesic(9.5 + 0.001 * k, 47.1, D) for k in (1, 2, 3, 4)]
    expected.append(geodesic(9.51, 47.1, 2 * D) - geodesic(9.51 + D / 2, 47.1 + D / 2, D))
    np.testing.assert_allclose(frame["footprint_m2"], expected, rtol=2e-3)  # UTM scale error near 9.5 E


def test_interior_point_lies_inside(town: Path) -> None:
    frame = buildings_from_file(town)
    row = frame.set_index("building_id").loc["r9"]
    courtyard = shapely.box(9.51 + D / 2, 47.1 + D / 2, 9.51 + 1.5 * D, 47.1 + 1.5 * D)
    outer = shapely.box(9.51, 47.1, 9.51 + 2 * D, 47.1 + 2 * D)
    point = shapely.Point(row["lon"], row["lat"])
    assert outer.contains(point) and not courtyard.contains(point)  # the centroid is in the hole


def test_area_crs_option(town: Path) -> None:
    utm = buildings_from_file(town)
    other = buildings_from_file(town, area_crs="EPSG:3035")
    assert other.attrs["area_crs"] == "EPSG:3035"
    np.testing.assert_allclose(other["footprint_m2"], utm["footprint_m2"], rtol=5e-3)
    with pytest.raises(CoverageInputError, match=r"area_crs=EPSG:4326.*projected"):
        buildings_from_file(town, area_crs="EPSG:4326")


def test_broken_geometry_is_counted_and_warned(tmp_path: Path) -> None:
    nodes, refs = _square(10, 9.5, 47.1)
    bowtie = [10, 12, 11, 13, 10]  # self-intersecting ring
    path = tmp_path / "bad.osm"
    path.write_text(
        '<osm version="0.6">'
        + "".join(nodes)
        + _way(1, refs, {"building": "yes"})
        + _way(2, bowtie, {"building": "yes"})
        + "</osm>"
    )
    with pytest.warns(CoverageWarning, match=r"1 buildings have broken geometry \(w2\)"):
        frame = buildings_from_file(path)
    assert frame["building_id"].tolist() == ["w1"]
    assert frame.attrs["skipped"] == {"broken geometry": 1}


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("none.osm", None, "no such file"),
        ("streets.geojson", "{}", "unknown file type"),
        ("graph.graphml", "<graphml/>", "OSM PBF or XML"),
        ("empty.osm", '<osm version="0.6"></osm>', "no building areas"),
        ("broken.osm.pbf", "not a pbf", "cannot read"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str | None, pattern: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(CoverageInputError, match=pattern):
        buildings_from_file(path)


def test_fifo_is_refused(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "town.osm"
    os.mkfifo(fifo)
    with pytest.raises(CoverageInputError, match="named pipe"):
        buildings_from_file(fifo)


@pytest.mark.slow
def test_liechtenstein(shared_data: Path) -> None:
    frame = buildings_from_file(shared_data / "liechtenstein" / "liechtenstein-latest.osm.pbf")
    assert 17_500 <= len(frame) <= 17_800
    assert frame["building_id"].is_unique
    assert (frame["footprint_m2"] > 0).all()
    assert frame["lon"].between(9.47, 9.64).all() and frame["lat"].between(47.04, 47.28).all()
    assert frame.attrs["area_crs"] == "EPSG:32632"
