"""Planning new sites: candidates, the network coverage matrix, and the models.

Data flow: candidate positions (network positions thinned to a spacing, gap
centres, a user file; minus exclusion polygons) and demand units are snapped
onto the network; a sparse matrix of which candidate reaches which unit within
the radius is built with bounded searches from whichever side is smaller;
then :mod:`coverage.optimize` chooses sites (existing halls fixed open) and the
result is checked by assessing coverage again with the new sites added.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from ._errors import CoverageInputError, CoverageWarning
from ._search import augment, locate, within_located
from .assess import CoverageResult, assess_coverage
from .network import WalkNetwork
from .optimize import coverage_curve, max_coverage, target_coverage
from .service_areas import ServiceAreas, service_areas
from .sites import DEFAULT_MAX_SNAP_M, Snap, _geometry_index, snap_points

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------


def network_candidates(net: WalkNetwork, *, spacing_m: float = 50.0) -> gpd.GeoDataFrame:
    """Positions along every street, about ``spacing_m`` apart.

    Points are placed every ``spacing_m`` along each edge (and at each edge's
    middle when it is shorter). Around junctions, where the ends of several
    edges meet, positions closer than half the spacing to an already kept one
    are dropped: a greedy pass in edge order over the neighbours found by
    scikit-learn's KD-tree, so the result is deterministic and no two kept
    positions are closer than ``spacing_m / 2``.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    spacing_m : float, default 50
        Distance between candidate positions along a street.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``n<k>``), ``source`` = ``"network"``, points in the
        network's CRS.
    """
    from sklearn.neighbors import KDTree

    from ._geometry import sample_pieces

    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise CoverageInputError(f"spacing_m={spacing_m!r}: give a spacing > 0 m (50 m is usual).")
    length = net.edge_length_m
    n_per = np.maximum(1, np.floor(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(net.n_edges), n_per)
    k = np.arange(edge.size) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    t = (k + 0.5) * (length[edge] / n_per[edge])
    xy, _ = sample_pieces(_geometry_index(net), edge, t, t, step=1.0)
    xy = xy[::2]  # sample_pieces returns both ends of each zero-length piece
    neighbours = KDTree(xy).query_radius(xy, r=spacing_m / 2.0)
    dropped = np.zeros(xy.shape[0], dtype=bool)
    for i, near in enumerate(neighbours):
        if not dropped[i]:
            dropped[near[near > i]] = True
    keep = np.flatnonzero(~dropped)
    return gpd.GeoDataFrame(
        {"candidate_id": [f"n{i}" for i in range(keep.size)], "source": "network"},
        geometry=gpd.points_from_xy(xy[keep, 0], xy[keep, 1]),
        crs=net.crs,
    )


def build_candidates(
    net: WalkNetwork,
    *,
    network_spacing_m: float | None = 50.0,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    site_id_col: str = "site_id",
    exclude: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Gather candidate sites from the network, gap centres and a user file.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    network_spacing_m : float or None, default 50
        Spacing of network candidates; None for none.
    gaps : GeoDataFrame, optional
        Gap areas (``gap_id``, ``centroid_x``, ``centroid_y``) whose centres
        become candidates.
    sites : GeoDataFrame, optional
        The user's possible sites (vacant public buildings, community rooms),
        with ids in ``site_id_col``.
    site_id_col : str, default "site_id"
        Id column of ``sites``.
    exclude : GeoDataFrame, optional
        Polygons where no site may go (parks, water, ruled-out sites).

    Returns
    -------
    (candidates, counts)
        Candidates with unique ``candidate_id`` and ``source``; counts of what
        was gathered and excluded, by source.

    Raises
    ------
    CoverageInputError
        For duplicate user site ids, or when no candidate is left.
    """
    parts = []
    counts: dict[str, int] = {}
    if network_spacing_m:
        net_c = network_candidates(net, spacing_m=network_spacing_m)
        parts.append(net_c)
        counts["network"] = len(net_c)
    if gaps is not None and len(gaps):
        g = gaps[gaps["gap_id"].astype(str).str.contains("scattered") == False]  # noqa: E712
        gap_c = gpd.GeoDataFrame(
            {"candidate_id": [f"gap-{i}" for i in g["gap_id"].astype(str)], "source": "gap"},
            geometry=gpd.points_from_xy(g["centroid_x"], g["centroid_y"]),
            crs=gaps.crs,
        ).to_crs(net.crs)
        parts.append(gap_c)
        counts["gap"] = len(gap_c)
    if sites is not None and len(sites):
        if sites.crs is None:
            raise CoverageInputError("candidate sites have no CRS; set it with .set_crs(...).")
        ids = sites[site_id_col].astype(str)
        dup = ids[ids.duplicated(keep=False)]
        if len(dup):
            raise CoverageInputError(
                f"duplicate candidate site ids {sorted(set(dup))[:10]}; give every possible site a unique id."
            )
        file_c = gpd.GeoDataFrame(
            {
                "candidate_id": [f"site-{i}" for i in ids],
                "source": "file",
                "name": sites.get("name", ids).astype(str).to_numpy(),
            },
            geometry=sites.geometry.to_crs(net.crs).to_numpy(),
            crs=net.crs,
        )
        parts.append(file_c)
        counts["file"] = len(file_c)
    if not parts:
        raise CoverageInputError("no candidate sites: enable network candidates, gaps or a candidate file.")
    cands = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=net.crs)
    if exclude is not None and len(exclude):
        if exclude.crs is None:
            raise CoverageInputError("exclusion polygons have no CRS; set it with .set_crs(...).")
        zone = exclude.to_crs(net.crs).union_all()
        out = cands.within(zone).to_numpy() | cands.intersects(zone).to_numpy()
        counts["excluded"] = int(out.sum())
        cands = cands[~out].reset_index(drop=True)
    if len(cands) == 0:
        raise CoverageInputError(
            "no candidate site is left after the exclusions; shrink the exclusion polygons or add candidates."
        )
    return cands, counts


