"""Sparse (resident, hall, walking distance) pairs from a network, halls and demand.

The frame-layer entry to the capacity, backup and 2SFCA kernels: snaps the
halls and the demand units onto the network (access walks counted) and lists
every pair within ``limit_m`` with :func:`coverage._reach.reach_from_sites`.
"""

from __future__ import annotations

import warnings

import geopandas as gpd

from ._defaults import DEFAULT_MAX_SNAP_M
from ._errors import CoverageInputError, CoverageWarning
from ._pairs import Pairs, pairs_from_search
from ._reach import reach_from_sites
from ._validate import as_distance
from .network import WalkNetwork
from .sites import snap_points, snap_sites

__all__ = ["pairs_from_sites"]


def pairs_from_sites(
    net: WalkNetwork,
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    limit_m: float,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    demand_max_snap_m: float | None = None,
    id_col: str = "site_id",
) -> Pairs:
    """Every (demand unit, site) pair within a walking distance, in input order.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    sites : GeoDataFrame
        Halls (points with unique ``id_col``), any CRS.
    demand : GeoDataFrame
        Demand units (points), any CRS; positions in the result follow its row order.
    limit_m : float
        Largest walking distance listed (inclusive), access walks included.
    max_snap_m : float, default 300
        Largest access walk from a site to its street (farther sites are left out, with a warning).
    demand_max_snap_m : float, optional
        Largest access walk from a demand unit (default ``max_snap_m``).
    id_col : str, default "site_id"
        Column of ``sites`` holding their unique ids.

    Returns
    -------
    Pairs
        ``demand`` positions index ``demand``'s rows, ``supply`` positions ``sites``' rows.
    """
    limit = as_distance(limit_m, name="limit_m")
    if demand.crs is None or sites.crs is None:
        raise CoverageInputError("sites and demand need a CRS; set it with .set_crs('EPSG:4326') for lon/lat.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        _, site_snap = snap_sites(net, sites, max_snap_m=max_snap_m, id_col=id_col)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    unit_snap = snap_points(
        net, demand.geometry, max_snap_m=max_snap_m if demand_max_snap_m is None else demand_max_snap_m
    )
    reach = reach_from_sites(net, site_snap, unit_snap, limit=limit)
    return pairs_from_search(
        reach.pair_site, reach.pair_unit, reach.pair_distance, n_halls=len(sites), n_units=len(demand)
    )
