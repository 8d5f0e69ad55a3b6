"""Tests for coverage.crs: GCJ-02 / BD-09 conversions, to_wgs84 and utm_crs_for."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from coverage._errors import CoverageInputError
from coverage.crs import (
    CHINA_BOUNDS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    utm_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")

# ---------------------------------------------------------------------------
# Published reference pairs
# ---------------------------------------------------------------------------

# googollee/eviltransform, identical in go/transform_test.go, javascript/test.js
# and python/test.py ("shanghai", "shenzhen", "beijing"): WGS-84 -> GCJ-02 as
# (wgs_lon, wgs_lat, gcj_lon, gcj_lat). The WGS-84 side is published to 7
# decimals (the inputs), the GCJ-02 side to 14-15 decimals (computed output).
EVILTRANSFORM_WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# wandergis/coordtransform README.md "result" block (also run by
# test/comprehensive-test.js); every function is applied to (116.404, 39.915)
# and the outputs are printed to 14 decimals.
WANDERGIS_INPUT = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# These two come from one-step approximate inverses, not exact ones:
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
WANDERGIS_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)

# caijun/geoChina (CRAN package geoChina, R/cst.R roxygen examples): Beijing
# railway station read off the maps ("correct verifying by google earth"),
# published to 5 decimals as (lat, lon); stored here as (lon, lat).
GEOCHINA_BEIJING_STATION_WGS = (116.42079, 39.90105)
GEOCHINA_BEIJING_STATION_GCJ = (116.42703, 39.90245)
GEOCHINA_BEIJING_STATION_BD = (116.43351, 39.90851)

# Not used: eviltransform's python/test.py TESTS_bd (BD-09 near 120.0E 29.2N).
# They were generated while its BD-09 code used pi instead of x_pi = pi*3000/180
# (googollee/eviltransform issue #43) and are off the published formula by up
# to 3.6e-4 degrees (40 m).

# Computed outputs are published to 14+ decimals; 1e-12 degrees (0.1 mm) leaves
# room only for last-digit differences between maths libraries.
COMPUTED_TOL = 1e-12


def _deg(pair: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_eviltransform_pairs_forward(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = _deg(wgs84_to_gcj02(wlon, wlat))
    assert lon == pytest.approx(glon, abs=COMPUTED_TOL)
    assert lat == pytest.approx(glat, abs=COMPUTED_TOL)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_eviltransform_pairs_reverse(wlon: float, wlat: float, glon: float, glat: float) -> None:
    # The exact inverse recovers the 7-decimal WGS-84 input; eviltransform's own
    # tests only ask for 5 m (one-step) or 0.5 m ("exact") here.
    lon, lat = _deg(gcj02_to_wgs84(glon, glat))
    assert lon == pytest.approx(wlon, abs=1e-9)
    assert lat == pytest.approx(wlat, abs=1e-9)


def test_wandergis_forward_pairs() -> None:
    assert _deg(wgs84_to_gcj02(*WANDERGIS_INPUT)) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=COMPUTED_TOL)
    assert _deg(gcj02_to_bd09(*WANDERGIS_INPUT)) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=COMPUTED_TOL)


def test_wandergis_forward_pairs_read_backwards() -> None:
    assert _deg(gcj02_to_wgs84(*WANDERGIS_WGS84_TO_GCJ02)) == pytest.approx(WANDERGIS_INPUT, abs=1e-10)
    assert _deg(bd09_to_gcj02(*WANDERGIS_GCJ02_TO_BD09)) == pytest.approx(WANDERGIS_INPUT, abs=1e-10)


@pytest.mark.parametrize(
    ("ours", "forward", "published", "approx_error"),
    [
        # one-step GCJ-02 -> WGS-84 is off by up to about 2e-6 degrees
        (gcj02_to_wgs84, wgs84_to_gcj02, WANDERGIS_GCJ02_TO_WGS84, 2e-6),
        # one-step BD-09 -> GCJ-02 is off by about 5e-7 degrees
        (bd09_to_gcj02, gcj02_to_bd09, WANDERGIS_BD09_TO_GCJ02, 1e-6),
    ],
)
def test_wandergis_approximate_inverses(ours, forward, published, approx_error) -> None:  # type: ignore[no-untyped-def]
    # The published reverse values come from one-step approximations: ours must
    # agree with them to that approximation's error, and be the better inverse.
    exact = _deg(ours(*WANDERGIS_INPUT))
    assert exact == pytest.approx(published, abs=approx_error)
    ours_error = np.hypot(*np.subtract(_deg(forward(*exact)), WANDERGIS_INPUT))
    published_error = np.hypot(*np.subtract(_deg(forward(*published)), WANDERGIS_INPUT))
    assert ours_error < 1e-10
    assert published_error > 100 * ours_error


def test_geochina_beijing_railway_station() -> None:
    # Map readings published to 5 decimals; the formulas reproduce them to
    # within 1.5 units of the last digit (1.5e-5 degrees, about 1.5 m).
    tol = 1.5e-5
    assert _deg(wgs84_to_gcj02(*GEOCHINA_BEIJING_STATION_WGS)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_GCJ, abs=tol
    )
    assert _deg(wgs84_to_bd09(*GEOCHINA_BEIJING_STATION_WGS)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_BD, abs=tol
    )
    assert _deg(gcj02_to_bd09(*GEOCHINA_BEIJING_STATION_GCJ)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_BD, abs=tol
    )
    assert _deg(gcj02_to_wgs84(*GEOCHINA_BEIJING_STATION_GCJ)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_WGS, abs=tol
    )
    assert _deg(bd09_to_wgs84(*GEOCHINA_BEIJING_STATION_BD)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_WGS, abs=tol
    )
    assert _deg(bd09_to_gcj02(*GEOCHINA_BEIJING_STATION_BD)) == pytest.approx(
        GEOCHINA_BEIJING_STATION_GCJ, abs=tol
    )


def test_shenzhen_offset_magnitude() -> None:
    # GCJ-02 moves Shenzhen by a few hundred metres (known: 300-700 m).
    lon, lat = np.meshgrid(np.linspace(113.75, 114.62, 12), np.linspace(22.45, 22.86, 8))
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist_m = GEOD.inv(lon, lat, glon, glat)
    assert dist_m.shape == lon.shape
    assert np.all(dist_m > 300.0)
    assert np.all(dist_m < 700.0)


# ---------------------------------------------------------------------------
# Round trips (hypothesis, over China's extent)
# ---------------------------------------------------------------------------

# China's own extent (73.66-135.05 E, 3.86-53.55 N), at least 1.7 degrees inside
# CHINA_BOUNDS so that no point and its image straddle the rectangle's edge.
china_lon = st.floats(min_value=73.66, max_value=135.05, allow_nan=False)
china_lat = st.floats(min_value=3.86, max_value=53.55, allow_nan=False)
ROUND_TRIP_TOL = 1e-9  # the brief asks for 1e-6; the iteration does far better


@settings(max_examples=100, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_gcj02(lon: float, lat: float) -> None:
    assert _deg(gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)
    assert _deg(wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)


@settings(max_examples=100, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_bd09(lon: float, lat: float) -> None:
    assert _deg(bd09_to_gcj02(*gcj02_to_bd09(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)
    assert _deg(gcj02_to_bd09(*bd09_to_gcj02(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)
    assert _deg(bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)
    assert _deg(wgs84_to_bd09(*bd09_to_wgs84(lon, lat))) == pytest.approx((lon, lat), abs=ROUND_TRIP_TOL)


@settings(max_examples=50, deadline=None)
@given(
    lons=st.lists(china_lon, min_size=1, max_size=40),
    lat=china_lat,
)
def test_vectorised_equals_scalar(lons: list[float], lat: float) -> None:
    arr_lon, arr_lat = gcj02_to_wgs84(np.array(lons), lat)  # scalar lat broadcasts
    assert arr_lon.shape == (len(lons),)
    for i, lon in enumerate(lons):
        one = _deg(gcj02_to_wgs84(lon, lat))
        assert (arr_lon[i], arr_lat[i]) == pytest.approx(one, abs=1e-12)


def test_shapes_lists_and_no_mutation() -> None:
    lon = np.array([[113.9, 114.0], [114.1, 2.35]])
    lat = np.array([[22.5, 22.6], [22.7, 48.86]])
    lon_before, lat_before = lon.copy(), lat.copy()
    out_lon, out_lat = bd09_to_wgs84(lon, lat)
    assert out_lon.shape == out_lat.shape == (2, 2)
    assert out_lon.dtype == np.float64
    np.testing.assert_array_equal(lon, lon_before)
    np.testing.assert_array_equal(lat, lat_before)
    # Paris (last element) is outside China and untouched, the rest moved.
    assert (out_lon[1, 1], out_lat[1, 1]) == (2.35, 48.86)
    assert np.all(np.abs(out_lon.ravel()[:3] - lon.ravel()[:3]) > 1e-3)
    list_lon, _ = wgs84_to_gcj02([113.9, 114.0], [22.5, 22.6])
    assert list_lon.shape == (2,)
    scalar_lon, _ = wgs84_to_gcj02(113.9, 22.5)
    assert scalar_lon.shape == ()


def test_nan_passes_through() -> None:
    lon, lat = gcj02_to_wgs84([np.nan, 114.0], [22.5, np.nan])
    assert np.isnan(lon[0])
    assert np.isnan(lat[1])
    assert lat[0] == 22.5
    assert lon[1] == 114.0


# ---------------------------------------------------------------------------
# Outside China
# ---------------------------------------------------------------------------

OUTSIDE = [
    (2.3522, 48.8566),  # Paris
    (-74.006, 40.7128),  # New York
    (-51.23, -30.03),  # Porto Alegre
    (151.2093, -33.8688),  # Sydney
    (9.55, 47.14),  # Liechtenstein
    (0.0, 90.0),  # North Pole (no division-by-zero warning)
]
ALL_CONVERSIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_outside_china_unchanged(func, lon: float, lat: float) -> None:  # type: ignore[no-untyped-def]
    assert _deg(func(lon, lat)) == (lon, lat)


def test_in_china_rectangle_is_inclusive() -> None:
    lon_min, lat_min, lon_max, lat_max = CHINA_BOUNDS
    inside = in_china(
        [lon_min, lon_max, lon_min, 114.0, 114.0, lon_min - 1e-9, lon_max + 1e-9],
        [lat_min, lat_max, 30.0, lat_min - 1e-9, lat_max + 1e-9, 30.0, 30.0],
    )
    assert inside.tolist() == [True, True, True, False, False, False, False]


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_swapped_lat_lon_is_reported() -> None:
    with pytest.raises(CoverageInputError, match=r"longitude first"):
        gcj02_to_wgs84(22.54, 114.05)


def test_non_numeric_and_bad_shapes() -> None:
    with pytest.raises(CoverageInputError, match=r"to_numeric"):
        wgs84_to_gcj02(["114.0E"], [22.5])
    with pytest.raises(CoverageInputError, match=r"do not broadcast"):
        wgs84_to_gcj02([114.0, 114.1, 114.2], [22.5, 22.6])


@pytest.mark.parametrize("kwargs", [{"tol_deg": 0.0}, {"tol_deg": float("nan")}, {"max_iter": 0}])
def test_bad_iteration_options(kwargs: dict[str, float]) -> None:
    with pytest.raises(CoverageInputError):
        gcj02_to_wgs84(114.0, 22.5, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# to_wgs84
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        ("gcj02", gcj02_to_wgs84),
        ("GCJ-02", gcj02_to_wgs84),
        ("bd09", bd09_to_wgs84),
        ("BD-09", bd09_to_wgs84),
    ],
)
def test_to_wgs84_chinese_datums(crs: str, expected) -> None:  # type: ignore[no-untyped-def]
    lon = np.array([114.05, 114.1])
    lat = np.array([22.54, 22.6])
    got = to_wgs84(lon, lat, crs)
    want = expected(lon, lat)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("crs", ["wgs84", "WGS-84", "EPSG:4326", 4326, pyproj.CRS("EPSG:4326")])
def test_to_wgs84_identity(crs: object) -> None:
    lon, lat = to_wgs84([114.05], [22.54], crs)
    assert lon.tolist() == [114.05]
    assert lat.tolist() == [22.54]


@pytest.mark.parametrize("crs", ["EPSG:32650", pyproj.CRS.from_epsg(3857), 4547])
def test_to_wgs84_projected(crs: object) -> None:
    lon0 = np.array([113.95, 114.05, 114.3])
    lat0 = np.array([22.52, 22.54, 22.7])
    to_proj = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_proj.transform(lon0, lat0)
    lon, lat = to_wgs84(x, y, crs)
    np.testing.assert_allclose(lon, lon0, atol=1e-9)
    np.testing.assert_allclose(lat, lat0, atol=1e-9)


def test_to_wgs84_geographic_other_datum_is_lon_first() -> None:
    # CGCS2000 (EPSG:4490) is latitude-first in the EPSG database; always_xy
    # keeps our longitude-first convention, and the datum is within metres.
    lon, lat = to_wgs84(114.05, 22.54, "EPSG:4490")
    assert float(lon) == pytest.approx(114.05, abs=1e-4)
    assert float(lat) == pytest.approx(22.54, abs=1e-4)


def test_to_wgs84_untransformable_point() -> None:
    with pytest.raises(CoverageInputError, match=r"coordinate #1 .*cannot be transformed"):
        to_wgs84([500_000.0, 1e30], [2_500_000.0, 1e30], "EPSG:32650")


def test_to_wgs84_bad_crs() -> None:
    with pytest.raises(CoverageInputError, match=r"not a coordinate system"):
        to_wgs84(114.0, 22.5, "mars")
    with pytest.raises(CoverageInputError, match=r"bd09ll"):
        to_wgs84(12_700_000.0, 2_560_000.0, "bd09mc")


# ---------------------------------------------------------------------------
# utm_crs_for
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (114.0, 22.5, 32650),  # Shenzhen
        (114.06, 22.54, 32650),  # Shenzhen, Futian
        (-51.23, -30.03, 32722),  # Porto Alegre
        (9.55, 47.14, 32632),  # Liechtenstein (Vaduz)
        (24.94, 60.17, 32635),  # Helsinki
        (180.0, 10.0, 32660),  # the antimeridian belongs to zone 60
        (-180.0, -10.0, 32701),
        (0.5, 0.0, 32631),  # the equator counts as north
    ],
)
def test_utm_crs_for_known(lon: float, lat: float, epsg: int) -> None:
    crs = utm_crs_for(lon, lat)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == epsg
    assert crs.is_projected


@settings(max_examples=4, deadline=None)  # each database query takes ~0.2 s
@given(
    lon=st.floats(min_value=-179.999, max_value=179.999, allow_nan=False),
    lat=st.floats(min_value=-79.9, max_value=83.9, allow_nan=False).filter(lambda v: v != 0.0),
)
def test_utm_crs_for_matches_pyproj_database(lon: float, lat: float) -> None:
    # Oracle: the UTM CRSs whose EPSG area of use contains the point (two on
    # a zone border; GeoPandas' estimate_utm_crs picks from the same list).
    # Points within rounding of a zone border (lon = -1e-36) are left out.
    assume(abs((lon + 180.0) / 6.0 - round((lon + 180.0) / 6.0)) > 1e-9)
    aoi = AreaOfInterest(lon, lat, lon, lat)
    codes = {int(info.code) for info in query_utm_crs_info("WGS 84", area_of_interest=aoi)}
    assert utm_crs_for(lon, lat).to_epsg() in codes


@pytest.mark.parametrize(
    ("lon", "lat", "match"),
    [
        (22.5, 114.0, r"not a longitude/latitude"),
        (float("nan"), 22.5, r"not a longitude/latitude"),
        (15.0, 85.0, r"polar stereographic"),
        (0.0, -85.0, r"EPSG:32761"),
        ("east", 22.5, r"as numbers"),
    ],
)
def test_utm_crs_for_bad_input(lon: object, lat: object, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        utm_crs_for(lon, lat)  # type: ignore[arg-type]
