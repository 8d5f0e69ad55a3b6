"""Benchmark: the site optimizer on Porto Alegre, against spopt (PuLP + CBC / HiGHS).

What is run
-----------
Porto Alegre's walking network; the 1,227 census hexagons as demand (one unit
at each hexagon's interior point, weighted by population); the hexagons with a
healthcare facility as existing halls (fixed open); every network position at
about 50 m spacing as a candidate; radius 500 m.

1. The network coverage matrix (candidates x demand, access walks included):
   time and peak memory (tracemalloc).
2. Maximum coverage (decomposed engine: blocks, LP bounds, MILP only where
   needed) for k = 5, 10, 20; lazy greedy + swap with its LP-bound gap; the
   whole curve k = 0..30 and the fewest sites for 95 %, all on one engine
   (``solve_coverage``), with a deterministic node limit and no time limit hit.
3. spopt 0.7 ``MCLP.from_cost_matrix`` on the same matrix (the dense cost
   matrix spopt needs, existing halls as predefined facilities), solved with
   PuLP's bundled CBC and, when available, PuLP's HiGHS; objectives compared
   with ours (spopt's objective = covered weight including the existing halls
   = our ``covered_after``).
4. The life-circle models on hexagon-centre candidates (plus gap centres):
   capacitated maximum coverage with k = 10 (each healthcare facility serves
   4,000 residents, so a hexagon's capacity is 4,000 x its count; each new
   site 4,000), backup coverage (coverage, then coverage by a second site)
   and max-min (the worst of 2 km x 2 km "districts"), each proven optimal.

Read the ratio column as spopt time / our time (> 1: we are faster). Exit
status is non-zero when an objective disagrees or a life-circle model is
not proven optimal.

Run from the repository root::

    .venv/bin/python bench/optimize.py            # full
    .venv/bin/python bench/optimize.py --quick    # k = 10 only, spopt with CBC only
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import coverage as cp  # noqa: E402
from bench._common import data_dir, timed  # noqa: E402
from coverage import demand as dm  # noqa: E402
from coverage import optimize as opt  # noqa: E402
from coverage._matrix import coverage_matrix  # noqa: E402
from coverage.candidates import build_candidates, network_candidates  # noqa: E402
from coverage.optimize import max_coverage, solve_coverage  # noqa: E402
from coverage.sites import snap_points  # noqa: E402


def spopt_mclp(cost: np.ndarray, weights: np.ndarray, radius: float, p: int, predefined: np.ndarray, solver):
    from spopt.locate import MCLP

    t = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, weights, radius, p_facilities=p, predefined_facilities_arr=predefined)
    build = time.perf_counter() - t
    t = time.perf_counter()
    model = model.solve(solver)
    solve = time.perf_counter() - t
    import pulp

    value = float(pulp.value(model.problem.objective))
    return value, build, solve


def life_models(net, before, halls, table, weights, time_limit: float) -> bool:
    """Capacitated (k = 10), backup and max-min models on hexagon-centre candidates."""
    import geopandas as gpd
    import scipy.sparse as sp

    hex_sites = gpd.GeoDataFrame(
        {"hexagon": table["id"].astype(str)},
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    )
    cands = build_candidates(net, spacing_m=None, gaps=before.gaps, sites=hex_sites, id_col="hexagon")
    unit_snap = before.unit_snap
    cover = coverage_matrix(net, unit_snap, cands.snap, radius_m=500.0, distances=False).cover
    hall_snap = snap_points(net, halls)
    hall_cover = coverage_matrix(net, unit_snap, hall_snap, radius_m=500.0, distances=False).cover
    count = table.set_index(table["id"].astype(str)).loc[halls["site_id"].astype(str), "healthcare"].to_numpy()
    capacity = np.concatenate([np.full(len(cands), 4000.0), 4000.0 * count])
    print(
        f"\nLife-circle models on {len(cands):,} candidates (hexagon centres, gap centres); "
        f"{len(halls)} halls with capacity 4,000 x their facilities ({capacity[len(cands) :].sum():,.0f} residents):"
    )
    rows = []
    secs, cap = timed(
        lambda: opt.capacitated_coverage(
            sp.hstack([cover, hall_cover], format="csc"),
            weights,
            10,
            capacity=capacity,
            fixed=np.arange(len(cands), len(cands) + len(halls)),
            time_limit_s=time_limit,
        )
    )
    rows.append(("capacitated k = 10", secs, cap))
    existing = before.units["halls_within"].to_numpy(dtype=np.int64)
    all_cover = coverage_matrix(net, unit_snap, cands.snap, radius_m=500.0, distances=False).cover
    secs, bk = timed(
        lambda: opt.max_backup_coverage(all_cover, weights, 10, existing=existing, time_limit_s=time_limit)
    )
    rows.append(("backup k = 10", secs, bk))
    xy = np.column_stack([before.units.geometry.x, before.units.geometry.y])
    district = np.floor((xy - xy.min(axis=0)) / 2000.0).astype(int)
    groups = np.char.add(district[:, 0].astype(str), np.char.add("-", district[:, 1].astype(str)))
    already = (before.units["status"].astype(str) == "covered").to_numpy()
    secs, mm = timed(
        lambda: opt.max_min_coverage(
            cover, weights, 10, groups=groups, already_covered=already, time_limit_s=time_limit
        )
    )
    rows.append(("max-min k = 10", secs, mm))
    ok = True
    for name, secs, sel in rows:
        extra = ", ".join(f"{k} {v:,.4g}" for k, v in sel.extras.items())
        print(
            f"  {name:<20} {secs:6.2f} s  {'proven optimal' if sel.optimal else 'NOT PROVEN: ' + sel.status}; "
            f"newly covered {sel.objective:,.0f}; {extra}"
        )
        ok = ok and sel.optimal
    if cap.objective > 4000.0 * 10 + 1e-6:
        print("  FAIL: capacitated gain above the new sites' capacity")
        ok = False
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spacing", type=float, default=50.0)
    ap.add_argument("--kmax", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = data_dir()
    ok = True

    net = cp.load_network(data / "porto_alegre" / "poa_osm.pbf")
    hexes = dm.read_h3_hexagons(data / "porto_alegre" / "poa_hexgrid.csv")
    units = dm.demand_from_polygons(hexes, population_col="population", id_col="id", method="centroid")
    table = pd.read_csv(data / "porto_alegre" / "poa_hexgrid.csv")
    halls = cp.read_sites(table[table["healthcare"] > 0], id_col="id")
    before = cp.assess_coverage(net, halls, units, radius_m=500.0)
    weights = before.units["population"].to_numpy()
    already = (before.units["status"].astype(str) == "covered").to_numpy()
    print(
        f"Porto Alegre: {net.n_nodes:,} nodes; demand {len(units):,} hexagons, {weights.sum():,.0f} residents; "
        f"{len(halls)} existing halls cover {weights[already].sum():,.0f} "
        f"({weights[already].sum() / weights.sum():.1%})"
    )

    # 1. Matrix.
    tracemalloc.start()
    t = time.perf_counter()
    cands = network_candidates(net, spacing_m=args.spacing)
    cand_snap = snap_points(net, cands)
    unit_snap = snap_points(net, before.units)
    matrix = coverage_matrix(net, unit_snap, cand_snap, radius_m=500.0)
    cover, dist = matrix.cover, matrix.distance_m
    t_matrix = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\nCoverage matrix: {len(cands):,} candidates x {len(units):,} demand, {cover.nnz:,} pairs within 500 m; "
        f"built in {t_matrix:.2f} s (candidates, snapping and searches), tracemalloc peak {peak / 2**20:,.0f} MiB"
    )

    # 2. Our solvers.
    rows = []
    ks = [10] if args.quick else [5, 10, 20]
    exact = {}
    for k in ks:
        secs, sel = timed(
            lambda k=k: max_coverage(cover, weights, k, already_covered=already, time_limit_s=args.time_limit)
        )
        gsecs, greedy = timed(lambda k=k: max_coverage(cover, weights, k, already_covered=already, method="greedy"))
        exact[k] = sel
        gap_to_exact = (sel.objective - greedy.objective) / sel.objective if sel.objective else 0.0
        rows.append(
            {
                "k": k,
                "exact s": secs,
                "exact newly covered": sel.objective,
                "proven gap": sel.gap,
                "greedy s": gsecs,
                "greedy newly covered": greedy.objective,
                "greedy below exact": gap_to_exact,
                "greedy LP-bound gap": greedy.gap,
            }
        )
        if greedy.objective > sel.objective + 1e-6 and sel.optimal:
            print(f"  FAIL: greedy above a proven optimum at k={k}")
            ok = False
    print("\nMaximum coverage (new sites, existing halls fixed):")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.4f}" if abs(v) < 1 else f"{v:,.1f}"))
    if not args.quick:
        csecs, both = timed(
            lambda: solve_coverage(
                cover,
                weights,
                k=10,
                k_max=args.kmax,
                target_share=0.95,
                already_covered=already,
                time_limit_s=args.time_limit,
            )
        )
        curve = both.curve
        print(
            f"\nOne engine for k = 10, the curve k = 0..{args.kmax} and the fewest sites for 95 %: {csecs:.1f} s; "
            f"curve all proven optimal: {bool(curve['optimal'].all())}; largest gap {curve['gap'].max():.4%}; "
            f"non-decreasing: {bool(curve['covered_weight'].is_monotonic_increasing)}; "
            f"95 % target: {both.target.k if both.target else '-'} sites "
            f"({'proven fewest' if both.target and both.target.optimal else both.target_error or 'not proven'})"
        )
        print(curve[["k", "covered_weight", "covered_share", "gap", "time_s"]].to_string(index=False))
        for k, sel in exact.items():
            if sel.optimal and abs(curve.loc[curve["k"] == k, "covered_weight"].iloc[0] - sel.covered_after) > 1e-6:
                print(f"  FAIL: curve at k={k} differs from max_coverage")
                ok = False

    # 3. spopt on the same matrix: dense costs, existing halls as predefined columns.
    import pulp

    hall_snap = snap_points(net, halls)
    hall_dist = coverage_matrix(net, unit_snap, hall_snap, radius_m=500.0).distance_m
    cost = np.full((len(units), len(cands) + len(halls)), np.inf)
    d = dist.tocoo()
    cost[d.row, d.col] = d.data
    hd = hall_dist.tocoo()
    cost[hd.row, len(cands) + hd.col] = hd.data  # explicit zeros are kept by the sparse matrices
    assert np.array_equal(np.isfinite(cost[:, : len(cands)]), cover.toarray())
    predefined = np.zeros(cost.shape[1], dtype=int)
    predefined[len(cands) :] = 1
    solvers = [("PuLP + CBC", pulp.PULP_CBC_CMD(msg=False, timeLimit=int(args.time_limit) * 5))]
    if not args.quick and "HiGHS" in pulp.listSolvers(onlyAvailable=True):
        solvers.append(("PuLP + HiGHS", pulp.HiGHS(msg=False, timeLimit=args.time_limit * 5)))
    k = 10
    ours = exact[k]
    print(
        f"\nspopt MCLP, k = {k} new sites + {len(halls)} predefined "
        f"(dense cost matrix {cost.shape[0]:,} x {cost.shape[1]:,}):"
    )
    srows = [
        {
            "solver": "coverage-planner (HiGHS MILP)",
            "build s": 0.0,
            "solve s": ours.time_s,
            "total s": ours.time_s,
            "covered weight": ours.covered_after,
            "x ours": 1.0,
        }
    ]
    for name, solver in solvers:
        value, build, solve = spopt_mclp(cost, weights.reshape(-1, 1), 500.0, k + len(halls), predefined, solver)
        srows.append(
            {
                "solver": f"spopt {name}",
                "build s": build,
                "solve s": solve,
                "total s": build + solve,
                "covered weight": value,
                "x ours": (build + solve) / ours.time_s,
            }
        )
        if abs(value - ours.covered_after) > 1e-6 * max(1.0, value):
            print(f"  FAIL: spopt ({name}) objective {value:,.3f} != ours {ours.covered_after:,.3f}")
            ok = False
    print(pd.DataFrame(srows).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))

    ok = life_models(net, before, halls, table, weights, args.time_limit) and ok
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
