"""One district's part of a partitioned assessment (private; see :mod:`coverage.partition`).

In the order the data flows: :func:`plan_part` cuts a district's part out of
the whole network (streets within the margin plus the snapping distance,
halls within the margin or on those streets); :func:`assess_part` assesses the
district's residents on it (the task a Dask worker runs, so it and its result
:class:`PartOut` live at module level and pickle by reference);
:func:`certified` says whose distances the margin proves exact;
:func:`combine_units` and :func:`combined_result` put the certified rows back
together into one :class:`~coverage.assess.CoverageResult`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _defaults as defaults
from ._errors import CoverageInputError, CoverageInternalError, CoverageWarning, warn
from ._subnet import subnetwork
from ._types import FloatArray, IntArray
from .assess import CoverageResult, assess_coverage, group_radii
from .gaps import find_gaps
from .network import WalkNetwork
from .sites import snap_points
from .tables import STATUSES, area_names, areas_table, circle_covered, halls_table, summary_table

__all__ = [
    "PartOut",
    "PartStats",
    "Plan",
    "all_unreachable",
    "assess_part",
    "certified",
    "combine_units",
    "combined_result",
    "plan_part",
]


@dataclass(frozen=True, eq=False)
class Plan:
    """A district's part: its network, the positions of its halls, its margin, and whether it is all of it."""

    subnet: WalkNetwork
    halls: IntArray
    margin_m: float
    whole: bool


def plan_part(
    net: WalkNetwork,
    tree: shapely.STRtree,
    poly: Any,
    hall_snap: Any,
    sites: gpd.GeoDataFrame,
    margin_m: float,
    max_snap_m: float,
    *,
    last: bool,
) -> Plan:
    """Cut out a district's part: streets within ``margin + S``, halls within ``margin`` or on those streets."""
    region = shapely.buffer(poly, margin_m + max_snap_m)
    edges = np.sort(tree.query(region, predicate="intersects"))
    whole = last or edges.size == net.n_edges
    if whole:
        return Plan(net, np.arange(len(sites), dtype=np.int64), margin_m, True)
    in_part = np.zeros(net.n_edges, dtype=bool)
    in_part[edges] = True
    on_street = hall_snap.ok & in_part[np.maximum(hall_snap.edge, 0)]
    near = shapely.dwithin(sites.geometry.to_numpy(), poly, margin_m)
    halls = np.flatnonzero(on_street | near)
    return Plan(subnetwork(net, edges, label=f"district part, margin {margin_m:,.0f} m"), halls, margin_m, False)


@dataclass(frozen=True, eq=False)
class PartOut:
    """What a worker returns for a part: the residents' rows, the halls table, the seconds it took."""

    units: gpd.GeoDataFrame
    halls: pd.DataFrame
    seconds: float


