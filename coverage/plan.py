"""Planning new sites: the frame layer around the optimizer.

Data flow: the assessment of the existing halls (:class:`CoverageResult`,
with its residents already snapped) and the candidate sites
(:class:`coverage.candidates.Candidates`, snapped once) give the sparse
coverage matrix (:mod:`coverage._matrix`); :mod:`coverage.optimize` chooses
sites on it (existing halls fixed open); the new sites are then checked by
assessing coverage again with them added, on the network, and the gain must
equal the optimizer's objective.
"""

from __future__ import annotations

import html
import math
import numbers
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._defaults import (
    DEFAULT_K,
    DEFAULT_MAX_NODES,
    DEFAULT_MAX_SNAP_M,
    DEFAULT_TARGET_SHARE,
    DEFAULT_TIME_LIMIT_S,
    DEFAULT_WALK_SPEED_KMH,
)
from ._errors import CoverageInputError, CoverageInternalError, CoverageWarning
from ._frames import site_frame
from ._matrix import CoverageMatrix, coverage_matrix
from ._plan_models import ModelOptions, gain_on_matrix, rows_needed, select
from ._types import FloatArray
from ._validate import as_count, as_share
from .assess import CoverageResult, assess_coverage, group_radii
from .candidates import Candidates, build_candidates, network_candidates
from .network import WalkNetwork
from .optimize import SiteSelection, solve_coverage
from .service_areas import ServiceAreas, service_areas
from .sites import snap_points

__all__ = [
    "Candidates",
    "CoverageMatrix",
    "SitePlan",
    "build_candidates",
    "coverage_matrix",
    "network_candidates",
    "plan_sites",
]


