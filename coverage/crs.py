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

The kernels (input checks, the raw transforms and their iterated inverses)
live in the private :mod:`coverage._chinacrs`; the constants and
:func:`in_china` are re-exported here.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Final

import numpy as np
import pyproj

from coverage._chinacrs import (
    BD_SHIFT,
    BD_X_PI,
    CHINA_BOUNDS,
    DEFAULT_MAX_ITER,
    DEFAULT_TOL_DEG,
    KRASOVSKY_A,
    KRASOVSKY_EE,
    ArrayLike,
    FloatArray,
    as_lonlat,
    bd_to_gcj_raw,
    check_tol,
    convert,
    gcj_to_bd_raw,
    gcj_to_wgs_raw,
    in_china,
    wgs_to_gcj_raw,
)
from coverage._errors import CoverageInputError

__all__ = [
    "BD_SHIFT",
    "BD_X_PI",
    "CHINA_BOUNDS",
    "KRASOVSKY_A",
    "KRASOVSKY_EE",
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

_GCJ_NAMES: Final = frozenset({"gcj02", "gcj-02", "gcj"})
_BD_NAMES: Final = frozenset({"bd09", "bd-09", "bd09ll", "bd"})
_WGS_NAMES: Final = frozenset({"wgs84", "wgs-84", "wgs 84", "epsg:4326", "ogc:crs84"})


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
    return convert(lon, lat, wgs_to_gcj_raw)


def gcj02_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = DEFAULT_TOL_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
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
    check_tol(tol_deg, max_iter)
    return convert(lon, lat, partial(gcj_to_wgs_raw, tol_deg=tol_deg, max_iter=max_iter))


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
    return convert(lon, lat, gcj_to_bd_raw)


def bd09_to_gcj02(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = DEFAULT_TOL_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
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
    check_tol(tol_deg, max_iter)
    return convert(lon, lat, partial(bd_to_gcj_raw, tol_deg=tol_deg, max_iter=max_iter))


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
    return convert(lon, lat, lambda x, y: gcj_to_bd_raw(*wgs_to_gcj_raw(x, y)))


def bd09_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = DEFAULT_TOL_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
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
    check_tol(tol_deg, max_iter)

    def bd_to_wgs_raw(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        gx, gy = bd_to_gcj_raw(x, y, tol_deg=tol_deg, max_iter=max_iter)
        return gcj_to_wgs_raw(gx, gy, tol_deg=tol_deg, max_iter=max_iter)

    return convert(lon, lat, bd_to_wgs_raw)


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
            return as_lonlat(lon, lat, check_range=True)
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
        return as_lonlat(lon, lat, check_range=True)
    x, y = as_lonlat(lon, lat, check_range=source.is_geographic)
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
