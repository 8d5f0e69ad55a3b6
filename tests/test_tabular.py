"""Hostile and messy input files: the shared readers of halls and residents (issue 8).

Every case asserts that the message names the file, the row (spreadsheet
numbering for CSV: the header is row 1) or key, and the fix.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._coords import geometry_in_crs, points_from_columns
from coverage._errors import CoverageInputError, CoverageWarning
from coverage._rows import RowRef, resolve_column
from coverage._tabular import read_table
from coverage._textfile import decode_text, detect_delimiter
from coverage.crs import gcj02_to_wgs84
from coverage.demand import read_demand, read_population_grid
from coverage.sites import read_sites

ROW = r"\(spreadsheet row numbers: the header is row 1\)"


def write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


# ---------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------

HALLS_ZH = "编号,名称,经度,纬度\n001,福田街道党群服务中心,114.05,22.54\n002,华富街道,114.06,22.55\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-16", "utf-16")],
)
def test_chinese_csv_in_every_excel_encoding(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path, "halls.csv", HALLS_ZH, encoding)
    table = read_table(path, text_columns=["编号"])
    assert table.encoding == expected
    assert list(table.frame.columns) == ["编号", "名称", "经度", "纬度"]  # no BOM left in the first name
    sites = read_sites(path, id_col="编号", name_col="名称")
    assert sites["site_id"].tolist() == ["001", "002"]  # leading zeros kept: ids are text
    assert sites["name"].tolist() == ["福田街道党群服务中心", "华富街道"]
    assert sites["lon"].tolist() == [114.05, 114.06]


def test_latin1_only_when_nothing_else_decodes_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", "id,name,lon,lat\nA,Müller Straße,9.5,47.1\nB,José,9.6,47.2\n", "latin-1")
    with pytest.warns(
        CoverageWarning, match=r"halls\.csv: not UTF-8 and not Chinese GBK/GB18030; read as cp1252.*encoding="
    ):
        sites = read_sites(path, id_col="id")
    assert sites["name"].tolist() == ["Müller Straße", "José"]


def test_forced_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", HALLS_ZH, "gbk")
    assert read_table(path, encoding="gbk").frame["名称"].iloc[1] == "华富街道"
    with pytest.raises(
        CoverageInputError, match=r"halls\.csv: not valid utf-8 \(byte 0 on line 1\); pass the file's real"
    ):
        read_table(path, encoding="utf-8")
    with pytest.raises(CoverageInputError, match=r"encoding='klingon' for .*halls\.csv: not an encoding .*'gb18030'"):
        read_table(path, encoding="klingon")


def test_decode_prefers_chinese_only_when_it_reads_as_chinese() -> None:
    assert decode_text("名称".encode("gbk"), label="x")[1] == "gb18030"
    with pytest.warns(CoverageWarning):
        text, used = decode_text("Ölmühle".encode("latin-1"), label="x")
    assert (text, used) == ("Ölmühle", "cp1252")


# ---------------------------------------------------------------------------
# delimiters and rows
# ---------------------------------------------------------------------------


def test_semicolon_csv_with_decimal_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", "id;name;lon;lat\nA;Hall, North;114,05;22,54\n")
    sites = read_sites(path, id_col="id")
    assert sites["name"].tolist() == ["Hall, North"]
    assert (sites["lon"].iloc[0], sites["lat"].iloc[0]) == (114.05, 22.54)


@pytest.mark.parametrize("name", ["people.txt", "people.tsv", "people.csv"])
def test_tab_delimited(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "lon\tlat\tpopulation\n114.05\t22.54\t10\n114.06\t22.55\t5\n")
    assert read_demand(path)["population"].sum() == 15.0
    assert read_table(path).delimiter == "\t"


def test_ragged_rows_named_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", "id,name,lon,lat\nA,Hall A,114.0,22.5\nB,Hall, North,114.1,22.6\n")
    with pytest.raises(
        CoverageInputError,
        match=r"halls\.csv: the header has 4 fields \(comma-separated\) but 1 row\(s\) do not: row 3 has 5 "
        + ROW
        + r"\. A value with a comma in it must be in double quotes",
    ):
        read_sites(path)


def test_ambiguous_delimiter_says_what_to_change() -> None:
    with pytest.raises(CoverageInputError, match=r"x\.csv: cannot tell the delimiter.*comma \(2 columns\).*semicolon"):
        detect_delimiter("a;b,c;d\n1;2,3;4\n", label="x.csv")
    with pytest.raises(CoverageInputError, match=r"x\.csv: the header 'abc' has no comma, semicolon or tab"):
        detect_delimiter("abc\n1\n", label="x.csv")


def test_blank_lines_count_as_spreadsheet_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", "id,lon,lat\nA,114,22\n\nB,abc,22\n,,\n")
    with pytest.raises(
        CoverageInputError, match=r"halls\.csv: 1 row\(s\) .*: row 4 " + ROW + r", values \('abc', '22\.0'\)"
    ):
        read_sites(path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"halls\.csv: the file is empty; give a header row"),
        (b"  \n\n", r"halls\.csv: the file is empty"),
        (b"id,lon,lat\n", r"halls\.csv: the header is there but no rows"),
        (b"id,lon,id\nA,1,2\n", r"halls\.csv: the header repeats the column name\(s\) 'id'; give every column its own"),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            r"halls\.csv: this is a ZIP archive \(an Excel \.xlsx workbook.*Save it from Excel",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", r"halls\.csv: this is an old Excel \.xls workbook"),
        (b"id,lon\x00,lat\n", r"halls\.csv: this is binary data \(it holds NUL bytes\), not a CSV text file"),
        (b'id,name,lon,lat\nA,"unclosed,114,22\n', r"halls\.csv: the header has 4 fields .*row 2 has 2.*closing one"),
    ],
)
def test_broken_csv_files(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        read_sites(write(tmp_path, "halls.csv", data))


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(
        CoverageInputError, match=r"halls\.xlsx: files ending in '\.xlsx' are not read; give one of \.csv"
    ):
        read_sites(write(tmp_path, "halls.xlsx", b"PK\x03\x04"))
    with pytest.raises(CoverageInputError, match=r"halls\.vrt: files ending in '\.vrt' are not read"):
        read_sites(write(tmp_path, "halls.vrt", "<OGRVRTDataSource/>"))


def test_text_stays_text(tmp_path: Path) -> None:
    path = write(tmp_path, "halls.csv", "id,name,lon,lat\nNA,NA,114,22\nnull,None,114.1,22.1\n")
    sites = read_sites(path, id_col="id")
    assert sites["site_id"].tolist() == ["NA", "null"]
    assert sites["name"].tolist() == ["NA", "None"]


# ---------------------------------------------------------------------------
# files that are not files, and files that are too big
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_symlink_to_fifo_or_device_is_refused_without_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "halls.csv").symlink_to(fifo)
    with pytest.raises(CoverageInputError, match=r"halls\.csv: is a FIFO \(named pipe\), not a regular file.*symlink"):
        read_sites(tmp_path / "halls.csv")  # would block forever if opened
    (tmp_path / "people.csv").symlink_to("/dev/zero")
    with pytest.raises(CoverageInputError, match=r"people\.csv: is a device, not a regular file"):
        read_demand(tmp_path / "people.csv")
    (tmp_path / "grid.gpkg").mkdir()
    with pytest.raises(CoverageInputError, match=r"grid\.gpkg: is a folder, not a regular file"):
        read_population_grid(tmp_path / "grid.gpkg")


def test_file_too_large_for_the_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "people.csv", "lon,lat,population\n" + "114.05,22.54,1\n" * 2000)
    monkeypatch.setenv("COVERAGE_PLANNER_MAX_MEMORY_GB", str(100_000 / 1024**3))
    with pytest.raises(
        CoverageInputError,
        match=r"people\.csv: the file is 0 MiB; reading it would take .*Cut it to the study area.*"
        r"COVERAGE_PLANNER_MAX_MEMORY_GB",
    ):
        read_demand(path)


# ---------------------------------------------------------------------------
# JSON and GeoJSON
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["deep.json", "deep.geojson"])
def test_deeply_nested_json(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, '{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CoverageInputError, match=rf"{name}: the JSON is nested too deeply to be a table"):
        read_sites(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[{"id": 1,}]', r"poi\.json: not valid JSON \(Expecting property name .* at line 1, column 11\)"),
        ("[]", r"poi\.json: the list of records is empty"),
        ('{"a": [], "b": []}', r"poi\.json: JSON is neither GeoJSON nor a list of records \(lists under 'a', 'b'\)"),
        ('[{"id": 1}, 7]', r"poi\.json: record 2 \(counting from 1 in file order\) are not objects"),
        ('{"type": "FeatureCollection", "features": []}', r"poi\.json: the FeatureCollection has no features"),
    ],
)
def test_bad_json(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        read_sites(write(tmp_path, "poi.json", text))


def feature(x: float, y: float, **props: object) -> dict[str, object]:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [x, y]}}


def geojson(tmp_path: Path, features: list[dict[str, object]], name: str = "people.geojson", **extra: object) -> Path:
    text = json.dumps({"type": "FeatureCollection", **extra, "features": features})
    return write(tmp_path, name, text)


def test_geojson_in_metres_without_crs(tmp_path: Path) -> None:
    path = geojson(tmp_path, [feature(500_000, 2_493_000, population=5), feature(500_100, 2_493_000, population=7)])
    with pytest.raises(
        CoverageInputError,
        match=r"people\.geojson: coordinates such as \(x=500000, y=2493000\) in features 1, 2 \(counting from 1 in "
        r"file order\) are not longitude/latitude degrees; they look like metres .*does not declare its CRS.*"
        r"pass crs= \(scenario key 'crs'\)",
    ):
        read_demand(path)
    units = read_demand(path, crs="EPSG:32650")  # the caller's CRS overrides GeoJSON's implied WGS-84
    assert units.crs.to_epsg() == 32650
    assert units["population"].sum() == 12.0
    sites = read_sites(path, crs="EPSG:32650")
    assert sites.crs.to_epsg() == 4326
    assert sites["lon"].iloc[0] == pytest.approx(117.0)  # x = 500 km is UTM 50N's central meridian


def test_declared_crs_conflict_and_missing_crs(tmp_path: Path) -> None:
    gpkg = tmp_path / "people.gpkg"
    gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(500_000, 2_493_000)], crs=32650).to_file(gpkg)
    with pytest.raises(
        CoverageInputError,
        match=r"people\.gpkg: the file declares the CRS EPSG:32650 but crs='EPSG:4326' was given; remove crs",
    ):
        read_demand(gpkg, crs="EPSG:4326")
    assert read_demand(gpkg).crs.to_epsg() == 32650
    shp = tmp_path / "people.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # geopandas: writing without a CRS
        gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(114.05, 22.54)]).to_file(shp)
        gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(500_000, 2_493_000)]).to_file(
            tmp_path / "far.shp"
        )
    with pytest.warns(CoverageWarning, match=r"people\.shp: the file does not say which CRS.*read as WGS-84"):
        assert read_demand(shp).crs.to_epsg() == 4326
    far = tmp_path / "far.shp"
    with pytest.raises(CoverageInputError, match=r"far\.shp: the file does not say which CRS .*pass crs="):
        read_demand(far)
    with pytest.raises(CoverageInputError, match=r"the demand GeoDataFrame has no CRS; call \.set_crs"):
        read_demand(gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(1, 1)]))


def test_nan_and_out_of_range_coordinates_in_geojson(tmp_path: Path) -> None:
    text = json.dumps(
        {"type": "FeatureCollection", "features": [feature(114, 22, population=1), feature(0, 0, population=1)]}
    )
    path = write(tmp_path, "people.geojson", text.replace("[0, 0]", "[NaN, 22]"))
    with pytest.raises(
        CoverageInputError, match=r"people\.geojson: 1 geometries have NaN or infinite coordinates: feature 2 "
    ):
        read_demand(path)
    path = geojson(tmp_path, [feature(114, 22, population=1), feature(114, 999, population=1)], name="lat.geojson")
    with pytest.raises(
        CoverageInputError, match=r"lat\.geojson: coordinates such as \(x=114, y=999\) in feature 2 .*outside"
    ):
        read_demand(path)
    path = geojson(tmp_path, [feature(22.5, 114.0, population=1)], name="swap.geojson")
    with pytest.raises(
        CoverageInputError, match=r"swap\.geojson: latitude beyond \+-90 in feature 1 .*look swapped\. Swap x and y"
    ):
        read_sites(path)


def test_geojson_in_gbk_and_lon_col_refused_for_geometry(tmp_path: Path) -> None:
    text = json.dumps(
        {"type": "FeatureCollection", "features": [feature(114.05, 22.54, 名称="福田", population=3)]},
        ensure_ascii=False,
    )
    path = write(tmp_path, "halls.geojson", text, "gbk")
    assert read_sites(path)["name"].tolist() == ["福田"]
    with pytest.raises(CoverageInputError, match=r"halls\.geojson: lon_col='lng' applies to tables .* Remove lon_col"):
        read_sites(path, lon_col="lng")


# ---------------------------------------------------------------------------
# layers and formats behind their suffix
# ---------------------------------------------------------------------------


def test_layers(tmp_path: Path) -> None:
    gpkg = tmp_path / "halls.gpkg"
    for layer in ("halls", "stations"):
        gpd.GeoDataFrame({"id": [layer]}, geometry=[shapely.Point(114.05, 22.54)], crs=4326).to_file(gpkg, layer=layer)
    with pytest.raises(
        CoverageInputError,
        match=r"halls\.gpkg: holds 2 layers \('halls', 'stations'\); pass layer= \(scenario key 'layer'\)",
    ):
        read_sites(gpkg)
    assert read_sites(gpkg, layer="stations", id_col="id")["site_id"].tolist() == ["stations"]
    with pytest.raises(
        CoverageInputError, match=r"halls\.gpkg: no layer 'hall'; the layers are .* Did you mean 'halls'"
    ):
        read_sites(gpkg, layer="hall")
    with pytest.raises(CoverageInputError, match=r"halls\.csv: layer='x' applies to GeoPackage files only; remove it"):
        read_sites(write(tmp_path, "halls.csv", "lon,lat\n1,2\n"), layer="x")
    with pytest.raises(
        CoverageInputError, match=r"encoding='gbk' for .*halls\.gpkg: GeoPackage and FlatGeobuf text is always UTF-8"
    ):
        read_sites(gpkg, layer="halls", encoding="gbk")


def test_content_must_match_the_suffix(tmp_path: Path) -> None:
    vrt = (
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/dev/zero</SrcDataSource>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )
    with pytest.raises(CoverageInputError, match=r"grid\.gpkg: named \.gpkg but this is something else"):
        read_population_grid(write(tmp_path, "grid.gpkg", vrt))
    gpkg = tmp_path / "real.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(gpkg)
    with pytest.raises(
        CoverageInputError, match=r"halls\.csv: this is an SQLite database \(a GeoPackage\?\), not a CSV"
    ):
        read_sites(write(tmp_path, "halls.csv", gpkg.read_bytes()))


# ---------------------------------------------------------------------------
# columns: exact names, "did you mean", never a silent fallback
# ---------------------------------------------------------------------------


def test_resolve_column_never_falls_back() -> None:
    with pytest.raises(
        CoverageInputError, match=r"t\.csv: no column 'Population' \(population_col\).*Did you mean 'population'"
    ):
        resolve_column(["population", "pop_2020"], "Population", key="population_col", label="t.csv")
    assert resolve_column(["名称", "LNG"], None, key="lon_col", label="t", guesses=("lon", "lng")) == "LNG"
    assert resolve_column(["a"], None, key="name_col", label="t", guesses=("name",), required=False) is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"population_col": "popluation"},
            r"people\.csv: no population column 'popluation' \(population_col\).*Did you mean 'population'",
        ),
        ({"id_col": "cod"}, r"people\.csv: no id column 'cod' \(id_col\).*Did you mean 'code'"),
        ({"lon_col": "lng_gcj"}, r"people\.csv: no longitude column 'lng_gcj' \(lon_col\).*Did you mean 'lng_gcj02'"),
        ({"lat_col": "lat_gcj"}, r"people\.csv: no latitude column 'lat_gcj' \(lat_col\).*Did you mean 'lat_gcj02'"),
    ],
)
def test_misspelt_demand_columns(tmp_path: Path, kwargs: dict[str, str], match: str) -> None:
    path = write(tmp_path, "people.csv", "code,lng_gcj02,lat_gcj02,population,pop\n7,114.05,22.54,10,3\n")
    defaults = {"lon_col": "lng_gcj02", "lat_col": "lat_gcj02"}
    with pytest.raises(CoverageInputError, match=match):
        read_demand(path, **{**defaults, **kwargs})


def test_read_demand_gcj02_and_bd09(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "code,lng_gcj02,lat_gcj02,population\n007,113.93,22.52,10\n")
    units = read_demand(path, id_col="code", lon_col="lng_gcj02", lat_col="lat_gcj02", crs="gcj02")
    x, y = gcj02_to_wgs84(113.93, 22.52)
    assert units.crs.to_epsg() == 4326
    assert units.geometry.x.iloc[0] == pytest.approx(float(x), abs=1e-12)
    assert units.geometry.y.iloc[0] == pytest.approx(float(y), abs=1e-12)
    assert units["demand_id"].tolist() == ["007"]
    bd = read_demand(path, lon_col="lng_gcj02", lat_col="lat_gcj02", crs="bd09")
    assert bd.geometry.x.iloc[0] != units.geometry.x.iloc[0]
    gj = geojson(tmp_path, [feature(113.93, 22.52, population=4)])
    assert read_demand(gj, crs="gcj02").geometry.x.iloc[0] == pytest.approx(float(x), abs=1e-12)


def test_duplicate_and_empty_ids_name_the_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "code,lon,lat,population\na,114,22,1\nb,114,22,1\na,114,22,1\n")
    with pytest.raises(
        CoverageInputError, match=r"1 ids appear more than once in .*people\.csv: 'a' \(rows 2, 4 " + ROW + r"\)"
    ):
        read_demand(path, id_col="code")
    path = write(tmp_path, "people.csv", "code,lon,lat,population\na,114,22,1\n,114,22,1\n")
    with pytest.raises(
        CoverageInputError, match=r"people\.csv: 1 rows have no id \(row 3 " + ROW + r"\); fill the id column"
    ):
        read_demand(path, id_col="code")
    path = write(tmp_path, "people.csv", "lon,lat,population\n114,22,1\n114,22,-5\n")
    with pytest.raises(
        CoverageInputError, match=r"people\.csv is negative for 1 rows, row 3 " + ROW + r"; a population must be >= 0"
    ):
        read_demand(path)


# ---------------------------------------------------------------------------
# the shared helpers directly
# ---------------------------------------------------------------------------


def test_rowref_conventions() -> None:
    assert RowRef("f.json", "records").describe([0, 2]) == "records 1, 3 (counting from 1 in file order)"
    frame = pd.DataFrame({"a": [1, 2]}, index=["x", "y"])
    assert RowRef.for_frame(frame, "t").describe(np.array([False, True])) == "row with index y"
    many = RowRef("f.csv", "csv", np.arange(2, 40)).describe(np.arange(20))
    assert many.startswith("rows 2, 3,") and "… and 10 more" in many


def test_points_and_geometry_keep_the_input() -> None:
    frame = pd.DataFrame({"lon": [114.05], "lat": [22.54], "x": ["keep"]})
    before = frame.copy()
    out = points_from_columns(frame, rows=RowRef.for_frame(frame, "t"), lon_col=None, lat_col=None, crs="gcj02")
    pd.testing.assert_frame_equal(frame, before)
    assert out["x"].tolist() == ["keep"]
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.LineString([(114.05, 22.54), (114.06, 22.55)])], crs=4326)
    moved = geometry_in_crs(gdf, rows=RowRef.for_frame(gdf, "g"), crs="gcj02")
    assert gdf.geometry.iloc[0].coords[0] == (114.05, 22.54)  # input untouched
    x, y = gcj02_to_wgs84(114.05, 22.54)
    assert moved.geometry.iloc[0].coords[0] == pytest.approx((float(x), float(y)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            CoverageInputError, match=r"g: crs='gcj02' means longitude/latitude, but the file is in the projected"
        ):
            geometry_in_crs(gdf.to_crs(32650), rows=RowRef.for_frame(gdf, "g"), crs="gcj02")