# --------------------------------------------------------------------------
# Coverage matrix
# --------------------------------------------------------------------------


def coverage_matrix(
    net: WalkNetwork, demand_snap: Snap, candidate_snap: Snap, radius_m: float
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Which candidate reaches which demand unit within ``radius_m``.

    Both access walks count. Searches run in bounded batches from whichever
    side is smaller; the other side is placed on the segments, so memory stays
    bounded and no dense all-pairs matrix is ever formed.

    Returns
    -------
    (cover, distance)
        ``n_demand x n_candidates`` boolean CSR matrix and the matching
        distances (same sparsity).
    """
    n_d, n_c = len(demand_snap), len(candidate_snap)
    from_candidates = int(candidate_snap.ok.sum()) <= int(demand_snap.ok.sum())
    src, tgt = (candidate_snap, demand_snap) if from_candidates else (demand_snap, candidate_snap)
    aug = augment(net, src.edge, src.offset_m, src.access_m)
    loc = locate(aug, tgt.edge, tgt.offset_m, tgt.access_m)
    ok_src = np.flatnonzero(src.ok)
    s_pos, t_pos, dist = within_located(aug, aug.point_node[ok_src], loc, limit=radius_m)
    s_idx = ok_src[s_pos]
    if from_candidates:
        rows, cols = t_pos, s_idx
    else:
        rows, cols = s_idx, t_pos
    cover = sp.csr_matrix((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n_d, n_c))
    distance = sp.csr_matrix((dist, (rows, cols)), shape=(n_d, n_c))
    return cover, distance


# --------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SitePlan:
    """Proposed new sites and what they add.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The chosen sites in build order: ``rank``, ``candidate_id``,
        ``source``, ``marginal_population`` (residents the site adds, given
        the sites before it), ``cumulative_population``, geometry (network CRS).
    areas : ServiceAreas or None
        Service areas of the new sites.
    selection : coverage.optimize.SiteSelection
        The optimizer's result with its certificate (bound, gap, method).
    target : coverage.optimize.SiteSelection or None
        The fewest sites reaching ``target_share`` (None if unreachable).
    target_note : str
        What the target question found (or why it cannot be met).
    curve : pandas.DataFrame
        Optimal covered population for k = 0..k_max.
    before, after : CoverageResult
        Coverage with the existing halls, and with the new sites added.
    candidates : geopandas.GeoDataFrame
    counts : dict
        Candidates by source, exclusions, matrix size.
    timings : dict
    """

    sites: gpd.GeoDataFrame
    areas: ServiceAreas | None
    selection: Any
    target: Any
    target_note: str
    curve: pd.DataFrame
    before: CoverageResult
    after: CoverageResult
    candidates: gpd.GeoDataFrame
    group: str
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def headline(self) -> str:
        """One paragraph with the before/after numbers and the certificate."""
        b = self.before.summary.set_index("group").loc[self.group]
        a = self.after.summary.set_index("group").loc[self.group]
        sel = self.selection
        cert = "proven optimal" if sel.optimal else f"within {sel.gap:.2%} of optimal (bound {sel.upper_bound:,.0f})"
        gain = a.covered - b.covered
        return (
            f"{len(self.sites)} new site(s) raise coverage of {self.group} from {b.covered:,.0f} "
            f"({b.covered_share:.1%}) to {a.covered:,.0f} ({a.covered_share:.1%}), +{gain:,.0f}; "
            f"{cert}, by {sel.method} in {sel.time_s:.2f} s. {self.target_note}"
        )

    def __repr__(self) -> str:
        return f"SitePlan({len(self.sites)} sites)\n{self.headline()}"

    def _repr_html_(self) -> str:
        table = self.sites.drop(columns="geometry").to_html(index=False, float_format="{:,.0f}".format)
        curve = self.curve.to_html(index=False, float_format="{:,.3f}".format)
        return (
            f"<p><b>Proposed sites</b></p><p>{self.headline()}</p>{table}"
            f"<details><summary>Coverage curve</summary>{curve}</details>"
        )

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the sites, their service areas and the curve to a GeoPackage."""
        path = Path(path)
        if path.exists():
            path.unlink()
        self.sites.to_file(path, layer="proposed_sites", driver="GPKG")
        if self.areas is not None:
            self.areas.areas.to_file(path, layer="proposed_service_areas", driver="GPKG")
        gpd.GeoDataFrame(self.curve, geometry=None).to_file(path, layer="coverage_curve", driver="GPKG")
        return path


def plan_sites(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    before: CoverageResult,
    *,
    k: int = 5,
    k_max: int | None = 20,
    target_share: float | None = 0.95,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = 50.0,
    use_gaps: bool = True,
    candidate_sites: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    group: str = "residents",
    group_weights: dict[str, float] | None = None,
    method: Literal["exact", "greedy"] = "exact",
    time_limit_s: float = 60.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
) -> SitePlan:
    """Propose new sites that close the coverage gaps.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Existing halls (fixed open).
    before : CoverageResult
        Coverage with the existing halls (its units are the demand).
    k : int, default 5
        New sites to choose (maximum coverage). ``k = 0`` is the baseline.
    k_max : int or None, default 20
        Largest k of the coverage curve (None: no curve).
    target_share : float or None, default 0.95
        Also find the fewest sites reaching this share of residents.
    candidates : GeoDataFrame, optional
        Ready-made candidates (``candidate_id``); else gathered by
        :func:`build_candidates` from the network (``spacing_m``), the gaps
        (``use_gaps``) and ``candidate_sites``, minus ``exclude``.
    spacing_m : float, default 50
        Spacing of network candidates (0: none).
    use_gaps : bool, default True
        Add the centres of the gap areas as candidates.
    candidate_sites : GeoDataFrame, optional
        The user's possible sites (``site_id``).
    exclude : GeoDataFrame, optional
        Polygons where no site may go.
    group : str, default "residents"
        The demand group whose coverage is reported.
    group_weights : dict, optional
        Weight per group in the objective (e.g. ``{"residents": 1,
        "elderly": 2}`` counts an elderly resident three times: once as a
        resident, twice more as elderly). Default: only ``group``, weight 1.
    method : {"exact", "greedy"}
        Exact MILP (HiGHS) or lazy greedy with swaps and an LP-bound gap.
    time_limit_s : float, default 60
        Per model; the best solution found and its gap are reported.
    max_snap_m : float, default 300
        Largest walk from a candidate or resident to its street.
    areas : GeoDataFrame, optional
        Polygons to tabulate the "after" coverage by.
    area_name_col : str, optional
        Column naming each area.

    Returns
    -------
    SitePlan
    """
    timings: dict[str, float] = {}
    radius = before.radius_m
    if k < 0:
        raise CoverageInputError(f"k={k}: the number of new sites must be >= 0 (0 is the baseline).")
    t = time.perf_counter()
    counts: dict[str, int] = {}
    if candidates is None:
        candidates, counts = build_candidates(
            net,
            network_spacing_m=spacing_m or None,
            gaps=before.gaps if use_gaps else None,
            sites=candidate_sites,
            exclude=exclude,
        )
    elif candidates["candidate_id"].astype(str).duplicated().any():
        dup = candidates.loc[candidates["candidate_id"].astype(str).duplicated(keep=False), "candidate_id"]
        raise CoverageInputError(f"duplicate candidate ids {sorted(set(dup.astype(str)))[:10]}; make them unique.")
    candidates = candidates.to_crs(net.crs).reset_index(drop=True)
    cand_snap = snap_points(net, candidates, max_snap_m=max_snap_m)
    off = np.flatnonzero(~cand_snap.ok)
    if off.size:
        warnings.warn(
            f"{off.size} candidate site(s) are more than {max_snap_m:g} m from any street and cannot be chosen: "
            f"{candidates['candidate_id'].astype(str).to_numpy()[off][:10].tolist()}.",
            CoverageWarning,
            stacklevel=2,
        )
        counts["off_network"] = int(off.size)
    if not cand_snap.ok.any():
        raise CoverageInputError("no candidate site lies near the network; check their coordinates and CRS.")
    timings["candidates"] = time.perf_counter() - t

    t = time.perf_counter()
    units = before.units
    weights = _weights(units, group, group_weights)
    unit_snap = snap_points(net, units, max_snap_m=max_snap_m)
    cover, _ = coverage_matrix(net, unit_snap, cand_snap, radius)
    timings["matrix"] = time.perf_counter() - t
    counts["matrix_nonzeros"] = int(cover.nnz)
    counts["candidates"] = len(candidates)
    counts["demand_units"] = len(units)
    already = (units["status"].astype(str) == "covered").to_numpy()
    if k > len(candidates):
        raise CoverageInputError(
            f"k={k} is more than the {len(candidates)} candidate sites; lower k or add candidates."
        )

    t = time.perf_counter()
    selection = max_coverage(cover, weights, k, already_covered=already, method=method, time_limit_s=time_limit_s)
    timings["max_coverage"] = time.perf_counter() - t
    target = None
    target_note = ""
    if target_share is not None:
        t = time.perf_counter()
        try:
            target = target_coverage(
                cover, weights, target_share=target_share, already_covered=already, time_limit_s=time_limit_s
            )
            target_note = (
                f"Reaching {target_share:.0%} of weighted residents takes {len(target.sites)} new site(s)"
                + ("" if target.optimal else f" (best found; gap {target.gap:.1%})")
                + "."
            )
        except CoverageInputError as exc:
            target_note = f"The {target_share:.0%} target cannot be met: {exc}"
        timings["target"] = time.perf_counter() - t
    curve = pd.DataFrame()
    if k_max is not None:
        t = time.perf_counter()
        curve = coverage_curve(
            cover,
            weights,
            min(k_max, len(candidates)),
            already_covered=already,
            method=method,
            time_limit_s=time_limit_s,
        )
        timings["curve"] = time.perf_counter() - t

    t = time.perf_counter()
    chosen = np.asarray(selection.sites, dtype=np.int64)
    sites = candidates.iloc[chosen].reset_index(drop=True)
    sites.insert(0, "rank", np.arange(1, len(sites) + 1))
    sites["marginal_population"] = np.asarray(selection.marginal_weight, dtype=np.float64)
    sites["cumulative_population"] = np.cumsum(sites["marginal_population"].to_numpy())
    new_halls = gpd.GeoDataFrame(
        {"site_id": sites["candidate_id"].astype(str), "name": [f"New site {r}" for r in sites["rank"]]},
        geometry=sites.geometry.to_numpy(),
        crs=net.crs,
    )
    new_areas = service_areas(net, new_halls, radius_m=radius, max_snap_m=max_snap_m) if len(new_halls) else None
    combined = _combine_halls(halls, new_halls, net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # already reported for the existing halls
        after = assess_coverage(
            net,
            combined,
            units[list(_demand_columns(units))],
            radius_m=radius,
            max_snap_m=max_snap_m,
            areas=areas,
            area_name_col=area_name_col,
        )
    timings["after"] = time.perf_counter() - t
    _check_consistency(before, after, selection, units, weights)
    return SitePlan(
        sites=gpd.GeoDataFrame(sites, geometry="geometry", crs=net.crs),
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


def _demand_columns(units: gpd.GeoDataFrame) -> list[str]:
    keep = ["demand_id", "group", "population", "estimate", "source_id", "geometry"]
    return [c for c in keep if c in units.columns]


def _weights(units: gpd.GeoDataFrame, group: str, group_weights: dict[str, float] | None) -> npt.NDArray[np.float64]:
    groups = units["group"].astype(str).to_numpy()
    gw = group_weights if group_weights is not None else {group: 1.0}
    unknown = set(gw) - set(groups)
    if unknown:
        raise CoverageInputError(
            f"group_weights name groups not in the demand: {sorted(unknown)}; groups are {sorted(set(groups))}."
        )
    w = np.zeros(len(units))
    for g, value in gw.items():
        if not (math.isfinite(value) and value >= 0):
            raise CoverageInputError(f"group_weights[{g!r}]={value!r}: give a weight >= 0.")
        w[groups == g] = value
    return units["population"].to_numpy(dtype=np.float64) * w


def _combine_halls(halls: gpd.GeoDataFrame, new: gpd.GeoDataFrame, net: WalkNetwork) -> gpd.GeoDataFrame:
    old = (
        halls[["site_id", "name", "geometry"]].to_crs(net.crs)
        if len(halls)
        else halls.iloc[0:0][["site_id", "name", "geometry"]]
    )
    combined = pd.concat([old, new], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=net.crs)


def _check_consistency(
    before: CoverageResult,
    after: CoverageResult,
    selection: Any,
    units: gpd.GeoDataFrame,
    weights: npt.NDArray[np.float64],
) -> None:
    """Check that the optimizer's objective equals what the new sites add on the network."""
    covered_before = (before.units["status"].astype(str) == "covered").to_numpy()
    covered_after = (after.units["status"].astype(str) == "covered").to_numpy()
    gained = float(weights[covered_after & ~covered_before].sum())
    if not math.isclose(gained, float(selection.objective), rel_tol=1e-9, abs_tol=1e-6):
        raise RuntimeError(
            f"internal error: the optimizer claims {selection.objective:.6f} newly covered but the network "
            f"assessment finds {gained:.6f}"
        )


def plan_from_scenario(sc: Any, net: WalkNetwork, halls: gpd.GeoDataFrame, before: CoverageResult) -> SitePlan:
    """Run :func:`plan_sites` with the options of a scenario's ``[plan]`` section."""
    from .sites import read_sites

    cfg = sc["plan"]
    sources = cfg["candidates"] if isinstance(cfg["candidates"], list) else [cfg["candidates"]]
    file_sites = read_sites(cfg["candidate_file"]) if "file" in sources else None
    exclude = gpd.read_file(cfg["exclude_file"]) if cfg["exclude_file"] is not None else None
    return plan_sites(
        net,
        halls,
        before,
        k=int(cfg["k"]),
        k_max=int(cfg["k_max"]),
        target_share=float(cfg["target_share"]),
        spacing_m=float(cfg["spacing_m"]) if "network" in sources else 0.0,
        use_gaps="gaps" in sources,
        candidate_sites=file_sites,
        exclude=exclude,
        method=cast(Any, cfg["method"]),
        time_limit_s=float(cfg["time_limit_s"]),
        max_snap_m=float(sc[""]["max_snap_m"]),
        areas=gpd.read_file(sc["areas"]["file"]) if sc["areas"]["file"] is not None else None,
        area_name_col=sc["areas"]["name_col"],
    )
