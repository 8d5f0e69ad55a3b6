"""Outputs at city scale: time each file a run writes, on the synthetic grid cities of ``scale.py``.

A scenario is written beside the network (``bench/_data/outputs_<size>/``):
the grid city of ``bench/scale.py``, 1 hall per 250 junctions, residents
estimated along the streets at 16,000 per km² (Shenzhen's 17.6 M on about
1,100 km² of a 500 k-node city), square sub-districts (2 km) and
communities (500 m) as reporting areas, and a greedy plan of ``--k`` sites.
The run itself is timed per step, then each part of
:func:`coverage.report.write_outputs` on its own (GeoPackage, CSVs,
workbook, street names, map.html, map.png/pdf, report.html/docx, summary),
with the sizes of the files. One size per process; peak RSS at the end.

Usage::

    python bench/outputs.py --size 20k
    python bench/outputs.py --size 100k --profile map      # cProfile of one part
    python bench/outputs.py --size 100k --reuse            # reuse the pickled run (same code only)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pickle
import pstats
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import rss_mb, table
from scale import DATA, SIZES, network_file

DENSITY_PER_KM2 = 16_000.0
PARTS = ("gpkg", "csv", "xlsx", "street_names", "map", "static_map", "report", "summary")


def _scenario(kind: str, size: str, k: int) -> Path:
    """Write the scenario, its halls and areas next to the network; return the TOML path."""
    import geopandas as gpd
    import shapely

    import coverage as cp

    pbf = network_file(kind, size)
    folder = DATA / f"outputs_{kind}_{size}"
    folder.mkdir(parents=True, exist_ok=True)
    toml = folder / "scenario.toml"
    if toml.exists():
        return toml
    net = cp.load_network(pbf, cache_dir=folder / "cache")  # the run below uses the same cache
    rng = np.random.default_rng(5)
    degree = np.diff(net.graph.indptr)
    junctions = np.flatnonzero(degree >= 3)
    count = max(1, junctions.size // 250)
    chosen = np.sort(rng.choice(junctions, count, replace=False))
    halls = gpd.GeoDataFrame(
        {"site_id": [f"h{i}" for i in range(count)], "name": [f"社区服务站 {i}" for i in range(count)]},
        geometry=gpd.points_from_xy(net.node_x[chosen] + 20.0, net.node_y[chosen] + 10.0),
        crs=net.crs,
    ).to_crs("EPSG:4326")
    halls.assign(lon=halls.geometry.x, lat=halls.geometry.y).drop(columns="geometry").to_csv(
        folder / "halls.csv", index=False
    )
    x0, y0, x1, y1 = shapely.multilinestrings(list(net.edge_geometry)).bounds
    for name, side_m, label in (("subdistricts", 2000.0, "街道"), ("communities", 500.0, "社区")):
        xs = np.arange(x0, x1, side_m)
        ys = np.arange(y0, y1, side_m)
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + side_m, gy.ravel() + side_m)
        gpd.GeoDataFrame({"name": [f"{label} {i:04d}" for i in range(len(boxes))]}, geometry=boxes, crs=net.crs).to_crs(
            "EPSG:4326"
        ).to_file(folder / f"{name}.geojson", driver="GeoJSON")
    area_km2 = (x1 - x0) * (y1 - y0) / 1e6
    toml.write_text(
        f"""name = "Synthetic grid city {size}"
name_zh = "合成网格城市 {size}"
radius_m = 500

[network]
source = "{pbf}"

[halls]
file = "halls.csv"
id_col = "site_id"
name_col = "name"
lon_col = "lon"
lat_col = "lat"
label_zh = "社区服务站（合成）"

[demand]
kind = "estimate"
population = {DENSITY_PER_KM2 * area_km2:.0f}
area_km2 = {area_km2:.3f}
source_note = "synthetic: {DENSITY_PER_KM2:,.0f} residents per km2 along the streets"

[areas]
file = "subdistricts.geojson"
name_col = "name"

[communities]
file = "communities.geojson"
name_col = "name"

[plan]
enabled = {"true" if k > 0 else "false"}
k = {max(k, 1)}
k_max = {max(k, 1)}
method = "greedy"
target_share = 0.5
spacing_m = 200

