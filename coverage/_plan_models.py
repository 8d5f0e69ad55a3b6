"""The life-circle models behind :func:`coverage.plan.plan_sites`: capacity, backup, max-min.

Frame-side glue: reads the capacity column of the halls, the group column of
the residents and the halls-within counts of the assessment, builds the
extra matrix columns a model needs (existing halls, for capacity) and calls
the array-only model in :mod:`coverage.optimize`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from ._errors import CoverageInputError
from ._matrix import coverage_matrix
from ._snap import Snap
from ._types import BoolArray, FloatArray
from .network import WalkNetwork
from .optimize import SiteSelection, capacitated_coverage, max_backup_coverage, max_min_coverage
from .sites import snap_points

Kind = Literal["coverage", "capacitated", "backup", "max_min"]


@dataclass(frozen=True)
class ModelOptions:
    """Which model chooses the ``k`` sites (see :func:`coverage.plan.plan_sites`)."""

    capacity_col: str | None = None
    visits_per_resident: float | None = None
    new_site_capacity: float | None = None
    backup: bool = False
    fairness_col: str | None = None

    @property
    def kind(self) -> Kind:
        """The model these options ask for; at most one may be asked."""
        asked: list[Kind] = []
        if self.capacity_col is not None or self.new_site_capacity is not None:
            asked.append("capacitated")
        if self.backup:
            asked.append("backup")
        if self.fairness_col is not None:
            asked.append("max_min")
        if len(asked) > 1:
            raise CoverageInputError(
                f"plan_sites: choose one model, got {asked} (capacity_col/new_site_capacity, backup=True, "
                "fairness_col); run plan_sites once per model to compare them."
            )
        return asked[0] if asked else "coverage"


def rows_needed(kind: Kind, uncovered: BoolArray, weights: FloatArray) -> BoolArray:
    """Demand rows the model needs in the matrix: covered ones too for capacity and backup."""
    return (weights > 0) if kind in ("capacitated", "backup") else (uncovered & (weights > 0))


def select(
    options: ModelOptions,
    *,
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    unit_snap: Snap,
    threshold: FloatArray,
    cover: sp.csc_array,
    weights: FloatArray,
    already: BoolArray,
    k: int,
    time_limit_s: float,
    max_nodes: int,
    max_snap_m: float,
) -> SiteSelection:
    """Run the asked life-circle model and return its selection (candidate columns)."""
    kind = options.kind
    if kind == "backup":
        existing = units["halls_within"].to_numpy(dtype=np.int64) if "halls_within" in units else None
        return max_backup_coverage(cover, weights, k, existing=existing, time_limit_s=time_limit_s, max_nodes=max_nodes)
    if kind == "max_min":
        col = str(options.fairness_col)
        if col not in units.columns:
            raise CoverageInputError(
                f"fairness_col={col!r} is not a column of the assessed units (columns: {list(units.columns)}); "
                "assess with communities= (column 'community') or areas= (column 'area') first."
            )
        groups = units[col].astype(str).fillna("(none)").to_numpy()
        return max_min_coverage(
            cover, weights, k, groups=groups, already_covered=already, time_limit_s=time_limit_s, max_nodes=max_nodes
        )
    # capacitated: the existing halls become fixed columns with their capacities
    hall_capacity = _hall_capacity(halls, options)
    hall_snap = snap_points(net, halls, max_snap_m=max_snap_m)
    hall_cover = coverage_matrix(net, unit_snap, hall_snap, radius_m=threshold, rows=weights > 0, distances=False).cover
    population = units["population"].to_numpy(dtype=np.float64)
    value = np.divide(weights, population, out=np.zeros_like(weights), where=population > 0)
    new_cap = (
        math.inf if options.new_site_capacity is None else _positive(options.new_site_capacity, "new_site_capacity")
    )
    n_new = cover.shape[1]
    return capacitated_coverage(
        sp.hstack([cover, hall_cover], format="csc"),
        population,
        k,
        capacity=np.concatenate([np.full(n_new, new_cap), hall_capacity]),
        fixed=np.arange(n_new, n_new + len(halls)),
        value=value,
        time_limit_s=time_limit_s,
        max_nodes=max_nodes,
    )


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (float(value) > 0):
        raise CoverageInputError(f"{name}={value!r}: give a number > 0 (residents a site can serve).")
    return float(value)


def _hall_capacity(halls: gpd.GeoDataFrame, options: ModelOptions) -> FloatArray:
    """Residents each hall can serve: ``capacity_col`` (divided by ``visits_per_resident``), else no limit."""
    if options.capacity_col is None:
        return np.full(len(halls), math.inf)
    col = options.capacity_col
    if col not in halls.columns:
        raise CoverageInputError(f"capacity_col={col!r} is not a column of the halls (columns: {list(halls.columns)}).")
    values = np.asarray(halls[col].to_numpy(dtype=np.float64))
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        ids = halls["site_id"].astype(str).to_numpy()[bad][:10].tolist()
        raise CoverageInputError(
            f"halls {ids} have no valid {col!r} (missing, negative or infinite); give every hall a capacity >= 0."
        )
    rate = 1.0 if options.visits_per_resident is None else _positive(options.visits_per_resident, "visits_per_resident")
    return values / rate


def gain_on_matrix(cover: sp.csc_array, sites: np.ndarray, weights: FloatArray, already: BoolArray) -> float:
    """Weight newly within reach of the given candidate columns, read off the matrix."""
    reached = np.zeros(cover.shape[0], dtype=bool)
    for j in np.asarray(sites, dtype=np.int64).tolist():
        reached[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
    return math.fsum(weights[reached & ~already].tolist())
