"""Folium maps for officials: halls, walking areas, residents, gaps and proposed sites.

The default view tells the story at a glance: residents covered and not
covered as population cells (not hundreds of thousands of dots), the walking
area over the straight-line circles, the gap areas and the proposed sites.
Every layer can be switched off in a layer control that folds into a button
on a phone. Each label is in the chosen language (``zh`` or ``en``), with a
title, a summary, a legend, a metric scale and the OSM attribution.

Basemaps (``basemap=``): ``"offline"`` (default: the network's own streets,
major roads heavier and named when the network carries names, and the names
of the reporting areas; the HTML needs no internet), ``"none"``, ``"osm"``
(OpenStreetMap tiles), ``"tianditu"`` (天地图, WGS-84/CGCS2000, needs a key)
and ``"amap"`` (高德). Amap tiles are drawn in GCJ-02, so with them every
overlay is shifted into GCJ-02 too; popups always give WGS-84 and GCJ-02.

City-sized maps stay a page a browser opens (about 10 MB at 100 k network
nodes, under 20 MB at 500 k): coordinates are packed (:mod:`coverage._map_geo`),
every street and polygon is simplified on its own, and each big layer has a
budget. Over it, the resident cells grow from 100 m (at most 30,000 a group),
the hidden dots merge into coarser cells, walking areas lose holes under a
hectare or more and their outlines coarsen, and the map draws on a canvas;
the summary box lists every such change ("大范围地图，已简化绘制"). Exact
values stay in the tables and ``results.gpkg``.

Safety: user text (names, ids, addresses, titles) never becomes template
source or HTML. Folium draws only the map and tiles; the layers are data
(:func:`coverage._text.js_json`) read by a static script (``_map_app.js``)
that writes text with ``textContent``. See ``SECURITY.md``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from . import _map_layers as ml
from ._errors import CoverageInputError
from ._format import group_name, labels
from ._map_page import CoverageApp, tile_layers
from ._map_residents import resident_cells, resident_dots
from ._map_sites import hall_layers, plan_layers, service_layers
from ._text import display

if TYPE_CHECKING:
    import folium

    from .assess import CoverageResult
    from .network import WalkNetwork
    from .plan import SitePlan
    from .service_areas import ServiceAreas

__all__ = ["BASEMAPS", "coverage_map", "save_map"]

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
BASEMAPS = ("offline", "none", "osm", "tianditu", "amap")
#: Above this many features (or when a layer had to be simplified) the map draws on a canvas.
CANVAS_FEATURES = 50_000


def _gcj_shift(coords: np.ndarray) -> np.ndarray:
    from .crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def coverage_map(
    net: WalkNetwork | None = None,
    *,
    service: ServiceAreas | None = None,
    coverage: CoverageResult | None = None,
    plan: SitePlan | None = None,
    halls: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    notes: Sequence[str] = (),
    stand_in: bool = False,
    lang: str = "zh",
    basemap: str = "offline",
    tianditu_key: str | None = None,
    show_hall_areas: bool = False,
    max_resident_points: int = 20_000,
    cell_m: float = 100.0,
    max_snap_m: float = 300.0,
    street_names: Any = None,
) -> folium.Map:
    """Draw the coverage picture as a Folium map with switchable layers.

    Parameters
    ----------
    net : WalkNetwork, optional
        Its streets are the offline basemap; it gives the analysis extent,
        the reason an off-network hall serves nobody and street names.
    service : ServiceAreas, optional
        Each hall's walking area (off by default) and their union.
    coverage : CoverageResult, optional
        Residents by status (as population cells; dots off by default), every
        demand group, gap areas, hall popups and the summary.
    plan : SitePlan, optional
        Proposed sites (clickable: rank, residents added, WGS-84 and GCJ-02
        coordinates, nearest named street), their areas, the "after" figures.
    halls : GeoDataFrame, optional
        Halls to draw when no ``service`` is given.
    boundary : GeoDataFrame, optional
        Study-area polygon; the outline drawn is its part the network covers.
    areas : GeoDataFrame, optional
        Reporting areas (sub-districts, communities) whose outlines and names
        are drawn.
    area_name_col : str, optional
        The column naming the areas (default: the first text column).
    title, subtitle : str, optional
        Title box text (also the page ``<title>``).
    notes : sequence of str
        Extra lines for the summary (data notes), shown in red.
    stand_in : bool, default False
        The halls are stand-ins (not the real halls): said in the legend and layer names.
    lang : {"zh", "en"}
        Language of every label.
    basemap : {"offline", "none", "osm", "tianditu", "amap"}
        See the module notes; only "offline" and "none" work without internet.
    tianditu_key : str, optional
        Tianditu key (basemap "tianditu"); also read from ``$TIANDITU_KEY``.
    show_hall_areas : bool, default False
        Whether the per-hall walking areas start switched on.
    max_resident_points : int, default 20000
        Above this, the (hidden) dot layers merge residents within 20 m cells.
    cell_m : float, default 100
        Side of the population cells.
    max_snap_m : float, default 300
        The snap limit used in the run (for the reason shown for off-network halls).
    street_names : array of str, optional
        Name of each edge of ``net`` (:func:`coverage._street_names.street_names`):
        major roads are labelled and proposed sites name their nearest street.

    Returns
    -------
    folium.Map
    """
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a dependency
        raise ImportError("coverage_map needs folium: pip install folium") from exc
    L = labels(lang)
    if basemap not in BASEMAPS:
        raise CoverageInputError(f"basemap={basemap!r}: use one of {', '.join(BASEMAPS)}.")
    shift = _gcj_shift if basemap == "amap" else None
    radius = (
        coverage.radius_m
        if coverage is not None
        else (float(service.union["radius_m"].max()) if service is not None else 500.0)
    )
    r_text = f"{radius:g}"
    bounds = _bounds(net, service, coverage, halls, boundary)
    if shift is not None:
        lo = _gcj_shift(np.array([[bounds[0], bounds[1]], [bounds[2], bounds[3]]]))
        bounds = (float(lo[0, 0]), float(lo[0, 1]), float(lo[1, 0]), float(lo[1, 1]))
    tiles = tile_layers(basemap, tianditu_key)
    hall_label = L["halls"] + (L["stand_in"] if stand_in else "")
    specs: list[dict[str, Any]] = []
    legend: list[dict[str, Any]] = []

    if net is not None and basemap in ("offline",):
        specs += ml.street_layers(net, shift, L, street_names)
        legend.append({"color": ml.COLORS["major"], "text": L["streets"], "shape": "line"})
    if net is not None:
        extent = ml.analysis_extent(net, boundary)
        shown = ml.to_display(gpd.GeoSeries([extent], crs=net.crs), shift, simplify_m=5.0)
        specs.append(
            ml.layer(
                L["boundary"],
                "shapes",
                ml.features(shown.to_numpy()),
                show=True,
                interactive=False,
                style={"color": ml.COLORS["boundary"], "weight": 2, "fill": False, "dashArray": "6 4"},
            )
        )
        legend.append({"color": ml.COLORS["boundary"], "text": L["boundary"], "shape": "line", "dashed": True})
        if areas is not None and len(areas):
            specs += ml.area_layers(areas, _name_col(areas, area_name_col), extent, net.crs, shift, L)

    main_group = _main_group(coverage) if coverage is not None else None
    if coverage is not None and main_group is not None:
        for group in coverage.summary["group"].astype(str):
            specs += resident_cells(coverage, group, shift, L, lang, cell_m=cell_m, main=group == main_group)
        for status in ("covered", "uncovered", "unreachable"):
            legend.append({"color": ml.COLORS[status], "text": L[status], "shape": "square"})
        specs += resident_dots(coverage, main_group, shift, L, lang, max_points=max_resident_points)

    if service is not None:
        specs += service_layers(service, radius, shift, L, r_text, show_hall_areas)
        legend.append({"color": ml.COLORS["union"], "text": L["union"].format(r=r_text), "shape": "square"})

    hall_frame = service.sites if service is not None else halls
    if hall_frame is not None and len(hall_frame):
        circles = ml.to_display(hall_frame.geometry, shift)
        specs.append(
            ml.layer(
                L["circles"].format(r=r_text),
                "circles",
                ml.features(circles.to_numpy()),
                show=True,
                radius_m=radius,
                interactive=False,
                style={"color": ml.COLORS["circle"], "weight": 1, "fill": False, "dashArray": "3 4"},
            )
        )
        legend.append(
            {
                "color": ml.COLORS["circle"],
                "text": L["circles"].format(r=r_text),
                "shape": "circle-line",
                "dashed": True,
            }
        )

    if coverage is not None and main_group is not None:
        specs += ml.gap_layer(coverage, main_group, shift, L, lang)
        if len(coverage.gaps):
            legend.append({"color": ml.COLORS["gap"], "text": L["gaps"], "shape": "square", "dashed": True})

    if hall_frame is not None and len(hall_frame):
        hall_specs = hall_layers(hall_frame, net, coverage, service, radius, shift, L, lang, hall_label, max_snap_m)
        specs += hall_specs
        legend.append({"color": ml.COLORS["hall"], "text": hall_label, "shape": "circle"})
        if any(s.get("unsnapped") for s in hall_specs):
            legend.append({"color": ml.COLORS["unsnapped"], "text": L["unsnapped"], "shape": "ring"})

    if plan is not None and len(plan.sites):
        specs += plan_layers(plan, net, shift, L, lang, street_names)
        legend.append({"color": ml.COLORS["proposed"], "text": L["proposed"], "shape": "circle"})

    reduced = [spec.pop("note") for spec in specs if "note" in spec]
    summary = _summary(coverage, plan, L, lang, notes, stand_in)
    if reduced:
        summary.append({"label": L["reduced"] + L["colon"], "extra": L["list_sep"].join(reduced), "small": True})
    # A city-sized map draws on one canvas (thousands of SVG paths would stall the browser).
    count = sum(len(spec["features"]["features"]) + len(spec.get("cells", {}).get("n", [])) for spec in specs)
    big = bool(reduced) or count > CANVAS_FEATURES
    m = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=False,
        prefer_canvas=big,
    )
    for tile in tiles:
        tile.add_to(m)
    data = {
        "lang": lang,
        "title": display(title) if title else "",
        "subtitle": display(subtitle, 300) if subtitle else "",
        "labels": {k: L[k] for k in ("legend", "summary", "layers")},
        "layers": specs,
        "legend": legend,
        "summary": summary,
        "attribution": L["attribution"],
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
    }
    CoverageApp(data, title=display(title) if title else "", lang=lang).add_to(m)
    return m


def _name_col(areas: gpd.GeoDataFrame, wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in areas.columns:
            raise CoverageInputError(f"area_name_col={wanted!r} is not a column; columns are {list(areas.columns)}.")
        return wanted
    for col in areas.columns:
        if col != areas.geometry.name and not np.issubdtype(np.asarray(areas[col]).dtype, np.number):
            return str(col)
    raise CoverageInputError("the areas have no text column to name them by; pass area_name_col=.")


def _summary(
    coverage: CoverageResult | None,
    plan: SitePlan | None,
    L: dict[str, str],
    lang: str,
    notes: Sequence[str],
    stand_in: bool,
) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    if coverage is not None:
        s = coverage.summary.set_index("group")
        main = _main_group(coverage)
        r = coverage.radius_m
        for group in s.index:
            row = s.loc[group]
            gname = group_name(str(group), lang)
            lines.append(
                {
                    "label": f"{L['covered_now']}（{gname}，{r:g} 米步行）{L['colon']}"
                    if lang == "zh"
                    else f"{L['covered_now']} ({gname}, {r:g} m walk){L['colon']}",
                    "value": ml.share_text(row.covered, row.total, L),
                }
            )
            if group == main:
                lines.append(
                    {
                        "label": f"{L['circle_claim']}{L['colon']}",
                        "value": ml.share_text(row.circle_covered, row.total, L),
                    }
                )
                if plan is not None:
                    a = plan.after.summary.set_index("group").loc[group]
                    lines.append(
                        {
                            "label": L["covered_after"].format(n=len(plan.sites)) + L["colon"],
                            "value": ml.share_text(a.covered, a.total, L),
                        }
                    )
        if coverage.estimate:
            lines.append({"label": L["estimate"], "warn": True})
    if stand_in:
        lines.append({"label": L["halls"] + L["stand_in"], "warn": True})
    for note in notes:
        if note:
            lines.append({"label": display(note, 300), "warn": True})
    return lines


def _main_group(coverage: CoverageResult) -> str | None:
    groups = coverage.summary["group"].astype(str).tolist()
    if not groups:
        return None
    return "residents" if "residents" in groups else groups[0]


def _bounds(*parts: Any) -> tuple[float, float, float, float]:
    net, service, coverage, halls, boundary = parts
    if net is not None:  # the hull has the network's outermost points
        geo = gpd.GeoSeries([shapely.convex_hull(shapely.multilinestrings(net.edge_geometry))], crs=net.crs)
    elif coverage is not None:
        geo = coverage.units.geometry
    elif service is not None:
        geo = service.areas.geometry
    elif halls is not None and len(halls):
        geo = halls.geometry
    elif boundary is not None:
        geo = boundary.geometry
    else:
        raise CoverageInputError("coverage_map needs something to draw: a network, service areas, coverage or halls.")
    b = geo.to_crs("EPSG:4326").total_bounds
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> Path:
    """Write the map as one HTML file.

    With ``offline=True`` (default) Leaflet is inlined and nothing is fetched
    from the internet; tile layers (an online ``basemap``) are kept but
    everything else stays inlined, so the page opens without internet and
    shows tiles when it has it.
    """
    from ._offline import save_html

    return save_html(m, path, offline=offline, keep_tiles=True)
