"""The GCJ-02 / BD-09 kernels behind :mod:`coverage.crs` (private).

Input checking (:func:`as_lonlat`), the "in China" rectangle test
(:func:`in_china`, re-exported by :mod:`coverage.crs`), the raw transforms
(no China test: :func:`wgs_to_gcj_raw`, :func:`gcj_to_bd_raw` and their
iterated inverses :func:`gcj_to_wgs_raw`, :func:`bd_to_gcj_raw`) and
:func:`convert`, which applies a raw transform to the points inside
:data:`CHINA_BOUNDS` only. The formulas and their sources are described in
:mod:`coverage.crs`; use the public functions there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from coverage._errors import CoverageInputError

__all__ = [
    "BD_SHIFT",
    "BD_X_PI",
    "CHINA_BOUNDS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL_DEG",
    "KRASOVSKY_A",
    "KRASOVSKY_EE",
    "ArrayLike",
    "BoolArray",
    "FloatArray",
    "as_lonlat",
    "bd_to_gcj_one_step",
    "bd_to_gcj_raw",
    "check_tol",
    "convert",
    "gcj_offset",
    "gcj_to_bd_raw",
    "gcj_to_wgs_raw",
    "in_china",
    "invert",
    "wgs_to_gcj_raw",
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

#: Default convergence tolerance of the inverse transforms (degrees, about 0.01 mm).
DEFAULT_TOL_DEG: Final = 1e-10
#: Default iteration cap of the inverse transforms.
DEFAULT_MAX_ITER: Final = 10


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------


def as_lonlat(lon: ArrayLike, lat: ArrayLike, *, check_range: bool) -> tuple[FloatArray, FloatArray]:
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
    x, y = as_lonlat(lon, lat, check_range=False)
    lon_min, lat_min, lon_max, lat_max = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        return (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)


# ----------------------------------------------------------------------------
# the raw transforms (no China test)
# ----------------------------------------------------------------------------


def gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
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


def wgs_to_gcj_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return WGS-84 (lon, lat) shifted to GCJ-02 (no China test)."""
    dlon, dlat = gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj_to_bd_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return GCJ-02 (lon, lat) rotated and shifted to BD-09 (no China test)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + BD_SHIFT[0], z * np.sin(theta) + BD_SHIFT[1]


def bd_to_gcj_one_step(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the published one-step BD-09 -> GCJ-02 estimate (error about 5e-7 degrees)."""
    x = lon - BD_SHIFT[0]
    y = lat - BD_SHIFT[1]
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def invert(
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


def convert(
    lon: ArrayLike,
    lat: ArrayLike,
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply ``func`` to the points inside :data:`CHINA_BOUNDS`, pass the rest through."""
    x, y = as_lonlat(lon, lat, check_range=True)
    xf = x.reshape(-1)
    yf = y.reshape(-1)
    inside = in_china(xf, yf)
    if inside.any():
        ox, oy = func(xf[inside], yf[inside])
        xf[inside] = ox
        yf[inside] = oy
    return xf.reshape(x.shape), yf.reshape(y.shape)


def gcj_to_wgs_raw(lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int) -> tuple[FloatArray, FloatArray]:
    """Return GCJ-02 (lon, lat) mapped back to WGS-84 by iterating :func:`wgs_to_gcj_raw`."""
    dlon, dlat = gcj_offset(lon, lat)
    start = (lon - dlon, lat - dlat)  # the published one-step estimate
    return invert(wgs_to_gcj_raw, lon, lat, start, tol_deg=tol_deg, max_iter=max_iter)


def bd_to_gcj_raw(lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int) -> tuple[FloatArray, FloatArray]:
    """Return BD-09 (lon, lat) mapped back to GCJ-02 by iterating :func:`gcj_to_bd_raw`."""
    start = bd_to_gcj_one_step(lon, lat)
    return invert(gcj_to_bd_raw, lon, lat, start, tol_deg=tol_deg, max_iter=max_iter)


def check_tol(tol_deg: float, max_iter: int) -> None:
    """Raise :class:`CoverageInputError` unless ``tol_deg > 0`` is finite and ``max_iter >= 1``."""
    if not (tol_deg > 0.0 and math.isfinite(tol_deg)):
        raise CoverageInputError(
            f"tol_deg={tol_deg!r} must be a positive number of degrees; the default 1e-10 "
            "(0.01 mm) is far below any survey accuracy"
        )
    if max_iter < 1:
        raise CoverageInputError(f"max_iter={max_iter!r} must be at least 1; 10 is plenty")
