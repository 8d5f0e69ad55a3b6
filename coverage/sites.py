"""Halls (service sites): read them, convert their CRS, snap them onto the network.

A site is snapped onto the nearest point of the nearest walkable edge (not
the nearest node). The straight walk from the site to that point (the access
leg) counts against the radius. A site farther than ``max_snap_m`` from every
edge is reported as unsnapped with a warning naming it.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._errors import CoverageInputError, CoverageWarning
from ._geometry import EdgeGeometryIndex, SegmentIndex
from .crs import to_wgs84
from .network import WalkNetwork

logger = logging.getLogger(__name__)

#: Default largest access walk from a point to its street, in metres.
DEFAULT_MAX_SNAP_M = 300.0

_LON_NAMES = ("lon", "lng", "longitude", "x", "location.lng", "location.lon", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "location.lat", "纬度")


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
    crs: str = "EPSG:4326",
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read service sites (halls) as points in WGS-84.

    Parameters
    ----------
    source : path, GeoDataFrame or DataFrame
        CSV with lon/lat columns, GeoJSON, GeoPackage, a JSON list of records
        (nested fields such as ``location.lng`` are flattened), or a frame.
    id_col, name_col : str, optional
        Columns holding a unique id and a display name. Without ``id_col`` the
        ids are ``"site-<row>"``; without ``name_col`` a ``name``/``title``
        column is used if present, else the id.
    lon_col, lat_col : str, optional
        Coordinate columns of a table; guessed from common names if omitted.
    crs : str, default "EPSG:4326"
        CRS of the coordinates of a table, or of a file without one. Accepts
        ``"gcj02"`` and ``"bd09"``, the offset systems of Chinese map services
        (Amap/Tencent and Baidu), converted to WGS-84.
    layer : str, optional
        GeoPackage layer.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site_id`` (str, unique), ``name`` (str) and the input's other
        columns; Point geometry in EPSG:4326; index 0..n-1.

    Raises
    ------
    CoverageInputError
        Empty input, missing or misnamed coordinate columns, NaN or
        out-of-range coordinates, non-point geometries, duplicate ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"], "lon": [114.05], "lat": [22.54]})
    >>> read_sites(df, id_col="id").site_id.tolist()
    ['a']
    """
    label = str(source) if isinstance(source, (str, os.PathLike)) else "sites frame"
    frame = _read_table(source, layer=layer, label=label)
    if len(frame) == 0:
        raise CoverageInputError(f"{label}: no sites in the input; give at least one hall.")
    crs_key = str(crs).lower().replace("-", "")
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        gdf = _points_from_geometry(frame, label=label, crs=crs, crs_key=crs_key)
    else:
        gdf = _points_from_columns(frame, label=label, lon_col=lon_col, lat_col=lat_col, crs=crs)
    return _with_ids(gdf, label=label, id_col=id_col, name_col=name_col)


