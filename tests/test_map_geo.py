"""Geometry of the web map: packed coordinates (decoded by the page's own script), hole dropping, budgets."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from coverage._map_geo import drop_small_holes, features, fit_budget, geometries, pack_quads, vertices
from coverage._text import clean, clean_frame, map_values, sheet_cell, sheet_frame

APP_JS = Path(__file__).resolve().parents[1] / "coverage" / "_map_app.js"


def unpack(g: dict) -> dict:
    """The decoder of ``_map_app.js`` (coverageUnpack), written again in Python."""
    if "p" not in g:
        return g
    x = y = 0

    def ring(a: list[int]) -> list[list[float]]:
        nonlocal x, y
        out = []
        for i in range(0, len(a), 2):
            x += int(a[i])
            y += int(a[i + 1])
            out.append([x / 1e6, y / 1e6])
        return out

    if g["type"] == "MultiLineString":
        return {"type": g["type"], "coordinates": [ring(r) for r in g["p"]]}
    return {"type": g["type"], "coordinates": [[ring(r) for r in poly] for poly in g["p"]]}


def sample_geometries() -> list:
    rng = np.random.default_rng(3)
    lon, lat = 114.05, 22.54
    out = []
    for k in range(6):
        pts = np.column_stack([lon + rng.uniform(0, 0.01, 5), lat + rng.uniform(0, 0.01, 5)])
        out.append(shapely.LineString(pts))
        out.append(shapely.Point(pts[0]))
        box = shapely.box(lon + k * 0.01, lat, lon + k * 0.01 + 0.008, lat + 0.008)
        hole = shapely.box(lon + k * 0.01 + 0.002, lat + 0.002, lon + k * 0.01 + 0.004, lat + 0.004)
        out.append(box.difference(hole))
        out.append(shapely.MultiPolygon([box, shapely.box(lon, lat + 0.02, lon + 0.001, lat + 0.021)]))
        out.append(shapely.MultiLineString([pts[:2], pts[2:]]))
    out += [None, shapely.Polygon()]
    return out


def expected(geom) -> dict:
    """The geometry as the page should get it: coordinates rounded to 1e-6 degrees, multi-part types."""
    q = shapely.transform(geom, lambda c: np.round(c, 6))
    data = json.loads(shapely.to_geojson(q))
    if data["type"] == "LineString":
        data = {"type": "MultiLineString", "coordinates": [data["coordinates"]]}
    elif data["type"] == "Polygon":
        data = {"type": "MultiPolygon", "coordinates": [data["coordinates"]]}
    return data


def close(a, b) -> bool:
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=6e-7, rtol=0)


def test_packed_geometries_decode_to_the_rounded_coordinates() -> None:
    geoms = sample_geometries()
    packed = geometries(geoms)
    assert packed[-2] is None and packed[-1] is None  # missing and empty geometries are dropped
    for geom, g in zip(geoms[:-2], packed[:-2], strict=True):
        want = expected(geom)
        got = unpack(g)
        assert got["type"] == want["type"]
        if want["type"] == "MultiPolygon":
            for pa, pb in zip(got["coordinates"], want["coordinates"], strict=True):
                for ra, rb in zip(pa, pb, strict=True):
                    assert close(ra, rb)
        elif want["type"] == "MultiLineString":
            for ra, rb in zip(got["coordinates"], want["coordinates"], strict=True):
                assert close(ra, rb)
        else:
            assert close(got["coordinates"], want["coordinates"])
    fc = features(geoms, [{"i": i} for i in range(len(geoms))])
    assert [f["properties"]["i"] for f in fc["features"]] == list(range(len(geoms) - 2))


def test_the_page_script_decodes_what_python_packs() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    from coverage._text import js_json

    geoms = sample_geometries()[:-2]
    packed = [g for g in geometries(geoms) if g is not None]
    quads = shapely.box(np.arange(4) * 0.001 + 114.0, 22.5, np.arange(4) * 0.001 + 114.0009, 22.5009)
    cells = {"q": pack_quads(quads), "n": [1, 22, 1234, 5], "o": [0.1, 0.2, 0.3, 0.4]}
    script = (
        APP_JS.read_text(encoding="utf-8")
        + f"\nvar g = {js_json(packed)};\nvar c = {js_json(cells)};\n"
        + "console.log(JSON.stringify({g: g.map(coverageUnpack), c: coverageCells(c, ['a', ' b'])}));\n"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=60)
    result = json.loads(out.stdout)
    for got, g in zip(result["g"], packed, strict=True):
        want = unpack(g)
        assert got["type"] == want["type"]
        assert close(
            np.concatenate([np.ravel(r) for r in _rings(got)]), np.concatenate([np.ravel(r) for r in _rings(want)])
        )
    for feature, quad, n in zip(result["c"], quads, cells["n"], strict=True):
        ring = feature["geometry"]["coordinates"][0]
        assert close(ring, np.asarray(quad.exterior.coords))
        assert feature["properties"]["tip"] == f"a{n:,} b"


def _rings(g: dict) -> list:
    if g["type"] == "MultiLineString":
        return g["coordinates"]
    if g["type"] == "MultiPolygon":
        return [r for poly in g["coordinates"] for r in poly]
    return [g["coordinates"]]


def test_drop_small_holes_matches_a_polygon_by_polygon_rebuild() -> None:
    rng = np.random.default_rng(7)
    polys = []
    for k in range(20):
        x0 = k * 1000.0
        shell = shapely.box(x0, 0, x0 + 800, 800)
        holes = [shapely.box(x0 + 10 + 60 * j, 10, x0 + 10 + 60 * j + rng.uniform(5, 50), 60) for j in range(10)]
        polys.append(shell.difference(shapely.union_all(holes)))
    polys.append(shapely.MultiPolygon([polys[0], polys[1]]))
    polys.append(shapely.LineString([(0, 0), (1, 1)]))
    arr = np.asarray(polys, dtype=object)
    out = drop_small_holes(arr, 900.0)

    def brute(g):
        parts = getattr(g, "geoms", [g])
        return [
            shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= 900.0]) for p in parts
        ]

    for before, after in zip(arr[:-1], out[:-1], strict=True):
        assert shapely.equals(shapely.MultiPolygon(brute(before)), after)
    assert out[-1] is arr[-1]
    assert vertices(out) < vertices(arr)


def test_fit_budget_leaves_small_layers_and_reports_what_it_reduced() -> None:
    line = shapely.LineString(np.column_stack([np.arange(0, 10_000, 1.0), np.sin(np.arange(10_000) / 7.0) * 30]))
    small, reduced = fit_budget([line], base_m=3.0, max_vertices=10**9, polygons=False)
    assert reduced is None and shapely.equals(small[0], shapely.simplify(line, 3.0, preserve_topology=False))
    fitted, reduced = fit_budget([line], base_m=3.0, max_vertices=200, polygons=False)
    assert reduced is not None and reduced.tolerance_m > 3.0 and reduced.min_hole_m2 == 0
    assert vertices(fitted) <= 200
    holes = shapely.box(0, 0, 1000, 1000).difference(
        shapely.union_all([shapely.box(20 + 50 * i, 20, 40 + 50 * i, 40) for i in range(19)])
    )
    fitted, reduced = fit_budget([holes], base_m=1.0, max_vertices=10, polygons=True)
    assert reduced is not None and reduced.min_hole_m2 >= 2_500
    assert shapely.get_num_interior_rings(shapely.get_parts(fitted)).sum() == 0


hostile = st.one_of(
    st.sampled_from(["=1+1", "+x", "-2", "@a", "\tx", "\rx", "a\x00b", "\x1f", "plain", "社区", "", "a\n=b"]),
    st.text(max_size=8),
)


@given(st.lists(st.one_of(hostile, st.none(), st.integers(-5, 5)), max_size=30))
def test_frame_cleaning_fast_paths_equal_the_per_cell_rules(values: list) -> None:
    frame = pd.DataFrame({"t": pd.Series(values, dtype=object), "n": np.arange(len(values))})

    def slow(v, fn):
        return v if v is None or (isinstance(v, float) and np.isnan(v)) else fn(v)

    want_clean = [slow(v, clean) for v in values]
    want_sheet = [slow(v, lambda x: sheet_cell(str(x))) for v in values]
    assert clean_frame(frame)["t"].tolist() == want_clean
    assert sheet_frame(frame)["t"].tolist() == want_sheet
    assert map_values(frame["t"], lambda v: f"<{v}>").tolist() == [slow(v, lambda x: f"<{x}>") for v in values]
