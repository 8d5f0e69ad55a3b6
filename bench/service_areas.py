"""Benchmark: walking service areas, coverage-planner vs the osmnx notebook recipe.

What is compared
----------------
On a real OSM network (Porto Alegre by default, then Liechtenstein), with
``--halls`` halls put at seeded random points on random streets (an edge
drawn uniformly from all edges, a uniform fraction along it), each method
draws one 500 m walking service area per hall plus the union of them all:

* ``project raster`` -- ``cp.service_areas(net, halls, radius_m=500)``: the exact
  reached street pieces (partial edges cut where the budget ends, access
  walk counted), the 25 m band outlined on a 6.25 m grid (the default, buffer / 4);
* ``project exact`` -- the same with ``resolution_m=0``: an exact GEOS union
  of the buffered pieces;
* ``recipe buffer`` -- the osmnx notebook recipe on the same network: the
  projected osmnx graph of the same file (the same walkable edges as the
  project keeps, largest component), each hall moved to its nearest node
  (``ox.distance.nearest_nodes``), ``nx.ego_graph(G, node, radius=500,
  distance="length")``, then ``ox.graph_to_gdfs(sub).buffer(25).union_all()``
  (the notebook's node buffers are left out so that the band has the
  project's 25 m half-width), and the union of all halls' polygons;
* ``recipe hull`` -- the same ego graphs, the convex hull of the subgraph's
  nodes (``GeoSeries(points).union_all().convex_hull``, as in the notebook),
  and their union.

Every row times all halls and the union, median of ``--repeats`` runs in the
same process. Loading is timed apart: the project's prepared network cold
(empty temporary cache) and cached, and the recipe's graph preparation.

How to read the output
----------------------
``median s`` is the wall time for all halls; ``x default`` divides it by the
project's default (raster) time measured in the same run (> 1 = slower than
the project). ``hall km`` is the street length reached, summed over halls;
``union km`` the street length reached by at least one hall; ``union km2``
the area of the union polygon. The exact reached length is the project's
(raster and exact share the same search; they only draw the band
differently). The recipe's length is the length of the ego graph's edges:
it drops the partial edges at the rim but also counts in full an edge whose
two ends are both reached even when its middle is beyond the budget, and it
starts at the nearest node instead of the hall. The decomposition line splits
the recipe's gap from the exact figure into these parts. For the hull,
``hall km`` is the street length inside the hull (what the map claims).

Correctness checks (non-zero exit if one fails): the project's per-hall
reached length equals an independent networkx computation (each hall's
snapped edge split at the hall, bounded Dijkstra, exact cut of every edge);
raster and exact runs reach the same length; the raster outline lies within
1.5 grid cells (9.4 m) of the exact polygon (what lies farther outside the
other outline, either way, is under 0.1 % of the hall's area; the union
areas within 5 %); the recipe graph has the project's street length (within 0.5 %;
node counts differ: the project simplifies again after the pedestrian filter). The
symmetric difference share (area of raster XOR exact over the exact area,
median over halls) is printed: an outline within one 6.25 m cell of a 50 m
wide band gives a few per cent.

Machine notes: times are medians over repeats; the machine may be shared,
so compare ratios measured in the same run. Peak memory is the process's
``ru_maxrss`` after each stage (monotone, so each figure bounds everything
before it) and a ``tracemalloc`` peak of one project call (Python and NumPy
allocations only; GEOS's own C++ allocations are not traced).

Run from the repository root::

    python bench/service_areas.py                       # both networks: ~6 min idle, ~8.5 min shared
    python bench/service_areas.py --network porto_alegre --repeats 5
    python bench/service_areas.py --quick               # skips the Liechtenstein recipes

Data: ``$COVERAGE_PLANNER_DATA`` or ``../shared/data`` next to the repository.
Nothing is written into the repository (caches go to temporary folders).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

# ``python bench/service_areas.py`` puts bench/ first on sys.path, where
# bench/coverage.py would shadow the package: import it from the repo root.
_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import osmnx as ox  # noqa: E402
import shapely  # noqa: E402

import coverage as cp  # noqa: E402
from bench._common import data_dir, med, rss_mb, table, timed  # noqa: E402
from coverage import osm  # noqa: E402
from coverage.network import exclusion_reason  # noqa: E402
from coverage.sites import snap_points  # noqa: E402

RADIUS_M = 500.0
BUFFER_M = 25.0

NETWORKS = {
    "porto_alegre": "porto_alegre/poa_osm.pbf",
    "liechtenstein": "liechtenstein/liechtenstein-latest.osm.pbf",
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# the osmnx notebook recipe
# --------------------------------------------------------------------------


def recipe_graph(path: Path, net: cp.WalkNetwork) -> nx.MultiDiGraph:
    """The projected osmnx graph of the file: the project's walkable edges, largest component."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = osm.graph_from_file(path)
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if u == v or exclusion_reason(d) is not None]
    G.remove_edges_from(drop)
    G = ox.truncate.largest_component(G, strongly=False)
    return ox.project_graph(G, to_crs=net.crs)


