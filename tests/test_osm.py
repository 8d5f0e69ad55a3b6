"""Tests for coverage.osm: reading offline OSM sources into osmnx-style graphs."""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox
import pytest

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.osm import (
    DROP_OUTSIDE,
    PEDESTRIAN_WAY_TAGS,
    SUPPORTED_SUFFIXES,
    file_digest,
    graph_from_file,
)
from coverage.osm._overpass import _merge_overpass

# ---------------------------------------------------------------------------
# tiny hand-written data


def _osm_xml(
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    *,
    tagged_nodes: dict[int, dict[str, str]] | None = None,
    ways_first: bool = False,
) -> str:
    tagged_nodes = tagged_nodes or {}
    node_lines = []
    for node_id, (lon, lat) in nodes.items():
        tags = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tagged_nodes.get(node_id, {}).items())
        node_lines.append(f'  <node id="{node_id}" lat="{lat:.7f}" lon="{lon:.7f}">{tags}</node>')
    way_lines = []
    for way_id, refs, tags in ways:
        nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        way_lines.append(f'  <way id="{way_id}">{nds}{tag_xml}</way>')
    body = way_lines + node_lines if ways_first else node_lines + way_lines
    return '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n' + (
        "\n".join(body) + "\n</osm>\n"
    )


# a small street pattern near Futian: junctions at nodes 2 and 3, a one-way street
# against its node order, a footway spur, and a tagged crossing node inside a way
GRID_NODES = {
    1: (114.0500, 22.5400),
    2: (114.0510, 22.5400),
    3: (114.0520, 22.5400),
    4: (114.0510, 22.5410),
    5: (114.0510, 22.5420),
    6: (114.0530, 22.5400),
    7: (114.0530, 22.5390),
    8: (114.0520, 22.5390),
}
GRID_WAYS = [
    (
        100,
        [1, 2, 3],
        {"highway": "residential", "name": "Main", "oneway": "yes", "sidewalk": "both"},
    ),
    (101, [2, 4, 5], {"highway": "footway", "footway": "sidewalk", "foot": "designated"}),
    (
        102,
        [3, 6, 7],
        {"highway": "service", "service": "alley", "oneway": "-1", "access": "private"},
    ),
    (103, [3, 8], {"highway": "pedestrian", "area": "yes", "name": "Plaza"}),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def grid_xml(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "grid.osm",
        _osm_xml(
            GRID_NODES,
            GRID_WAYS,
            tagged_nodes={4: {"highway": "crossing"}, 5: {"highway": "turning_circle"}},
        ),
    )


def _overpass(elements: list[dict[str, Any]], *, base: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"version": 0.6, "generator": "test", "elements": elements}
    if base is not None:
        payload["osm3s"] = {"timestamp_osm_base": base}
    return payload


def _node(node_id: int, lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    return {"type": "node", "id": node_id, "lat": lat, "lon": lon, **extra}


def _way(way_id: int, refs: list[int], **tags: str) -> dict[str, Any]:
    return {"type": "way", "id": way_id, "nodes": refs, "tags": {"highway": "residential", **tags}}


def _edge_multiset(graph: nx.MultiDiGraph) -> list[tuple[Any, ...]]:
    rows = []
    for u, v, data in graph.edges(data=True):
        attrs = {k: val for k, val in data.items() if k not in {"length", "geometry"}}
        geometry = data.get("geometry")
        rows.append(
            (
                u,
                v,
                repr(sorted(attrs.items())),
                round(float(data["length"]), 6),
                geometry.wkt if geometry is not None else None,
            )
        )
    return sorted(rows)


# ---------------------------------------------------------------------------
# OSM XML


def test_tiny_oneway_way_yields_edges_in_both_directions(tmp_path: Path) -> None:
    nodes = {1: (114.05, 22.54), 2: (114.051, 22.54), 3: (114.051, 22.541)}
    path = _write(
        tmp_path / "tiny.osm",
        _osm_xml(nodes, [(10, [1, 2, 3], {"highway": "primary", "oneway": "yes"})]),
    )

    graph = graph_from_file(path)

    # node 2 is interstitial and simplified away: one edge each way
    assert set(graph.edges()) == {(1, 3), (3, 1)}
    forward, backward = graph.edges[1, 3, 0], graph.edges[3, 1, 0]
    assert forward["length"] == pytest.approx(backward["length"])
    assert forward["length"] == pytest.approx(102.7 + 111.2, abs=1.0)  # 0.001° lon + 0.001° lat
    assert forward["oneway"] is False
    assert (forward["reversed"], backward["reversed"]) == (False, True)
    assert forward["highway"] == "primary"
    assert forward["osmid"] == 10
    assert graph.graph["crs"] == "EPSG:4326"
    assert str(path) in graph.graph["source"]
    assert graph.graph["dropped_ways"] == {}
    assert graph.graph["osm_elements"] == {"nodes": 3, "ways": 1}


def test_same_graph_as_osmnx_graph_from_xml(grid_xml: Path) -> None:
    """Oracle: osmnx's own XML reader with the same settings."""
    old = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = [*old, *(t for t in PEDESTRIAN_WAY_TAGS if t not in old)]
    try:
        expected = ox.graph_from_xml(grid_xml, bidirectional=True, simplify=True, retain_all=True)
    finally:
        ox.settings.useful_tags_way = old

    graph = graph_from_file(grid_xml)

    assert dict(graph.nodes(data=True)) == dict(expected.nodes(data=True))
    assert _edge_multiset(graph) == _edge_multiset(expected)
    # the tags a pedestrian filter needs are on the edges
    alley = next(d for _, _, d in graph.edges(data=True) if d["highway"] == "service")
    assert (alley["service"], alley["access"]) == ("alley", "private")
    footway = next(d for _, _, d in graph.edges(data=True) if d["highway"] == "footway")
    assert (footway["foot"], footway["footway"]) == ("designated", "sidewalk")
    assert graph.nodes[5]["highway"] == "turning_circle"


def test_every_edge_in_both_directions(grid_xml: Path) -> None:
    graph = graph_from_file(grid_xml)
    assert {(u, v) for u, v in graph.edges()} == {(v, u) for u, v in graph.edges()}


def test_unsorted_xml_and_bz2(tmp_path: Path, grid_xml: Path) -> None:
    unsorted = _write(tmp_path / "unsorted.xml", _osm_xml(GRID_NODES, GRID_WAYS, ways_first=True))
    packed = tmp_path / "grid.osm.bz2"
    packed.write_bytes(bz2.compress(grid_xml.read_bytes()))

    reference = graph_from_file(grid_xml)
    for path in (unsorted, packed):
        graph = graph_from_file(path)
        assert set(graph.edges(keys=True)) == set(reference.edges(keys=True))


def test_non_highway_ways_are_not_edges(tmp_path: Path) -> None:
    nodes = {
        **GRID_NODES,
        18: (114.0501, 22.5401),
        19: (114.0502, 22.5401),
        21: (114.0502, 22.5402),
    }
    ways = [*GRID_WAYS, (200, [18, 19, 21, 18], {"building": "yes"})]
    graph = graph_from_file(_write(tmp_path / "with_building.osm", _osm_xml(nodes, ways)))
    assert not {18, 19, 21} & set(graph.nodes)
    assert all("highway" in d for _, _, d in graph.edges(data=True))


def test_clipped_ways_are_cut_at_missing_nodes(tmp_path: Path) -> None:
    nodes = {1: (114.050, 22.54), 2: (114.051, 22.54), 4: (114.053, 22.54), 5: (114.054, 22.54)}
    ways = [
        (10, [1, 2, 3, 4, 5], {"highway": "footway"}),  # node 3 is outside the extract
        (11, [30, 31], {"highway": "path"}),  # entirely outside
    ]
    path = _write(tmp_path / "clipped.osm", _osm_xml(nodes, ways))

    with pytest.warns(CoverageWarning, match=r"clipped\.osm.*2 highway ways reference 3 nodes"):
        graph = graph_from_file(path)

    assert set(graph.edges()) == {(1, 2), (2, 1), (4, 5), (5, 4)}  # no straight 2-4 shortcut
    assert graph.graph["dropped_ways"] == {DROP_OUTSIDE: 1}


def test_settings_restored_and_all_oneway_ignored(
    grid_xml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ox.settings, "all_oneway", True)
    tags_before = ox.settings.useful_tags_way

    graph = graph_from_file(grid_xml)
    assert {(u, v) for u, v in graph.edges()} == {(v, u) for u, v in graph.edges()}
    assert ox.settings.useful_tags_way is tags_before
    assert ox.settings.all_oneway is True

    broken = _write(tmp_path / "broken.osm", grid_xml.read_text()[:200])
    with pytest.raises(CoverageInputError):
        graph_from_file(broken)
    assert ox.settings.useful_tags_way is tags_before
    assert ox.settings.all_oneway is True


# ---------------------------------------------------------------------------
# Overpass JSON


def test_overpass_merge_dedupes_and_prefers_newer(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(
        json.dumps(
            _overpass(
                [
                    _node(1, 114.050, 22.54),
                    _node(2, 114.051, 22.54),
                    _node(3, 114.052, 22.54, version=1),
                    _way(10, [1, 2, 3]),
                ],
                base="2024-10-03T02:45:35Z",
            )
        )
    )
    b.write_text(
        json.dumps(
            _overpass(
                [
                    _node(3, 114.0525, 22.54, version=2),
                    _node(4, 114.053, 22.54),
                    _node(2, 114.051, 22.54),
                    _node(5, 114.0525, 22.541),
                    _way(11, [3, 4]),
                    _way(12, [3, 5]),
                    _way(10, [1, 2, 3]),
                ],
                base="2024-10-01T00:00:00Z",
            )
        )
    )

    elements, stats = _merge_overpass([a, b], notes=[])
    keys = [(e["type"], e["id"]) for e in elements]
    assert len(keys) == len(set(keys)) == 8
    assert stats["elements_read"] == 11
    assert stats["duplicates_identical"] == 2
    assert stats["duplicates_newer_kept"] == 1
    node3 = next(e for e in elements if e["type"] == "node" and e["id"] == 3)
    assert node3["version"] == 2  # higher version wins over the newer file

    graph = graph_from_file([a, b])
    assert graph.nodes[3]["x"] == pytest.approx(114.0525)
    assert graph.graph["overpass_merge"]["elements_merged"] == 8
    # reading a file twice changes nothing
    assert set(graph_from_file([a, b, a]).edges(keys=True)) == set(graph.edges(keys=True))


def test_overpass_conflict_without_metadata(tmp_path: Path) -> None:
    a, b, c = (tmp_path / name for name in ("a.json", "b.json", "c.json"))
    a.write_text(json.dumps(_overpass([_node(1, 114.05, 22.54), _node(2, 114.051, 22.54), _way(10, [1, 2])])))
    b.write_text(json.dumps(_overpass([_node(2, 114.059, 22.54)])))
    c.write_text(json.dumps(_overpass([_node(2, 114.058, 22.54)], base="2030-01-01T00:00:00Z")))

    with pytest.warns(CoverageWarning, match="node 2.*first file was kept"):
        graph = graph_from_file([a, b])
    assert graph.nodes[2]["x"] == pytest.approx(114.051)  # first copy kept

    # only one side has a file timestamp: still undecided, still the first
    with pytest.warns(CoverageWarning, match="first file was kept"):
        graph = graph_from_file([a, c])
    assert graph.nodes[2]["x"] == pytest.approx(114.051)

    # both files carry timestamp_osm_base: the newer file's copy wins, whatever the order
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    elements = [_node(1, 114.05, 22.54), _node(2, 114.051, 22.54), _way(10, [1, 2])]
    old.write_text(json.dumps(_overpass(elements, base="2024-10-03T02:45:35Z")))
    elements[1] = _node(2, 114.0515, 22.54)
    new.write_text(json.dumps(_overpass(elements, base="2024-10-06T03:28:12Z")))
    for order in ([old, new], [new, old]):
        assert graph_from_file(order).nodes[2]["x"] == pytest.approx(114.0515)


def test_overpass_folder_is_sorted_json_files(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps(_overpass([_node(2, 114.051, 22.54), _way(10, [1, 2])])))
    (tmp_path / "a.json").write_text(json.dumps(_overpass([_node(1, 114.05, 22.54)])))
    (tmp_path / "notes.txt").write_text("not data")
    graph = graph_from_file(tmp_path)
    assert set(graph.edges()) == {(1, 2), (2, 1)}
    assert graph.graph["source_files"] == [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert "2 Overpass JSON files" in graph.graph["source"]


# ---------------------------------------------------------------------------
# GraphML


def test_graphml_projected_or_without_crs(grid_xml: Path, tmp_path: Path) -> None:
    graph = graph_from_file(grid_xml)

    projected = tmp_path / "projected.graphml"
    ox.save_graphml(ox.project_graph(graph, to_crs="EPSG:32650"), projected)
    with pytest.warns(CoverageWarning, match="projected back"):
        back = graph_from_file(projected)
    assert back.graph["crs"] == "EPSG:4326"
    for node, data in graph.nodes(data=True):
        assert back.nodes[node]["x"] == pytest.approx(data["x"], abs=1e-7)
        assert back.nodes[node]["y"] == pytest.approx(data["y"], abs=1e-7)

    bare = graph.copy()
    del bare.graph["crs"]
    for _, _, data in bare.edges(data=True):
        del data["length"]
    path = tmp_path / "bare.graphml"
    ox.save_graphml(bare, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = graph_from_file(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "no 'crs'" in messages
    assert "had no 'length'" in messages
    assert all(d["length"] > 0 for _, _, d in loaded.edges(data=True))


# ---------------------------------------------------------------------------
# errors


def _bad_sources(tmp_path: Path) -> dict[str, tuple[Any, str]]:
    grid = _osm_xml(GRID_NODES, GRID_WAYS)
    (tmp_path / "truncated.osm").write_text(grid[: len(grid) // 2])
    (tmp_path / "random.pbf").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "invalid.json").write_text('{"elements": [{"type": "node", ')
    (tmp_path / "geo.json").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    (tmp_path / "broken.graphml").write_text('<?xml version="1.0"?><graphml><graph><node id="1">')
    (tmp_path / "buildings.osm").write_text(_osm_xml(GRID_NODES, [(1, [1, 2, 3, 1], {"building": "yes"})]))
    (tmp_path / "nohighway.json").write_text(json.dumps(_overpass([_node(1, 1.0, 2.0)])))
    (tmp_path / "ok.json").write_text(json.dumps(_overpass([])))
    (tmp_path / "ok.osm.pbf").write_bytes(b"")
    (tmp_path / "streets.shp").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    return {
        "missing": (tmp_path / "nowhere.osm.pbf", r"nowhere\.osm\.pbf.*no such file"),
        "suffix": (tmp_path / "streets.shp", r"streets\.shp.*\.graphml.*\.osm\.pbf.*\.json"),
        "truncated xml": (tmp_path / "truncated.osm", r"truncated\.osm.*damaged"),
        "random pbf": (tmp_path / "random.pbf", r"random\.pbf.*OSM PBF"),
        "invalid json": (tmp_path / "invalid.json", r"invalid\.json.*not valid JSON"),
        "json without elements": (tmp_path / "geo.json", r"geo\.json.*GeoJSON.*Overpass"),
        "corrupt graphml": (tmp_path / "broken.graphml", r"broken\.graphml.*GraphML"),
        "xml without highways": (
            tmp_path / "buildings.osm",
            r"buildings\.osm.*no ways with a 'highway'",
        ),
        "json without highways": (
            tmp_path / "nohighway.json",
            r"nohighway\.json.*no ways with a 'highway'",
        ),
        "mixed sequence": (
            [tmp_path / "ok.json", tmp_path / "ok.osm.pbf"],
            r"ok\.osm\.pbf.*only Overpass",
        ),
        "empty folder": (tmp_path / "empty", r"empty.*no \*\.json"),
        "empty list": ([], "empty"),
    }


BAD = [
    "missing",
    "suffix",
    "truncated xml",
    "random pbf",
    "invalid json",
    "json without elements",
    "corrupt graphml",
    "xml without highways",
    "json without highways",
    "mixed sequence",
    "empty folder",
    "empty list",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_sources_raise_with_file_and_fix(case: str, tmp_path: Path) -> None:
    source, pattern = _bad_sources(tmp_path)[case]
    with pytest.raises(CoverageInputError, match=pattern):
        graph_from_file(source)


# ---------------------------------------------------------------------------
# hostile sources: never hang, never a traceback; the file, the element and the fix


def _message(source: Any) -> str:
    with pytest.raises(CoverageInputError) as caught:
        graph_from_file(source)
    return str(caught.value)


def test_symlink_to_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    link = tmp_path / "city.osm.pbf"
    link.symlink_to("/dev/zero")
    text = _message(link)
    assert "city.osm.pbf" in text and "character device" in text and "symbolic link" in text
    assert "regular file" in text
    with pytest.raises(CoverageInputError, match="character device"):
        file_digest(link)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "city.osm"
    os.mkfifo(fifo)
    assert "named pipe" in _message(fifo)  # a read would block forever: it is never opened


def test_device_is_refused() -> None:
    assert "/dev/null" in _message("/dev/null") and "character device" in _message("/dev/null")


def test_fifo_in_an_overpass_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(_overpass([_node(1, 114.05, 22.54)])))
    os.mkfifo(tmp_path / "b.json")
    assert "b.json" in _message(tmp_path) and "named pipe" in _message(tmp_path)


def _overpass_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "area.json"
    path.write_text(text)
    return path


def test_overpass_nan_coordinate(tmp_path: Path) -> None:
    text = '{"elements": [{"type": "node", "id": 7, "lat": NaN, "lon": 114.0}]}'
    message = _message(_overpass_file(tmp_path, text))
    assert "area.json" in message and "node 7" in message and "latitude nan" in message


def test_overpass_latitude_999(tmp_path: Path) -> None:
    elements = [_node(1, 114.05, 22.54), _node(2, 114.051, 999), _way(10, [1, 2])]
    message = _message(_overpass_file(tmp_path, json.dumps(_overpass(elements))))
    assert "node 2" in message and "latitude 999 is not in [-90, 90]" in message and "Fix" in message


def test_overpass_coordinate_that_is_not_a_number(tmp_path: Path) -> None:
    elements = [_node(1, "114.05", 22.54), _node(2, 114.051, 22.54), _way(10, [1, 2])]  # type: ignore[arg-type]
    assert "node 1 has a longitude '114.05' is not a number" in _message(
        _overpass_file(tmp_path, json.dumps(_overpass(elements)))
    )


def test_overpass_out_geom_point_out_of_range(tmp_path: Path) -> None:
    way = _way(10, [1, 2])
    way["geometry"] = [{"lat": 22.54, "lon": 114.05}, {"lat": 22.54, "lon": 514.05}]
    message = _message(_overpass_file(tmp_path, json.dumps(_overpass([way]))))
    assert "way 10" in message and "longitude 514.05" in message


def test_deeply_nested_json(tmp_path: Path) -> None:
    depth = 200_000
    message = _message(_overpass_file(tmp_path, "[" * depth + "]" * depth))
    assert "area.json" in message and "nested too deeply" in message


def test_geojson_given_as_network(tmp_path: Path) -> None:
    line = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    message = _message(_overpass_file(tmp_path, json.dumps({"type": "FeatureCollection", "features": [line]})))
    assert "area.json" in message and "GeoJSON" in message and ".osm.pbf" in message


@pytest.mark.parametrize(("value", "shown"), [("999", "999"), ("nan", "nan")])
def test_osm_xml_bad_coordinate_names_the_node(tmp_path: Path, value: str, shown: str) -> None:
    text = _osm_xml(GRID_NODES, GRID_WAYS).replace('lat="22.5410000"', f'lat="{value}"')
    message = _message(_write(tmp_path / "bad.osm", text))
    assert "bad.osm" in message and "node 4" in message and shown in message and "[-90, 90]" in message


def test_graphml_nan_coordinate(grid_xml: Path, tmp_path: Path) -> None:
    graph = graph_from_file(grid_xml)
    graph.nodes[5]["x"] = float("nan")
    path = tmp_path / "nan.graphml"
    ox.save_graphml(graph, path)
    message = _message(path)
    assert "nan.graphml" in message and "node 5" in message and "not finite" in message


def test_graphml_longitude_out_of_range(grid_xml: Path, tmp_path: Path) -> None:
    graph = graph_from_file(grid_xml)
    graph.nodes[5]["x"] = 999.0
    path = tmp_path / "far.graphml"
    ox.save_graphml(graph, path)
    assert "node 5 has a longitude 999.0 is not in [-180, 180]" in _message(path)


def test_supported_suffixes_listed() -> None:
    assert {".graphml", ".osm", ".xml", ".osm.bz2", ".osm.pbf", ".pbf", ".json"} <= set(SUPPORTED_SUFFIXES)


# ---------------------------------------------------------------------------
# file_digest


def test_file_digest(tmp_path: Path, grid_xml: Path) -> None:
    assert file_digest(grid_xml) == hashlib.sha256(grid_xml.read_bytes()).hexdigest()

    folder = tmp_path / "overpass"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(_overpass([_node(1, 114.05, 22.54)])))
    (folder / "b.json").write_text(json.dumps(_overpass([_node(2, 114.051, 22.54)])))
    digest = file_digest(folder)
    assert digest == file_digest([folder / "a.json", folder / "b.json"])
    assert digest != file_digest([folder / "b.json", folder / "a.json"])
    (folder / "b.json").rename(folder / "c.json")
    assert file_digest(folder) != digest
    with pytest.raises(CoverageInputError, match="nowhere"):
        file_digest(tmp_path / "nowhere.pbf")


# ---------------------------------------------------------------------------
# real data (../shared/data)


def _timed_read(source: Any, record_property: Any) -> tuple[nx.MultiDiGraph, float]:
    start = time.perf_counter()
    graph = graph_from_file(source)
    seconds = time.perf_counter() - start
    record_property("read_seconds", round(seconds, 2))
    return graph, seconds


@pytest.mark.slow
def test_futian_graphml(shared_data: Path, record_property: Any) -> None:
    graph, _ = _timed_read(shared_data / "shenzhen" / "futian_walk.graphml", record_property)
    assert (len(graph), graph.number_of_edges()) == (1751, 4009)
    assert graph.graph["crs"] == "EPSG:4326"
    assert "futian_walk.graphml" in graph.graph["source"]
    assert all(d["length"] > 0 for _, _, d in graph.edges(data=True))
    xs = [x for _, x in graph.nodes(data="x")]
    assert 113.99 < min(xs) < max(xs) < 114.05


@pytest.mark.slow
def test_porto_alegre_pbf(shared_data: Path, record_property: Any) -> None:
    graph, _ = _timed_read(shared_data / "porto_alegre" / "poa_osm.pbf", record_property)
    largest = max(nx.weakly_connected_components(graph), key=len)
    assert len(largest) == pytest.approx(18_900, rel=0.03)
    assert all(d["length"] > 0 and "highway" in d for _, _, d in graph.edges(data=True))
    assert {(u, v) for u, v in graph.edges()} == {(v, u) for u, v in graph.edges()}
    assert graph.graph["osm_elements"]["ways"] == 15_886
    assert graph.graph["dropped_ways"] == {}
    lon, lat = graph.nodes[next(iter(largest))]["x"], graph.nodes[next(iter(largest))]["y"]
    assert -51.4 < lon < -51.0
    assert -30.3 < lat < -29.9


@pytest.mark.slow
def test_helsinki_pbf_is_a_clipped_extract(shared_data: Path, record_property: Any) -> None:
    with pytest.warns(CoverageWarning, match="helsinki_centre.osm.pbf.*clipped extract"):
        graph, _ = _timed_read(shared_data / "helsinki" / "helsinki_centre.osm.pbf", record_property)
    assert graph.number_of_edges() > 5000
    assert sum(graph.graph["dropped_ways"].values()) < 0.05 * graph.graph["osm_elements"]["ways"]


@pytest.mark.slow
def test_overpass_folder_merges_without_duplicates(shared_data: Path, record_property: Any) -> None:
    folder = shared_data / "shenzhen" / "overpass"
    files = sorted(folder.glob("*.json"))
    counts = []
    unique: set[tuple[str, int]] = set()
    for path in files:
        elements = json.loads(path.read_bytes())["elements"]
        counts.append(len(elements))
        unique.update((e["type"], e["id"]) for e in elements)

    graph, _ = _timed_read(folder, record_property)

    merge = graph.graph["overpass_merge"]
    assert merge["files"] == len(files) == 7
    assert merge["elements_read"] == sum(counts)
    assert merge["elements_merged"] == len(unique) < sum(counts)  # one copy of each (type, id)
    node_ids = {element_id for kind, element_id in unique if kind == "node"}
    assert set(graph.nodes) <= node_ids
    assert graph.graph["osm_elements"]["nodes"] == pytest.approx(38_900, rel=0.02)
    assert len(graph) == pytest.approx(6_000, rel=0.05)
    assert {(u, v) for u, v in graph.edges()} == {(v, u) for u, v in graph.edges()}
