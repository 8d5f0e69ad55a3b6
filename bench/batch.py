"""Batch and partition benchmark: a 2-worker local Dask cluster against one process.

1. Scenarios (Futian at 300/500/800 m and Porto Alegre, no plan): one by one
   in this process (run_scenario + write_outputs, as ``coverage-planner run``)
   against ``run_batch`` on a LocalCluster of 2 worker processes. Wall times;
   the network cache is warm for both (prepared once beforehand).
2. Porto Alegre's walking network (the largest here) with residents every 50 m
   of street and the healthcare hexagons as halls: ``assess_coverage`` in one
   piece against ``assess_coverage_by_district`` over a grid of 2x2 and 3x3
   polygons, in-process and on the 2-worker cluster; times and whether every
   resident's status and distance agree.

Usage: python bench/batch.py   (prints a table; run on a quiet machine for real figures)
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import REPO, data_dir
from coverage import demand as dm
from coverage.assess import assess_coverage
from coverage.batch import _write, run_batch
from coverage.network import load_network
from coverage.partition import assess_coverage_by_district, dask_map
from coverage.pipeline import run_scenario
from coverage.scenario import load_scenario
from coverage.sites import read_sites


def scenario_files(folder: Path) -> list[Path]:
    files = []
    futian = (REPO / "data" / "scenarios" / "futian.toml").read_text(encoding="utf-8")
    for r in (300, 500, 800):
        p = folder / f"futian_{r}.toml"
        text = futian.replace("radius_m = 500", f"radius_m = {r}")
        p.write_text(text.replace("[plan]", "[plan]\nenabled = false", 1))
        files.append(p)
    poa = (REPO / "data" / "scenarios" / "porto_alegre.toml").read_text(encoding="utf-8")
    p = folder / "porto_alegre.toml"
    p.write_text(poa.replace("[plan]", "[plan]\nenabled = false", 1))
    files.append(p)
    return files


def grid(net, n: int) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = shapely.total_bounds(net.edge_geometry)
    xs, ys = np.linspace(x0, x1, n + 1), np.linspace(y0, y1, n + 1)
    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(n) for j in range(n)]
    return gpd.GeoDataFrame({"name": [f"P{i}" for i in range(len(boxes))]}, geometry=boxes, crs=net.crs)


def main() -> None:
    data = data_dir()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = scenario_files(folder)
        for f in files:  # warm the network cache for both ways
            run_scenario(load_scenario(f, data_dir=data), steps=("network",))
        t = time.perf_counter()
        for f in files:
            result = run_scenario(load_scenario(f, data_dir=data))
            _write(result, folder / "seq" / f.stem, None)
        seq = time.perf_counter() - t
        t = time.perf_counter()
        batch = run_batch(files, out=folder / "dask", workers=2, data_dir=data)
        par = time.perf_counter() - t
        print(f"{len(files)} scenarios (Futian 300/500/800 m, Porto Alegre; no plan):")
        print(f"  one by one in one process   {seq:7.1f} s")
        print(f"  run_batch, 2-worker cluster {par:7.1f} s   (ratio {seq / par:.2f}x; includes cluster start-up)")
        print(batch.summary[["scenario", "status", "covered_share", "time_total_s"]].to_string(index=False))

    import distributed

    net = load_network(data / "porto_alegre" / "poa_osm.pbf")
    halls = read_sites(data / "porto_alegre" / "poa_hexgrid.csv", id_col="id", lon_col="lon", lat_col="lat")
    halls = halls[halls["healthcare"].astype(float) > 0]
    people = dm.estimate_demand_along_streets(net, density_per_km2=3_000.0, spacing_m=50.0)
    print(f"\nPorto Alegre: {net.n_nodes:,} nodes, {len(halls)} halls, {len(people):,} residents' points, 500 m")
    single_s, single = _timed(lambda: assess_coverage(net, halls, people, radius_m=500.0))
    print(f"  assess_coverage, one piece           {single_s:7.1f} s")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster, distributed.Client(cluster) as client:
        for n in (2, 3):
            for label, kw in (("in-process", {}), ("2-worker cluster", {"map_fn": dask_map(client)})):
                secs, parted = _timed(
                    lambda n=n, kw=kw: assess_coverage_by_district(net, halls, people, grid(net, n), radius_m=500.0,
                                                                   **kw)
                )
                a, b = single.units, parted.coverage.units
                same_status = bool((a["status"].astype(str) == b["status"].astype(str)).all())
                diff = np.abs(a["distance_m"].to_numpy() - b["distance_m"].to_numpy())
                finite = np.isfinite(diff)
                same_inf = bool((np.isinf(a["distance_m"]) == np.isinf(b["distance_m"])).all())
                print(f"  by district {n}x{n}, {label:<17}{secs:7.1f} s  runs {int(parted.parts['runs'].sum())}, "
                      f"statuses equal {same_status}, distances: max |diff| {diff[finite].max():.2e} m, "
                      f"inf equal {same_inf}, exactly equal {int((diff[finite] == 0).sum()):,}/{len(diff):,}")


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


if __name__ == "__main__":
    main()
