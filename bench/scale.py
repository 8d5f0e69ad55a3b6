"""City scale: build large OSM PBF networks and time every stage through the public API.

Networks (written once under bench/_data/, which git ignores):

* ``grid``: a perturbed grid city: 80 m blocks, junctions jittered by up to
  15 m, one shape node per block edge (jittered by up to 8 m), 8 % of block
  edges removed, streets as ways of 1-6 blocks with mixed highway types
  (primary/secondary/tertiary lines, residential, some footway, path, service,
  and 2 % cycleways that the pedestrian filter removes);
* ``tiles``: copies of the Porto Alegre network (../shared/data) side by side,
  joined at the seams by footways between nearby nodes of neighbouring tiles.

Each size runs in its own subprocess, one at a time; stages run in order and
each has a time limit (a stage that runs out prints "> N s" and the later
stages of that size run in a fresh process). Peak RSS is the worker's
``ru_maxrss`` after each stage. The growth exponent of a stage is the slope of
log(time) against log(network nodes) over the sizes measured.

Stages: load_cold, load_cached (a fresh cache folder per size), demand
(residents every 50 m of street with estimate_demand_along_streets), snap (1
hall per 250 junctions), service_areas and coverage (500 m), matrix
(build_candidates + the coverage matrix), plan10 / plan50 (plan_sites with
k = 10 / 50), outputs (the map saved as HTML).

Usage::

    python bench/scale.py --quick
    python bench/scale.py --sizes 20k,100k --kinds grid --stages load_cold,load_cached
    python bench/scale.py --sizes 600k --kinds grid,tiles --timeout 900
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir, rss_mb, table

DATA = REPO / "bench" / "_data"
STAGES = [
    "load_cold",
    "load_cached",
    "demand",
    "snap",
    "service_areas",
    "coverage",
    "matrix",
    "plan10",
    "plan50",
    "outputs",
]
SIZES = {"20k": 20_000, "100k": 100_000, "300k": 300_000, "600k": 600_000}
RADIUS_M = 500.0
BLOCK_M = 80.0
METRES_PER_DEGREE = 111_320.0

# ---------------------------------------------------------------------------
# building the networks


def _write_pbf(
    path: Path,
    node_ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    ways: list[tuple[int, list[int], dict[str, str]]],
) -> None:
    import osmium

    tmp = path.with_name("part-" + path.name)
    tmp.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(tmp)) as writer:
        for node, x, y in zip(node_ids.tolist(), lon.tolist(), lat.tolist(), strict=True):
            writer.add_node(osmium.osm.mutable.Node(id=node, location=(x, y)))
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    tmp.replace(path)


def _grid_ways(
    m: int, rng: np.random.Generator, junction: np.ndarray, shape: dict[tuple[int, int, int], int]
) -> list[tuple[int, list[int], dict[str, str]]]:
    """Streets along rows (axis 0) and columns (axis 1) as ways of 1-6 blocks."""
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for axis in (0, 1):
        for line in range(m):
            kind = (
                "primary"
                if line % 20 == 0
                else "secondary"
                if line % 10 == 0
                else "tertiary"
                if line % 5 == 0
                else "residential"
            )
            refs: list[int] = []
            target = int(rng.integers(1, 7))
            for step in range(m - 1):
                key = (axis, line, step)
                a = junction[line, step] if axis == 0 else junction[step, line]
                b = junction[line, step + 1] if axis == 0 else junction[step + 1, line]
                if key not in shape:  # a removed block edge ends the way
                    if len(refs) > 1:
                        ways.append((0, refs, {}))
                    refs = []
                    continue
                if not refs:
                    refs = [int(a)]
                refs += [shape[key], int(b)]
                if (len(refs) - 1) // 2 >= target:
                    ways.append((0, refs, {}))
                    refs, target = [], int(rng.integers(1, 7))
            if len(refs) > 1:
                ways.append((0, refs, {}))
            for index in range(len(ways) - 1, -1, -1):
                if ways[index][2]:
                    break
                draw = rng.random()
                tag = kind
                if kind == "residential" and draw < 0.05:
                    tag = str(rng.choice(["footway", "path", "service"]))
                elif draw > 0.98:
                    tag = "cycleway"
                ways[index] = (0, ways[index][1], {"highway": tag})
    return [(i + 1, refs, tags) for i, (_, refs, tags) in enumerate(ways)]


def make_grid(n_nodes: int, path: Path, *, seed: int = 11) -> None:
    """Write a perturbed grid city with about ``n_nodes`` junctions."""
    rng = np.random.default_rng(seed)
    m = round(math.sqrt(n_nodes))
    junction = np.arange(1, m * m + 1, dtype=np.int64).reshape(m, m)
    jx = (np.arange(m)[None, :] * BLOCK_M + rng.uniform(-15, 15, (m, m))).ravel()
    jy = (np.arange(m)[:, None] * BLOCK_M + rng.uniform(-15, 15, (m, m))).ravel()
    xs, ys, ids = [jx], [jy], [junction.ravel()]
    shape: dict[tuple[int, int, int], int] = {}
    next_id = m * m + 1
    for axis in (0, 1):
        keep = rng.random((m, m - 1)) >= 0.08
        line, step = np.nonzero(keep)
        a = junction[line, step] - 1 if axis == 0 else junction[step, line] - 1
        b = junction[line, step + 1] - 1 if axis == 0 else junction[step + 1, line] - 1
        new = np.arange(next_id, next_id + line.size)
        next_id += line.size
        xs.append((jx[a] + jx[b]) / 2 + rng.uniform(-8, 8, line.size))
        ys.append((jy[a] + jy[b]) / 2 + rng.uniform(-8, 8, line.size))
        ids.append(new)
        shape.update(zip(zip([axis] * line.size, line.tolist(), step.tolist(), strict=True), new.tolist(), strict=True))
    x, y, node_ids = np.concatenate(xs), np.concatenate(ys), np.concatenate(ids)
    lat = 22.5 + y / METRES_PER_DEGREE
    lon = 113.9 + x / (METRES_PER_DEGREE * math.cos(math.radians(22.5 + m * BLOCK_M / 2 / METRES_PER_DEGREE)))
    ways = _grid_ways(m, rng, junction, shape)
    order = np.argsort(node_ids)
    _write_pbf(path, node_ids[order], lon[order], lat[order], ways)


def _read_osm(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, list[int], dict[str, str]]]]:
    import osmium

    ways = []
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(osmium.filter.KeyFilter("highway")):
        ways.append((way.id, [n.ref for n in way.nodes], dict(way.tags)))
    used = {ref for _, refs, _ in ways for ref in refs}
    nodes = [
        (n.id, n.location.lon, n.location.lat) for n in osmium.FileProcessor(str(path), osmium.osm.NODE) if n.id in used
    ]
    arr = np.asarray(nodes)
    return arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], ways


def make_tiles(n_nodes: int, path: Path, *, per_tile: int = 16_478) -> None:
    """Write copies of Porto Alegre side by side, joined at the seams by footways."""
    from scipy.spatial import cKDTree

    ids, lon, lat, ways = _read_osm(data_dir() / "porto_alegre" / "poa_osm.pbf")
    tiles = max(1, round(n_nodes / per_tile))
    nx_ = max(1, math.floor(math.sqrt(tiles)))
    width, height = lon.max() - lon.min(), lat.max() - lat.min()
    offset = 1 << 36
    all_ids, all_lon, all_lat, all_ways = [], [], [], []
    for t in range(tiles):
        col, row = t % nx_, t // nx_
        all_ids.append(ids + t * offset)
        all_lon.append(lon + col * width)
        all_lat.append(lat + row * height)
        all_ways += [(w + t * offset, [r + t * offset for r in refs], tags) for w, refs, tags in ways]
    node_ids, node_lon, node_lat = np.concatenate(all_ids), np.concatenate(all_lon), np.concatenate(all_lat)
    # seams: footways from the outermost nodes of a tile to the nearest node of the next tile
    scale = np.array([METRES_PER_DEGREE * math.cos(math.radians(float(lat.mean()))), METRES_PER_DEGREE])
    east = np.flatnonzero(lon >= np.quantile(lon, 0.99))
    west = np.flatnonzero(lon <= np.quantile(lon, 0.01))
    north = np.flatnonzero(lat >= np.quantile(lat, 0.99))
    south = np.flatnonzero(lat <= np.quantile(lat, 0.01))
    join_id = 9 * (1 << 50)
    for t in range(tiles):
        col, row = t % nx_, t // nx_
        for other, near, far in ((t + 1, east, west), (t + nx_, north, south)):
            if other >= tiles or (far is west and col == nx_ - 1):
                continue
            here = np.column_stack([all_lon[t][near], all_lat[t][near]]) * scale
            there = np.column_stack([all_lon[other][far], all_lat[other][far]]) * scale
            _, nearest = cKDTree(there).query(here)
            for i, j in zip(near.tolist(), far[nearest].tolist(), strict=True):
                all_ways.append((join_id, [int(all_ids[t][i]), int(all_ids[other][j])], {"highway": "footway"}))
                join_id += 1
    order = np.argsort(node_ids)
    _write_pbf(path, node_ids[order], node_lon[order], node_lat[order], all_ways)


def network_file(kind: str, size: str) -> Path:
    """Return the PBF of a kind and size, building it (in this process) if missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{kind}_{size}.osm.pbf"
    if not path.exists():
        started = time.perf_counter()
        (make_grid if kind == "grid" else make_tiles)(SIZES[size], path)
        print(f"# built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


# ---------------------------------------------------------------------------
# the worker: time the stages of one size


def _emit(stage: str, seconds: float, **info: Any) -> None:
    print(json.dumps({"stage": stage, "s": seconds, "rss_mb": rss_mb(), **info}), flush=True)


def _halls(net: Any, rng: np.random.Generator) -> Any:
    import geopandas as gpd

    degree = np.diff(net.graph.indptr)
    junctions = np.flatnonzero(degree >= 3)
    count = max(1, junctions.size // 250)
    chosen = np.sort(rng.choice(junctions, count, replace=False))
    return gpd.GeoDataFrame(
        {"site_id": [f"h{i}" for i in range(count)], "name": [f"hall {i}" for i in range(count)]},
        geometry=gpd.points_from_xy(net.node_x[chosen] + 20.0, net.node_y[chosen] + 10.0),
        crs=net.crs,
    )


def work(kind: str, size: str, stages: list[str], cache_dir: Path) -> None:
    """Run the stages in order; stages not asked for are run untimed only when needed."""
    import coverage as cp

    warnings.simplefilter("ignore")
    path = network_file(kind, size)
    state: dict[str, Any] = {}
    rng = np.random.default_rng(5)

    def run(stage: str, fn: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            out = fn()
        except Exception as exc:  # a stage of another engineer may be mid-change: report, go on
            _emit(stage, float("nan"), error=f"{type(exc).__name__}: {str(exc)[:120]}")
            return None
        if stage in stages:
            info: dict[str, Any] = {"nodes": out.n_nodes, "edges": out.n_edges} if stage.startswith("load") else {}
            if stage.startswith("plan"):
                sel = out.selection
                info["certificate"] = (
                    f"{'proven optimal' if sel.optimal else 'not proven'}, gap {sel.gap:.3%}, "
                    f"{len(out.candidates):,} candidates"
                )
            if stage == "coverage":
                info["certificate"] = f"{len(demand):,} units, {demand['population'].sum():,.0f} residents"
            if stage == "snap":
                info["certificate"] = f"{len(halls):,} halls"
            _emit(stage, time.perf_counter() - started, cpu=time.process_time() - cpu, **info)
        return out

    state["net"] = run("load_cold", lambda: cp.load_network(path, cache_dir=cache_dir))
    if "load_cached" in stages:
        run("load_cached", lambda: cp.load_network(path, cache_dir=cache_dir))
    net = state["net"]
    later = [s for s in stages if s not in ("load_cold", "load_cached")]
    if not later or net is None:
        return
    from coverage.demand import estimate_demand_along_streets

    demand = run(
        "demand", lambda: estimate_demand_along_streets(net, density_per_km2=10_000.0, highway=None, spacing_m=50.0)
    )
    halls = _halls(net, rng)
    run("snap", lambda: cp.snap_sites(net, halls))
    if "service_areas" in stages:
        run("service_areas", lambda: cp.service_areas(net, halls, radius_m=RADIUS_M))
    if demand is None or not ({"coverage", "matrix", "plan10", "plan50", "outputs"} & set(stages)):
        return
    before = run("coverage", lambda: cp.assess_coverage(net, halls, demand, radius_m=RADIUS_M))
    if before is None:
        return
    if "matrix" in stages:
        from coverage._matrix import coverage_matrix
        from coverage.candidates import build_candidates

        def matrix() -> Any:
            candidates = build_candidates(net, gaps=before.gaps)
            return coverage_matrix(net, before.unit_snap, candidates.snap, radius_m=RADIUS_M)

        run("matrix", matrix)
    plan = None
    for k in (10, 50):
        if f"plan{k}" in stages:
            plan = run(f"plan{k}", lambda k=k: cp.plan_sites(net, halls, before, k=k, target_share=None)) or plan
    if "outputs" in stages:
        from coverage.maps import coverage_map, save_map

        with tempfile.TemporaryDirectory() as out:
            run(
                "outputs",
                lambda: save_map(coverage_map(net, coverage=before, plan=plan, halls=halls), Path(out) / "map.html"),
            )


# ---------------------------------------------------------------------------
# the driver


def _measure(kind: str, size: str, stages: list[str], timeout_s: float) -> dict[str, dict[str, Any]]:
    """Run a size's stages in subprocesses, restarting after a stage that runs out of time."""
    results: dict[str, dict[str, Any]] = {}
    todo = list(stages)
    with tempfile.TemporaryDirectory() as cache:
        while todo:
            command = [sys.executable, __file__, "--worker", kind, size, "--stages", ",".join(todo), "--cache", cache]
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
            assert proc.stdout is not None
            current = todo[0]
            deadline = time.monotonic() + timeout_s + (1200 if current == "load_cold" else 0)  # + building the file
            timed_out = False
            while True:
                ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    timed_out = True
                    proc.kill()
                    break
                line = proc.stdout.readline()
                if not line:
                    break
                row = json.loads(line)
                results[row["stage"]] = row
                if row["stage"] in todo:
                    todo.remove(row["stage"])
                if not todo:
                    break
                current = todo[0]
                deadline = time.monotonic() + timeout_s
            proc.wait()
            if timed_out:
                results[current] = {"stage": current, "s": float("inf"), "rss_mb": float("nan")}
                todo.remove(current)
            elif todo:  # the worker ended without these stages (a prerequisite failed)
                for stage in todo:
                    results.setdefault(stage, {"stage": stage, "s": float("nan"), "error": "not run"})
                todo = []
    return results


def _cell(row: dict[str, Any] | None, timeout_s: float, key: str = "s") -> str:
    if row is None:
        return ""
    if row.get("error") and key == "s":
        print(f"# {row['stage']}: {row['error']}", file=sys.stderr)
    seconds = row["s"] if key == "s" or row["s"] == float("inf") else row.get(key, float("nan"))
    if seconds == float("inf"):
        return f"> {timeout_s:.0f} s"
    if not math.isfinite(seconds):
        return "error"
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20k,100k,300k,600k", help="comma list of " + ",".join(SIZES))
    parser.add_argument("--kinds", default="grid,tiles", help="grid, tiles or both")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma list of " + ",".join(STAGES))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per stage")
    parser.add_argument("--quick", action="store_true", help="20k grid only, 120 s per stage")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    if args.build:
        network_file(*args.build)
        return
    if args.worker:
        work(args.worker[0], args.worker[1], stages, Path(args.cache))
        return
    if args.quick:
        args.sizes, args.kinds, args.timeout = "20k", "grid", 120.0
    unknown = (set(stages) - set(STAGES)) | (set(args.sizes.split(",")) - set(SIZES))
    if unknown:
        parser.error(f"unknown stages or sizes: {sorted(unknown)}")
    print(f"# {os.cpu_count()} cores; stage limit {args.timeout:.0f} s; times in seconds, RSS in MiB (peak so far)")
    for kind in args.kinds.split(","):
        rows, cpu_rows, rss_rows, notes = [], [], [], []
        fits: dict[str, list[tuple[int, float]]] = {stage: [] for stage in stages}
        for size in args.sizes.split(","):
            # build outside the timed stages, in a process of its own
            subprocess.run([sys.executable, __file__, "--build", kind, size], check=True, cwd=REPO)
            results = _measure(kind, size, stages, args.timeout)
            load = results.get("load_cold", {})
            nodes = load.get("nodes")
            rows.append(
                [f"{kind} {size}", f"{nodes:,}" if nodes else "?"]
                + [_cell(results.get(stage), args.timeout) for stage in stages]
                + [
                    f"{load.get('rss_mb', float('nan')):,.0f}",
                    f"{max((r.get('rss_mb') or 0) for r in results.values()):,.0f}",
                ]
            )
            cpu_rows.append(
                [f"{kind} {size}", rows[-1][1]] + [_cell(results.get(stage), args.timeout, "cpu") for stage in stages]
            )
            rss_rows.append(
                [f"{kind} {size}", rows[-1][1]]
                + [f"{results.get(stage, {}).get('rss_mb', float('nan')):,.0f}" for stage in stages]
            )
            notes += [
                f"{kind} {size} {stage}: {results[stage]['certificate']}"
                for stage in stages
                if results.get(stage, {}).get("certificate")
            ]
            for stage in stages:
                seconds = results.get(stage, {}).get("s", float("nan"))
                if nodes and math.isfinite(seconds) and seconds > 0:
                    fits[stage].append((nodes, seconds))
            print(f"# {kind} {size} done", file=sys.stderr, flush=True)
        print(f"wall seconds (machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)")
        print(table(["network", "nodes", *stages, "load RSS", "peak RSS"], rows))
        print("CPU seconds of the worker (about the wall time on an idle machine for single-threaded stages)")
        print(table(["network", "nodes", *stages], cpu_rows))
        exponents = []
        for stage in stages:
            points = fits[stage]
            if len(points) >= 2:
                slope = np.polyfit(np.log([p[0] for p in points]), np.log([p[1] for p in points]), 1)[0]
                exponents.append(f"{stage} {slope:.2f}")
        print("growth exponent (time ~ nodes^b): " + (", ".join(exponents) or "needs 2 sizes"))
        print("peak RSS of the worker after each stage, MiB (a stage run in a fresh worker starts again)")
        print(table(["network", "nodes", *stages], rss_rows))
        for line in notes:
            print(line)
        print()


if __name__ == "__main__":
    main()
