"""A city's coverage assessed district by district, with the same answer as one run.

Each district (any polygon layer) is assessed on the part of the network
within the district grown by a margin at its borders, with the halls of the
grown area and the residents of the district only; the per-district results
are combined into one :class:`~coverage.assess.CoverageResult`. The districts
can run on a Dask cluster (``client=``), so that a whole city is spread over
workers; each worker holds only its district's sub-network.

Why one radius of margin is exact
---------------------------------
A walk of walking length ``L`` never ends farther than ``reach(L) = L / f + D``
in a straight line from where it started, where ``f <= 1`` is the smallest
ratio of an edge's walking length to the length of its drawn geometry (about
1; a little less where the projection stretches distances) and ``D`` adds up
what rounding of tiny edges' lengths (and any gap between an edge's drawing
and its end nodes) can add (:func:`walk_reach_m`). A resident ``u`` of the
district, snapped onto its street with an access walk ``a_u <= S`` (``S`` =
``max_snap_m``), is covered when some hall is within ``r`` = the radius,
access walks included. Such a hall's point, and every street its walk uses,
lie within ``a_u + reach(r) <= S + reach(r)`` of ``u``. So with the halls
taken from the district grown by ``m = reach(r) + S`` and the streets from the
district grown by ``m + S`` (a hall's own street lies within ``S`` of it),
every covering hall and every covering walk is in the part, each hall and
resident snaps onto the same street as in the whole network (its nearest
street is in the part; ties go to the lowest edge index, whose order the part
keeps), and the part's distances are those of the whole network: status,
distance, nearest hall and the number of halls within reach are exact for
every covered resident. Halls whose street is in the part are added too, so
every street in the part is split at exactly the same points as in the whole
network and the sums of lengths are the same floating-point numbers.

The part can only lengthen a walk, never shorten it, so a resident that the
part finds uncovered is uncovered. Its distance to the nearest hall (shown in
the tables and used for the gaps) is exact as soon as its certificate holds:
``a_u + reach(d_u) <= m + depth_u``, ``d_u`` the part's distance and
``depth_u`` how deep inside the district it lives (negative outside). The
residents without one are assessed again with the margin they need (doubled
when no hall was reachable at all), until the part is the whole network. The
assumption is checked on the network: with ``f < 0.5`` (lengths far shorter
than the drawn streets) no margin can be trusted and partitioning is refused.

Residents outside every district polygon go to the nearest district (the
margin grows by their distance to it); each resident is in exactly one part.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _defaults as defaults
from ._errors import CoverageInputError, CoverageInternalError, CoverageWarning, warn
from ._frames import site_frame
from ._partparts import PartStats, assess_part, certified, combine_units, combined_result, plan_part
from ._subnet import MIN_LENGTH_RATIO, length_ratio, reach_function, subnetwork, walk_reach_m
from ._types import FloatArray, IntArray
from .assess import CoverageResult, group_radii
from .network import WalkNetwork
from .sites import snap_points, snap_sites
from .snapped import SnappedDemand, project_demand
from .tables import guess_name_column

__all__ = ["PartitionedCoverage", "assess_coverage_by_district", "subnetwork", "walk_reach_m"]

#: Runs per district at most (the last one is the whole network).
_MAX_ROUNDS = 64


@dataclass(frozen=True, eq=False)
class PartitionedCoverage:
    """Coverage assessed district by district, combined.

    Attributes
    ----------
    coverage : CoverageResult
        The combined result, equal to :func:`~coverage.assess.assess_coverage`
        on the whole network (see the module notes).
    parts : pandas.DataFrame
        Per district: ``district``, ``units``, ``runs`` (assessments until
        every distance was certified), ``margin_m`` (the last margin),
        ``nodes``, ``edges`` and ``halls`` of the first part (one radius of
        margin), ``seconds`` (summed over runs).
    length_ratio : float
        The smallest walking-to-drawn length ratio ``f`` of the network.
    margin_m : float
        The first margin: ``reach(radius) + max_snap_m``.
    """

    coverage: CoverageResult
    parts: pd.DataFrame
    length_ratio: float
    margin_m: float

    def headline(self) -> str:
        """Return the coverage headline and how the districts ran."""
        runs = int(self.parts["runs"].sum())
        return (
            f"{self.coverage.headline()}\nAssessed in {len(self.parts)} districts ({runs} runs), "
            f"border margin {self.margin_m:,.0f} m."
        )

    def __repr__(self) -> str:
        return f"PartitionedCoverage({len(self.parts)} districts)\n{self.headline()}"


#: Runs ``func`` over a list of argument tuples and returns the results in order.
MapFn = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]


def _local_map(func: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [func(*args) for args in calls]


def dask_map(client: Any) -> MapFn:
    """Return a map function that runs each call as a task on a ``distributed.Client``."""

    def run(func: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        futures = []
        for args in calls:
            scattered = [client.scatter(a, direct=False) if _is_bulky(a) else a for a in args]
            futures.append(client.submit(func, *scattered, pure=False))
        return list(client.gather(futures))

    return run


def _is_bulky(value: Any) -> bool:
    return isinstance(value, (WalkNetwork, pd.DataFrame))


def assess_coverage_by_district(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    minutes: float | None = None,
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH,
    group_walk_speed_kmh: Mapping[str, float] | None = None,
    max_snap_m: float = defaults.DEFAULT_MAX_SNAP_M,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    communities: gpd.GeoDataFrame | None = None,
    community_name_col: str | None = None,
    gap_min_population: float = 0.0,
    id_col: str = "site_id",
    name_col: str | None = "name",
    district_name_col: str | None = None,
    client: Any = None,
    map_fn: MapFn | None = None,
) -> PartitionedCoverage:
    """Assess coverage district by district (optionally on a Dask cluster) and combine.

    Same arguments and same result as :func:`~coverage.assess.assess_coverage`
    (see the module notes for why the result is the same), plus the districts.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network (the whole city).
    halls, demand : GeoDataFrame
        As for :func:`~coverage.assess.assess_coverage` (demand already
        snapped to the whole network is taken as its units).
    radius_m, minutes, walk_speed_kmh, group_walk_speed_kmh, max_snap_m : optional
        The threshold and snapping, as for :func:`~coverage.assess.assess_coverage`.
    areas, area_name_col, communities, community_name_col, gap_min_population, id_col, name_col : optional
        The tables, as for :func:`~coverage.assess.assess_coverage`.
    districts : GeoDataFrame
        Polygons splitting the study area (any CRS; they may leave gaps:
        residents outside all of them go to the nearest).
    district_name_col : str, optional
        Column naming each district (default: the first text column).
    client : distributed.Client, optional
        Run each district as a task on this cluster; without it, one by one here.
    map_fn : callable, optional
        Instead of ``client``: ``map_fn(func, calls)`` running ``func(*args)``
        for each tuple of ``calls`` and returning the results in order.

    Returns
    -------
    PartitionedCoverage

    Raises
    ------
    CoverageInputError
        For bad districts (no CRS, no polygon) and where the network's lengths
        are too far below its drawn geometry to bound a walk (``f < 0.5``).
    """
    run = map_fn or (dask_map(client) if client is not None else _local_map)
    started = time.perf_counter()
    if isinstance(demand, SnappedDemand):
        demand = demand.units
    prepared = project_demand(net, demand)
    units_xy = prepared.geometry
    polys, names = _district_polygons(districts, net, district_name_col)
    groups = sorted(prepared["group"].unique().tolist())
    radii, speeds = group_radii(
        groups, radius_m=radius_m, minutes=minutes, walk_speed_kmh=walk_speed_kmh,
        group_walk_speed_kmh=group_walk_speed_kmh,
    )
    f, _ = length_ratio(net)
    r_max = max(radii.values(), default=defaults.DEFAULT_RADIUS_M)
    reach_r = walk_reach_m(net, r_max)
    if not math.isfinite(reach_r):
        raise CoverageInputError(
            f"{net.report.source}: some edges' lengths are far shorter than their drawn geometry (smallest ratio "
            f"{f:.2f} < {MIN_LENGTH_RATIO}), so no border margin bounds a walk; assess the whole network at once "
            "(assess_coverage), or fix the edge lengths."
        )
    first_margin = reach_r + max_snap_m
    reach_of = reach_function(net)
    plain = site_frame(halls, id_col=id_col, name_col=name_col)
    sites, hall_snap = _snap_all_halls(net, plain, max_snap_m)
    part_of, depth = _assign(units_xy, polys)
    outside = int((depth < 0).sum())
    if outside:
        warn(
            f"{outside} demand unit(s) lie outside every district polygon; each is assessed with the "
            "nearest district.",
            stacklevel=2,
        )
    tree = shapely.STRtree(net.edge_geometry)
    opts = {
        "radius_m": radius_m, "minutes": minutes, "walk_speed_kmh": walk_speed_kmh,
        "group_walk_speed_kmh": dict(group_walk_speed_kmh or {}), "max_snap_m": max_snap_m,
    }
    done: list[tuple[IntArray, pd.DataFrame]] = []
    hall_tables: list[pd.DataFrame] = []
    stats = {k: PartStats() for k in range(len(polys))}
    pending = {k: np.flatnonzero(part_of == k) for k in range(len(polys))}
    pending = {k: v for k, v in pending.items() if v.size}
    margin = {k: first_margin + max(0.0, -float(depth[v].min())) for k, v in pending.items()}
    for round_no in range(_MAX_ROUNDS):
        if not pending:
            break
        plans = {
            k: plan_part(
                net, tree, polys[k], hall_snap, sites, margin[k], max_snap_m, last=round_no + 1 == _MAX_ROUNDS
            )
            for k in pending
        }
        calls = [(plans[k].subnet, plain.iloc[plans[k].halls], prepared.iloc[idx], opts) for k, idx in pending.items()]
        outs = run(assess_part, calls)
        next_pending: dict[int, IntArray] = {}
        for (k, idx), out in zip(pending.items(), outs, strict=True):
            plan = plans[k]
            stats[k].add(plan, out.seconds, len(idx))
            if round_no == 0:
                hall_tables.append(out.halls)
            ok, need = certified(out.units, depth[idx], plan, reach_of)
            if (out.units["status"].astype(str).to_numpy()[~ok] == "covered").any():
                raise CoverageInternalError("a covered resident was not certified by the border margin")
            done.append((idx[ok], out.units.iloc[np.flatnonzero(ok)]))
            if (~ok).any():
                next_pending[k] = idx[~ok]
                margin[k] = max(float(np.max(need[~ok])), plan.margin_m * 1.5)
        pending = next_pending
    if pending:  # pragma: no cover - the last run is the whole network
        raise CoverageInternalError("districts did not converge to certified distances")
    units = combine_units(done, len(prepared), net)
    return PartitionedCoverage(
        coverage=combined_result(prepared, units, sites, hall_tables, radii, speeds, minutes, walk_speed_kmh,
                         {"area": (areas, area_name_col), "community": (communities, community_name_col)},
                         gap_min_population, net, started),
        parts=pd.DataFrame([stats[k].row(names[k]) for k in range(len(polys)) if stats[k].runs]),
        length_ratio=f,
        margin_m=first_margin,
    )




def _district_polygons(
    districts: gpd.GeoDataFrame, net: WalkNetwork, name_col: str | None
) -> tuple[list[Any], list[str]]:
    if not isinstance(districts, gpd.GeoDataFrame) or districts.crs is None:
        raise CoverageInputError("districts: give a GeoDataFrame of polygons with a CRS (set_crs('EPSG:4326')).")
    if len(districts) == 0:
        raise CoverageInputError("districts: the layer has no polygon.")
    geoms = shapely.make_valid(districts.to_crs(net.crs).geometry.to_numpy())
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(kinds, [3, 6, 7]) | shapely.is_empty(geoms) | (shapely.area(geoms) <= 0))
    if bad.size:
        raise CoverageInputError(f"districts: rows {bad[:10].tolist()} are not polygons with an area; remove them.")
    col = name_col if name_col is not None else guess_name_column(districts)
    if col is not None and col not in districts.columns:
        raise CoverageInputError(f"districts have no {col!r} column; columns are {list(districts.columns)[:20]}.")
    names = districts[col].astype(str).tolist() if col is not None else [f"district {i + 1}" for i in range(len(geoms))]
    return list(geoms), names


def _assign(points: gpd.GeoSeries, polys: list[Any]) -> tuple[IntArray, FloatArray]:
    """Return each point's district (first containing, else nearest) and its signed depth."""
    pts = points.to_numpy()
    n = len(pts)
    part = np.full(n, -1, dtype=np.int64)
    tree = shapely.STRtree(polys)
    inp, hit = tree.query(pts, predicate="within")
    order = np.lexsort((hit, inp))
    inp, hit = inp[order], hit[order]
    first = np.ones(inp.size, dtype=bool)
    first[1:] = inp[1:] != inp[:-1]
    part[inp[first]] = hit[first]
    outside = np.flatnonzero(part < 0)
    if outside.size:
        near_in, near_hit = tree.query_nearest(pts[outside], all_matches=True)
        best = np.full(outside.size, np.iinfo(np.int64).max)
        np.minimum.at(best, near_in, near_hit)  # ties: the first district
        part[outside] = best
    geoms = np.asarray(polys, dtype=object)[part]
    inside = part >= 0
    depth = np.where(
        shapely.within(pts, geoms), shapely.distance(pts, shapely.boundary(geoms)), -shapely.distance(pts, geoms)
    )
    if not inside.all():  # pragma: no cover - every point has a nearest polygon
        raise CoverageInternalError("a demand unit was given no district")
    return part, np.asarray(depth, dtype=np.float64)


def _snap_all_halls(net: WalkNetwork, sites: gpd.GeoDataFrame, max_snap_m: float) -> tuple[gpd.GeoDataFrame, Any]:
    """Snap every hall once on the whole network (their streets decide which parts get them)."""
    if not len(sites):
        snapped = sites.to_crs(net.crs).assign(snapped=False, access_m=np.nan, edge=-1, component=-1)
        return snapped, snap_points(net, snapped.geometry, max_snap_m=max_snap_m)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        snapped, snap = snap_sites(net, sites, max_snap_m=max_snap_m)
    for w in caught:
        warn(str(w.message), w.category, stacklevel=3)
    return snapped, snap