@dataclass(frozen=True, eq=False)
class SitePlan:
    """Proposed new sites and what they add.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The chosen sites in build order: ``rank``, ``candidate_id``,
        ``source``, ``name``, ``marginal_population`` (weighted residents the
        site adds, given the sites before it), ``cumulative_population``,
        geometry (network CRS).
    areas : ServiceAreas or None
        Service areas of the new sites (None when there are none).
    selection : coverage.optimize.SiteSelection
        The optimizer's result with its certificate (bound, gap, method).
    target : coverage.optimize.SiteSelection or None
        The fewest sites reaching ``target_share`` (None if not asked or unreachable).
    target_note : str
        What the target question found (or why it cannot be met).
    curve : pandas.DataFrame
        Best covered weight for k = 0..k_max (empty when not asked).
    before, after : CoverageResult
        Coverage with the existing halls, and with the new sites added.
    candidates : Candidates
        The candidate sites the optimizer chose from.
    group : str
        The demand group whose coverage the headline reports.
    counts : dict
        Candidates by source, exclusions, matrix size.
    timings : dict
        Seconds per step.
    """

    sites: gpd.GeoDataFrame
    areas: ServiceAreas | None
    selection: SiteSelection
    target: SiteSelection | None
    target_note: str
    curve: pd.DataFrame
    before: CoverageResult
    after: CoverageResult
    candidates: Candidates
    group: str
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def headline(self) -> str:
        """One paragraph with the before/after numbers and the certificate."""
        b = self.before.summary.set_index("group").loc[self.group]
        a = self.after.summary.set_index("group").loc[self.group]
        sel = self.selection
        if sel.optimal:
            cert = "proven optimal"
        else:
            cert = f"not proven optimal: within {sel.gap:.2%} of the best possible (upper bound {sel.upper_bound:,.0f})"
        gain = a.covered - b.covered
        return (
            f"{len(self.sites)} new site(s) raise coverage of {self.group} from {b.covered:,.0f} "
            f"({b.covered_share:.1%}) to {a.covered:,.0f} ({a.covered_share:.1%}), +{gain:,.0f}; "
            f"{cert}, by {sel.method} in {sel.time_s:.2f} s. {self.target_note}"
        ).strip()

    def __repr__(self) -> str:
        return f"SitePlan({len(self.sites)} sites)\n{self.headline()}"

    def _repr_html_(self) -> str:
        from ._format import frame_html

        table = frame_html(self.sites)
        curve = frame_html(self.curve)
        return (
            f"<p><b>Proposed sites</b></p><p>{html.escape(self.headline())}</p>{table}"
            f"<details><summary>Coverage curve</summary>{curve}</details>"
        )

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write proposed_sites, proposed_service_areas, coverage_after and coverage_curve to a GeoPackage."""
        from .io import plan_layers, write_gpkg

        return write_gpkg(plan_layers(self), path)

    def to_excel(self, path: str | os.PathLike[str], *, lang: str = "zh") -> Path:
        """Write proposed_sites, coverage_after and coverage_curve as a workbook (:func:`coverage.io.write_xlsx`)."""
        from .io import plan_layers, write_xlsx

        return write_xlsx(plan_layers(self), path, lang=lang)


def plan_sites(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    before: CoverageResult,
    candidates: Candidates | None = None,
    *,
    k: int = DEFAULT_K,
    k_max: int | None = 20,
    target_share: float | None = DEFAULT_TARGET_SHARE,
    radius_m: float | None = None,
    minutes: float | None = None,
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH,
    group_walk_speed_kmh: Mapping[str, float] | None = None,
    id_col: str = "site_id",
    name_col: str | None = "name",
    group: str = "residents",
    group_weights: dict[str, float] | None = None,
    method: Literal["exact", "greedy"] = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    capacity_col: str | None = None,
    visits_per_resident: float | None = None,
    new_site_capacity: float | None = None,
    backup: bool = False,
    fairness_col: str | None = None,
) -> SitePlan:
    """Propose new sites that close the coverage gaps.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Existing halls (fixed open), as given to the assessment ``before``.
    before : CoverageResult
        Coverage with the existing halls; its units are the demand and their
        snapping is reused.
    candidates : Candidates, optional
        Where new sites may go, from :func:`coverage.candidates.build_candidates`.
        Default: positions every 50 m along the streets plus the centres of
        ``before``'s gaps.
    k : int, default 5
        New sites to choose (maximum coverage). ``k = 0`` is the baseline.
    k_max : int or None, default 20
        Largest k of the coverage curve (None: no curve).
    target_share : float or None, default 0.95
        Also find the fewest sites reaching this share of the weighted
        residents (None: do not ask).
    radius_m, minutes, walk_speed_kmh, group_walk_speed_kmh
        The walking threshold, in metres or in minutes at each group's
        walking speed (as in :func:`coverage.assess.assess_coverage`).
        Default: the thresholds of ``before``. Other thresholds assess the
        existing halls again with them first.
    id_col, name_col : str
        Id and name columns of ``halls``.
    group : str, default "residents"
        The demand group whose coverage the headline reports.
    group_weights : dict, optional
        Weight per group in the objective (e.g. ``{"residents": 1,
        "elderly": 2}`` counts an elderly resident three times: once as a
        resident, twice more as elderly). Default: only ``group``, weight 1.
    method : {"exact", "greedy"}
        Exact MILP (HiGHS) or lazy greedy with swaps and an LP-bound gap.
    time_limit_s : float, default 60
        Safety net for the optimizer (all questions together); a result it
        stops is marked not proven, with its gap (machine-dependent).
    max_nodes : int, default 2000
        Branch-and-bound nodes allowed to each MILP: the deterministic work
        limit, so the same input gives the same plan on every machine.
    max_snap_m : float, default 300
        Largest walk from a hall (and from default candidates) to its street,
        as in the assessment.
    areas : GeoDataFrame, optional
        Polygons to tabulate the "after" coverage by.
    area_name_col : str, optional
        Column naming each area.
    capacity_col, visits_per_resident, new_site_capacity
        Capacitated model: each hall serves at most ``capacity_col`` residents
        (a column of ``halls``; divided by ``visits_per_resident`` when it
        counts visits a day) and each new site ``new_site_capacity``; the ``k``
        sites then maximise the residents *served* within capacity
        (:func:`coverage.optimize.capacitated_coverage`).
    backup : bool, default False
        Most coverage, then the most residents within reach of a second site
        (:func:`coverage.optimize.max_backup_coverage`).
    fairness_col : str, optional
        Column of the assessed units naming each resident's group (e.g.
        ``"community"``): the ``k`` sites maximise the worst group's covered
        share, then coverage (:func:`coverage.optimize.max_min_coverage`).

    Only one of the three models can be asked at a time; the curve and the
    target question always use plain coverage. Group weights apply to all.

    Returns
    -------
    SitePlan
    """
    timings: dict[str, float] = {}
    k = as_count(k, name="k")
    if k_max is not None:
        k_max = as_count(k_max, name="k_max")
    if target_share is not None:
        target_share = as_share(target_share, name="target_share")
    halls = site_frame(halls, id_col=id_col, name_col=name_col)
    model = ModelOptions(
        capacity_col=capacity_col,
        visits_per_resident=visits_per_resident,
        new_site_capacity=new_site_capacity,
        backup=bool(backup),
        fairness_col=fairness_col,
    )
    kind = model.kind
    t = time.perf_counter()
    if radius_m is not None or minutes is not None or group_walk_speed_kmh is not None:
        options: dict[str, Any] = {
            "radius_m": radius_m,
            "minutes": minutes,
            "walk_speed_kmh": walk_speed_kmh,
            "group_walk_speed_kmh": group_walk_speed_kmh,
        }
        groups = sorted(before.units["group"].astype(str).unique().tolist())
        if group_radii(groups, **options)[0] != before.radius_by_group:
            before = _assess(net, halls, before, options, max_snap_m, areas, area_name_col)
    radius = before.radius_m
    if candidates is None:
        candidates = build_candidates(net, gaps=before.gaps, max_snap_m=max_snap_m)
    elif not isinstance(candidates, Candidates):
        raise CoverageInputError(
            f"candidates must be a Candidates result (from coverage.candidates.build_candidates), got "
            f"{type(candidates).__name__}; wrap a frame of possible sites with build_candidates(net, "
            "spacing_m=None, sites=frame, id_col=...)."
        )
    if str(candidates.points.crs) != str(net.crs):
        raise CoverageInputError("candidates were built for another network (CRS differs); build them on this one.")
    if k > len(candidates):
        raise CoverageInputError(
            f"k={k} is more than the {len(candidates)} candidate sites; lower k or add candidates."
        )
    counts = dict(candidates.counts)
    timings["candidates"] = time.perf_counter() - t

    t = time.perf_counter()
    units = before.units
    weights = _weights(units, group, group_weights)
    unit_snap = before.unit_snap if before.unit_snap is not None else snap_points(net, units, max_snap_m=max_snap_m)
    threshold = units["threshold_m"].to_numpy(dtype=np.float64)
    already = (units["status"].astype(str) == "covered").to_numpy()
    wanted = rows_needed(kind, ~already, weights)  # rows the models can still gain on
    matrix = coverage_matrix(net, unit_snap, candidates.snap, radius_m=threshold, rows=wanted, distances=False)
    cover = matrix.cover
    timings["matrix"] = time.perf_counter() - t
    counts["matrix_nonzeros"] = matrix.nnz
    counts["candidates"] = len(candidates)
    counts["demand_units"] = len(units)

    t = time.perf_counter()
    solved = solve_coverage(
        cover,
        weights,
        k=k,
        k_max=None if k_max is None else min(k_max, len(candidates)),
        target_share=target_share,
        already_covered=already,
        method=method,
        time_limit_s=time_limit_s,
        max_nodes=max_nodes,
    )
    selection, target = solved.selection, solved.target
    if kind != "coverage":
        selection = select(
            model,
            net=net,
            halls=halls,
            units=units,
            unit_snap=unit_snap,
            threshold=threshold,
            cover=cover,
            weights=weights,
            already=already,
            k=k,
            time_limit_s=time_limit_s,
            max_nodes=max_nodes,
            max_snap_m=max_snap_m,
        )
    timings["optimize"] = time.perf_counter() - t
    curve = solved.curve if solved.curve is not None else pd.DataFrame()
    if target_share is None:
        target_note = ""
    elif target is None:
        target_note = f"The {target_share:.0%} target cannot be met: {solved.target_error}"
    else:
        target_note = (
            f"Reaching {target_share:.0%} of weighted residents takes {len(target.sites)} new site(s)"
            + ("" if target.optimal else f" (best found; at least {target.sites_lower_bound} needed)")
            + "."
        )

    t = time.perf_counter()
    sites = _sites_table(candidates, selection)
    new_halls = gpd.GeoDataFrame(
        {"site_id": sites["candidate_id"].astype(str), "name": [f"New site {r}" for r in sites["rank"]]},
        geometry=sites.geometry.to_numpy(),
        crs=net.crs,
    )
    new_areas = service_areas(net, new_halls, radius_m=radius, max_snap_m=max_snap_m) if len(new_halls) else None
    combined = gpd.GeoDataFrame(
        pd.concat([halls[["site_id", "name", "geometry"]].to_crs(net.crs), new_halls], ignore_index=True),
        geometry="geometry",
        crs=net.crs,
    )
    after = _assess(net, combined, before, _threshold_options(before), max_snap_m, areas, area_name_col)
    timings["after"] = time.perf_counter() - t
    _check_consistency(before, after, gain_on_matrix(cover, selection.sites, weights, already), weights)
    if kind != "capacitated":  # the objective is the newly covered weight itself
        _check_consistency(before, after, selection.objective, weights)
    return SitePlan(
        sites=sites,
        areas=new_areas,
        selection=selection,
        target=target,
        target_note=target_note,
        curve=curve,
        before=before,
        after=after,
        candidates=candidates,
        group=group,
        counts=counts,
        timings=timings,
    )


def _assess(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    before: CoverageResult,
    options: dict[str, Any],
    max_snap_m: float,
    areas: gpd.GeoDataFrame | None,
    area_name_col: str | None,
) -> CoverageResult:
    """Assess ``before``'s units again with other halls or thresholds, reusing their snapping."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # already reported by the first assessment
        return assess_coverage(
            net,
            halls,
            before.demand if before.demand is not None else before.units[_demand_columns(before.units)],
            **options,
            max_snap_m=max_snap_m,
            areas=areas,
            area_name_col=area_name_col,
        )


