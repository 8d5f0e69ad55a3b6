"""Halls (service sites): read them, convert their CRS, snap them onto the network.

:func:`read_sites` reads a file or frame through the shared tabular reader
(:mod:`coverage._tabular`, :mod:`coverage._coords`): the input columns named
by ``id_col``/``name_col`` become the output columns ``site_id`` and ``name``,
coordinates end in WGS-84 (GCJ-02 and BD-09 converted), and bad rows are named
as the user counts them.

:func:`snap_sites` snaps them onto the nearest point of the nearest walkable
edge (not the nearest node), with :func:`coverage._snap.snap_points`. The
straight walk from the site to that point (the access leg) counts against the
radius. A site farther than ``max_snap_m`` from every edge is reported as
unsnapped with a warning naming it. :class:`Snap` and :func:`snap_points` live
in the numerical core (:mod:`coverage._snap`) and are importable from here.
"""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._coords import LAT_NAMES, LON_NAMES, geometry_in_crs, points_from_columns
from ._defaults import DEFAULT_MAX_SNAP_M
from ._errors import CoverageInputError, CoverageWarning, warn
from ._rows import RowRef, few, resolve_column
from ._snap import Snap, snap_points
from ._tabular import Table, read_table
from .network import WalkNetwork

__all__ = ["DEFAULT_MAX_SNAP_M", "Snap", "read_sites", "snap_points", "snap_sites"]


