"""Coverage: who lives within the walking radius of a hall, counted exactly once.

Halls and demand units are snapped onto the network together (each access
walk counts), then one multi-source search gives every unit its nearest hall
and its distance, and bounded searches count how many halls reach it
(redundancy). Each unit gets one status:

``covered``      nearest hall within the radius;
``uncovered``    on the network, but every hall is farther;
``unreachable``  farther than the snap limit from any street, or on a part of
                 the network no hall is on.

Totals by status add up exactly to the input total (checked in code). The
straight-line circle of the same radius is counted side by side, so the
overstatement of the circle is a headline figure.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from ._errors import CoverageInputError, CoverageWarning
from ._search import augment, locate, nearest_source, within_located
from .demand import validate_demand
from .network import WalkNetwork
from .service_areas import radii_from
from .sites import DEFAULT_MAX_SNAP_M, snap_points, snap_sites

logger = logging.getLogger(__name__)

STATUSES = ("covered", "uncovered", "unreachable")

#: The summary columns shown as headline figures (notebook table, report).
HEADLINE_COLUMNS = [
    "group",
    "total",
    "covered",
    "covered_share",
    "circle_covered",
    "circle_share",
    "circle_overstatement_pp",
    "uncovered",
    "unreachable",
]


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of demand by halls within a walking radius.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        One row per demand unit (input order): ``demand_id``, ``group``,
        ``population``, ``estimate``, ``status``, ``distance_m`` (network
        distance to the nearest hall, access walks included; inf if none),
        ``nearest_site`` (id or None), ``halls_within`` (redundancy),
        ``access_m``, ``circle_covered`` (within the straight-line circle of
        a hall), ``gap_id`` (for uncovered units), geometry (network CRS).
    halls : pandas.DataFrame
        Per hall: ``site_id``, ``name``, ``snapped``, ``population_served``
        (residents whose nearest hall it is, within the radius, each counted
        once) and ``population_within`` (everyone it reaches) per group.
    areas : pandas.DataFrame or None
        Per area polygon and group: population by status and circle-covered.
    gaps : geopandas.GeoDataFrame
        Gap areas of uncovered residents (see :func:`coverage.gaps.find_gaps`).
    summary : pandas.DataFrame
        Headline numbers per group: totals by status, shares, circle coverage
        and its overstatement in percentage points.
    radius_m : float
    estimate : bool
        True if any population figure is an estimate.
    estimate_note : str
    timings : dict
    """

    units: gpd.GeoDataFrame
    halls: pd.DataFrame
    areas: pd.DataFrame | None
    gaps: gpd.GeoDataFrame
    summary: pd.DataFrame
    radius_m: float
    estimate: bool = False
    estimate_note: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def headline(self, group: str | None = None) -> str:
        """One sentence per group with the headline figures."""
        rows = self.summary if group is None else self.summary[self.summary["group"] == group]
        lines = []
        for row in rows.itertuples():
            lines.append(
                f"{row.group}: {row.covered:,.0f} of {row.total:,.0f} "
                f"({row.covered_share:.1%}) live within a {self.radius_m:g} m walk of a hall; "
                f"the straight-line {self.radius_m:g} m circle claims {row.circle_covered:,.0f} "
                f"({row.circle_share:.1%}), overstating by {row.circle_overstatement_pp:.1f} points; "
                f"{row.uncovered:,.0f} uncovered, {row.unreachable:,.0f} unreachable."
            )
        text = "\n".join(lines)
        if self.estimate:
            text += f"\nESTIMATE: {self.estimate_note}"
        return text

    def __repr__(self) -> str:
        return (
            f"CoverageResult(radius {self.radius_m:g} m, {len(self.units):,} units, {len(self.gaps)} gaps)\n"
            + self.headline()
        )

    def _repr_html_(self) -> str:
        cols = HEADLINE_COLUMNS
        table = self.summary[cols].to_html(
            index=False,
            formatters={
                "covered_share": "{:.1%}".format,
                "circle_share": "{:.1%}".format,
                "circle_overstatement_pp": "{:.1f}".format,
            },
            float_format="{:,.0f}".format,
        )
        note = f"<p><b>Estimate:</b> {self.estimate_note}</p>" if self.estimate else ""
        gaps = ""
        if len(self.gaps):
            gaps = "<p>Largest gaps</p>" + self.gaps.drop(columns="geometry").head(10).to_html(
                index=False, float_format="{:,.0f}".format
            )
        return (
            f"<p><b>Coverage within {self.radius_m:g} m</b> ({len(self.units):,} demand units, "
            f"{len(self.halls):,} halls)</p>{table}{note}{gaps}"
        )

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write a GeoPackage with layers units, halls, areas, gaps and summary."""
        path = Path(path)
        if path.exists():
            path.unlink()
        _plain(self.units).to_file(path, layer="units", driver="GPKG")
        _plain(self.gaps).to_file(path, layer="gaps", driver="GPKG")
        for name, table in (("halls", self.halls), ("summary", self.summary), ("areas", self.areas)):
            if table is not None:
                gpd.GeoDataFrame(_plain(table), geometry=None).to_file(path, layer=name, driver="GPKG")
        return path

    def to_csv(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write units (without geometry, with x/y), halls, areas, gaps and summary as CSV."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        units = pd.DataFrame(self.units.drop(columns="geometry"))
        units["x"] = self.units.geometry.x.round(2)
        units["y"] = self.units.geometry.y.round(2)
        tables = {
            "units": units,
            "halls": self.halls,
            "summary": self.summary,
            "gaps": pd.DataFrame(self.gaps.drop(columns="geometry")),
        }
        if self.areas is not None:
            tables["areas"] = self.areas
        for name, table in tables.items():
            out = folder / f"coverage_{name}.csv"
            table.to_csv(out, index=False, float_format="%.6g", lineterminator="\n")
            written.append(out)
        return written


def _plain(frame: Any) -> Any:
    """Make a frame writable by GDAL: inf -> NaN, object columns -> str."""
    out = frame.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def assess_coverage(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    radius_m: float = 500.0,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    demand_max_snap_m: float | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    gap_min_population: float = 0.0,
    id_col: str = "site_id",
) -> CoverageResult:
    """Count the residents within a network walk of a hall.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Hall points with ``site_id`` (see :func:`coverage.sites.read_sites`).
        May be empty (then nobody is covered).
    demand : GeoDataFrame
        Demand units as returned by :mod:`coverage.demand` (points with
        ``demand_id``, ``group``, ``population``); any CRS, reprojected.
    radius_m : float, default 500
        Walking distance in metres within which a resident counts as covered.
    max_snap_m : float, default 300
        Largest access walk from a hall to its street.
    demand_max_snap_m : float, optional
        Largest access walk from a demand unit (default: ``max_snap_m``);
        units farther from any street are ``unreachable``.
    areas : GeoDataFrame, optional
        Polygons (districts, sub-districts, communities) to tabulate by.
    area_name_col : str, optional
        Column naming each area (default: the first text column).
    gap_min_population : float, default 0
        Gaps with fewer residents are still listed but flagged ``minor``.
    id_col : str, default "site_id"
        Column of ``halls`` holding their unique ids.

    Returns
    -------
    CoverageResult
    """
    from .gaps import find_gaps

    timings: dict[str, float] = {}
    t = time.perf_counter()
    radius = float(radii_from(radius_m, None, 1.0)[0][0])
    if demand.crs is None:
        raise CoverageInputError("demand has no CRS; set it with .set_crs(...) (EPSG:4326 for lon/lat).")
    demand = _prepare_demand(demand)
    units = demand.to_crs(net.crs).reset_index(drop=True)
    if (units.geometry.geom_type != "Point").any():
        bad = units.loc[units.geometry.geom_type != "Point", "demand_id"].tolist()[:10]
        raise CoverageInputError(
            f"demand units must be points; {bad} are not. Turn polygons into units with "
            "coverage.demand.demand_from_polygons(...)."
        )
    if len(halls):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CoverageWarning)
            sites, hall_snap = snap_sites(net, halls, max_snap_m=max_snap_m, id_col=id_col)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)
    else:
        sites = halls.to_crs(net.crs).assign(snapped=False, access_m=np.nan, edge=-1, component=-1)
        hall_snap = snap_points(net, sites.geometry, max_snap_m=max_snap_m)
    unit_snap = snap_points(
        net, units.geometry, max_snap_m=max_snap_m if demand_max_snap_m is None else demand_max_snap_m
    )
    _check_overlap_with_network(units, unit_snap.ok)
    aug = augment(net, hall_snap.edge, hall_snap.offset_m, hall_snap.access_m)
    loc = locate(aug, unit_snap.edge, unit_snap.offset_m, unit_snap.access_m)
    hall_nodes = aug.point_node
    timings["snap"] = time.perf_counter() - t

    t = time.perf_counter()
    ok_h = np.flatnonzero(hall_nodes >= 0)
    node_dist, node_src = nearest_source(aug, hall_nodes[ok_h])
    dist, src = loc.nearest_of(node_dist, node_src)
    nearest = np.where(src >= 0, ok_h[np.maximum(src, 0)] if ok_h.size else -1, -1).astype(np.int64)
    # Redundancy: halls within the radius of each unit (bounded searches from the halls).
    if ok_h.size and loc.ok.any():
        s_pos, unit_pos, _ = within_located(aug, hall_nodes[ok_h], loc, limit=radius)
        hall_pos = ok_h[s_pos]
    else:
        hall_pos = unit_pos = np.empty(0, np.int64)
    within = np.bincount(unit_pos, minlength=len(units)).astype(np.int64)
    pop_within_pairs = (hall_pos, unit_pos)
    timings["search"] = time.perf_counter() - t

    t = time.perf_counter()
    status = np.where(~np.isfinite(dist), "unreachable", np.where(dist <= radius, "covered", "uncovered"))
    # Straight-line circle around every hall given (snapped or not), as on paper.
    circle = np.zeros(len(units), dtype=bool)
    if len(sites):
        tree = cKDTree(np.column_stack([hall_snap.x, hall_snap.y]))
        d_line, _ = tree.query(np.column_stack([unit_snap.x, unit_snap.y]), k=1)
        circle = d_line <= radius
    site_ids = sites[id_col].astype(str).to_numpy()
    units = units.assign(
        status=pd.Categorical(status, categories=list(STATUSES)),
        distance_m=dist,
        nearest_site=pd.array([site_ids[i] if i >= 0 else None for i in nearest], dtype="string"),
        halls_within=within,
        access_m=unit_snap.access_m,
        circle_covered=circle,
    )
    _check_invariants(demand, units)
    summary = _summary(units)
    halls_table = _halls_table(sites, units, nearest, status, pop_within_pairs, id_col)
    areas_table = _areas_table(units, areas, area_name_col, net) if areas is not None else None
    timings["tables"] = time.perf_counter() - t

    t = time.perf_counter()
    gaps, gap_of_unit = find_gaps(units, radius_m=radius, min_population=gap_min_population)
    units["gap_id"] = pd.array(gap_of_unit, dtype="string")
    timings["gaps"] = time.perf_counter() - t
    estimate = bool(units["estimate"].any())
    note = str(demand.attrs.get("estimate_note", "")) if estimate else ""
    if estimate and not note:
        note = "some population figures are estimates (estimate=True in the units table)."
    return CoverageResult(
        units=units,
        halls=halls_table,
        areas=areas_table,
        gaps=gaps,
        summary=summary,
        radius_m=radius,
        estimate=estimate,
        estimate_note=note,
        timings=timings,
    )


def _prepare_demand(demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate a demand frame and fill the optional schema columns."""
    if "demand_id" not in demand.columns:
        raise CoverageInputError(
            "demand has no 'demand_id' column; build it with the coverage.demand readers "
            "(read_demand, demand_from_polygons, ...)."
        )
    out = demand.copy()
    if "group" not in out.columns:
        out["group"] = "residents"
    out = validate_demand(out)
    if "estimate" not in out.columns:
        out["estimate"] = False
    out["demand_id"] = out["demand_id"].astype(str)
    out["group"] = out["group"].astype(str)
    out.attrs = dict(demand.attrs)
    return out


