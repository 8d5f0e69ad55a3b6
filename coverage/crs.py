"""Coordinate systems: Chinese map datums (GCJ-02, BD-09) and the local UTM zone.

Hall lists exported from Chinese web maps are rarely in WGS-84. Amap (Gaode),
Tencent and Google's China map publish **GCJ-02** ("Mars coordinates"); Baidu
publishes **BD-09**, a second obfuscation on top of GCJ-02. Both move points by
a few hundred metres in Shenzhen, which is most of a 500 m service radius, so
every site list must be brought to WGS-84 before it meets OpenStreetMap.

The formulas are the published ones (the "public secret" implementation used
by eviltransform, coordtransform, PRCoords and geoChina):

* WGS-84 -> GCJ-02 is a closed-form offset computed on the Krasovsky 1940
  ellipsoid (``a = 6378245.0``, ``e^2 = 0.00669342162296594323``).
* GCJ-02 -> BD-09 is a closed-form rotation and scaling about the origin with
  ``x_pi = pi * 3000 / 180`` followed by the shift (+0.0065, +0.006).
* The reverse directions have no closed form. They start from the usual
  one-step estimate and refine it by fixed-point iteration,
  ``w <- w - (forward(w) - target)``, until the forward transform of the
  answer reproduces the input to better than ``tol_deg`` (1e-10 degrees,
  about 0.01 mm, by default). The iteration contracts by a factor of about
  0.005 (GCJ-02) or 0.02 (BD-09) per step, so two to four steps suffice.

**Outside China** every function returns its input unchanged, as the
published implementations do. "In China" is the rectangular test those
implementations share, applied to the *input* coordinates of each call:
``72.004 <= lon <= 137.8347`` and ``0.8293 <= lat <= 55.8271`` (see
:data:`CHINA_BOUNDS`). The rectangle is generous: it also contains Mongolia,
the Korean peninsula, most of Japan and parts of South and Southeast Asia, so
decide from your data source, not from this test, whether a list is
obfuscated. Within about 0.01 degrees of the rectangle's edge a point and its
converted image can fall on different sides of it, so round trips there are
not exact; nothing in mainland China, Hong Kong, Macau or Taiwan is that close.

All functions take longitude first (x, y), like shapely, GeoPandas and pyproj
with ``always_xy=True``, accept scalars or array-likes of any broadcastable
shape, and return a pair of float64 arrays of the broadcast shape (0-d for
scalar input; use ``float()`` to unwrap). NaN coordinates pass through as NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Final

import numpy as np
import numpy.typing as npt
import pyproj

from coverage._errors import CoverageInputError

__all__ = [
    "CHINA_BOUNDS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "utm_crs_for",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ArrayLike = npt.ArrayLike

#: Krasovsky 1940 semi-major axis (m) used by GCJ-02.
KRASOVSKY_A: Final = 6378245.0
#: Krasovsky 1940 first eccentricity squared used by GCJ-02.
KRASOVSKY_EE: Final = 0.00669342162296594323
#: The angular factor of BD-09 (pi * 3000 / 180).
BD_X_PI: Final = math.pi * 3000.0 / 180.0
#: BD-09's constant shift in degrees (longitude, latitude).
BD_SHIFT: Final = (0.0065, 0.006)
#: The "in China" rectangle (lon_min, lat_min, lon_max, lat_max), inclusive.
CHINA_BOUNDS: Final = (72.004, 0.8293, 137.8347, 55.8271)

_DEFAULT_TOL_DEG: Final = 1e-10
_DEFAULT_MAX_ITER: Final = 10

_GCJ_NAMES: Final = frozenset({"gcj02", "gcj-02", "gcj"})
_BD_NAMES: Final = frozenset({"bd09", "bd-09", "bd09ll", "bd"})
_WGS_NAMES: Final = frozenset({"wgs84", "wgs-84", "wgs 84", "epsg:4326", "ogc:crs84"})


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------


def _as_lonlat(lon: ArrayLike, lat: ArrayLike, *, check_range: bool) -> tuple[FloatArray, FloatArray]:
    """Return ``lon`` and ``lat`` as broadcast float64 arrays, validated."""
    try:
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"coordinates must be numbers or arrays of numbers, got lon={lon!r:.80}, "
            f"lat={lat!r:.80} ({exc}); convert text columns with pandas.to_numeric first"
        ) from exc
    try:
        x, y = np.broadcast_arrays(x, y)
    except ValueError as exc:
        raise CoverageInputError(
            f"lon has shape {x.shape} and lat has shape {y.shape}, which do not broadcast; "
            "pass one longitude per latitude"
        ) from exc
    if check_range:
        with np.errstate(invalid="ignore"):
            bad_lat = np.abs(y) > 90.0
            bad_lon = np.abs(x) > 180.0
        if bad_lat.any() or bad_lon.any():
            idx = int(np.flatnonzero((bad_lat | bad_lon).ravel())[0])
            bx, by = float(x.ravel()[idx]), float(y.ravel()[idx])
            hint = (
                " It looks like (lat, lon): these functions take longitude first."
                if abs(bx) <= 90.0 < abs(by) <= 180.0
                else ""
            )
            raise CoverageInputError(
                f"coordinate #{idx} (lon={bx!r}, lat={by!r}) is not a longitude/latitude pair "
                f"in degrees (|lon| <= 180, |lat| <= 90).{hint} Projected x/y values must go "
                "through to_wgs84(x, y, crs) with their CRS."
            )
    # Copies, so that callers' arrays are never written to.
    return x.astype(np.float64, copy=True), y.astype(np.float64, copy=True)


def in_china(lon: ArrayLike, lat: ArrayLike) -> BoolArray:
    """Return whether each point lies in the rectangle the published converters call China.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (any datum; the test is coarse).

    Returns
    -------
    numpy.ndarray
        Boolean array of the broadcast shape; False for NaN.

    Notes
    -----
    The test is ``72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271``
    (:data:`CHINA_BOUNDS`), shared by eviltransform, PRCoords and geoChina.
    It is a rectangle, not China's border.

    Examples
    --------
    >>> in_china([114.05, 2.35], [22.54, 48.86]).tolist()
    [True, False]

    """
    x, y = _as_lonlat(lon, lat, check_range=False)
    lon_min, lat_min, lon_max, lat_max = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        return (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)


# ----------------------------------------------------------------------------
# the raw transforms (no China test)
# ----------------------------------------------------------------------------


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 at WGS-84 point (lon, lat), in degrees."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat_m * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon_m * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon, dlat


def _wgs_to_gcj_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + BD_SHIFT[0], z * np.sin(theta) + BD_SHIFT[1]


def _bd_to_gcj_one_step(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the published one-step BD-09 -> GCJ-02 estimate (error about 5e-7 degrees)."""
    x = lon - BD_SHIFT[0]
    y = lat - BD_SHIFT[1]
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
    start: tuple[FloatArray, FloatArray],
    *,
    tol_deg: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(w) = (lon, lat)`` by fixed-point iteration from ``start``."""
    wx, wy = start
    for _ in range(max_iter):
        fx, fy = forward(wx, wy)
        rx = fx - lon
        ry = fy - lat
        wx = wx - rx
        wy = wy - ry
        if max(float(np.max(np.abs(rx), initial=0.0)), float(np.max(np.abs(ry), initial=0.0))) <= tol_deg:
            break
    return wx, wy


def _convert(
    lon: ArrayLike,
    lat: ArrayLike,
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply ``func`` to the points inside :data:`CHINA_BOUNDS`, pass the rest through."""
    x, y = _as_lonlat(lon, lat, check_range=True)
    xf = x.reshape(-1)
    yf = y.reshape(-1)
    inside = in_china(xf, yf)
    if inside.any():
        ox, oy = func(xf[inside], yf[inside])
        xf[inside] = ox
        yf[inside] = oy
    return xf.reshape(x.shape), yf.reshape(y.shape)