def _threshold_options(before: CoverageResult) -> dict[str, Any]:
    """Return the options of :func:`assess_coverage` that give ``before``'s thresholds again."""
    if before.minutes is None:
        return {"radius_m": before.radius_m}
    per_minute = {g: r / before.minutes for g, r in before.radius_by_group.items()}
    return {
        "minutes": before.minutes,
        "walk_speed_kmh": before.walk_speed_kmh,
        "group_walk_speed_kmh": {g: m * 60.0 / 1000.0 for g, m in per_minute.items()},
    }


def _sites_table(candidates: Candidates, selection: SiteSelection) -> gpd.GeoDataFrame:
    chosen = np.asarray(selection.sites, dtype=np.int64)
    sites = candidates.points.iloc[chosen].reset_index(drop=True)
    sites.insert(0, "rank", np.arange(1, len(sites) + 1))
    sites["marginal_population"] = np.asarray(selection.marginal_weight, dtype=np.float64)
    sites["cumulative_population"] = np.cumsum(sites["marginal_population"].to_numpy())
    cols = ["rank", "candidate_id", "source", "name", "marginal_population", "cumulative_population", "geometry"]
    return gpd.GeoDataFrame(sites[cols], geometry="geometry", crs=candidates.points.crs)


def _demand_columns(units: gpd.GeoDataFrame) -> list[str]:
    keep = ["demand_id", "group", "population", "estimate", "source_id", "geometry"]
    return [c for c in keep if c in units.columns]


