"""Benchmark: resident coverage, coverage-planner vs pandana vs a networkx loop.

What is compared
----------------
Two real cases, each with seeded random halls on random streets (an edge
drawn uniformly from all edges, a uniform fraction along it):

* Porto Alegre: the 1,227 H3 hexagons of ``poa_hexgrid.csv`` (812,935
  residents) spread onto the streets inside each hexagon
  (``demand_from_polygons(..., method="streets")``), 300 halls;
* Liechtenstein: every residential OSM building of the Geofabrik extract,
  sharing the country's population by floor area
  (``demand_from_buildings``), 100 halls.

The question is "how many residents live within a 500 m walk of a hall", asked

* ``project`` -- ``cp.assess_coverage(net, halls, units, radius_m=500)``: exact.
  Halls and residents are snapped onto their streets, the off-street access
  walk counts, two points on one edge reach each other along it;
* ``pandana`` -- ``pandana.Network`` built from the same network arrays
  (``net.node_x/node_y``, ``net.edge_u/edge_v``, ``net.edge_length_m``),
  ``precompute(500)`` (timed apart; POI queries do not need it), then
  ``set_pois`` with the halls (pandana maps them to their nearest nodes),
  ``nearest_pois(500, ...)`` and the residents' nearest nodes from
  ``get_node_ids``;
* ``networkx`` -- a ``networkx.Graph`` of the same arrays, the halls' and
  residents' nearest nodes (scipy cKDTree), one
  ``multi_source_dijkstra_path_length(G, hall_nodes, cutoff=500)``, and a
  look-up of the residents' nodes.

pandana and networkx answer a simpler question: node to node, no access
walks, no partial edges. So the project is ALSO run on that simplified
question (halls and residents moved onto the networkx loop's nearest nodes,
zero access) through its public API, and the three node-to-node figures must
agree: the sets of covered residents are compared, allowing only the units
whose node lies within 5 cm of the 500 m limit (pandana stores distances as
integer millimetres per edge, so such units may fall either way). For
pandana the check uses the same node mapping; its own ``get_node_ids``
result (which breaks ties between two equidistant nodes differently for
residents placed midway between them) is printed too.

How to read the output
----------------------
The final table gives, per case, each method's median seconds over
``--repeats`` runs (build, precompute and query apart; ``total`` is what a
user waits for from prepared network arrays to the number), the covered
population and ``x project`` = method total / project time in the same run
(< 1: the method is faster than the project). ``covered`` for pandana and
networkx is node to node; compare it with the project's node-to-node row,
and read the project's exact row as the real answer: the gap between them
is the access walks (which the node-to-node question ignores) and the
partial edges. Peak memory is the process's ``ru_maxrss`` after each stage
and a ``tracemalloc`` peak of one ``assess_coverage`` call (Python/NumPy
allocations only).

Exit status is non-zero when a check fails: demand totals, the node-to-node
agreement of project, pandana and networkx (covered sets and populations),
and the project's node-to-node distances against networkx's (1e-6 m).

Run from the repository root::

    python bench/coverage.py                    # both cases, ~1-2 min
    python bench/coverage.py --network porto_alegre --repeats 5

Data: ``$COVERAGE_PLANNER_DATA`` or ``../shared/data`` next to the repository.
Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# ``python bench/coverage.py`` puts bench/ first on sys.path, and this very
# file is named coverage.py: drop bench/ and import the package from the repo root.
_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(REPO))
sys.modules.pop("coverage", None)

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

import coverage as cp  # noqa: E402
from bench._common import data_dir, med, rss_mb, table, timed  # noqa: E402
from coverage import demand as dm  # noqa: E402

try:
    import pandana
except ImportError:  # pragma: no cover
    sys.exit("pandana is not installed: pip install 'coverage-planner[bench]'")

RADIUS_M = 500.0
#: Node distances this close to the radius may fall either way (pandana: integer mm per edge).
AMBIGUOUS_M = 0.05

#: Liechtenstein's permanent resident population on 31 December 2023 (Amt für
#: Statistik Liechtenstein, "Bevölkerungsstand per 31. Dezember 2023", published
#: 26.09.2024: 40,015; the provisional figure of 21.03.2024 was 40,023). It is
#: the official figure closest to the OSM extract's date (2024-03-04).
LIECHTENSTEIN_POPULATION = 40_015

#: Total population of poa_hexgrid.csv (census figures of the r5r sample data).
PORTO_ALEGRE_POPULATION = 812_935


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C-level prints (pandana's contraction-hierarchy progress)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def random_halls(net: cp.WalkNetwork, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` points on random edges (uniform over edges, uniform along the edge)."""
    rng = np.random.default_rng(seed)
    edges = rng.choice(net.n_edges, size=n, replace=n > net.n_edges)
    frac = rng.random(n)
    pts = shapely.line_interpolate_point(net.edge_geometry[edges], frac, normalized=True)
    return gpd.GeoDataFrame(
        {"site_id": [f"H{i:03d}" for i in range(n)], "name": [f"random hall {i}" for i in range(n)]},
        geometry=gpd.GeoSeries(pts, crs=net.crs),
    )


