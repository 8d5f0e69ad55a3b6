"""Writing a run's outputs: map, GeoPackage, CSV tables, workbook, summary.

Everything goes into one folder that the caller provides fresh (the command
line writes into a staged folder and swaps it in, see
:func:`coverage.io.staged_output`). Tables and layers are written by
:mod:`coverage.io` under one set of names; every user text reaches the
Markdown summary through :func:`coverage._text.md_text`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from ._errors import CoverageInputError
from ._format import labels
from ._text import md_text
from .assess import HEADLINE_COLUMNS

if TYPE_CHECKING:
    from .life_circle_run import LifeCircleResult
    from .pipeline import RunResult
    from .scenario import Scenario


def scenario_text(sc: Scenario, section: str, key: str, lang: str) -> str:
    """Return a scenario text in ``lang``: ``<key>_<lang>`` if given, else ``<key>``."""
    values = sc[section]
    localized = values.get(f"{key}_{lang}")
    return str(localized) if localized else str(values.get(key) or "")


def run_layers(result: RunResult) -> dict[str, Any]:
    """Every layer of a run by its output name (see :mod:`coverage.io`)."""
    layers: dict[str, Any] = {}
    if result.areas is not None:
        layers["halls"] = result.areas.sites
        layers["service_areas"] = result.areas.areas
        layers["service_area_union"] = result.areas.union
    elif result.halls is not None:
        layers["halls"] = result.halls
    if result.coverage is not None:
        layers.update(io.coverage_layers(result.coverage))
    services = getattr(result, "services", None)
    if services is not None:
        layers["services_summary"] = services.summary
        layers["services_met"] = services.met
    if result.plan is not None:
        layers.update(io.plan_layers(result.plan))
    if result.life_circle is not None:
        layers.update(result.life_circle.tables())
    return layers


def read_area_layer(sc: Scenario) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Return the scenario's reporting areas (``[areas] file``) and their name column."""
    if sc["areas"]["file"] is None:
        return None, None
    areas = gpd.read_file(sc["areas"]["file"])
    return areas, sc["areas"]["name_col"]


def read_boundary(sc: Scenario) -> gpd.GeoDataFrame | None:
    """Return the study area polygon (``[demand] area_file`` and its filter)."""
    if sc["demand"]["area_file"] is None:
        return None
    from .loaders import filtered_rows

    return filtered_rows(gpd.read_file(sc["demand"]["area_file"]), sc["demand"]["area_filter"], "demand")


def write_map(result: RunResult, path: Path, *, lang: str, names: Any = None) -> Path | None:
    """Write ``map.html`` for a run (None without a network)."""
    if result.network is None:
        return None
    from .maps import coverage_map, save_map

    sc = result.scenario
    areas, name_col = read_area_layer(sc)
    m = coverage_map(
        result.network,
        service=result.areas,
        coverage=result.coverage,
        plan=result.plan,
        halls=result.halls,
        boundary=read_boundary(sc),
        areas=areas,
        area_name_col=name_col,
        title=scenario_text(sc, "", "name", lang),
        subtitle=scenario_text(sc, "halls", "label", lang),
        stand_in=bool(sc["halls"].get("stand_in", False)),
        lang=lang,
        basemap=str(sc["map"].get("basemap", "offline")),
        tianditu_key=sc["map"].get("tianditu_key") or None,
        max_snap_m=float(sc[""]["max_snap_m"]),
        street_names=names,
    )
    return save_map(m, path, offline=bool(sc["map"]["offline"]))


def write_documents(result: RunResult, out: Path, *, lang: str, names: Any = None) -> dict[str, Path]:
    """Write ``map.png``, ``map.pdf``, ``report.html`` and ``report.docx`` for a run (needs a network)."""
    if result.network is None:
        return {}
    from ._map_layers import nearest_named_street
    from .report_doc import build_report
    from .report_files import write_docx, write_html
    from .static_map import draw_static_map, save_static_map

    sc = result.scenario
    areas, name_col = read_area_layer(sc)
    title = scenario_text(sc, "", "name", lang)
    label = scenario_text(sc, "halls", "label", lang)
    source = scenario_text(sc, "demand", "source_note", lang)
    stand_in = bool(sc["halls"].get("stand_in", False))
    notes = [n for n in (source, (labels(lang)["halls"] + labels(lang)["stand_in"]) if stand_in else "") if n]
    fig = draw_static_map(
        result.network,
        service=result.areas,
        coverage=result.coverage,
        plan=result.plan,
        halls=result.halls,
        areas=areas,
        area_name_col=name_col,
        title=title,
        notes=notes,
        stand_in=stand_in,
        lang=lang,
        paper=str(sc["map"].get("paper", "A3")),
        street_names=names,
    )
    written = save_static_map(fig, out)
    net = result.network
    doc = build_report(
        result,
        lang=lang,
        title=title,
        halls_label=label,
        source_note=source,
        stand_in=stand_in,
        map_png=written["png"].read_bytes(),
        street_of=lambda xy: nearest_named_street(net, xy, names=names),
        estimate_note=source or None,
    )
    return {
        "map_png": written["png"],
        "map_pdf": written["pdf"],
        "report": write_html(doc, out / "report.html"),
        "docx": write_docx(doc, out / "report.docx"),
    }