def _read_table(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | pd.DataFrame, *, layer: str | None, label: str
) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.exists():
        raise CoverageInputError(f"{label}: file not found; check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        if suffix == ".json":
            with path.open(encoding="utf-8") as fh:
                data = json.load(fh)
            if isinstance(data, dict) and data.get("type") == "FeatureCollection":
                return gpd.read_file(path)
            if isinstance(data, dict):
                records = next((v for v in data.values() if isinstance(v, list)), None)
                if records is None:
                    raise CoverageInputError(f"{label}: JSON is neither GeoJSON nor a list of records.")
                data = records
            return pd.json_normalize(data)
        return gpd.read_file(path, layer=layer)
    except CoverageInputError:
        raise
    except Exception as exc:
        raise CoverageInputError(
            f"{label}: could not read the file ({type(exc).__name__}: {exc}). Give a CSV with "
            "lon/lat columns, GeoJSON, GeoPackage or a JSON list of records."
        ) from exc


def _guess(columns: list[str], wanted: str | None, names: tuple[str, ...], what: str, label: str) -> str:
    if wanted is not None:
        if wanted in columns:
            return wanted
        close = difflib.get_close_matches(wanted, columns, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise CoverageInputError(
            f"{label}: no {what} column {wanted!r}; columns are {columns}.{hint} Pass {what}_col= with the right name."
        )
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    raise CoverageInputError(f"{label}: cannot find a {what} column among {columns}; pass {what}_col= naming it.")


def _points_from_columns(
    frame: pd.DataFrame, *, label: str, lon_col: str | None, lat_col: str | None, crs: str
) -> gpd.GeoDataFrame:
    columns = [str(c) for c in frame.columns]
    lon_name = _guess(columns, lon_col, _LON_NAMES, "lon", label)
    lat_name = _guess(columns, lat_col, _LAT_NAMES, "lat", label)
    lon = pd.to_numeric(frame[lon_name], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(frame[lat_name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat))
    if bad.size:
        raise CoverageInputError(
            f"{label}: {bad.size} row(s) have missing or non-numeric coordinates "
            f"(rows {_rows(bad)}); fix or remove them."
        )
    crs_key = str(crs).lower().replace("-", "")
    geographic = crs_key in ("gcj02", "bd09", "wgs84", "epsg:4326")
    if geographic:
        out = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
        if out.size and np.all(np.abs(lon[out]) <= 90) and np.all(np.abs(lat[out]) <= 180):
            raise CoverageInputError(
                f"{label}: latitude beyond +-90 in {out.size} row(s) (rows {_rows(out)}), but the values "
                f"would fit the other way round: the lon and lat columns look swapped. Pass "
                f"lon_col={lat_name!r}, lat_col={lon_name!r}."
            )
        if out.size:
            raise CoverageInputError(
                f"{label}: {out.size} row(s) have coordinates outside lon -180..180 / lat -90..90 "
                f"(rows {_rows(out)}); are they projected? Then pass crs= with their CRS."
            )
    x, y = to_wgs84(lon, lat, crs)
    gdf = gpd.GeoDataFrame(
        frame.drop(columns=[lon_name, lat_name]),
        geometry=gpd.points_from_xy(x, y, crs="EPSG:4326"),
    )
    gdf["lon"] = x
    gdf["lat"] = y
    return gdf


def _points_from_geometry(frame: gpd.GeoDataFrame, *, label: str, crs: str, crs_key: str) -> gpd.GeoDataFrame:
    gdf = frame
    empty = np.flatnonzero(gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy())
    if empty.size:
        raise CoverageInputError(f"{label}: {empty.size} site(s) have no geometry (rows {_rows(empty)}); fix them.")
    kinds = gdf.geometry.geom_type.to_numpy()
    not_point = np.flatnonzero(kinds != "Point")
    if not_point.size:
        raise CoverageInputError(
            f"{label}: sites must be points; rows {_rows(not_point)} are {sorted(set(kinds[not_point]))}."
            " Use a representative point of each (gdf.representative_point())."
        )
    if crs_key in ("gcj02", "bd09"):
        lon, lat = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        x, y = to_wgs84(lon, lat, crs)
        gdf = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=gpd.points_from_xy(x, y, crs="EPSG:4326"))
    else:
        if gdf.crs is None:
            gdf = gdf.set_crs(crs)
        gdf = gdf.to_crs("EPSG:4326")
    gdf["lon"] = gdf.geometry.x
    gdf["lat"] = gdf.geometry.y
    return gdf


def _with_ids(gdf: gpd.GeoDataFrame, *, label: str, id_col: str | None, name_col: str | None) -> gpd.GeoDataFrame:
    gdf = gdf.reset_index(drop=True)
    if id_col is not None:
        if id_col not in gdf.columns:
            close = difflib.get_close_matches(id_col, [str(c) for c in gdf.columns], n=3)
            raise CoverageInputError(
                f"{label}: no id column {id_col!r}; columns are {list(gdf.columns)}"
                + (f"; did you mean {close}?" if close else ".")
            )
        ids = gdf[id_col].astype(str)
        missing = np.flatnonzero(gdf[id_col].isna().to_numpy())
        if missing.size:
            raise CoverageInputError(f"{label}: empty ids in rows {_rows(missing)}; give every site an id.")
    else:
        ids = pd.Series([f"site-{i}" for i in range(len(gdf))])
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise CoverageInputError(
            f"{label}: duplicate site ids {sorted(set(dup))[:10]} (rows {_rows(dup.index.to_numpy())}); "
            "ids must be unique."
        )
    if name_col is None:
        name_col = next((c for c in ("name", "title", "名称") if c in gdf.columns), None)
    names = gdf[name_col].astype(str) if name_col is not None else ids
    out = gdf.drop(columns=[c for c in ("site_id", "name") if c in gdf.columns])
    out.insert(0, "site_id", ids.to_numpy())
    out.insert(1, "name", names.to_numpy())
    return out


def _rows(idx: npt.ArrayLike, limit: int = 10) -> str:
    arr = np.asarray(idx)
    shown = ", ".join(str(int(i)) for i in arr[:limit])
    return shown + (f", ... ({arr.size} in all)" if arr.size > limit else "")


# --------------------------------------------------------------------------
# Snapping
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Snap:
    """Where points sit on the network.

    Attributes
    ----------
    edge : numpy.ndarray
        Edge index per point, -1 where unsnapped (beyond ``max_snap_m``).
    offset_m : numpy.ndarray
        Walking distance from the edge's ``u`` end to the snapped point,
        along the edge, in the edge's length units (metres).
    access_m : numpy.ndarray
        Straight-line distance from the point to its snapped position.
    x, y : numpy.ndarray
        Projected coordinates of the original points.
    snapped_x, snapped_y : numpy.ndarray
        Projected coordinates of the snapped positions (NaN where unsnapped).
    """

    edge: npt.NDArray[np.int64]
    offset_m: npt.NDArray[np.float64]
    access_m: npt.NDArray[np.float64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    snapped_x: npt.NDArray[np.float64]
    snapped_y: npt.NDArray[np.float64]

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """Mask of snapped points."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])


def snap_points(
    net: WalkNetwork, points: gpd.GeoSeries | gpd.GeoDataFrame, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> Snap:
    """Snap points onto the nearest point of the nearest edge.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    points : GeoSeries or GeoDataFrame of Points
        Any CRS; reprojected to the network's. A missing CRS is an error.
    max_snap_m : float, default 300
        Points farther than this from every edge are left unsnapped
        (``edge == -1``).

    Returns
    -------
    Snap
        Ties between equally near edges go to the lowest edge index.
    """
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is None:
        raise CoverageInputError("points have no CRS; set it with .set_crs('EPSG:4326') (or their real CRS).")
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        raise CoverageInputError(f"max_snap_m={max_snap_m!r}: give a distance in metres >= 0.")
    proj = geoms.to_crs(net.crs).to_numpy()
    n = proj.shape[0]
    px = shapely.get_x(proj)
    py = shapely.get_y(proj)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    access = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    if n:
        seg_index = _segment_index(net)
        ei, along, dist, snx, sny = seg_index.nearest(px, py, max_distance=max_snap_m)
        ok = ei >= 0
        e_ok = ei[ok]
        geom_len = _geometry_index(net).geom_length[e_ok]
        scale = np.divide(net.edge_length_m[e_ok], geom_len, out=np.ones_like(geom_len), where=geom_len > 0)
        edge[ok] = e_ok
        offset[ok] = np.clip(along[ok] * scale, 0.0, net.edge_length_m[e_ok])
        access[ok] = dist[ok]
        sx[ok] = snx[ok]
        sy[ok] = sny[ok]
    return Snap(edge=edge, offset_m=offset, access_m=access, x=px, y=py, snapped_x=sx, snapped_y=sy)


def _geometry_index(net: WalkNetwork) -> EdgeGeometryIndex:
    index = getattr(net, "_geometry_index_cache", None)
    if index is None:
        index = EdgeGeometryIndex(net)
        object.__setattr__(net, "_geometry_index_cache", index)
    return index


def _segment_index(net: WalkNetwork) -> SegmentIndex:
    index = getattr(net, "_segment_index_cache", None)
    if index is None:
        index = SegmentIndex(_geometry_index(net))
        object.__setattr__(net, "_segment_index_cache", index)
    return index


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
        warnings.warn(
            f"{bad.size} of {len(snap)} site(s) are more than {max_snap_m:g} m from any walkable "
            f"street and are left out of the service areas: {list(map(str, ids[:10]))}"
            f"{' ...' if bad.size > 10 else ''}. Check their coordinates (and CRS), or raise "
            "max_snap_m.",
            CoverageWarning,
            stacklevel=2,
        )
    if net.component.max(initial=0) > 0 and snap.ok.any():
        sizes = np.bincount(net.component)
        main = int(np.argmax(sizes))
        island = np.flatnonzero(snap.ok & (comp != main))
        if island.size:
            ids = out[id_col].to_numpy()[island]
            warnings.warn(
                f"{island.size} site(s) snap onto a disconnected part of the network, whose "
                f"service area cannot reach the main network: {list(map(str, ids[:10]))}. Check "
                "the OSM data near them (a missing link), or load with largest_only=True.",
                CoverageWarning,
                stacklevel=2,
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