def _check_overlap_with_network(units: gpd.GeoDataFrame, ok: npt.NDArray[np.bool_]) -> None:
    if len(units) and not ok.any():
        raise CoverageInputError(
            "no demand unit lies near the network: the demand is for another area, or in another "
            "CRS. Check its coordinates (lon/lat swapped?) and CRS."
        )
    bad = np.flatnonzero(~ok)
    if bad.size:
        ids = units["demand_id"].to_numpy()[bad]
        pop = float(units["population"].to_numpy()[bad].sum())
        warnings.warn(
            f"{bad.size} demand unit(s) ({pop:,.0f} people) are too far from any walkable street "
            f"and are counted as unreachable: {list(map(str, ids[:10]))}"
            f"{' ...' if bad.size > 10 else ''}.",
            CoverageWarning,
            stacklevel=3,
        )


def _check_invariants(demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    """Every unit and every resident is counted exactly once."""
    if len(units) != len(demand) or units.duplicated(["group", "demand_id"]).any():
        raise RuntimeError("internal error: demand units were lost or duplicated")
    for group, frame in units.groupby("group", observed=True):
        total = float(demand.loc[demand["group"] == group, "population"].sum())
        parts = frame.groupby("status", observed=False)["population"].sum()
        if not math.isclose(float(parts.sum()), total, rel_tol=1e-9, abs_tol=1e-6):
            raise RuntimeError(f"internal error: group {group}: statuses add up to {parts.sum()} not {total}")


def _summary(units: gpd.GeoDataFrame) -> pd.DataFrame:
    rows = []
    for group, frame in units.groupby("group", sort=True, observed=True):
        pop = frame["population"]
        by = frame.groupby("status", observed=False)["population"].sum()
        n_by = frame["status"].value_counts()
        total = float(pop.sum())
        circle = float(pop[frame["circle_covered"]].sum())
        covered = float(by.get("covered", 0.0))
        rows.append(
            {
                "group": group,
                "units": len(frame),
                "total": total,
                "covered": covered,
                "uncovered": float(by.get("uncovered", 0.0)),
                "unreachable": float(by.get("unreachable", 0.0)),
                "units_covered": int(n_by.get("covered", 0)),
                "units_uncovered": int(n_by.get("uncovered", 0)),
                "units_unreachable": int(n_by.get("unreachable", 0)),
                "covered_share": covered / total if total else 0.0,
                "circle_covered": circle,
                "circle_share": circle / total if total else 0.0,
                "circle_overstatement_pp": 100.0 * (circle - covered) / total if total else 0.0,
                "estimate": bool(frame["estimate"].any()),
            }
        )
    return pd.DataFrame(rows)


def _halls_table(
    sites: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    nearest: npt.NDArray[np.int64],
    status: npt.NDArray[np.str_],
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    id_col: str,
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "site_id": sites[id_col].astype(str).to_numpy(),
            "name": sites["name"].astype(str).to_numpy() if "name" in sites else sites[id_col].astype(str).to_numpy(),
            "snapped": sites["snapped"].to_numpy(),
            "access_m": sites["access_m"].to_numpy(),
        }
    )
    pop = units["population"].to_numpy()
    groups = units["group"].to_numpy()
    covered = status == "covered"
    hall_pos, unit_pos = pairs
    for group in sorted(set(groups)):
        in_group = groups == group
        sel = covered & in_group & (nearest >= 0)
        served = np.bincount(nearest[sel], weights=pop[sel], minlength=len(sites))
        sel_pairs = in_group[unit_pos]
        within = np.bincount(hall_pos[sel_pairs], weights=pop[unit_pos[sel_pairs]], minlength=len(sites))
        suffix = "" if group == "residents" else f"_{group}"
        table[f"population_served{suffix}"] = served
        table[f"population_within{suffix}"] = within
    return table