def recipe_run(G: nx.MultiDiGraph, halls: gpd.GeoDataFrame) -> dict[str, Any]:
    """One timed run of both recipes over all halls."""
    out: dict[str, Any] = {}
    t, nodes = timed(lambda: ox.distance.nearest_nodes(G, halls.geometry.x.to_numpy(), halls.geometry.y.to_numpy()))
    out["t_nearest"] = t
    t, subs = timed(lambda: [nx.ego_graph(G, n, radius=RADIUS_M, distance="length") for n in nodes])
    out["t_ego"] = t

    def buffered() -> list[shapely.Geometry]:
        polys = []
        for sub in subs:
            if sub.number_of_edges() == 0:  # graph_to_gdfs refuses an edgeless graph
                polys.append(shapely.Polygon())
                continue
            edges = ox.graph_to_gdfs(sub, nodes=False, fill_edge_geometry=True)
            polys.append(edges.buffer(BUFFER_M).union_all())
        return polys

    def hulls() -> list[shapely.Geometry]:
        return [
            gpd.GeoSeries([shapely.Point(d["x"], d["y"]) for _, d in sub.nodes(data=True)]).union_all().convex_hull
            for sub in subs
        ]

    out["t_buffer"], out["buffer"] = timed(buffered)
    out["t_buffer_union"], out["buffer_union"] = timed(lambda: shapely.union_all(out["buffer"]))
    out["t_hull"], out["hull"] = timed(hulls)
    out["t_hull_union"], out["hull_union"] = timed(lambda: shapely.union_all(out["hull"]))
    out["nodes"] = np.asarray(nodes)
    out["subs"] = subs
    return out


def recipe_lengths(G: nx.MultiDiGraph, subs: list[nx.MultiDiGraph]) -> tuple[float, float, int]:
    """Street length of the ego graphs: summed over halls, union, edgeless halls."""
    per_hall = 0.0
    union: dict[tuple[Any, Any], float] = {}
    empty = 0
    for sub in subs:
        seen: dict[tuple[Any, Any], float] = {}
        for u, v, length in sub.edges(data="length"):
            key = (u, v) if u <= v else (v, u)
            seen[key] = min(length, seen.get(key, np.inf))
        empty += not seen
        per_hall += sum(seen.values())
        union.update(seen)
    return per_hall, float(sum(union.values())), empty


def recipe_decomposition(G: nx.MultiDiGraph, nodes: np.ndarray) -> dict[str, float]:
    """Split the ego-graph length against the exact reach from the same nodes.

    For each hall node: ``induced`` = length of edges with both ends within
    500 m (what ego_graph keeps); ``overcount`` = the part of those edges
    beyond the budget (ends reached from both sides, middle not);
    ``dropped`` = reach into edges with one end reached (partial edges).
    exact_from_node = induced - overcount + dropped.
    """
    und = nx.Graph()
    for u, v, length in G.edges(data="length"):
        if not und.has_edge(u, v) or und[u][v]["length"] > length:
            und.add_edge(u, v, length=length)
    induced = over = dropped = 0.0
    for n in nodes:
        dist = nx.single_source_dijkstra_path_length(und, n, cutoff=RADIUS_M, weight="length")
        seen = set()
        for a in dist:
            for b, data in und[a].items():
                key = (a, b) if a <= b else (b, a)
                if key in seen:
                    continue
                seen.add(key)
                length = data["length"]
                da, db = dist[a], dist.get(b, np.inf)
                reach = min(length, max(0.0, RADIUS_M - da) + max(0.0, RADIUS_M - db))
                if np.isfinite(db):
                    induced += length
                    over += length - reach
                else:
                    dropped += reach
    return {
        "induced": induced,
        "overcount": over,
        "dropped": dropped,
        "exact_from_node": induced - over + dropped,
    }


