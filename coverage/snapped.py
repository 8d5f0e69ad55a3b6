"""Demand units placed on the network once, for every question asked of them.

Snapping tens of thousands of residents is a large part of an assessment;
several services, a plan and its "after" assessment all ask about the same
residents. :func:`snap_demand` validates the demand, projects it to the
network's CRS and snaps it; every function that takes demand also takes the
result.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from . import _defaults as defaults
from ._errors import CoverageInputError, warn
from ._validate import as_distance
from .demand import validate_demand
from .network import WalkNetwork
from .sites import Snap, snap_points

__all__ = ["SnappedDemand", "project_demand", "snap_demand"]


@dataclass(frozen=True, eq=False)
class SnappedDemand:
    """Demand units in the network's CRS with their place on the network.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        The validated demand (``demand_id``, ``group``, ``population``,
        ``estimate``, ...), points in the network's CRS, index 0..n-1.
    snap : Snap
        Where each unit sits on the network (``edge == -1``: farther than
        ``max_snap_m`` from every street).
    max_snap_m : float
        The snap limit used.
    network : WalkNetwork
        The network they were snapped to (results must use the same one).
    """

    units: gpd.GeoDataFrame
    snap: Snap
    max_snap_m: float
    network: WalkNetwork

    def __len__(self) -> int:
        return len(self.units)

    def __repr__(self) -> str:
        ok = int(self.snap.ok.sum())
        return (
            f"SnappedDemand({len(self.units):,} units, {self.units['population'].sum():,.0f} people; "
            f"{ok:,} within {self.max_snap_m:g} m of a street)"
        )


def project_demand(net: WalkNetwork, demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate demand units and project them to the network's CRS, without snapping them.

    The checks of :func:`snap_demand` (which calls this), for callers that
    snap the units themselves (the partitioned assessment snaps each
    district's residents on its own part of the network).

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network (only its CRS is used).
    demand : GeoDataFrame
        Demand units as returned by :mod:`coverage.demand`, in any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A validated copy with string ``demand_id`` and ``group`` and an
        ``estimate`` column, points in ``net.crs``, index 0..n-1, the input's
        ``attrs`` kept.

    Raises
    ------
    CoverageInputError
        If ``demand`` is not a GeoDataFrame with a CRS and a ``demand_id``
        column, fails :func:`~coverage.demand.validate_demand`, or holds
        anything but points.
    """
    if not isinstance(demand, gpd.GeoDataFrame):
        raise CoverageInputError("demand must be a GeoDataFrame of points (see coverage.demand).")
    if demand.crs is None:
        raise CoverageInputError("demand has no CRS; set it with .set_crs(...) (EPSG:4326 for lon/lat).")
    if "demand_id" not in demand.columns:
        raise CoverageInputError(
            "demand has no 'demand_id' column; build it with the coverage.demand readers "
            "(read_demand, demand_from_polygons, ...)."
        )
    units = demand.copy()
    if "group" not in units.columns:
        units["group"] = "residents"
    units = validate_demand(units)
    if "estimate" not in units.columns:
        units["estimate"] = False
    units["demand_id"] = units["demand_id"].astype(str)
    units["group"] = units["group"].astype(str)
    units = units.to_crs(net.crs).reset_index(drop=True)
    units.attrs = dict(demand.attrs)
    not_points = units.geometry.geom_type != "Point"
    if not_points.any():
        bad = units.loc[not_points, "demand_id"].tolist()[:10]
        raise CoverageInputError(
            f"demand units must be points; {bad} are not. Turn polygons into units with "
            "coverage.demand.demand_from_polygons(...)."
        )
    return units

def snap_demand(
    net: WalkNetwork, demand: gpd.GeoDataFrame | SnappedDemand, *, max_snap_m: float = defaults.DEFAULT_MAX_SNAP_M
) -> SnappedDemand:
    """Validate demand units and place them on the network.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    demand : GeoDataFrame or SnappedDemand
        Demand units as returned by :mod:`coverage.demand` (points with
        ``demand_id``, ``group``, ``population``), in any CRS. Already snapped
        demand is returned as it is (if snapped to ``net`` with the same limit).
    max_snap_m : float, default 300
        Largest walk from a unit to its street; farther units are
        ``unreachable`` (with a warning naming them).

    Returns
    -------
    SnappedDemand

    Examples
    --------
    >>> people = snap_demand(net, demand_frame)  # doctest: +SKIP
    >>> assess_coverage(net, halls, people, radius_m=500)  # doctest: +SKIP
    """
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", maximum=5_000.0, example="300")
    if isinstance(demand, SnappedDemand):
        if demand.network is not net:
            raise CoverageInputError("the demand was snapped to another network; snap it to this one.")
        if demand.max_snap_m != max_snap_m:
            raise CoverageInputError(
                f"the demand was snapped with max_snap_m={demand.max_snap_m:g}, not {max_snap_m:g}; snap it again."
            )
        return demand
    units = project_demand(net, demand)
    snap = snap_points(net, units.geometry, max_snap_m=max_snap_m)
    if len(units) and not snap.ok.any():
        raise CoverageInputError(
            "no demand unit lies near the network: the demand is for another area, or in another "
            "CRS. Check its coordinates (lon/lat swapped?) and CRS."
        )
    bad_idx = np.flatnonzero(~snap.ok)
    if bad_idx.size:
        ids = units["demand_id"].to_numpy()[bad_idx]
        pop = float(units["population"].to_numpy()[bad_idx].sum())
        warn(
            f"{bad_idx.size} demand unit(s) ({pop:,.0f} people) are too far from any walkable street "
            f"and are counted as unreachable: {list(map(str, ids[:10]))}{' ...' if bad_idx.size > 10 else ''}.",
            stacklevel=3,
        )
    return SnappedDemand(units=units, snap=snap, max_snap_m=max_snap_m, network=net)