def write_outputs(result: RunResult, out_dir: str | os.PathLike[str], *, lang: str | None = None) -> dict[str, Path]:
    """Write everything a run produced into ``out_dir`` (a new or empty folder).

    Files: ``map.html`` (offline unless the scenario says otherwise),
    ``map.png`` and ``map.pdf`` (one printable sheet), ``report.html`` and
    ``report.docx`` (the story for officials, in ``lang``),
    ``results.gpkg`` (one layer per table, exact values; opens in QGIS),
    ``tables/*.csv`` (UTF-8 with BOM), ``tables.xlsx`` and ``summary.md``
    (for analysts).

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    out = Path(out_dir)
    if out.is_symlink():
        raise CoverageInputError(f"{out} is a symbolic link; write the outputs to a plain folder.")
    out.mkdir(parents=True, exist_ok=True)
    sc = result.scenario
    lang = lang or sc["map"]["lang"]
    written: dict[str, Path] = {}
    layers = run_layers(result)
    if layers:
        written["gpkg"] = io.write_gpkg(layers, out / "results.gpkg")
        for name, path in io.write_csvs(layers, out / "tables").items():
            written[f"csv:{name}"] = path
        written["xlsx"] = io.write_xlsx(layers, out / "tables.xlsx", lang=lang)
    names = None
    if result.network is not None:
        from ._street_names import street_names

        names = street_names(result.network, sc["network"]["source"])
    map_path = write_map(result, out / "map.html", lang=lang, names=names)
    if map_path is not None:
        written["map"] = map_path
    written.update(write_documents(result, out, lang=lang, names=names))
    summary = out / "summary.md"
    summary.write_text(summary_markdown(result), encoding="utf-8")
    written["summary"] = summary
    return written


def summary_markdown(result: RunResult) -> str:
    """Return a one-page Markdown summary for analysts (every user text escaped)."""
    sc = result.scenario
    lines = [f"# {md_text(sc.name, None)}", ""]
    if sc[""]["description"]:
        lines += [md_text(sc[""]["description"], None), ""]
    net = result.network
    if net is not None:
        lines += ["## Network", "", md_text(net.report.summary(), None), ""]
    if result.halls is not None:
        lines += ["## Halls", "", md_text(result.halls_note, None), ""]
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
        lines += ["## Coverage", "", md_text(cov.headline(), None), "", md_table(cov.summary[HEADLINE_COLUMNS]), ""]
        if cov.areas is not None:
            lines += ["### By area", "", md_table(cov.areas), ""]
        if len(cov.gaps):
            lines += ["### Largest gaps", "", md_table(cov.gaps.drop(columns="geometry").head(10)), ""]
    plan = result.plan
    if plan is not None:
        lines += ["## Proposed sites", "", md_text(plan.headline(), None), ""]
        lines += [md_table(io.table_for_people(plan.sites, "proposed_sites")), ""]
        if len(plan.curve):
            lines += ["### Coverage curve", "", md_table(plan.curve.drop(columns=["sites"], errors="ignore")), ""]
    if result.life_circle is not None:
        lines += life_circle_markdown(result.life_circle)
    if result.warnings:
        lines += ["## Warnings", ""] + [f"- {md_text(w, None)}" for w in result.warnings] + [""]
    if result.timings:
        steps = pd.DataFrame({"step": list(result.timings), "seconds": [round(v, 2) for v in result.timings.values()]})
        lines += ["## Step times", "", md_table(steps), ""]
    lines += ["Map data © OpenStreetMap contributors (ODbL).", ""]
    return "\n".join(lines)


def life_circle_markdown(life: LifeCircleResult) -> list[str]:
    """Return the life-circle lines of the summary: checklists, hall loads, fairness before/after."""
    lines = ["## Life circle (生活圈)", ""] + [md_text(line, None) + "  " for line in life.headline().splitlines()]
    tables = life.tables()
    for name, title in (
        ("life_circle_checklist_subdistrict", "Checklist by sub-district (达标 / 未达标 / 无数据)"),
        ("life_circle_checklist_community", "Checklist by community"),
        ("life_circle_checklist_community_after", "Checklist by community after the proposed sites"),
        *((n, f"Checklist by sub-district, {n.rsplit('_', 1)[-1]} at their own walking speed") for n in tables
          if n.startswith("life_circle_checklist_subdistrict_") and not n.endswith("_after")),
    ):
        if name in tables:
            lines += ["", f"### {title}", "", md_table(tables[name])]
    if len(life.loads):
        loads = life.loads.sort_values(["load_share", "population_within"], ascending=False).head(20)
        lines += ["", "### Busiest sites (load against capacity)", "", md_table(loads)]
    if "fairness_before_after" in tables:
        lines += ["", "### Fairness of the halls, before and after", "", md_table(tables["fairness_before_after"])]
    return [*lines, ""]


def md_table(frame: pd.DataFrame) -> str:
    """Return a Markdown table; every cell escaped (HTML, pipes, Markdown syntax)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            if not np.isfinite(v):
                return ""
            return f"{v:,.3f}" if abs(float(v)) < 10 else f"{v:,.0f}"
        return md_text(v)

    head = "| " + " | ".join(md_text(c) for c in frame.columns) + " |"
    sep = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])
