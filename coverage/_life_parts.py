"""Parts of the life-circle step, per facility: capacity (loads, over capacity, 2SFCA), backup, fairness.

The frame-layer wrapper around :func:`coverage.capacity.allocate_capacity`
and :func:`coverage.accessibility.two_step_fca`: the sites within the
facility's threshold of each resident are listed once (a bounded search from
the sites over the residents already on the network) and both kernels run on
those pairs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import CoverageInputError, CoverageWarning
from ._frames import site_frame
from ._pairs import Pairs, pairs_from_search
from ._reach import reach_from_sites
from ._types import BoolArray, FloatArray, IntArray
from .accessibility import two_step_fca
from .assess import CoverageResult
from .backup import backup_from_counts
from .capacity import allocate_capacity
from .fairness import fairness
from .network import WalkNetwork
from .sites import snap_sites
from .standards import Standard

__all__ = [
    "CAPACITY_COLUMNS", "LOAD_COLUMNS", "Facility", "area_names", "backup_rows", "capacity_tables", "capacity_values",
    "facility_mapping", "fairness_rows", "find_facility", "residents_frame",
]


@dataclass(frozen=True, eq=False)
class Facility:
    """One facility of the life-circle step (the halls or a service), per demand unit.

    Attributes
    ----------
    key, name : str
        ``halls`` or the service key; display name.
    n_sites : int
    sites : GeoDataFrame or None
        The sites as given (None when not needed: no capacity).
    id_col, name_col : str
        Their id and name columns.
    distance_m, covered, within : numpy.ndarray
        Per demand unit: walk to the nearest site, covered at its group's
        threshold, sites within that threshold.
    threshold_m : dict
        Threshold in metres per group.
    """

    key: str
    name: str
    n_sites: int
    sites: gpd.GeoDataFrame | None
    id_col: str
    name_col: str | None
    distance_m: FloatArray
    covered: BoolArray
    within: IntArray
    threshold_m: dict[str, float]


CAPACITY_COLUMNS = [
    "facility", "name", "population", "served", "over_capacity", "out_of_reach", "served_share", "sites",
    "full_sites", "mean_walk_m", "mean_2sfca", "method",
]
LOAD_COLUMNS = [
    "facility", "site_id", "name", "capacity_given", "capacity_residents", "load", "load_share", "population_within",
    "unserved_within", "full", "supply_ratio",
]


def capacity_tables(
    net: WalkNetwork, cov: CoverageResult, fac: Facility, column: str, rate: float | None, main: str
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, np.ndarray]]:
    """Allocate the main group to the facility's sites within its threshold; 2SFCA on the same pairs.

    Returns
    -------
    (dict, DataFrame, dict)
        The facility's row of the capacity table, its rows of the loads table
        (one per site), and per-unit columns (``<key>_served``,
        ``<key>_over_capacity``, ``<key>_2sfca``).
    """
    if cov.demand is None:
        raise CoverageInputError("the coverage result holds no snapped demand; run assess_coverage again.")
    if fac.sites is None:
        raise CoverageInputError(f"{fac.key}: give its sites (halls=...) to use a capacity.")
    cap = capacity_values(fac.sites, column, f"{fac.key} sites")
    limit = fac.threshold_m[main]
    pairs = _pairs(net, cov, fac, limit)
    units = cov.units
    pop = np.where(units["group"].astype(str).to_numpy() == main, units["population"].to_numpy(dtype=np.float64), 0.0)
    alloc = allocate_capacity(pairs, pop, cap, visits_per_resident=rate)
    residents_cap = alloc.halls["capacity_residents"].to_numpy()
    acc = two_step_fca(pairs, pop, np.where(np.isfinite(residents_cap), residents_cap, 0.0), radius_m=limit)
    over = alloc.units["over_capacity"].to_numpy()
    unserved = np.bincount(pairs.supply, weights=over[pairs.demand], minlength=pairs.n_supply)
    names = site_frame(fac.sites, id_col=fac.id_col, name_col=fac.name_col, what=f"{fac.key} sites")
    loads = alloc.halls.drop(columns=["site", "capacity_visits"], errors="ignore").assign(
        facility=fac.key, site_id=names["site_id"].to_numpy(), name=names["name"].to_numpy(),
        capacity_given=cap, unserved_within=unserved, supply_ratio=acc.supply_ratio,
    )
    loads = loads[LOAD_COLUMNS]
    total = float(pop.sum())
    summary = {
        "facility": fac.key, "name": fac.name, "population": total, "served": alloc.served,
        "over_capacity": alloc.over_capacity, "out_of_reach": alloc.out_of_reach,
        "served_share": alloc.served / total if total else math.nan, "sites": len(cap),
        "full_sites": int(alloc.halls["full"].sum()),
        "mean_walk_m": alloc.total_distance_m / alloc.served if alloc.served else math.nan,
        "mean_2sfca": float((pop * acc.score).sum() / total) if total else math.nan,
        "method": acc.method,
    }
    extra = {
        f"{fac.key}_served": alloc.units["served"].to_numpy(),
        f"{fac.key}_over_capacity": over,
        f"{fac.key}_2sfca": acc.score,
    }
    return summary, loads, extra


def capacity_values(sites: pd.DataFrame, column: str, what: str) -> FloatArray:
    """Return a capacity column as numbers >= 0 (inf: no limit), or a clear error naming the sites.

    Parameters
    ----------
    sites : DataFrame
        Sites with ``site_id`` (as read by :func:`coverage.sites.read_sites`) or their own ids.
    column : str
        The capacity column.
    what : str
        What the sites are, for messages (e.g. ``"[halls] halls.csv"``).
    """
    if column not in sites.columns:
        raise CoverageInputError(
            f"{what}: no capacity column {column!r}; columns are {list(sites.columns)[:20]}. Fix capacity_col."
        )
    raw = sites[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) | (values < 0) | np.isneginf(values))
    if bad.size:
        ids = sites["site_id"] if "site_id" in sites.columns else pd.Series(sites.index)
        raise CoverageInputError(
            f"{what}: capacity column {column!r} must hold numbers >= 0 (inf for no limit); sites "
            f"{ids.iloc[bad[:10]].astype(str).tolist()} hold {raw.iloc[bad[:10]].tolist()}."
        )
    return values


def _pairs(net: WalkNetwork, cov: CoverageResult, fac: Facility, limit: float) -> Pairs:
    assert cov.demand is not None
    assert fac.sites is not None
    sites = site_frame(fac.sites, id_col=fac.id_col, name_col=fac.name_col, what=f"{fac.key} sites")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # unsnapped sites: reported by the assessment
        _, snap = snap_sites(net, sites, max_snap_m=cov.demand.max_snap_m)
    reach = reach_from_sites(net, snap, cov.demand.snap, limit=limit)
    keep = reach.pair_distance <= limit
    return pairs_from_search(
        reach.pair_site[keep], reach.pair_unit[keep], reach.pair_distance[keep],
        n_halls=len(sites), n_units=len(cov.units),
    )


def area_names(units: pd.DataFrame) -> tuple[str, np.ndarray]:
    for level, col in (("community", "community"), ("subdistrict", "area")):
        if col in units.columns:
            names = units[col].to_numpy(dtype=object)
            return level, np.array(["(outside the areas)" if pd.isna(v) else str(v) for v in names], dtype=object)
    return "all", np.full(len(units), "(all)", dtype=object)


def backup_rows(fac: Facility, units: pd.DataFrame, when: str, min_sites: int) -> pd.DataFrame:
    group = units["group"].astype(str).to_numpy()
    pop = units["population"].to_numpy(dtype=np.float64)
    rows = []
    for g in sorted(set(group)):
        sel = group == g
        b = backup_from_counts(fac.within[sel], pop[sel], min_sites=min_sites)
        rows.append(
            {
                "facility": fac.key, "name": fac.name, "when": when, "group": g, "population": b.total,
                "covered": b.covered, "backup": b.backup,
                "covered_share": b.covered / b.total if b.total else math.nan,
                "backup_share": b.backup / b.total if b.total else math.nan,
                "min_sites": min_sites,
            }
        )
    return pd.DataFrame(rows)


def fairness_rows(
    fac: Facility, units: pd.DataFrame, area_names: np.ndarray, main: str, when: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "population": units["population"].to_numpy(dtype=np.float64),
            "group": units["group"].astype(str).to_numpy(),
            "community": area_names,
            "covered": fac.covered,
            "distance_m": fac.distance_m,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # unreachable residents: reported by the coverage step
        res = fairness(
            frame, covered_col="covered", community_col="community", group_col="group",
            overall_group=main if frame["group"].nunique() > 1 else None,
        )
    tag = {"facility": fac.key, "name": fac.name, "when": when}
    return res.indices.assign(**tag), res.communities.assign(**tag)


def find_facility(facs: list[Facility], key: str) -> Facility:
    for f in facs:
        if f.key == key:
            return f
    raise CoverageInputError(f"no facility {key!r} in this run; facilities: {[f.key for f in facs]}.")


def facility_mapping(facs: list[Facility], std: Standard | None, given: Mapping[str, str] | None) -> dict[str, str]:
    if std is None:
        return {}
    types = set(std.facilities["key"])
    if given is not None:
        for key, fac in given.items():
            find_facility(facs, key)
            if fac not in types:
                raise CoverageInputError(f"facilities[{key!r}] = {fac!r} is not a facility type of {std.code}.")
        return dict(given)
    return {f.key: f.key for f in facs if f.key in types}


def residents_frame(units: pd.DataFrame, facs: list[Facility]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "demand_id": units["demand_id"].astype(str).to_numpy(),
            "group": units["group"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=np.float64),
        }
    )
    for level, col in (("community", "community"), ("subdistrict", "area")):
        if col in units.columns:
            out[level] = units[col].to_numpy(dtype=object)
    for f in facs:
        out[f"{f.key}_m"] = f.distance_m
        out[f"{f.key}_covered"] = f.covered
    return out