def street_length_inside(net: cp.WalkNetwork, polys: list[shapely.Geometry]) -> float:
    """Total street length of the network inside each polygon, summed over polygons."""
    tree = shapely.STRtree(net.edge_geometry)
    total = 0.0
    for poly in polys:
        if poly.is_empty or poly.area == 0:
            continue
        idx = tree.query(poly, predicate="intersects")
        if idx.size:
            total += float(shapely.length(shapely.intersection(net.edge_geometry[idx], poly)).sum())
    return total


# --------------------------------------------------------------------------
# independent check of the project's reached street length
# --------------------------------------------------------------------------


def nx_reached_lengths(net: cp.WalkNetwork, halls: gpd.GeoDataFrame) -> np.ndarray:
    """Exact reached street length per hall, computed independently with networkx.

    The hall's snapped edge (the project's own snap, so that the search and
    the cut are what is checked) gets a virtual node at the hall's offset;
    one bounded Dijkstra from it (budget minus the access walk); every edge
    reached from one end or both contributes min(L, (r - du)+ + (r - dv)+),
    the split edge piecewise. Halls the project left unsnapped get NaN.
    """
    snap = snap_points(net, halls)
    G = nx.Graph()
    G.add_weighted_edges_from(
        zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist(), strict=True),
        weight="length",
    )
    L = net.edge_length_m
    out = np.full(len(halls), np.nan)
    for i in range(len(halls)):
        e = int(snap.edge[i])
        if e < 0:
            continue
        a, t = float(snap.access_m[i]), float(snap.offset_m[i])
        u, v, le = int(net.edge_u[e]), int(net.edge_v[e]), float(L[e])
        budget = RADIUS_M - a
        if budget <= 0:
            out[i] = 0.0
            continue
        G.add_edge("hall", u, length=t)
        G.add_edge("hall", v, length=le - t)
        dist = nx.single_source_dijkstra_path_length(G, "hall", cutoff=budget, weight="length")
        G.remove_node("hall")
        d = np.full(net.n_nodes, np.inf)
        keys = [k for k in dist if k != "hall"]
        d[np.asarray(keys, dtype=np.int64)] = a + np.asarray([dist[k] for k in keys])
        du, dv = d[net.edge_u], d[net.edge_v]
        reach = np.minimum(L, np.clip(RADIUS_M - du, 0, None) + np.clip(RADIUS_M - dv, 0, None))
        r_h = RADIUS_M - a
        reach[e] = min(t, max(0.0, RADIUS_M - d[u]) + r_h) + min(le - t, r_h + max(0.0, RADIUS_M - d[v]))
        out[i] = float(reach.sum())
    return out


# --------------------------------------------------------------------------
# one network
# --------------------------------------------------------------------------


