"""Benchmark: several services in one run, the life-circle step, and the capacity allocation.

What is measured
----------------
Porto Alegre: the 1,227 H3 hexagons of ``poa_hexgrid.csv`` (812,935
residents) spread onto the streets inside each hexagon
(``demand_from_polygons(..., method="streets")``). Facilities sit at the
centre of the hexagons that hold them (the data gives counts, not addresses).

* ``one service`` -- ``assess_services(net, units, [health 15 min])`` from the
  unsnapped residents: snapping plus one multi-source search;
* ``four services`` -- the same call with four services: health within 15
  minutes, health within 5 minutes (stations), schools within 10 minutes, and
  the hexagons with at least 500 jobs within 10 minutes (a stand-in for a
  market). Residents are snapped once; each service is one search.
  Target: less than 2x the one-service run;
* ``four separate`` -- four ``assess_coverage`` calls, one per service, each
  snapping the residents again (what a user without ``assess_services`` does);
* ``life-circle step`` -- ``assess_life_circle`` on the four services (fairness,
  backup, and capacity plus 2SFCA for health at an assumed 4,000 residents per
  facility), from the results above;
* ``capacity`` -- ``allocate_capacity`` alone on the health pairs within
  1,000 m at 4,000 and 20,000 residents per facility: the project's single
  LP (highspy) against the former two-step ``scipy.optimize.linprog``
  formulation (maximise served, then minimise walking at that total), same
  served total and total walking required (relative 1e-9).

Times are medians over ``--repeats`` runs in this process, after one warm-up
call; the machine may be shared: quote ranges. Exit status is non-zero when a
check fails (services equal to the separate assessments; capacity optima
equal).

Run from the repository root::

    python bench/services.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coverage as cp
from bench._common import data_dir, med, rss_mb, table, timed
from coverage import demand as dm
from coverage.capacity import allocate_capacity
from coverage.life_circle_run import assess_life_circle
from coverage.pairs import pairs_from_sites
from coverage.services import Service, assess_services


def _sites(hexes: pd.DataFrame, mask: np.ndarray) -> gpd.GeoDataFrame:
    rows = pd.DataFrame(hexes.loc[mask].drop(columns="geometry"))
    rows["name"] = rows["id"]
    return cp.read_sites(rows, id_col="id", name_col="name", lon_col="lon", lat_col="lat")


def _two_step_linprog(pairs, pop: np.ndarray, cap: np.ndarray) -> tuple[float, float]:
    """The former formulation: max served, then min walking with the served total held."""
    keep = (pop[pairs.demand] > 0) & (cap[pairs.supply] > 0)
    i, j, d = pairs.demand[keep], pairs.supply[keep], pairs.distance_m[keep]
    units, il = np.unique(i, return_inverse=True)
    halls, jl = np.unique(j, return_inverse=True)
    n = i.size
    cols = np.arange(n)
    a = sp.vstack([sp.csr_matrix((np.ones(n), (il, cols)), shape=(units.size, n)),
                   sp.csr_matrix((np.ones(n), (jl, cols)), shape=(halls.size, n))], format="csr")
    b = np.concatenate([pop[units], cap[halls]])
    first = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    served = float(-first.fun)
    a2 = sp.vstack([a, -sp.csr_matrix(np.ones((1, n)))], format="csr")
    second = linprog(d, A_ub=a2, b_ub=np.concatenate([b, [-served]]), bounds=(0, None), method="highs")
    return served, float(second.fun)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-linprog", action="store_true", help="do not time the former two-step LP")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # unsnapped hexagon centres are reported by the assessments
    data = data_dir()
    ok = True

    t, net = timed(lambda: cp.load_network(data / "porto_alegre" / "poa_osm.pbf"))
    print(f"network: {net.n_nodes:,} nodes in {t:.1f} s")
    hexes = dm.read_h3_hexagons(data / "porto_alegre" / "poa_hexgrid.csv")
    t, units = timed(lambda: dm.demand_from_polygons(hexes, population_col="population", id_col="id",
                                                     method="streets", edges=net))
    print(f"residents: {units['population'].sum():,.0f} in {len(units):,} street points ({t:.1f} s)")
    health = _sites(hexes, hexes["healthcare"].to_numpy() > 0)
    schools = _sites(hexes, hexes["schools"].to_numpy() > 0)
    jobs = _sites(hexes, hexes["jobs"].to_numpy() >= 500)
    one = [Service("health", health, minutes=15)]
    four = [*one, Service("health_station", health, minutes=5), Service("school", schools, minutes=10),
            Service("market", jobs, minutes=10)]
    print(f"sites: {len(health)} health, {len(schools)} school, {len(jobs)} jobs>=500 hexagons")

    assess_services(net, units, one)  # warm-up (imports, caches)
    runs: dict[str, list[float]] = {"one service": [], "four services": [], "four separate": []}
    stages: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        t, _r1 = timed(lambda: assess_services(net, units, one))
        runs["one service"].append(t)
        t, res4 = timed(lambda: assess_services(net, units, four))
        runs["four services"].append(t)
        for k, v in res4.timings.items():
            stages.setdefault(k, []).append(v)
        t0 = time.perf_counter()
        separate = {s.key: cp.assess_coverage(net, s.sites, units, minutes=s.minutes) for s in four}
        runs["four separate"].append(time.perf_counter() - t0)
    for s in four:  # the one-run distances equal the separate assessments'
        same = np.array_equal(res4.units[f"{s.key}_m"].to_numpy(), separate[s.key].units["distance_m"].to_numpy())
        ok &= same
        if not same:
            print(f"CHECK FAILED: {s.key} distances differ from its own assessment")
    base = med(runs["one service"])
    rows = [[name, f"{med(v):.2f}", f"{min(v):.2f}-{max(v):.2f}", f"{med(v) / base:.2f}"] for name, v in runs.items()]
    print(table(["run", "median s", "range s", "x one service"], rows))
    print("stages of the four-service run (median s): "
          + ", ".join(f"{k} {med(v):.2f}" for k, v in stages.items()))
    ratio = med(runs["four services"]) / base
    print(f"four services / one service = {ratio:.2f} (target < 2)")

    cov = cp.assess_coverage(net, health, units, minutes=15)
    health_cap = health.assign(capacity=4000.0 * health["healthcare"].astype(float))
    t, lc = timed(lambda: assess_life_circle(net, cov, res4, halls=health_cap, standard=None,
                                             capacity={"halls": "capacity"}))
    print(f"life-circle step (fairness and backup of 5 facilities, capacity + 2SFCA of the halls): {t:.2f} s")
    print(lc.capacity[["facility", "population", "served", "over_capacity", "out_of_reach", "full_sites"]]
          .to_string(index=False))

    pairs = pairs_from_sites(net, health, units, limit_m=1000)
    pop = units["population"].to_numpy(dtype=np.float64)
    count = health["healthcare"].to_numpy(dtype=np.float64)
    print(f"capacity: {len(pairs):,} pairs within 1,000 m, {pairs.n_demand:,} units, {pairs.n_supply} halls")
    cap_rows = []
    for per in (4000.0, 20000.0):
        t_new, alloc = timed(lambda per=per: allocate_capacity(pairs, pop, per * count))
        row = [f"{per:,.0f} per facility", f"{t_new:.2f}", f"{alloc.served:,.1f}", f"{alloc.total_distance_m:,.0f}"]
        if not args.skip_linprog:
            t_old, (served, walk) = timed(lambda per=per: _two_step_linprog(pairs, pop, per * count))
            same = np.isclose(served, alloc.served, rtol=1e-9) and np.isclose(walk, alloc.total_distance_m, rtol=1e-9)
            ok &= bool(same)
            row += [f"{t_old:.2f}", f"{t_old / t_new:.1f}", "yes" if same else "NO"]
        cap_rows.append(row)
    heads = ["capacity", "project s", "served", "walk (resident-m)"]
    if not args.skip_linprog:
        heads += ["linprog 2-step s", "x faster", "same optimum"]
    print(table(heads, cap_rows))
    print(f"peak memory {rss_mb():,.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