def _gcj_to_wgs_raw(
    lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int
) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    start = (lon - dlon, lat - dlat)  # the published one-step estimate
    return _invert(_wgs_to_gcj_raw, lon, lat, start, tol_deg=tol_deg, max_iter=max_iter)


def _bd_to_gcj_raw(lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int) -> tuple[FloatArray, FloatArray]:
    start = _bd_to_gcj_one_step(lon, lat)
    return _invert(_gcj_to_bd_raw, lon, lat, start, tol_deg=tol_deg, max_iter=max_iter)


def _check_tol(tol_deg: float, max_iter: int) -> None:
    if not (tol_deg > 0.0 and math.isfinite(tol_deg)):
        raise CoverageInputError(
            f"tol_deg={tol_deg!r} must be a positive number of degrees; the default 1e-10 "
            "(0.01 mm) is far below any survey accuracy"
        )
    if max_iter < 1:
        raise CoverageInputError(f"max_iter={max_iter!r} must be at least 1; 10 is plenty")


# ----------------------------------------------------------------------------
# public conversions
# ----------------------------------------------------------------------------


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitudes/latitudes to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat
        WGS-84 degrees, longitude first; scalars or broadcastable arrays.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(113.912316, 22.543847)
    >>> round(float(lon), 6), round(float(lat), 6)
    (113.917176, 22.540796)

    """
    return _convert(lon, lat, _wgs_to_gcj_raw)


def gcj02_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitudes/latitudes (Amap, Tencent) to WGS-84.

    The inverse is found by fixed-point iteration, not the usual one-step
    approximation (which is off by up to about 2e-6 degrees, 0.2 m).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, longitude first; scalars or broadcastable arrays.
    tol_deg
        Stop when re-encoding the answer reproduces the input to within this
        many degrees (default 1e-10).
    max_iter
        Upper bound on iterations (default 10; 3 are usually enough).

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(113.9171764808363, 22.540796131694766)
    >>> round(float(lon), 7), round(float(lat), 7)
    (113.912316, 22.543847)

    """
    _check_tol(tol_deg, max_iter)
    return _convert(lon, lat, partial(_gcj_to_wgs_raw, tol_deg=tol_deg, max_iter=max_iter))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitudes/latitudes to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, longitude first; scalars or broadcastable arrays.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 8), round(float(lat), 8)
    (116.41036949, 39.92133699)

    """
    return _convert(lon, lat, _gcj_to_bd_raw)


def bd09_to_gcj02(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitudes/latitudes (Baidu) to GCJ-02.

    Starts from the published one-step formula (off by about 5e-7 degrees)
    and refines it by fixed-point iteration on :func:`gcj02_to_bd09`.

    Parameters
    ----------
    lon, lat
        BD-09 degrees, longitude first; scalars or broadcastable arrays.
    tol_deg
        Stop when re-encoding the answer reproduces the input to within this
        many degrees (default 1e-10).
    max_iter
        Upper bound on iterations (default 10).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    >>> round(float(lon), 9), round(float(lat), 9)
    (116.404, 39.915)

    """
    _check_tol(tol_deg, max_iter)
    return _convert(lon, lat, partial(_bd_to_gcj_raw, tol_deg=tol_deg, max_iter=max_iter))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitudes/latitudes to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat
        WGS-84 degrees, longitude first.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.42079, 39.90105)  # Beijing railway station
    >>> round(float(lon), 4), round(float(lat), 4)
    (116.4335, 39.9085)

    """
    return _convert(lon, lat, lambda x, y: _gcj_to_bd_raw(*_wgs_to_gcj_raw(x, y)))


def bd09_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitudes/latitudes (Baidu) to WGS-84 (via GCJ-02).

    Both steps are iterated to ``tol_deg``, so the result re-encodes to the
    input to about ``2 * tol_deg``.

    Parameters
    ----------
    lon, lat
        BD-09 degrees, longitude first; scalars or broadcastable arrays.
    tol_deg
        Convergence tolerance of each of the two inversions (default 1e-10).
    max_iter
        Upper bound on iterations of each inversion (default 10).

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside :data:`CHINA_BOUNDS` unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(116.43351, 39.90851)  # Beijing railway station
    >>> round(float(lon), 4), round(float(lat), 4)
    (116.4208, 39.9011)

    """
    _check_tol(tol_deg, max_iter)

    def convert(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        gx, gy = _bd_to_gcj_raw(x, y, tol_deg=tol_deg, max_iter=max_iter)
        return _gcj_to_wgs_raw(gx, gy, tol_deg=tol_deg, max_iter=max_iter)

    return _convert(lon, lat, convert)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: object) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in any supported system to WGS-84 longitude/latitude.

    Parameters
    ----------
    lon, lat
        x/longitude and y/latitude values (longitude first), in the units of
        ``crs``: degrees for geographic systems, usually metres for projected.
    crs
        ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu, longitude/latitude
        form ``bd09ll``), ``"wgs84"`` / ``"EPSG:4326"`` (returned as is), or
        anything :meth:`pyproj.CRS.from_user_input` accepts (``"EPSG:32650"``,
        ``4490``, a :class:`pyproj.CRS`, a WKT string, ...), which is
        transformed with pyproj using ``always_xy=True``. Names are not
        case-sensitive.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)`` in degrees.

    Raises
    ------
    CoverageInputError
        If ``crs`` is not understood, geographic input is out of range, or
        pyproj cannot transform a point (it returns infinity for points
        outside a projection's domain).

    Notes
    -----
    Baidu's Mercator-metre form (``bd09mc``) is not supported; request
    ``bd09ll`` coordinates from the Baidu API instead.

    Examples
    --------
    >>> lon, lat = to_wgs84([114.0], [22.5], "EPSG:4326")
    >>> lon.tolist(), lat.tolist()
    ([114.0], [22.5])
    >>> lon, lat = to_wgs84(500000.0, 0.0, "EPSG:32650")
    >>> round(float(lon), 6), round(float(lat), 6)
    (117.0, 0.0)

    """
    if isinstance(crs, str):
        key = crs.strip().lower()
        if key in _GCJ_NAMES:
            return gcj02_to_wgs84(lon, lat)
        if key in _BD_NAMES:
            return bd09_to_wgs84(lon, lat)
        if key in _WGS_NAMES:
            return _as_lonlat(lon, lat, check_range=True)
        if key in {"bd09mc", "bd-09mc"}:
            raise CoverageInputError(
                f"crs={crs!r}: Baidu Mercator metres are not supported; request longitude/"
                "latitude (coordtype bd09ll) from Baidu and pass crs='bd09'"
            )
    try:
        source = pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"crs={crs!r} is not a coordinate system pyproj understands and not one of "
            "'gcj02', 'bd09', 'wgs84'; pass e.g. 'EPSG:4326', 'EPSG:32650' or 'gcj02'"
        ) from exc
    wgs84 = pyproj.CRS.from_epsg(4326)
    if source.equals(wgs84, ignore_axis_order=True):
        return _as_lonlat(lon, lat, check_range=True)
    x, y = _as_lonlat(lon, lat, check_range=source.is_geographic)
    transformer = pyproj.Transformer.from_crs(source, wgs84, always_xy=True)
    out_lon, out_lat = transformer.transform(x, y)
    lon_out = np.asarray(out_lon, dtype=np.float64).reshape(x.shape)
    lat_out = np.asarray(out_lat, dtype=np.float64).reshape(y.shape)
    failed = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(lon_out) & np.isfinite(lat_out))
    if failed.any():
        idx = int(np.flatnonzero(failed.ravel())[0])
        raise CoverageInputError(
            f"coordinate #{idx} (x={float(x.ravel()[idx])!r}, y={float(y.ravel()[idx])!r}) "
            f"cannot be transformed from {source.name} to WGS-84 ({int(failed.sum())} of "
            f"{failed.size} points cannot); check that the coordinates really are in that CRS "
            "and that x and y are not swapped"
        )
    return lon_out, lat_out


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS-84 UTM zone CRS (EPSG:326xx north, 327xx south) of a point.

    Parameters
    ----------
    lon, lat
        WGS-84 degrees of a point in the study area (typically its centre).

    Returns
    -------
    pyproj.CRS
        The projected CRS in metres.

    Raises
    ------
    CoverageInputError
        If the point is not a valid longitude/latitude, or lies beyond the
        UTM limits (84 N, 80 S), where a polar stereographic CRS is needed.

    Notes
    -----
    Zone = ``floor((lon + 180) / 6) + 1`` (zone 60 at exactly 180 E); the
    equator counts as north. These are the plain 6-degree zones that
    ``osmnx.projection`` and GeoPandas' ``estimate_utm_crs`` pick; the MGRS
    grid's exceptions over Norway and Svalbard are deliberately not applied,
    so the same study area gets the same CRS from every tool.

    Examples
    --------
    >>> utm_crs_for(114.06, 22.54).to_epsg()  # Shenzhen
    32650
    >>> utm_crs_for(-51.23, -30.03).to_epsg()  # Porto Alegre
    32722

    """
    try:
        x = float(lon)
        y = float(lat)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"utm_crs_for needs one longitude and one latitude as numbers, got "
            f"lon={lon!r:.80}, lat={lat!r:.80}; pass e.g. the centre of the study area"
        ) from exc
    if not (math.isfinite(x) and math.isfinite(y)) or abs(x) > 180.0 or abs(y) > 90.0:
        raise CoverageInputError(
            f"utm_crs_for(lon={x!r}, lat={y!r}): not a longitude/latitude in degrees; "
            "pass WGS-84 degrees, longitude first"
        )
    if not -80.0 <= y <= 84.0:
        raise CoverageInputError(
            f"utm_crs_for(lon={x!r}, lat={y!r}): UTM covers 80 S to 84 N only; use a polar "
            "stereographic CRS (EPSG:32661 north, EPSG:32761 south) for this area"
        )
    zone = min(math.floor((x + 180.0) / 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if y >= 0.0 else 32700) + zone)