def assess_part(
    net: WalkNetwork, halls: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, opts: dict[str, Any]
) -> PartOut:
    """Assess one district's residents on its part (a task; runs on a worker)."""
    t = time.perf_counter()
    if net.n_edges == 0:  # no street near any of the district's residents
        return PartOut(all_unreachable(net, halls, demand, opts), pd.DataFrame(), time.perf_counter() - t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # reported once by the caller
        try:
            result = assess_coverage(net, halls, demand, **opts)
        except CoverageInputError:
            snap = snap_points(net, demand, max_snap_m=float(opts["max_snap_m"]))
            if snap.ok.any():
                raise
            return PartOut(all_unreachable(net, halls, demand, opts), pd.DataFrame(), time.perf_counter() - t)
    units = result.units.drop(columns="gap_id")
    return PartOut(units, result.halls, time.perf_counter() - t)


def all_unreachable(
    net: WalkNetwork, halls: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, opts: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Return the rows of residents none of whom is near a street of their part (all unreachable)."""
    units = demand.reset_index(drop=True)  # validated and projected by the caller
    radii, _ = group_radii(
        sorted(units["group"].unique().tolist()), radius_m=opts["radius_m"], minutes=opts["minutes"],
        walk_speed_kmh=opts["walk_speed_kmh"], group_walk_speed_kmh=opts["group_walk_speed_kmh"],
    )
    threshold = units["group"].map(radii).to_numpy(dtype=np.float64)
    hall_xy = halls.to_crs(net.crs).geometry
    n = len(units)
    return units.assign(
        status=pd.Categorical(np.full(n, "unreachable"), categories=list(STATUSES)),
        distance_m=np.full(n, np.inf),
        walk_min=np.full(n, np.inf),
        threshold_m=threshold,
        nearest_site=pd.array([None] * n, dtype="string"),
        halls_within=np.zeros(n, dtype=np.int64),
        access_m=np.full(n, np.nan),
        circle_covered=circle_covered(
            hall_xy.x.to_numpy(), hall_xy.y.to_numpy(), units.geometry.x.to_numpy(), units.geometry.y.to_numpy(),
            threshold,
        ),
    )


def certified(
    units: pd.DataFrame, depth: FloatArray, plan: Plan, reach: Callable[[FloatArray], FloatArray]
) -> tuple[np.ndarray, FloatArray]:
    """Which residents' distances are exact, and the margin each of the others needs."""
    n = len(units)
    if plan.whole:
        return np.ones(n, dtype=bool), np.zeros(n)
    access = units["access_m"].to_numpy(dtype=np.float64)
    unsnapped = ~np.isfinite(access)
    need = np.nan_to_num(access, nan=0.0) + reach(units["distance_m"].to_numpy(dtype=np.float64)) - depth
    ok = unsnapped | (need <= plan.margin_m)
    return ok, np.where(np.isfinite(need), need, 2.0 * plan.margin_m)


def combine_units(done: list[tuple[IntArray, pd.DataFrame]], n: int, net: WalkNetwork) -> gpd.GeoDataFrame:
    """Put the certified rows back in the input order."""
    positions = np.concatenate([pos for pos, _ in done]) if done else np.empty(0, np.int64)
    if positions.size != n or np.unique(positions).size != n:
        raise CoverageInternalError(f"{n} demand units given, {np.unique(positions).size} assessed")
    units = pd.concat([frame for _, frame in done], ignore_index=True).iloc[np.argsort(positions, kind="stable")]
    return gpd.GeoDataFrame(units.reset_index(drop=True), geometry="geometry", crs=net.crs)


def combined_result(
    prepared: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    hall_tables: list[pd.DataFrame],
    radii: dict[str, float],
    speeds: dict[str, float],
    minutes: float | None,
    walk_speed_kmh: float,
    polygons: dict[str, tuple[gpd.GeoDataFrame | None, str | None]],
    gap_min_population: float,
    net: WalkNetwork,
    started: float,
) -> CoverageResult:
    """Build the combined result from the per-unit rows, as assess_coverage builds its own."""
    unsnapped = units["access_m"].isna().to_numpy()
    if unsnapped.any():
        pop = float(units["population"].to_numpy()[unsnapped].sum())
        warn(
            f"{int(unsnapped.sum())} demand unit(s) ({pop:,.0f} people) are too far from any walkable street and "
            "are counted as unreachable.",
            stacklevel=3,
        )
    tables: dict[str, pd.DataFrame | None] = {}
    for col, (frame, name_col) in polygons.items():
        tables[col] = None
        if frame is not None:
            units[col] = area_names(units, frame, name_col, what=f"{col}s" if col == "area" else "communities")
            tables[col] = areas_table(units, col)
    found = find_gaps(units, radius_m=radii, min_population=gap_min_population)
    units["gap_id"] = pd.array(found.gap_of_unit, dtype="string")
    none = np.empty(0, dtype=np.int64)
    halls = halls_table(sites, units, np.full(len(units), -1, dtype=np.int64), none, none)  # the columns, zeros
    for col in halls.columns[4:] if len(halls) else []:
        total = pd.Series(0.0, index=halls["site_id"])
        for table in hall_tables:
            if col in table.columns:
                total = total.add(table.set_index("site_id")[col], fill_value=0.0)
        halls[col] = total.reindex(halls["site_id"]).to_numpy()
    groups = sorted(units["group"].astype(str).unique().tolist())
    main = "residents" if "residents" in radii else (groups[0] if groups else "residents")
    estimate = bool(units["estimate"].any())
    note = str(prepared.attrs.get("estimate_note", "")) if estimate else ""
    if estimate and not note:
        note = "some population figures are estimates (estimate=True in the units table)."
    return CoverageResult(
        units=units,
        halls=halls,
        areas=tables["area"],
        communities=tables["community"],
        gaps=found.gaps,
        summary=summary_table(units),
        radius_m=radii.get(main, defaults.DEFAULT_RADIUS_M),
        minutes=None if minutes is None else float(minutes),
        walk_speed_kmh=speeds.get(main, float(walk_speed_kmh)),
        radius_by_group=radii,
        estimate=estimate,
        estimate_note=note,
        timings={"partitioned": time.perf_counter() - started},
    )


@dataclass
class PartStats:
    """A district's running totals for the ``parts`` table of the result."""

    runs: int = 0
    units: int = 0
    margin_m: float = 0.0
    nodes: int = 0
    edges: int = 0
    halls: int = 0
    seconds: float = 0.0

    def add(self, plan: Plan, seconds: float, n_units: int) -> None:
        """Count one run on ``plan`` (sizes are those of the first run)."""
        if not self.runs:
            self.units = n_units
            self.nodes = plan.subnet.n_nodes
            self.edges = plan.subnet.n_edges
            self.halls = int(plan.halls.size)
        self.runs += 1
        self.margin_m = plan.margin_m
        self.seconds += seconds

    def row(self, name: str) -> dict[str, Any]:
        """Return the district's row of the ``parts`` table."""
        return {"district": name, "units": self.units, "runs": self.runs, "margin_m": self.margin_m,
                "nodes": self.nodes, "edges": self.edges, "halls": self.halls, "seconds": self.seconds}

