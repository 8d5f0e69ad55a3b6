"""Writing a run's outputs: map, GeoPackage with every layer, CSV tables, summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .assess import HEADLINE_COLUMNS, _plain
from .pipeline import RunResult


def write_outputs(result: RunResult, out_dir: str | os.PathLike[str], *, lang: str | None = None) -> dict[str, Path]:
    """Write everything a run produced into ``out_dir``.

    Files: ``map.html`` (offline unless the scenario says otherwise),
    ``results.gpkg`` (one layer per table; opens in QGIS), ``tables/*.csv`` and
    ``summary.md`` with the headline numbers.

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sc = result.scenario
    lang = lang or sc["map"]["lang"]
    written: dict[str, Path] = {}
    gpkg = out / "results.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    layers = _layers(result)
    for name, frame in layers.items():
        gdf = (
            frame
            if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
            else gpd.GeoDataFrame(frame, geometry=None)
        )
        _plain(gdf).to_file(gpkg, layer=name, driver="GPKG")
    written["gpkg"] = gpkg
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for name, frame in layers.items():
        table = (
            pd.DataFrame(frame.drop(columns=frame.geometry.name))
            if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
            else pd.DataFrame(frame)
        )
        path = tables / f"{name}.csv"
        table.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
        written[f"csv:{name}"] = path
    if result.network is not None:
        from .maps import coverage_map, save_map

        boundary = None
        if sc["demand"]["area_file"] is not None:
            from .loaders import _filtered

            boundary = _filtered(gpd.read_file(sc["demand"]["area_file"]), sc["demand"]["area_filter"], "demand")
        m = coverage_map(
            result.network,
            service=result.areas,
            coverage=result.coverage,
            plan=result.plan,
            halls=result.halls,
            boundary=boundary,
            title=sc.name,
            subtitle=result.halls_note,
            lang=lang,
        )
        written["map"] = save_map(m, out / "map.html", offline=bool(sc["map"]["offline"]))
    summary = out / "summary.md"
    summary.write_text(summary_markdown(result), encoding="utf-8")
    written["summary"] = summary
    return written


def _layers(result: RunResult) -> dict[str, Any]:
    layers: dict[str, Any] = {}
    if result.areas is not None:
        layers["halls"] = result.areas.sites.drop(columns=["edge", "component"], errors="ignore")
        layers["service_areas"] = result.areas.areas
        layers["service_area_union"] = result.areas.union
    elif result.halls is not None:
        layers["halls"] = result.halls
    cov = result.coverage
    if cov is not None:
        layers["residents"] = cov.units
        layers["gaps"] = cov.gaps
        layers["coverage_summary"] = cov.summary
        layers["coverage_by_hall"] = cov.halls
        if cov.areas is not None:
            layers["coverage_by_area"] = cov.areas
    plan = result.plan
    if plan is not None:
        layers["proposed_sites"] = plan.sites
        if plan.areas is not None:
            layers["proposed_service_areas"] = plan.areas.areas
        layers["coverage_after"] = plan.after.summary
        if len(plan.curve):
            # Solver times vary from run to run; they are in summary.md, not in the tables.
            layers["coverage_curve"] = plan.curve.drop(columns=["time_s"], errors="ignore")
    return layers


def summary_markdown(result: RunResult) -> str:
    """Write a one-page Markdown summary with the headline numbers."""
    sc = result.scenario
    lines = [f"# {sc.name}", ""]
    if sc[""]["description"]:
        lines += [sc[""]["description"], ""]
    net = result.network
    if net is not None:
        lines += ["## Network", "", net.report.summary(), ""]
    if result.halls is not None:
        lines += ["## Halls", "", result.halls_note, ""]
    if result.areas is not None:
        a = result.areas.areas
        lines += ["## Service areas", ""]
        for r, grp in a.groupby("radius_m"):
            lines.append(
                f"- {r:g} m: median reached street length {grp['reached_length_m'].median() / 1000:,.2f} km "
                f"per hall; the buffered walkable area is on median {grp['area_vs_circle'].median():.0%} "
                "of the straight-line circle."
            )
        lines.append("")
    cov = result.coverage
    if cov is not None:
        lines += [
            "## Coverage",
            "",
            cov.headline(),
            "",
            _md_table(cov.summary[HEADLINE_COLUMNS]),
            "",
        ]
        if cov.areas is not None:
            lines += ["### By area", "", _md_table(cov.areas), ""]
        if len(cov.gaps):
            lines += ["### Largest gaps", "", _md_table(cov.gaps.drop(columns="geometry").head(10)), ""]
    plan = result.plan
    if plan is not None:
        lines += [
            "## Proposed sites",
            "",
            plan.headline(),
            "",
            _md_table(plan.sites.drop(columns="geometry")),
            "",
        ]
        if len(plan.curve):
            lines += ["### Coverage curve", "", _md_table(plan.curve), ""]
    if result.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in result.warnings] + [""]
    if result.timings:
        lines += [
            "## Step times",
            "",
            _md_table(
                pd.DataFrame({"step": list(result.timings), "seconds": [round(v, 2) for v in result.timings.values()]})
            ),
            "",
        ]
    lines += ["Map data © OpenStreetMap contributors (ODbL).", ""]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return ""
            return f"{v:,.3f}" if abs(float(v)) < 10 else f"{v:,.0f}"
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])