def assess(net: cp.WalkNetwork, halls: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> cp.CoverageResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CoverageWarning)
        return cp.assess_coverage(net, halls, units, radius_m=RADIUS_M)


# --------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------


def load_case(name: str, args: argparse.Namespace) -> tuple[cp.WalkNetwork, gpd.GeoDataFrame, int, int]:
    data = data_dir()
    if name == "porto_alegre":
        t_net, net = timed(lambda: cp.load_network(data / "porto_alegre" / "poa_osm.pbf"))

        def build() -> gpd.GeoDataFrame:
            hexes = dm.read_h3_hexagons(data / "porto_alegre" / "poa_hexgrid.csv")
            return dm.demand_from_polygons(hexes, population_col="population", id_col="id", method="streets", edges=net)

        expected, n_halls = PORTO_ALEGRE_POPULATION, args.halls_porto_alegre
    else:
        t_net, net = timed(lambda: cp.load_network(data / "liechtenstein" / "liechtenstein-latest.osm.pbf"))

        def build() -> gpd.GeoDataFrame:
            return dm.demand_from_buildings(
                data / "liechtenstein" / "liechtenstein-latest.osm.pbf",
                total_population=LIECHTENSTEIN_POPULATION,
            )

        expected, n_halls = LIECHTENSTEIN_POPULATION, args.halls_liechtenstein
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cp.CoverageWarning)
        t_dem, units = timed(build)
    for w in caught:
        print(f"  (demand warning: {str(w.message)[:160]})")
    print(
        f"network {net!r} loaded in {t_net:.2f} s (prepared-network cache); demand: {len(units):,} units, "
        f"{units['population'].sum():,.0f} residents, built in {t_dem:.2f} s; {n_halls} halls"
    )
    return net, units, expected, n_halls