_NAME_GUESSES = ("name", "title", "名称")


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def read_sites(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | pd.DataFrame,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: Any = None,
    layer: str | int | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read service sites (halls) as points in WGS-84.

    Parameters
    ----------
    source : path, GeoDataFrame or DataFrame
        CSV with lon/lat columns (``,`` ``;`` or tab delimited; UTF-8, GBK or
        Latin-1), GeoJSON, GeoPackage, a JSON list of records (nested fields
        such as ``location.lng`` are flattened), or a frame. Files are read
        with :func:`coverage._tabular.read_table`: only regular files, no
        device or FIFO, no file larger than the memory limit.
    id_col, name_col : str, optional
        Input columns holding a unique id and a display name; the output
        columns are always ``site_id`` and ``name``. Without ``id_col`` the
        ids are ``"site-<row>"`` (row counted from 0); without ``name_col`` a
        ``name``/``title``/``名称`` column is used if present, else the id. A
        column name given must exist exactly (a misspelt one is an error with
        a "did you mean").
    lon_col, lat_col : str, optional
        Coordinate columns of a table; guessed from common names
        (``lon``/``lng``/``longitude``/``经度``, ...) if omitted.
    crs : str, optional
        CRS of the coordinates: default WGS-84 (EPSG:4326) for a table, the
        file's own for a geometry file. ``"gcj02"`` and ``"bd09"``, the offset
        systems of Chinese map services (Amap/Tencent and Baidu), are
        converted to WGS-84. A GeoJSON in metres needs its CRS here.
    layer : str or int, optional
        Layer of a GeoPackage with several.
    encoding : str, optional
        Force the text encoding of a CSV/JSON file (detected otherwise).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site_id`` (str, unique), ``name`` (str), the input's other
        columns, and ``lon``/``lat`` (WGS-84); Point geometry in EPSG:4326;
        index 0..n-1. An input column already called ``site_id`` or ``name``
        that is not the id/name source is kept as ``site_id_input`` / ``name_input``.

    Raises
    ------
    CoverageInputError
        Naming the file and the rows (spreadsheet row numbers for CSV, the
        header being row 1): empty input, missing or misspelt columns, NaN,
        infinite or out-of-range coordinates (swapped columns, metres without
        a CRS), non-point geometries, empty or duplicate ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"], "lon": [114.05], "lat": [22.54]})
    >>> read_sites(df, id_col="id").site_id.tolist()
    ['a']
    """
    label = str(source) if isinstance(source, (str, os.PathLike)) else "the sites frame"
    table = read_table(source, label=label, layer=layer, encoding=encoding, text_columns=[id_col, name_col])
    frame = table.frame
    has_geometry = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    if has_geometry:
        for key, value in (("lon_col", lon_col), ("lat_col", lat_col)):
            if value is not None:
                raise CoverageInputError(
                    f"{label}: {key}={value!r} applies to tables with coordinate columns; this file has "
                    f"geometry, which is used. Remove {key}."
                )
        gdf = _points_from_geometry(table, crs=crs)
    else:
        gdf = points_from_columns(frame, rows=table.rows, lon_col=lon_col, lat_col=lat_col, crs=crs)
        gdf = gdf.to_crs("EPSG:4326")
        lon_name = resolve_column(list(frame.columns), lon_col, key="lon_col", label=label, guesses=LON_NAMES)
        lat_name = resolve_column(list(frame.columns), lat_col, key="lat_col", label=label, guesses=LAT_NAMES)
        gdf = gdf.drop(columns=[lon_name, lat_name])
    gdf["lon"] = gdf.geometry.x.to_numpy()
    gdf["lat"] = gdf.geometry.y.to_numpy()
    return _with_ids(gdf, rows=table.rows, id_col=id_col, name_col=name_col)


def _points_from_geometry(table: Table, *, crs: Any) -> gpd.GeoDataFrame:
    gdf = table.frame
    rows = table.rows
    label = table.label
    empty = np.flatnonzero(gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy())
    if empty.size:
        raise CoverageInputError(
            f"{label}: {empty.size} site(s) have no geometry ({rows.describe(empty)}); give them a location "
            "or remove them."
        )
    kinds = gdf.geometry.geom_type.to_numpy()
    not_point = np.flatnonzero(kinds != "Point")
    if not_point.size:
        raise CoverageInputError(
            f"{label}: sites must be points; {rows.describe(not_point)} are {sorted(set(kinds[not_point]))}."
            " Use a representative point of each (gdf.representative_point())."
        )
    out = geometry_in_crs(gdf, rows=rows, crs=crs, crs_implied=table.crs_implied)
    return out.to_crs("EPSG:4326")


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as text; whole numbers read as floats (a column with gaps) print without '.0'."""
    if pd.api.types.is_float_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return pd.Series([str(int(v)) for v in arr], index=values.index, dtype=object)
    return pd.Series([str(v) for v in values.to_numpy()], index=values.index, dtype=object)


def _with_ids(gdf: gpd.GeoDataFrame, *, rows: RowRef, id_col: str | None, name_col: str | None) -> gpd.GeoDataFrame:
    gdf = gdf.reset_index(drop=True)
    label = rows.label
    columns = list(gdf.columns)
    if id_col is not None:
        id_name = resolve_column(columns, id_col, key="id_col", label=label, what="id")
        raw = gdf[id_name]
        missing = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        if missing.any():
            raise CoverageInputError(
                f"{label}: empty ids in {rows.describe(missing)}; give every site an id (column {id_name!r})."
            )
        ids = _id_text(raw)
    else:
        id_name = None
        ids = pd.Series([f"site-{i}" for i in range(len(gdf))], dtype=object)
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise CoverageInputError(
            f"{label}: duplicate site ids {few(sorted(set(ids[dup])))} in {rows.describe(dup)}; ids must be "
            "unique. Fix the id column, or leave id_col unset to number the sites."
        )
    name_name = resolve_column(
        columns, name_col, key="name_col", label=label, guesses=_NAME_GUESSES, what="name", required=False
    )
    names = gdf[name_name].astype(object).where(gdf[name_name].notna(), ids) if name_name is not None else ids
    names = pd.Series([str(v) for v in names.to_numpy()], dtype=object)
    out = gdf.drop(columns=[c for c in (id_name, name_name) if c in ("site_id", "name")])
    out = out.rename(columns={c: f"{c}_input" for c in ("site_id", "name") if c in out.columns})
    out.insert(0, "site_id", ids.to_numpy())
    out.insert(1, "name", names.to_numpy())
    return out


# --------------------------------------------------------------------------
# Snapping
# --------------------------------------------------------------------------


def snap_sites(
    net: WalkNetwork,
    sites: gpd.GeoDataFrame,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    id_col: str = "site_id",
) -> tuple[gpd.GeoDataFrame, Snap]:
    """Snap halls onto the network, warning about any that cannot be used.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    sites : GeoDataFrame
        As returned by :func:`read_sites`.
    max_snap_m : float, default 300
        Largest allowed access walk from a hall to its street.
    id_col : str, default "site_id"
        Column of ``halls`` holding their unique ids.

    Returns
    -------
    (GeoDataFrame, Snap)
        The sites (projected to the network's CRS) with columns ``snapped``
        (bool), ``access_m``, ``edge`` and ``component``, and the raw snap.

    Raises
    ------
    CoverageInputError
        If no site can be snapped and their coordinates look swapped or lie
        far outside the network.

    Warns
    -----
    CoverageWarning
        For each site beyond ``max_snap_m`` from every street (named), and for
        sites on a small disconnected part of the network.
    """
    if id_col not in sites.columns:
        raise CoverageInputError(f"sites have no {id_col!r} column; read them with read_sites().")
    snap = snap_points(net, sites, max_snap_m=max_snap_m)
    out = sites.to_crs(net.crs).copy()
    out["snapped"] = snap.ok
    out["access_m"] = snap.access_m
    out["edge"] = snap.edge
    comp = np.full(len(snap), -1, dtype=np.int64)
    comp[snap.ok] = net.component[net.edge_u[snap.edge[snap.ok]]]
    out["component"] = comp
    bad = np.flatnonzero(~snap.ok)
    if bad.size == len(snap) and len(snap):
        _explain_far(net, sites, max_snap_m)
    if bad.size:
        ids = out[id_col].to_numpy()[bad]
        warn(
            f"{bad.size} of {len(snap)} site(s) are more than {max_snap_m:g} m from any walkable "
            f"street and are left out of the service areas: {list(map(str, ids[:10]))}"
            f"{' ...' if bad.size > 10 else ''}. Check their coordinates (and CRS), or raise "
            "max_snap_m.",
            CoverageWarning,
        )
    if net.component.max(initial=0) > 0 and snap.ok.any():
        sizes = np.bincount(net.component)
        main = int(np.argmax(sizes))
        island = np.flatnonzero(snap.ok & (comp != main))
        if island.size:
            ids = out[id_col].to_numpy()[island]
            warn(
                f"{island.size} site(s) snap onto a disconnected part of the network, whose "
                f"service area cannot reach the main network: {list(map(str, ids[:10]))}. Check "
                "the OSM data near them (a missing link), or load with largest_only=True.",
                CoverageWarning,
            )
    return out, snap


def _explain_far(net: WalkNetwork, sites: gpd.GeoDataFrame, max_snap_m: float) -> None:
    """Raise a helpful error when no site at all is near the network."""
    bounds = shapely.total_bounds(net.edge_geometry)
    wgs = sites.to_crs("EPSG:4326")
    x = wgs.geometry.x.to_numpy()
    y = wgs.geometry.y.to_numpy()
    swapped = gpd.GeoSeries(gpd.points_from_xy(y, x), crs="EPSG:4326").to_crs(net.crs)
    sxs, sys_ = swapped.x.to_numpy(), swapped.y.to_numpy()
    pad = max_snap_m
    inside = (sxs >= bounds[0] - pad) & (sxs <= bounds[2] + pad) & (sys_ >= bounds[1] - pad) & (sys_ <= bounds[3] + pad)
    if np.isfinite(sxs).all() and inside.mean() > 0.5:
        raise CoverageInputError(
            "no site lies near the network, but with longitude and latitude swapped they would: "
            "the lon and lat columns look swapped. Pass lon_col=/lat_col= the other way round."
        )
    raise CoverageInputError(
        f"no site lies within {max_snap_m:g} m of the network ({net.report.source}); are the sites "
        "for another area, or in another CRS (crs='gcj02' for Amap/Tencent, 'bd09' for Baidu)?"
    )