def run_network(name: str, args: argparse.Namespace, failures: list[str]) -> dict[str, Any]:
    path = data_dir() / NETWORKS[name]
    print(f"\n=== {name}: {path.name} ===", flush=True)
    res: dict[str, Any] = {"name": name}

    # Loading: cold (empty temporary cache) and cached (second load), median of repeats.
    cold, cached = [], []
    net = None
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="cp-bench-cache-") as tmp:
            t, _net = timed(lambda tmp=tmp: cp.load_network(path, cache_dir=tmp))
            cold.append(t)
            t, net = timed(lambda tmp=tmp: cp.load_network(path, cache_dir=tmp))
            cached.append(t)
    assert net is not None
    res.update(
        nodes=net.n_nodes,
        edges=net.n_edges,
        km=net.edge_length_m.sum() / 1000,
        load_cold=med(cold),
        load_cached=med(cached),
    )
    print(net.report.summary())
    print(
        f"load_network: cold {med(cold):.2f} s, cached {med(cached):.3f} s (median of {args.repeats}); "
        f"peak RSS so far {rss_mb():,.0f} MB",
        flush=True,
    )

    halls = random_halls(net, args.halls, args.seed)

    # The project: default (raster) and exact, interleaved, median of repeats.
    t_first, _ = timed(lambda: cp.service_areas(net, halls, radius_m=RADIUS_M))
    t_def, t_ex, step_def, step_ex = [], [], [], []
    sa_def = sa_ex = None
    for _ in range(args.repeats):
        t, sa_def = timed(lambda: cp.service_areas(net, halls, radius_m=RADIUS_M))
        t_def.append(t)
        step_def.append(sa_def.timings)
        t, sa_ex = timed(lambda: cp.service_areas(net, halls, radius_m=RADIUS_M, resolution_m=0))
        t_ex.append(t)
        step_ex.append(sa_ex.timings)
    assert sa_def is not None
    assert sa_ex is not None
    res["project_default"] = med(t_def)
    res["project_exact"] = med(t_ex)
    res["rss_after_project"] = rss_mb()

    def steps(ts: list[dict[str, float]]) -> str:
        return ", ".join(f"{k} {med([d[k] for d in ts]):.3f}" for k in ts[0])

    print(
        f"project first call (builds the edge index) {t_first:.2f} s; steps (median s): "
        f"default [{steps(step_def)}], exact [{steps(step_ex)}]"
    )

    tracemalloc.start()
    cp.service_areas(net, halls, radius_m=RADIUS_M)
    _, peak_def = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    cp.service_areas(net, halls, radius_m=RADIUS_M, resolution_m=0)
    _, peak_ex = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res["tm_default"], res["tm_exact"] = peak_def / 2**20, peak_ex / 2**20

    # Project correctness.
    len_def = sa_def.areas["reached_length_m"].to_numpy()
    len_ex = sa_ex.areas["reached_length_m"].to_numpy()
    if not np.allclose(len_def, len_ex, rtol=1e-12, atol=1e-6):
        failures.append(f"{name}: raster and exact runs reach different street lengths")
    t_chk, len_nx = timed(lambda: nx_reached_lengths(net, halls))
    ok = ~np.isnan(len_nx)
    snapped = sa_ex.sites["snapped"].to_numpy()
    dev = np.abs(len_nx[ok] - len_ex) if ok.sum() == len_ex.size else np.array([np.inf])
    if ok.sum() != snapped.sum() or not np.all(dev <= 1e-6 * np.maximum(1.0, len_nx[ok])):
        failures.append(f"{name}: project reached length differs from the networkx check (max {dev.max():.3g} m)")
    g_def = sa_def.areas.geometry.to_numpy()
    g_ex = sa_ex.areas.geometry.to_numpy()
    share = shapely.area(shapely.symmetric_difference(g_def, g_ex)) / shapely.area(g_ex)
    u_def, u_ex = sa_def.union.geometry.iloc[0], sa_ex.union.geometry.iloc[0]
    u_share = shapely.symmetric_difference(u_def, u_ex).area / u_ex.area
    u_area_dev = abs(u_def.area - u_ex.area) / u_ex.area
    # "Within about one cell": what lies more than 1.5 cells outside the other outline.
    tol = 1.5 * BUFFER_M / 4.0  # the default cell is buffer_m / 4
    out_r = shapely.area(shapely.difference(g_def, shapely.buffer(g_ex, tol))) / shapely.area(g_ex)
    out_e = shapely.area(shapely.difference(g_ex, shapely.buffer(g_def, tol))) / shapely.area(g_ex)
    area_ratio = shapely.area(g_def) / shapely.area(g_ex)
    if max(out_r.max(), out_e.max()) > 1e-3 or u_area_dev > 0.05:
        failures.append(
            f"{name}: raster outline not within {tol:g} m of the exact one "
            f"(max residue {max(out_r.max(), out_e.max()):.2%}, union area off by {u_area_dev:.1%})"
        )
    print(
        f"checks: networkx reached-length check on {int(ok.sum())} halls, max |diff| {dev.max():.2e} m "
        f"({t_chk:.1f} s, untimed).\n        raster vs exact per hall: median sym-diff "
        f"{np.median(share):.2%} "
        f"(p95 {np.quantile(share, 0.95):.2%}, max {share.max():.2%}) of the exact area; area ratio median "
        f"{np.median(area_ratio):.4f}; beyond {tol:g} m of the other outline: raster "
        f"{out_r.max():.4%}, exact "
        f"{out_e.max():.4%} (max over halls).\n        union: sym-diff {u_share:.2%}, area "
        f"{u_def.area / 1e6:.3f} (raster) vs {u_ex.area / 1e6:.3f} km2 (exact)"
    )
    res["symdiff_median"] = float(np.median(share))
    res["exact_hall_km"] = float(len_ex.sum()) / 1000
    res["exact_union_km"] = float(sa_ex.union["reached_length_m"].iloc[0]) / 1000
    res["rows"] = [
        [
            "project raster (default)",
            res["project_default"],
            res["exact_hall_km"],
            res["exact_union_km"],
            u_def.area / 1e6,
            f"exact reach, grid outline; {int(snapped.sum())}/{len(halls)} snapped",
        ],
        [
            "project exact (resolution_m=0)",
            res["project_exact"],
            res["exact_hall_km"],
            res["exact_union_km"],
            u_ex.area / 1e6,
            "exact reach, exact GEOS union",
        ],
    ]

    # The recipe.
    if args.quick and name == "liechtenstein":
        print("--quick: the osmnx recipes are skipped on Liechtenstein.")
        res["recipe"] = False
        return res
    t_prep, G = timed(lambda: recipe_graph(path, net))
    res["recipe_prep"] = t_prep
    print(
        f"recipe graph (graph_from_file + same edge filter + largest component + project_graph): "
        f"{t_prep:.2f} s once; {len(G):,} nodes, {G.number_of_edges():,} directed edges",
        flush=True,
    )
    # The same streets: the project simplifies again after dropping non-walkable ways (a node
    # left with two edges is no longer a junction), so node counts differ; lengths must not.
    shortest: dict[tuple[Any, Any], float] = {}
    for u, v, data in G.edges(data=True):
        if u != v:
            key = (u, v) if str(u) <= str(v) else (v, u)
            shortest[key] = min(shortest.get(key, math.inf), float(data["length"]))
    recipe_km = sum(shortest.values()) / 1000.0
    project_km = float(net.edge_length_m.sum()) / 1000.0
    print(f"street length: recipe graph {recipe_km:,.1f} km, project {project_km:,.1f} km", flush=True)
    if abs(recipe_km - project_km) > 0.005 * project_km:
        failures.append(f"{name}: recipe graph has {recipe_km:,.1f} km of street, the project's {project_km:,.1f} km")
    runs = []
    for _ in range(args.repeats):
        runs.append(recipe_run(G, halls))
    last = runs[-1]
    common = [r["t_nearest"] + r["t_ego"] for r in runs]
    t_buf = med([c + r["t_buffer"] + r["t_buffer_union"] for c, r in zip(common, runs, strict=True)])
    t_hull = med([c + r["t_hull"] + r["t_hull_union"] for c, r in zip(common, runs, strict=True)])
    res["recipe_buffer"], res["recipe_hull"] = t_buf, t_hull
    res["rss_after_recipe"] = rss_mb()
    print(
        "recipe steps (median s): nearest_nodes {:.3f}, ego_graph x{} {:.3f}, "
        "buffer+union_all per hall {:.3f}, "
        "union of halls {:.3f}; convex hulls {:.3f}, union of hulls {:.3f}".format(
            med([r["t_nearest"] for r in runs]),
            len(halls),
            med([r["t_ego"] for r in runs]),
            med([r["t_buffer"] for r in runs]),
            med([r["t_buffer_union"] for r in runs]),
            med([r["t_hull"] for r in runs]),
            med([r["t_hull_union"] for r in runs]),
        )
    )

    hall_len, union_len, empty = recipe_lengths(G, last["subs"])
    hull_inside = street_length_inside(net, last["hull"])
    deco = recipe_decomposition(G, last["nodes"])
    res["recipe_hall_km"], res["recipe_union_km"] = hall_len / 1000, union_len / 1000
    res["rows"] += [
        [
            "recipe ego_graph + buffer 25 m",
            t_buf,
            hall_len / 1000,
            union_len / 1000,
            last["buffer_union"].area / 1e6,
            f"nearest node, whole edges only; {empty} hall(s) with no edge",
        ],
        [
            "recipe ego_graph + convex hull",
            t_hull,
            hull_inside / 1000,
            float("nan"),
            last["hull_union"].area / 1e6,
            "hall km = street length inside the hulls",
        ],
    ]
    print(
        f"recipe vs exact street length (summed over halls): ego graphs {hall_len / 1000:,.1f} km vs exact "
        f"{res['exact_hall_km']:,.1f} km ({hall_len / 1000 / res['exact_hall_km'] - 1:+.1%}). "
        "Decomposition from "
        f"the same nearest nodes: ego edges {deco['induced'] / 1000:,.1f} km, of which "
        f"{deco['overcount'] / 1000:,.1f} km lie beyond the budget (both ends reached, middle not); "
        f"{deco['dropped'] / 1000:,.1f} km of partial edges dropped; exact reach from the nearest nodes "
        f"{deco['exact_from_node'] / 1000:,.1f} km (the rest of the gap to the exact figure is the "
        f"nearest-node snap of the halls)."
    )
    if hall_len / 1000 < res["exact_hall_km"]:
        print("=> the recipe's reached street length is SMALLER than the exact one, as expected.")
    else:
        print("=> NOTE: the recipe's reached street length is NOT smaller than the exact one here.")
    print(
        f"convex hulls: {hull_inside / 1000:,.1f} km of street inside them "
        f"({hull_inside / 1000 / res['exact_hall_km']:.2f}x the exact reach); hull union "
        f"{last['hull_union'].area / 1e6:.2f} km2 vs exact union {u_ex.area / 1e6:.2f} km2"
    )
    res["recipe"] = True
    return res


