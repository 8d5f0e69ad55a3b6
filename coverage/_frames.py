"""Small helpers shared by the frame layer: site ids and names, one way everywhere."""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from ._errors import CoverageInputError, CoverageWarning, warn
from .network import WalkNetwork
from .sites import Snap, snap_points, snap_sites


def site_frame(sites: gpd.GeoDataFrame, *, id_col: str = "site_id", name_col: str | None = "name",
               what: str = "halls") -> gpd.GeoDataFrame:
    """Return a copy of ``sites`` with text columns ``site_id`` and ``name`` first.

    ``id_col`` and ``name_col`` name the input's columns; the output always
    calls them ``site_id`` and ``name`` (the name is the id where there is no
    name column). Ids must be present and unique.

    Parameters
    ----------
    sites : GeoDataFrame
        Points with an id column.
    id_col : str, default "site_id"
        Column holding the unique ids.
    name_col : str or None, default "name"
        Column holding display names (absent: the ids are shown).
    what : str
        What the sites are, for messages.

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"code": [7]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    >>> site_frame(g, id_col="code")[["site_id", "name"]].values.tolist()
    [['7', '7']]
    """
    if not isinstance(sites, gpd.GeoDataFrame):
        raise CoverageInputError(f"{what}: expected a GeoDataFrame of points (read them with read_sites()).")
    if id_col not in sites.columns:
        close = difflib.get_close_matches(id_col, [str(c) for c in sites.columns], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; columns are {list(sites.columns)[:20]}."
        raise CoverageInputError(f"{what} have no {id_col!r} column (id_col){hint} Read them with read_sites().")
    ids = sites[id_col]
    missing = np.flatnonzero(ids.isna().to_numpy())
    if missing.size:
        raise CoverageInputError(f"{what}: rows {missing[:10].tolist()} have no id in {id_col!r}; give every site one.")
    text_ids = ids.astype(str)
    dup = text_ids[text_ids.duplicated(keep=False)]
    if len(dup):
        raise CoverageInputError(f"{what}: duplicate ids {sorted(set(dup))[:10]} in {id_col!r}; ids must be unique.")
    if name_col is not None and name_col != "name" and name_col not in sites.columns:
        raise CoverageInputError(
            f"{what} have no {name_col!r} column (name_col); columns are {list(sites.columns)[:20]}."
        )
    names = sites[name_col].astype(str) if name_col is not None and name_col in sites.columns else text_ids
    out = sites.drop(columns=[c for c in ("site_id", "name") if c in sites.columns]).copy()
    out.insert(0, "site_id", text_ids.to_numpy())
    out.insert(1, "name", names.to_numpy())
    return out


@dataclass(frozen=True, eq=False)
class PlacedSites:
    """Sites projected to the network's CRS, with where each sits on it.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The sites (``site_id``, ``name``, ...) with ``snapped``, ``access_m``,
        ``edge`` and ``component`` columns.
    snap : Snap
        Their places on the network (``edge == -1`` where unsnapped).
    """

    sites: gpd.GeoDataFrame
    snap: Snap


def place_sites(net: WalkNetwork, sites: gpd.GeoDataFrame, *, max_snap_m: float, prefix: str = "") -> PlacedSites:
    """Snap normalised sites (see :func:`site_frame`) onto the network; an empty frame is fine.

    Warnings about unsnapped sites are reported at the caller's caller (the
    public function), prefixed with ``prefix`` (e.g. the service's key).
    """
    if not len(sites):
        empty = sites.to_crs(net.crs).assign(snapped=False, access_m=np.nan, edge=-1, component=-1)
        return PlacedSites(empty, snap_points(net, empty.geometry, max_snap_m=max_snap_m))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        placed, snap = snap_sites(net, sites, max_snap_m=max_snap_m)
    for w in caught:
        warn(f"{prefix}{w.message}", w.category, stacklevel=3)
    return PlacedSites(placed, snap)