[map]
lang = "zh"
""",
        encoding="utf-8",
    )
    return toml


def _run(toml: Path, reuse: bool) -> tuple[Any, dict[str, float]]:
    from coverage.pipeline import run_scenario
    from coverage.scenario import load_scenario

    pickled = toml.with_name("run.pickle")
    if reuse and pickled.exists():
        with pickled.open("rb") as f:
            result = pickle.load(f)
        return result, dict(result.timings)
    sc = load_scenario(toml)
    if sc["plan"]["enabled"]:
        steps: tuple[str, ...] = ("network", "halls", "service_areas", "demand", "coverage", "plan")
    else:
        steps = ("network", "halls", "service_areas", "demand", "coverage")
    result = run_scenario(sc, steps=steps)
    with pickled.open("wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    return result, dict(result.timings)


def _parts(result: Any, out: Path, lang: str) -> dict[str, Callable[[], Any]]:
    """Each part of ``write_outputs`` as a call of its own (the same calls, in the same order)."""
    from coverage import io as cio
    from coverage import report

    layers = report.run_layers(result)
    state: dict[str, Any] = {}

    def names() -> Any:
        from coverage._street_names import street_names

        state["names"] = street_names(result.network, result.scenario["network"]["source"])
        return state["names"]

    def documents() -> Any:
        return report.write_documents(result, out, lang=lang, names=state.get("names"))

    return {
        "gpkg": lambda: cio.write_gpkg(layers, out / "results.gpkg"),
        "csv": lambda: cio.write_csvs(layers, out / "tables"),
        "xlsx": lambda: cio.write_xlsx(layers, out / "tables.xlsx", lang=lang),
        "street_names": names,
        "map": lambda: report.write_map(result, out / "map.html", lang=lang, names=state.get("names")),
        "static_map+report": documents,
        "summary": lambda: (out / "summary.md").write_text(report.summary_markdown(result), encoding="utf-8"),
    }


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="20k", choices=list(SIZES))
    parser.add_argument("--kind", default="grid", choices=["grid", "tiles"])
    parser.add_argument("--k", type=int, default=10, help="sites of the greedy plan (0: no plan)")
    parser.add_argument("--reuse", action="store_true", help="reuse the pickled run of an earlier call")
    parser.add_argument("--profile", default="", help="cProfile one part: " + ", ".join(PARTS))
    parser.add_argument("--keep", default="", help="write the outputs into this folder (default: a temp folder)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("COVERAGE_PLANNER_CACHE", str(DATA / f"outputs_{args.kind}_{args.size}" / "cache"))
    toml = _scenario(args.kind, args.size, args.k)
    started = time.perf_counter()
    result, steps = _run(toml, args.reuse)
    run_s = time.perf_counter() - started
    cov = result.coverage
    print(
        f"# {args.kind} {args.size}: {result.network.n_nodes:,} nodes, {len(result.halls):,} halls, "
        f"{len(cov.units):,} resident units, {float(cov.summary['total'].iloc[0]):,.0f} residents, "
        f"{len(cov.gaps):,} gaps; run {run_s:.0f} s "
        + ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
        + f"; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        lang = result.scenario["map"]["lang"]
        rows = []
        total = 0.0
        files = {
            "gpkg": out / "results.gpkg",
            "csv": out / "tables",
            "xlsx": out / "tables.xlsx",
            "map": out / "map.html",
            "static_map+report": None,
            "summary": out / "summary.md",
        }
        for name, fn in _parts(result, out, lang).items():
            prof = cProfile.Profile() if args.profile and args.profile in name else None
            t = time.perf_counter()
            if prof is not None:
                prof.enable()
            fn()
            if prof is not None:
                prof.disable()
            seconds = time.perf_counter() - t
            total += seconds
            path = files.get(name)
            if name == "static_map+report":
                size = sum(_size(out / f) for f in ("map.png", "map.pdf", "report.html", "report.docx"))
            else:
                size = _size(path) if path is not None else 0
            rows.append([name, f"{seconds:.2f}", f"{size / 1e6:,.2f}" if size else ""])
            print(json.dumps({"part": name, "s": round(seconds, 2), "mb": round(size / 1e6, 2)}), flush=True)
            if prof is not None:
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(35)
                print(buf.getvalue())
        rows.append(["total", f"{total:.1f}", ""])
        print(table(["part", "seconds", "MB"], rows))
        detail = {
            f: f"{_size(out / f) / 1e6:,.2f} MB"
            for f in ("map.html", "map.png", "map.pdf", "report.html", "report.docx")
        }
        print("# files: " + ", ".join(f"{k} {v}" for k, v in detail.items()))
        print(f"# peak RSS {rss_mb():,.0f} MiB; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