def print_network_table(res: dict[str, Any], repeats: int) -> None:
    base = res["project_default"]
    rows = []
    for label, t, hall_km, union_km, area, note in res["rows"]:
        rows.append(
            [
                label,
                f"{t:.2f}",
                f"{t / base:.2f}",
                f"{hall_km:,.1f}",
                "-" if np.isnan(union_km) else f"{union_km:,.1f}",
                f"{area:.2f}",
                note,
            ]
        )
    print(
        f"\n{res['name']}: {res['nodes']:,} nodes, {res['edges']:,} edges, {res['km']:,.0f} km; "
        f"median of {repeats} repeats, radius {RADIUS_M:g} m"
    )
    print(table(["method", "median s", "x default", "hall km", "union km", "union km2", "note"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--halls", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240304)
    parser.add_argument("--network", choices=["both", *NETWORKS], default="both")
    parser.add_argument("--quick", action="store_true", help="skip the osmnx recipes on Liechtenstein")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.halls < 1:
        parser.error("--repeats and --halls must be >= 1")
    warnings.simplefilter("ignore", cp.CoverageWarning)
    names = list(NETWORKS) if args.network == "both" else [args.network]
    print(
        f"coverage-planner {cp.__version__}, osmnx {ox.__version__}, networkx {nx.__version__}, "
        f"shapely {shapely.__version__}; {args.halls} halls, seed {args.seed}, {args.repeats} repeats, "
        f"{os.cpu_count()} CPUs"
    )
    failures: list[str] = []
    t0 = time.perf_counter()
    results = [run_network(n, args, failures) for n in names]

    for res in results:
        print_network_table(res, args.repeats)

    print("\nGrowth with network size (median s; recipe prep once):")
    rows = []
    for r in results:
        rec = r.get("recipe")
        rows.append(
            [
                r["name"],
                f"{r['nodes']:,}",
                f"{r['edges']:,}",
                f"{r['km']:,.0f}",
                f"{r['load_cold']:.2f}",
                f"{r['load_cached']:.3f}",
                f"{r['project_default']:.2f}",
                f"{r['project_exact']:.2f}",
                f"{r['recipe_prep']:.2f}" if rec else "skipped",
                f"{r['recipe_buffer']:.2f}" if rec else "skipped",
                f"{r['recipe_hull']:.2f}" if rec else "skipped",
            ]
        )
    print(
        table(
            [
                "network",
                "nodes",
                "edges",
                "km",
                "load cold",
                "load cached",
                "raster",
                "exact",
                "recipe prep",
                "recipe buffer",
                "recipe hull",
            ],
            rows,
        )
    )

    print("\nPeak memory:")
    rows = []
    for r in results:
        rows.append(
            [
                r["name"],
                f"{r['rss_after_project']:,.0f}",
                f"{r['rss_after_recipe']:,.0f}" if r.get("recipe") else "skipped",
                f"{r['tm_default']:,.1f}",
                f"{r['tm_exact']:,.1f}",
            ]
        )
    print(
        table(
            [
                "network",
                "ru_maxrss MB after project",
                "after recipes",
                "tracemalloc MB raster",
                "tracemalloc MB exact",
            ],
            rows,
        )
    )
    print(
        "(ru_maxrss is the process peak so far, cumulative across networks; "
        f"total run {time.perf_counter() - t0:.0f} s)"
    )

    if failures:
        print("\nCORRECTNESS CHECKS FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("\nAll correctness checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