def _weights(units: gpd.GeoDataFrame, group: str, group_weights: dict[str, float] | None) -> FloatArray:
    groups = units["group"].astype(str).to_numpy()
    if group not in set(groups):
        raise CoverageInputError(f"group={group!r} is not in the demand; groups are {sorted(set(groups))}.")
    gw = group_weights if group_weights is not None else {group: 1.0}
    unknown = set(gw) - set(groups)
    if unknown:
        raise CoverageInputError(
            f"group_weights name groups not in the demand: {sorted(unknown)}; groups are {sorted(set(groups))}."
        )
    w = np.zeros(len(units))
    for g, value in gw.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value >= 0):
            raise CoverageInputError(f"group_weights[{g!r}]={value!r}: give a weight >= 0.")
        w[groups == g] = value
    return np.asarray(units["population"].to_numpy(dtype=np.float64) * w, dtype=np.float64)


def _check_consistency(before: CoverageResult, after: CoverageResult, claimed: float, weights: FloatArray) -> None:
    """Check that a claimed gain equals what the new sites add on the network (an independent assessment)."""
    covered_before = (before.units["status"].astype(str) == "covered").to_numpy()
    covered_after = (after.units["status"].astype(str) == "covered").to_numpy()
    if bool((covered_before & ~covered_after).any()):
        raise CoverageInternalError("adding sites left a resident covered before uncovered")
    gained = float(weights[covered_after & ~covered_before].sum())
    if not math.isclose(gained, float(claimed), rel_tol=1e-9, abs_tol=1e-6):
        raise CoverageInternalError(
            f"the optimizer claims {claimed:.6f} newly covered but the network assessment finds {gained:.6f}"
        )