def _areas_table(
    units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, name_col: str | None, net: WalkNetwork
) -> pd.DataFrame:
    if areas.crs is None:
        raise CoverageInputError("areas have no CRS; set it with .set_crs('EPSG:4326').")
    polys = areas.to_crs(net.crs).reset_index(drop=True)
    if name_col is None:
        name_col = next((c for c in polys.columns if c != polys.geometry.name and polys[c].dtype == object), None)
    names = polys[name_col].astype(str) if name_col else pd.Series([f"area-{i}" for i in range(len(polys))])
    joined = gpd.sjoin(
        units[["group", "population", "status", "circle_covered", "geometry"]],
        polys[[polys.geometry.name]],
        how="left",
        predicate="within",
    )
    # A unit on a shared border joins twice: keep the first area (lowest index).
    joined = joined[~joined.index.duplicated(keep="first")]
    area = joined["index_right"].map(lambda i: names.iloc[int(i)] if pd.notna(i) else "(outside the areas)")
    frame = pd.DataFrame(
        {
            "area": area.to_numpy(),
            "group": joined["group"].to_numpy(),
            "status": joined["status"].astype(str).to_numpy(),
            "population": joined["population"].to_numpy(),
            "circle": joined["population"].to_numpy() * joined["circle_covered"].to_numpy(),
        }
    )
    table = frame.pivot_table(
        index=["area", "group"],
        columns="status",
        values="population",
        aggfunc="sum",
        fill_value=0.0,
        observed=False,
    )
    for s in STATUSES:
        if s not in table.columns:
            table[s] = 0.0
    table = table[list(STATUSES)]
    table["total"] = table.sum(axis=1)
    table["circle_covered"] = frame.groupby(["area", "group"])["circle"].sum()
    table["covered_share"] = table["covered"] / table["total"].where(table["total"] > 0)
    table["circle_share"] = table["circle_covered"] / table["total"].where(table["total"] > 0)
    table.columns.name = None
    return table.reset_index()