def run_case(name: str, args: argparse.Namespace, failures: list[str]) -> dict[str, Any]:
    print(f"\n=== {name} ===", flush=True)
    net, units, expected, n_halls = load_case(name, args)
    halls = random_halls(net, n_halls, args.seed)
    res: dict[str, Any] = {"name": name, "units": len(units), "halls": len(halls)}
    pop = units["population"].to_numpy(dtype=np.float64)
    total = float(pop.sum())
    if abs(total - expected) > 1e-6 * expected:
        failures.append(f"{name}: demand total {total:,.2f}, expected {expected:,}")
    units_p = units.to_crs(net.crs)
    ux = shapely.get_x(units_p.geometry.to_numpy())
    uy = shapely.get_y(units_p.geometry.to_numpy())
    hx = shapely.get_x(halls.geometry.to_numpy())
    hy = shapely.get_y(halls.geometry.to_numpy())

    # --- the project, exact ----------------------------------------------------
    t_first, exact = timed(lambda: assess(net, halls, units))
    times, steps = [], []
    for _ in range(args.repeats):
        t, exact = timed(lambda: assess(net, halls, units))
        times.append(t)
        steps.append(exact.timings)
    res["project"] = med(times)
    s = exact.summary.iloc[0]
    res["pop_exact"] = float(s["covered"])
    print(
        f"project exact: first call {t_first:.2f} s, median {res['project']:.2f} s; steps (median s): "
        + ", ".join(f"{k} {med([d[k] for d in steps]):.3f}" for k in steps[0])
    )
    print(
        f"  covered {s['covered']:,.0f} ({s['covered_share']:.2%}), uncovered {s['uncovered']:,.0f}, "
        f"unreachable {s['unreachable']:,.0f} ({int(s['units_unreachable'])} units > 300 m from a street)"
    )
    tracemalloc.start()
    assess(net, halls, units)
    res["tm_project"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    res["rss_project"] = rss_mb()

    # --- the common node mapping (networkx loop's own) -------------------------
    tree = cKDTree(np.column_stack([net.node_x, net.node_y]))
    hall_nodes = tree.query(np.column_stack([hx, hy]))[1]
    unit_nodes = tree.query(np.column_stack([ux, uy]))[1]

    # --- the project, node to node -----------------------------------------------
    halls_n = halls.copy()
    halls_n["geometry"] = gpd.GeoSeries(
        shapely.points(net.node_x[hall_nodes], net.node_y[hall_nodes]), crs=net.crs, index=halls.index
    )
    units_n = units_p.copy()
    units_n["geometry"] = gpd.GeoSeries(
        shapely.points(net.node_x[unit_nodes], net.node_y[unit_nodes]), crs=net.crs, index=units_p.index
    )
    times = []
    for _ in range(args.repeats):
        t, n2n = timed(lambda: assess(net, halls_n, units_n))
        times.append(t)
    res["project_n2n"] = med(times)
    cov_proj = n2n.units["status"].to_numpy() == "covered"
    d_proj = n2n.units["distance_m"].to_numpy(dtype=np.float64)
    res["pop_project_n2n"] = float(pop[cov_proj].sum())
    access_max = float(np.nanmax(n2n.units["access_m"].to_numpy(dtype=np.float64)))

    # --- pandana -----------------------------------------------------------------
    build, pre, query = [], [], []
    pn = None
    for _ in range(args.repeats):
        with quiet_stdout():
            t, pn = timed(
                lambda: pandana.Network(
                    pd.Series(net.node_x),
                    pd.Series(net.node_y),
                    pd.Series(net.edge_u),
                    pd.Series(net.edge_v),
                    pd.DataFrame({"length": net.edge_length_m}),
                    twoway=True,
                )
            )
            build.append(t)
            pre.append(timed(lambda pn=pn: pn.precompute(RADIUS_M))[0])

        def pandana_query(pn: pandana.Network = pn) -> tuple[float, np.ndarray, np.ndarray]:
            pn.set_pois("halls", RADIUS_M, 1, pd.Series(hx), pd.Series(hy))
            dist = pn.nearest_pois(RADIUS_M, "halls", num_pois=1, max_distance=np.inf)[1].to_numpy()
            nodes = pn.get_node_ids(pd.Series(ux), pd.Series(uy)).to_numpy()
            return float(pop[dist[nodes] <= RADIUS_M].sum()), dist, nodes

        with quiet_stdout():
            t, (pop_pandana_own, _, pandana_nodes) = timed(pandana_query)
        query.append(t)
    assert pn is not None
    res.update(
        pandana_build=med(build),
        pandana_pre=med(pre),
        pandana_query=med(query),
        pop_pandana_own=pop_pandana_own,
    )
    # The check: the same hall and resident nodes as the others.
    with quiet_stdout():
        pn.set_pois("halls_n", RADIUS_M, 1, pd.Series(net.node_x[hall_nodes]), pd.Series(net.node_y[hall_nodes]))
        d_pandana = pn.nearest_pois(RADIUS_M, "halls_n", num_pois=1, max_distance=np.inf)[1].to_numpy()[unit_nodes]
    cov_pandana = d_pandana <= RADIUS_M
    res["pop_pandana"] = float(pop[cov_pandana].sum())
    res["tie_units"] = int((pandana_nodes != unit_nodes).sum())
    res["rss_pandana"] = rss_mb()

    # --- networkx loop --------------------------------------------------------------
    build, query = [], []
    for _ in range(args.repeats):

        def nx_build() -> nx.Graph:
            G = nx.Graph()
            G.add_weighted_edges_from(
                zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist(), strict=True),
                weight="length",
            )
            return G

        t, G = timed(nx_build)
        build.append(t)

        def nx_query(G: nx.Graph = G) -> tuple[float, dict[int, float]]:
            kd = cKDTree(np.column_stack([net.node_x, net.node_y]))
            h_nodes = kd.query(np.column_stack([hx, hy]))[1]
            u_nodes = kd.query(np.column_stack([ux, uy]))[1]
            dist = nx.multi_source_dijkstra_path_length(G, set(h_nodes.tolist()), cutoff=RADIUS_M, weight="length")
            covered = np.fromiter((n in dist for n in u_nodes.tolist()), dtype=bool, count=u_nodes.size)
            return float(pop[covered].sum()), dist

        t, (pop_nx, dist_nx) = timed(nx_query)
        query.append(t)
    res.update(nx_build=med(build), nx_query=med(query), pop_nx=pop_nx)
    d_nx = np.fromiter((dist_nx.get(n, np.inf) for n in unit_nodes.tolist()), dtype=np.float64, count=unit_nodes.size)
    cov_nx = d_nx <= RADIUS_M
    res["rss_nx"] = rss_mb()

    # --- checks -----------------------------------------------------------------------
    amb = np.abs(d_nx - RADIUS_M) <= AMBIGUOUS_M
    pop_amb = float(pop[amb].sum())
    fin = np.isfinite(d_nx)
    dev_proj = float(np.max(np.abs(d_proj[fin] - d_nx[fin]), initial=0.0))
    both = fin & np.isfinite(d_pandana)
    dev_pandana = float(np.max(np.abs(d_pandana[both] - d_nx[both]), initial=0.0))
    print(
        f"node to node: project {res['pop_project_n2n']:,.2f}, pandana {res['pop_pandana']:,.2f}, networkx "
        f"{pop_nx:,.2f} residents; {int(amb.sum())} unit(s) ({pop_amb:,.1f} residents) within "
        f"{AMBIGUOUS_M * 100:g} cm of 500 m. Max |distance - networkx|: project {dev_proj:.2e} m, pandana "
        f"{dev_pandana:.4f} m. Project access walks in the node-to-node run: max {access_max:.2e} m."
    )
    print(
        f"  pandana with its own get_node_ids: {pop_pandana_own:,.2f} residents ({res['tie_units']:,} units "
        f"mapped to the other of two equidistant nodes)"
    )
    for label, cov, p in (
        ("project node-to-node", cov_proj, res["pop_project_n2n"]),
        ("pandana", cov_pandana, res["pop_pandana"]),
    ):
        differ = (cov != cov_nx) & ~amb
        if differ.any() or abs(p - pop_nx) > pop_amb + 1e-6 * total:
            failures.append(
                f"{name}: {label} node-to-node coverage {p:,.2f} != networkx {pop_nx:,.2f} "
                f"({int(differ.sum())} units differ outside the 5 cm band)"
            )
    if dev_proj > 1e-6:
        failures.append(f"{name}: project node-to-node distances differ from networkx by {dev_proj:.3g} m")
    res["pop_total"] = total
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240304)
    parser.add_argument("--network", choices=["both", "porto_alegre", "liechtenstein"], default="both")
    parser.add_argument("--halls-porto-alegre", type=int, default=300)
    parser.add_argument("--halls-liechtenstein", type=int, default=100)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    names = ["porto_alegre", "liechtenstein"] if args.network == "both" else [args.network]
    print(
        f"coverage-planner {cp.__version__}, pandana {pandana.__version__}, networkx {nx.__version__}; "
        f"radius {RADIUS_M:g} m, seed {args.seed}, {args.repeats} repeats, {os.cpu_count()} CPUs"
    )
    failures: list[str] = []
    t0 = time.perf_counter()
    results = [run_case(n, args, failures) for n in names]

    print(f"\nFinal table (median s of {args.repeats}; x project = method total / project exact, same run)")
    for r in results:
        base = r["project"]
        tot = r["pop_total"]

        def row(
            label: str,
            b: float | None,
            p: float | None,
            q: float,
            pop_cov: float,
            note: str,
            base: float = base,
            tot: float = tot,
        ) -> list[str]:
            total_t = (b or 0.0) + (p or 0.0) + q
            return [
                label,
                "-" if b is None else f"{b:.3f}",
                "-" if p is None else f"{p:.3f}",
                f"{q:.3f}",
                f"{total_t:.3f}",
                f"{total_t / base:.2f}",
                f"{pop_cov:,.0f}",
                f"{pop_cov / tot:.2%}",
                note,
            ]

        rows = [
            row(
                "project assess_coverage (exact)",
                None,
                None,
                base,
                r["pop_exact"],
                "access walks, partial edges",
            ),
            row(
                "project, node to node",
                None,
                None,
                r["project_n2n"],
                r["pop_project_n2n"],
                "same API, points moved onto nodes",
            ),
            row(
                "pandana",
                r["pandana_build"],
                r["pandana_pre"],
                r["pandana_query"],
                r["pop_pandana"],
                "node to node (common node mapping)",
            ),
            row(
                "networkx multi-source Dijkstra",
                r["nx_build"],
                None,
                r["nx_query"],
                r["pop_nx"],
                "node to node",
            ),
        ]
        print(f"\n{r['name']}: {r['units']:,} demand units, {tot:,.0f} residents, {r['halls']} halls")
        print(
            table(
                ["method", "build", "precompute", "query", "total", "x project", "covered", "share", "note"],
                rows,
            )
        )
        pandana_all = r["pandana_build"] + r["pandana_pre"] + r["pandana_query"]
        nx_all = r["nx_build"] + r["nx_query"]
        print(
            f"ratios project/method (> 1: the project is slower): vs pandana query "
            f"{base / r['pandana_query']:.2f}, vs pandana build+precompute+query {base / pandana_all:.2f}; "
            f"vs networkx query {base / r['nx_query']:.2f}, vs networkx build+query {base / nx_all:.2f}."
        )
        print(
            f"exact covered {r['pop_exact']:,.0f} vs node-to-node {r['pop_nx']:,.0f}: the node-to-node "
            f"question {'overstates' if r['pop_nx'] > r['pop_exact'] else 'understates'} coverage by "
            f"{abs(r['pop_nx'] - r['pop_exact']):,.0f} residents "
            f"({100 * (r['pop_nx'] - r['pop_exact']) / tot:+.2f} points)."
        )

    print("\nPeak memory (ru_maxrss MB, process peak so far; tracemalloc MB of one assess_coverage):")
    print(
        table(
            ["case", "after project", "after pandana", "after networkx", "tracemalloc project"],
            [
                [
                    r["name"],
                    f"{r['rss_project']:,.0f}",
                    f"{r['rss_pandana']:,.0f}",
                    f"{r['rss_nx']:,.0f}",
                    f"{r['tm_project']:,.1f}",
                ]
                for r in results
            ],
        )
    )
    print(f"(total run {time.perf_counter() - t0:.0f} s)")
    if failures:
        print("\nCORRECTNESS CHECKS FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("\nAll correctness checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
