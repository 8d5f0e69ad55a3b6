from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.candidates import Candidates, build_candidates, network_candidates
from coverage.network import network_from_graph
from tests._graphs import CRS, line_graph, points


def test_network_candidates_spacing() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    cands = network_candidates(net, spacing_m=50.0)
    xs = sorted(cands.geometry.x.round(6))
    assert xs == [25.0, 75.0, 125.0, 175.0]
    assert cands["candidate_id"].is_unique
    with pytest.raises(CoverageInputError, match="spacing"):
        network_candidates(net, spacing_m=0.0)


def test_candidates_merge_near_junctions_without_chaining() -> None:
    G = line_graph([10.0, 10.0])  # two short edges: both midpoints within 25 m of each other
    net = network_from_graph(G)
    assert len(network_candidates(net, spacing_m=50.0)) == 1
    # A chain of 20 short edges: positions 10 m apart must not collapse into one.
    net = network_from_graph(line_graph([10.0] * 20))
    xs = np.sort(network_candidates(net, spacing_m=50.0).geometry.x.to_numpy())
    assert xs.size == 7  # one every 30 m: each next kept position is the first beyond 25 m
    assert np.diff(xs).min() >= 25.0


def test_build_candidates_is_a_named_snapped_result() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    cands = build_candidates(net, spacing_m=50.0)
    assert isinstance(cands, Candidates)
    assert len(cands) == 4
    assert cands.counts == {"network": 4}
    assert bool(cands.snap.ok.all())
    assert cands.snap.offset_m.tolist() == pytest.approx([25.0, 75.0, 25.0, 75.0])
    assert "4 candidate site(s) (4 network)" in cands.headline()
    assert "Candidates(4)" in repr(cands)
    assert "<p>" in cands._repr_html_()


def test_exclusions_and_duplicates() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    zone = gpd.GeoDataFrame(geometry=[shapely.box(0, -10, 100, 10)], crs=CRS)
    cands = build_candidates(net, spacing_m=50.0, exclude=zone)
    assert cands.counts == {"network": 4, "excluded": 2}
    assert sorted(cands.points.geometry.x.round(6)) == [125.0, 175.0]
    assert "2 inside the exclusion zones" in cands.headline()
    everything = gpd.GeoDataFrame(geometry=[shapely.box(-10, -10, 300, 10)], crs=CRS)
    with pytest.raises(CoverageInputError, match="no candidate site is left"):
        build_candidates(net, spacing_m=50.0, exclude=everything)
    dup = points([(10.0, 0.0), (20.0, 0.0)]).assign(site_id="same")
    with pytest.raises(CoverageInputError, match="candidate sites: duplicate ids"):
        build_candidates(net, spacing_m=None, sites=dup)
    with pytest.raises(CoverageInputError, match="no 'code' column"):
        build_candidates(net, spacing_m=None, sites=points([(10.0, 0.0)]), id_col="code")
    with pytest.raises(CoverageInputError, match="no candidate sites"):
        build_candidates(net, spacing_m=None)


def test_file_sites_with_own_columns_and_off_network_warning() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    frame = gpd.GeoDataFrame(
        {"code": ["a", "b"], "label": ["School A", "Far away"]},
        geometry=[shapely.Point(30.0, 5.0), shapely.Point(30.0, 5000.0)],
        crs=CRS,
    )
    with pytest.warns(CoverageWarning, match="site-b"):
        cands = build_candidates(net, spacing_m=None, sites=frame, id_col="code", name_col="label")
    assert cands.ids == ["site-a"]
    assert cands.points["name"].tolist() == ["School A"]
    assert cands.points["source"].tolist() == ["file"]
    assert cands.counts == {"file": 2, "off_network": 1}
    assert cands.snap.access_m.tolist() == pytest.approx([5.0])
    with pytest.warns(CoverageWarning), pytest.raises(CoverageInputError, match="near the network"):
        build_candidates(net, spacing_m=None, sites=frame.iloc[[1]], id_col="code")


def test_gap_centres_skip_scattered() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    gaps = gpd.GeoDataFrame(
        {"gap_id": ["1", "scattered-2"], "centroid_x": [50.0, 150.0], "centroid_y": [1.0, 1.0]},
        geometry=[shapely.Point(50, 1), shapely.Point(150, 1)],
        crs=CRS,
    )
    cands = build_candidates(net, spacing_m=None, gaps=gaps)
    assert cands.ids == ["gap-1"]
    assert cands.counts == {"gap": 1}
