"""Where the rows of a user table are: coordinate columns or geometry, in a known CRS.

Shared by :func:`coverage.sites.read_sites` and the :mod:`coverage.demand`
readers, so halls and residents accept the same ``crs``, ``lon_col`` and
``lat_col`` options and fail the same way:

- ``crs`` is an EPSG code or anything pyproj reads, or ``"gcj02"`` / ``"bd09"``
  (the offset lon/lat of Amap/Tencent and Baidu), which are converted to
  WGS-84 with :func:`coverage.crs.to_wgs84`;
- coordinates must be finite numbers; lon/lat must be within -180..180 and
  -90..90 (with a hint when the columns look swapped, or when the values look
  like metres in a file that does not declare its CRS, such as a GeoJSON);
- a file's own CRS is used unless ``crs`` says otherwise: GeoJSON's WGS-84 is
  implied by the format and an explicit ``crs`` overrides it; a conflict with
  a CRS a GeoPackage declares is an error naming both.

Every message names the file, the rows (as :class:`~coverage._rows.RowRef`
counts them) and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._errors import CoverageInputError, CoverageWarning, warn
from ._rows import RowRef, few, resolve_column
from ._types import BoolArray, FloatArray
from ._validate import as_crs
from .crs import to_wgs84

__all__ = ["LAT_NAMES", "LON_NAMES", "chinese_datum", "geometry_in_crs", "points_from_columns"]

LON_NAMES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x", "location.lng", "location.lon", "经度")
"""Longitude column names tried (case-insensitively, in order) when ``lon_col`` is not given."""

LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "y", "location.lat", "纬度")
"""Latitude column names tried when ``lat_col`` is not given."""

_GCJ = frozenset({"gcj02", "gcj", "gcj-02", "gcj_02"})
_BD = frozenset({"bd09", "bd", "bd-09", "bd_09", "bd09ll"})
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_WGS84 = pyproj.CRS.from_epsg(4326)


def chinese_datum(crs: Any) -> str | None:
    """Return ``"gcj02"`` or ``"bd09"`` when ``crs`` names one of them, else None.

    Examples
    --------
    >>> chinese_datum("GCJ-02"), chinese_datum("EPSG:4326")
    ('gcj02', None)
    """
    if not isinstance(crs, str):
        return None
    key = crs.strip().lower()
    if key in _GCJ:
        return "gcj02"
    if key in _BD:
        return "bd09"
    return None


def _crs_option(crs: Any, key: str) -> tuple[str | None, pyproj.CRS | None]:
    """Split the ``crs`` option into a Chinese datum or a pyproj CRS (both None when not given)."""
    if crs is None:
        return None, None
    datum = chinese_datum(crs)
    if datum is not None:
        return datum, _WGS84
    return None, as_crs(crs, name=key)


def _numbers(values: pd.Series, *, geographic: bool) -> FloatArray:
    """Coordinates as float64 (NaN where missing or not a number); decimal commas read for lon/lat."""
    out = np.array(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan), copy=True)
    if geographic:
        failed = np.isnan(out) & values.notna().to_numpy()
        if failed.any():
            text = values[failed].astype(str)
            if text.str.match(_DECIMAL_COMMA).all():
                # "114,05" is a decimal comma (a thousands separator would put lon/lat out of range)
                out[failed] = text.str.replace(",", ".", regex=False).astype(float).to_numpy()
    return out


def _bad_values(frame: pd.DataFrame, columns: Sequence[str], mask: BoolArray) -> str:
    sample = frame.loc[mask, list(columns)].head(5)
    shown = [
        "(" + ", ".join("empty" if pd.isna(v) else repr(str(v)) for v in row) + ")"
        for row in sample.itertuples(index=False)
    ]
    return few(shown, 5, quote=False)


def _check_lonlat(
    x: FloatArray, y: FloatArray, *, rows: RowRef, label: str, names: tuple[str, str] | None, declared: bool
) -> None:
    """Refuse longitudes beyond +-180 or latitudes beyond +-90, saying why they may be so."""
    out = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    if not out.any():
        return
    where = rows.describe(out)
    swapped = bool(np.all((np.abs(y[out]) <= 180.0) & (np.abs(x[out]) <= 90.0)))
    if swapped:
        fix = (
            f"Pass lon_col={names[1]!r}, lat_col={names[0]!r}."
            if names
            else "Swap x and y in the file (longitude comes first in GeoJSON)."
        )
        raise CoverageInputError(
            f"{label}: latitude beyond +-90 in {where}, but the values would fit the other way round: the "
            f"longitude and latitude look swapped. {fix}"
        )
    metres = bool(np.nanmax(np.abs(np.concatenate([x[out], y[out]]))) > 1000.0)
    example = f"(x={float(x[out][0]):.10g}, y={float(y[out][0]):.10g})"
    if metres:
        fix = (
            "The file does not declare its CRS (GeoJSON is lon/lat unless it says otherwise), so pass"
            if not declared
            else "Pass"
        )
        raise CoverageInputError(
            f"{label}: coordinates such as {example} in {where} are not longitude/latitude degrees; they look "
            f"like metres of a projected CRS. {fix} crs= (scenario key 'crs') with the CRS they are in, "
            "e.g. crs='EPSG:32650' for UTM zone 50N (Shenzhen)."
        )
    raise CoverageInputError(
        f"{label}: coordinates such as {example} in {where} lie outside longitude -180..180 / latitude "
        "-90..90; fix those rows (or pass crs= with the CRS they are in)."
    )


def points_from_columns(
    table_frame: pd.DataFrame,
    *,
    rows: RowRef,
    lon_col: str | None,
    lat_col: str | None,
    crs: Any = None,
    crs_key: str = "crs",
) -> gpd.GeoDataFrame:
    """Build points from longitude/latitude (or x/y) columns.

    Parameters
    ----------
    table_frame : DataFrame
        The rows (kept whole; the coordinate columns stay).
    rows : RowRef
        How to name its rows.
    lon_col, lat_col : str or None
        Coordinate columns; None guesses from :data:`LON_NAMES` / :data:`LAT_NAMES`.
        A name given must match exactly (with a "did you mean" when misspelt).
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates: default WGS-84 lon/lat; ``"gcj02"`` and
        ``"bd09"`` are converted to WGS-84; a projected CRS is kept.
    crs_key : str
        Name of the option, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows with Point geometry, in EPSG:4326 (lon/lat input) or the given CRS.

    Examples
    --------
    >>> frame = pd.DataFrame({"lng": ["114,05"], "lat": [22.54]})
    >>> points_from_columns(frame, rows=RowRef.for_frame(frame, "t"), lon_col=None, lat_col=None).geometry.x.tolist()
    [114.05]
    """
    label = rows.label
    columns = list(table_frame.columns)
    lon_name = resolve_column(columns, lon_col, key="lon_col", label=label, guesses=LON_NAMES, what="longitude")
    lat_name = resolve_column(columns, lat_col, key="lat_col", label=label, guesses=LAT_NAMES, what="latitude")
    assert lon_name is not None  # required=True raises otherwise
    assert lat_name is not None
    if lon_name == lat_name:
        raise CoverageInputError(f"{label}: lon_col and lat_col both name {lon_name!r}; give two columns.")
    datum, target = _crs_option(crs, crs_key)
    target = target if target is not None else _WGS84
    geographic = datum is not None or target.is_geographic
    x = _numbers(table_frame[lon_name], geographic=geographic)
    y = _numbers(table_frame[lat_name], geographic=geographic)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise CoverageInputError(
            f"{label}: {int(bad.sum()):,} row(s) have a missing, non-numeric or infinite {lon_name}/{lat_name}: "
            f"{rows.describe(bad)}, values {_bad_values(table_frame, [lon_name, lat_name], bad)}; fill in "
            "numbers (decimal point) or remove those rows."
        )
    if geographic:
        _check_lonlat(x, y, rows=rows, label=label, names=(lon_name, lat_name), declared=True)
    if datum is not None:
        x, y = to_wgs84(x, y, datum)
    return gpd.GeoDataFrame(table_frame, geometry=gpd.points_from_xy(x, y), crs=target)


def _finite(gdf: gpd.GeoDataFrame, rows: RowRef, label: str) -> None:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        rows_bad = np.unique(owner[bad])
        raise CoverageInputError(
            f"{label}: {rows_bad.size:,} geometries have NaN or infinite coordinates: {rows.describe(rows_bad)}; "
            "fix their coordinates in the file."
        )


def _per_row_extremes(geoms: np.ndarray, n: int) -> tuple[FloatArray, FloatArray]:
    """Largest |x| and |y| of each geometry (0 for missing ones)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    ax = np.zeros(n)
    ay = np.zeros(n)
    np.maximum.at(ax, owner, np.abs(coords[:, 0]))
    np.maximum.at(ay, owner, np.abs(coords[:, 1]))
    return ax, ay


