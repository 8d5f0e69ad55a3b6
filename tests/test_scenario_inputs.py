"""Scenario keys of the input readers: [halls] and [demand] crs, lon_col, lat_col, layer, encoding."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from coverage._errors import CoverageInputError
from coverage.crs import gcj02_to_wgs84
from coverage.loaders import filtered_rows, load_scenario_demand, load_scenario_halls, load_scenario_services
from coverage.network import WalkNetwork, network_from_graph
from coverage.scenario import load_scenario
from tests._graphs import line_graph


def scenario(tmp_path: Path, halls: str, demand: str) -> Path:
    (tmp_path / "net.graphml").write_text("")  # only its existence is checked when loading
    path = tmp_path / "s.toml"
    path.write_text(
        f'name = "t"\n[network]\nsource = "net.graphml"\n[halls]\n{halls}\n[demand]\n{demand}\n', encoding="utf-8"
    )
    return path


@pytest.fixture
def net() -> WalkNetwork:
    return network_from_graph(line_graph([100.0]))


def test_gcj02_residents_with_their_columns_and_encoding(tmp_path: Path, net: WalkNetwork) -> None:
    (tmp_path / "people.csv").write_bytes("编号;lng_gcj02;lat_gcj02;人口\n001;113,93;22,52;40\n".encode("gbk"))
    demand = (
        'kind = "points"\nfile = "people.csv"\ncrs = "gcj02"\nlon_col = "lng_gcj02"\nlat_col = "lat_gcj02"\n'
        'population_col = "人口"\nid_col = "编号"\nencoding = "gbk"'
    )
    sc = load_scenario(scenario(tmp_path, "", demand))
    units = load_scenario_demand(sc, net)
    x, y = gcj02_to_wgs84(113.93, 22.52)
    assert units["demand_id"].tolist() == ["001"]
    assert units.geometry.x.iloc[0] == pytest.approx(float(x), abs=1e-12)
    assert units.geometry.y.iloc[0] == pytest.approx(float(y), abs=1e-12)
    assert units["population"].sum() == 40.0


def test_halls_layer_and_crs(tmp_path: Path, net: WalkNetwork) -> None:
    gpkg = tmp_path / "halls.gpkg"
    for layer, x in (("old", 113.0), ("new", 114.05)):
        gpd.GeoDataFrame({"code": [layer]}, geometry=[shapely.Point(x, 22.54)], crs=4326).to_file(gpkg, layer=layer)
    halls = 'file = "halls.gpkg"\nlayer = "new"\ncrs = "gcj02"\nid_col = "code"'
    sc = load_scenario(scenario(tmp_path, halls, 'kind = "estimate"\npopulation = 1\narea_km2 = 1'))
    sites, _ = load_scenario_halls(sc, net)
    x, _y = gcj02_to_wgs84(114.05, 22.54)
    assert sites["site_id"].tolist() == ["new"]
    assert sites["lon"].iloc[0] == pytest.approx(float(x))
    sc = load_scenario(scenario(tmp_path, 'file = "halls.gpkg"', 'kind = "estimate"\npopulation = 1\narea_km2 = 1'))
    with pytest.raises(CoverageInputError, match=r"halls\.gpkg: holds 2 layers \('old', 'new'\); pass layer="):
        load_scenario_halls(sc, net)


@pytest.mark.parametrize(
    ("demand", "match"),
    [
        (
            'kind = "estimate"\npopulation = 1\narea_km2 = 1\ncrs = "gcj02"',
            r"s\.toml: \[demand\] crs has no effect with kind = 'estimate'; remove it",
        ),
        (
            'kind = "grid"\nfile = "g.gpkg"\nlon_col = "x"',
            r"s\.toml: \[demand\] lon_col has no effect with kind = 'grid'; remove it",
        ),
        ('kind = "points"\nfile = "g.gpkg"\nlayer = 1.5', r"s\.toml: \[demand\] layer = 1\.5 should be text in quotes"),
    ],
)
def test_options_rejected_where_unused(tmp_path: Path, demand: str, match: str) -> None:
    (tmp_path / "g.gpkg").write_bytes(b"")
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(scenario(tmp_path, "", demand))


def test_misspelt_population_col_of_polygons_is_an_error_not_a_fallback(tmp_path: Path, net: WalkNetwork) -> None:
    cells = gpd.GeoDataFrame(
        {"pop_2019": [5.0], "pop_2020": [7.0]}, geometry=[shapely.box(0, -50, 100, 50)], crs=net.crs
    )
    cells.to_file(tmp_path / "cells.gpkg")
    sc = load_scenario(scenario(tmp_path, "", 'kind = "polygons"\nfile = "cells.gpkg"\npopulation_col = "pop2020"'))
    with pytest.raises(
        CoverageInputError, match=r"cells\.gpkg: no population column 'pop2020'.*Did you mean 'pop_2020'"
    ):
        load_scenario_demand(sc, net)
    sc = load_scenario(scenario(tmp_path, "", 'kind = "polygons"\nfile = "cells.gpkg"\npopulation_col = "pop_2020"'))
    assert load_scenario_demand(sc, net)["population"].sum() == pytest.approx(7.0)


def test_services_read_like_halls(tmp_path: Path) -> None:
    gpkg = tmp_path / "clinics.gpkg"
    utm = gpd.GeoDataFrame({"code": ["c1"]}, geometry=[shapely.Point(194_000.0, 2_496_000.0)], crs=32650)
    utm.to_file(gpkg, layer="clinics")
    utm.to_file(gpkg, layer="other")
    services = (
        '\n[[services]]\nkey = "health"\nfile = "clinics.gpkg"\nlayer = "clinics"\nid_col = "code"\nradius_m = 500'
    )
    sc = load_scenario(scenario(tmp_path, "", 'kind = "estimate"\npopulation = 1\narea_km2 = 1' + services))
    (service,) = load_scenario_services(sc)
    assert service.sites["site_id"].tolist() == ["c1"]  # the file's own CRS (UTM 50N), not an assumed EPSG:4326
    assert 113.9 < service.sites["lon"].iloc[0] < 114.1


def test_filtered_rows_keeps_rows_matching_every_rule() -> None:
    import pandas as pd

    frame = pd.DataFrame({"kind": ["hall", "school", "hall", "hall"], "beds": ["3", "0", "x", "12"]})
    assert filtered_rows(frame, None, "halls") is frame
    assert filtered_rows(frame, {"kind": ["hall", "clinic"]}, "halls").index.tolist() == [0, 2, 3]
    # comparisons read numbers; text that is not a number never matches
    assert filtered_rows(frame, {"kind": "hall", "beds": ">0"}, "halls").index.tolist() == [0, 3]
    with pytest.raises(CoverageInputError, match=r"\[halls\] filter: no column 'type'"):
        filtered_rows(frame, {"type": "hall"}, "halls")
    with pytest.raises(CoverageInputError, match=r"\[demand\] filter .* keeps no row"):
        filtered_rows(frame, {"beds": ">100"}, "demand")
    with pytest.raises(CoverageInputError, match=r"compare with a number"):
        filtered_rows(frame, {"beds": ">many"}, "halls")