def geometry_in_crs(
    gdf: gpd.GeoDataFrame, *, rows: RowRef, crs: Any = None, crs_implied: bool = False, crs_key: str = "crs"
) -> gpd.GeoDataFrame:
    """Settle the CRS of a geometry frame and check its coordinates.

    Parameters
    ----------
    gdf : GeoDataFrame
        Rows with geometry, as read (not modified).
    rows : RowRef
        How to name its rows.
    crs : optional
        The caller's ``crs`` option: ``"gcj02"``/``"bd09"`` convert lon/lat
        geometry to WGS-84; another CRS sets a missing CRS, overrides GeoJSON's
        implied WGS-84, and must agree with a CRS the file declares.
    crs_implied : bool
        The frame's CRS is GeoJSON's implied WGS-84 (an explicit ``crs`` wins).
    crs_key : str
        Name of the option, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with a CRS; lon/lat checked to be in range.

    Warns
    -----
    CoverageWarning
        A file without a CRS whose coordinates all look like lon/lat is taken
        as WGS-84, saying so.
    """
    label = rows.label
    datum, given = _crs_option(crs, crs_key)
    out = gdf.copy()
    _finite(out, rows, label)
    declared = out.crs is not None and not crs_implied
    if out.crs is None:
        if given is None:
            if rows.kind == "frame":
                raise CoverageInputError(
                    f"{label} has no CRS; call .set_crs(...) with the CRS its coordinates are in "
                    "(for example .set_crs('EPSG:4326') for longitude/latitude), or pass crs=."
                )
            ax, ay = _per_row_extremes(np.asarray(out.geometry.array, dtype=object), len(out))
            if (ax <= 180.0).all() and (ay <= 90.0).all():
                warn(
                    f"{label}: the file does not say which CRS its coordinates are in; they look like "
                    "longitude/latitude and are read as WGS-84 (EPSG:4326). Pass crs= to say otherwise.",
                    CoverageWarning,
                    stacklevel=4,
                )
                given = _WGS84
            else:
                raise CoverageInputError(
                    f"{label}: the file does not say which CRS its coordinates are in, and they are not "
                    "longitude/latitude; pass crs= (scenario key 'crs') with their CRS, e.g. crs='EPSG:32650' "
                    "for UTM zone 50N (Shenzhen)."
                )
        out = out.set_crs(given)
    elif given is not None and datum is None:
        file_crs = pyproj.CRS.from_user_input(out.crs)
        if not file_crs.equals(given, ignore_axis_order=True):
            if not crs_implied:
                raise CoverageInputError(
                    f"{label}: the file declares the CRS {file_crs.to_string()} but {crs_key}={crs!r} was given; "
                    f"remove {crs_key} (the file's CRS is used) or fix the file's CRS."
                )
            out = out.set_crs(given, allow_override=True)
    file_crs = pyproj.CRS.from_user_input(out.crs)
    if datum is not None and not file_crs.is_geographic:
        raise CoverageInputError(
            f"{label}: {crs_key}={crs!r} means longitude/latitude, but the file is in the projected CRS "
            f"{file_crs.to_string()}; remove {crs_key} or export the file in lon/lat."
        )
    if file_crs.is_geographic:
        ax, ay = _per_row_extremes(np.asarray(out.geometry.array, dtype=object), len(out))
        _check_lonlat(ax, ay, rows=rows, label=label, names=None, declared=declared)
    if datum is not None:
        geoms = np.asarray(out.geometry.array, dtype=object)
        converted = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum)))
        out = out.set_geometry(gpd.GeoSeries(converted, index=out.index, crs=_WGS84))
    return out
