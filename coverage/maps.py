"""Folium maps for officials: halls, service areas, residents, gaps, proposed sites.

Every layer can be switched on and off. The map carries a title, a legend, a
summary box (residents covered before and after), a scale bar and the OSM
attribution, with labels in Chinese or English. Exported files are offline by
default: Leaflet is inlined and the network's own streets are drawn as a light
vector basemap, since map tiles need the internet.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import CoverageInputError

if TYPE_CHECKING:
    import folium

    from .assess import CoverageResult
    from .network import WalkNetwork
    from .plan import SitePlan
    from .service_areas import ServiceAreas

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "streets": "Streets (OSM walking network)",
        "halls": "Existing halls",
        "areas": "Service area of each hall",
        "union": "Area within {r} m walk (all halls)",
        "covered": "Residents covered",
        "uncovered": "Residents not covered",
        "unreachable": "Residents unreachable",
        "gaps": "Gap areas",
        "proposed": "Proposed new sites",
        "proposed_areas": "Service areas of new sites",
        "circles": "Straight-line {r} m circles (comparison)",
        "boundary": "Study area",
        "legend": "Legend",
        "summary": "Summary",
        "covered_now": "Covered now",
        "covered_after": "Covered with new sites",
        "circle_claim": "Straight-line circle claims",
        "residents": "residents",
        "served": "Residents served",
        "street": "Street length reached",
        "rank": "Build order",
        "adds": "Adds residents",
        "population": "Residents",
        "nearest": "Nearest hall",
        "estimate": "Population is an ESTIMATE",
        "gap": "Gap",
        "distance": "Walk to nearest hall",
        "halls_count": "halls",
    },
    "zh": {
        "streets": "街道（OSM 步行路网）",
        "halls": "现有服务站点",
        "areas": "各站点服务范围",
        "union": "{r} 米步行可达范围（全部站点）",
        "covered": "已覆盖居民",
        "uncovered": "未覆盖居民",
        "unreachable": "无法到达的居民",
        "gaps": "服务空白区",
        "proposed": "建议新增站点",
        "proposed_areas": "新增站点服务范围",
        "circles": "{r} 米直线圆（对比）",
        "boundary": "研究范围",
        "legend": "图例",
        "summary": "概要",
        "covered_now": "现状覆盖",
        "covered_after": "新增站点后覆盖",
        "circle_claim": "直线圆声称覆盖",
        "residents": "人",
        "served": "服务居民",
        "street": "可达街道长度",
        "rank": "建设顺序",
        "adds": "新增覆盖居民",
        "population": "居民",
        "nearest": "最近站点",
        "estimate": "人口为估算值",
        "gap": "空白区",
        "distance": "步行至最近站点",
        "halls_count": "个站点",
    },
}

COLORS = {
    "hall": "#1f4e9c",
    "area": "#4a90d9",
    "union": "#2c7fb8",
    "covered": "#2b8a3e",
    "uncovered": "#d9480f",
    "unreachable": "#868e96",
    "gap": "#e8590c",
    "proposed": "#ae3ec9",
    "circle": "#495057",
    "boundary": "#212529",
    "street": "#ced4da",
}


def _wgs(gdf: gpd.GeoDataFrame, *, simplify_m: float = 0.0, grid_deg: float = 1e-6) -> gpd.GeoDataFrame:
    out = gdf
    if simplify_m > 0:
        if out.crs is None:
            raise CoverageInputError("a layer has no CRS; set it with .set_crs(...).")
        if out.crs.is_geographic:  # simplify in metres, not degrees
            out = out.to_crs(out.estimate_utm_crs())
        out = out.copy()
        out["geometry"] = out.geometry.simplify(simplify_m, preserve_topology=True)
    out = out.to_crs("EPSG:4326")
    out = out.copy()
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), grid_deg)
    return out


def _geojson(gdf: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """Compact GeoJSON with coordinates rounded to 6 decimals (about 0.1 m)."""
    feats = []
    geoms = shapely.to_geojson(gdf.geometry.to_numpy())
    props = gdf[columns].to_dict(orient="records") if columns else [{}] * len(gdf)
    for g, p in zip(geoms, props, strict=True):
        clean = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in p.items()}
        feats.append({"type": "Feature", "geometry": json.loads(g), "properties": clean})
    return {"type": "FeatureCollection", "features": feats}


def coverage_map(
    net: WalkNetwork | None = None,
    *,
    service: ServiceAreas | None = None,
    coverage: CoverageResult | None = None,
    plan: SitePlan | None = None,
    halls: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    show_hall_areas: bool = False,
    max_resident_points: int = 20_000,
) -> folium.Map:
    """Draw the coverage picture as a Folium map with switchable layers.

    Parameters
    ----------
    net : WalkNetwork, optional
        Its streets are drawn as a light basemap (works offline).
    service : ServiceAreas, optional
        Each hall's service area (off by default) and the dissolved union.
    coverage : CoverageResult, optional
        Residents by status, gap areas, the summary box and hall popups.
    plan : SitePlan, optional
        Proposed sites with rank and marginal residents, their service areas,
        and the "after" figures in the summary.
    halls : GeoDataFrame, optional
        Halls to draw when no ``service`` is given.
    boundary : GeoDataFrame, optional
        Study-area outline.
    title, subtitle : str, optional
        Title box text (the subtitle says what the halls are).
    lang : {"zh", "en"}
        Language of every label.
    tiles : str, optional
        A Folium tile layer name for online use (dropped by the offline export).
    show_hall_areas : bool, default False
        Whether the per-hall service areas start switched on.
    max_resident_points : int, default 20000
        Above this, residents are drawn as the population of 100 m cells.

    Returns
    -------
    folium.Map
    """
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a dependency
        raise ImportError("coverage_map needs folium: pip install folium") from exc
    if lang not in LABELS:
        raise CoverageInputError(f"lang={lang!r}: use 'zh' (Chinese) or 'en' (English).")
    L = LABELS[lang]
    radius = (
        coverage.radius_m
        if coverage is not None
        else (float(service.union["radius_m"].max()) if service is not None else 500.0)
    )
    r_text = f"{radius:g}"

    bounds = _bounds(net, service, coverage, halls, boundary)
    m = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=14,
        tiles=tiles,
        control_scale=True,
        prefer_canvas=False,
    )
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])

    if net is not None:
        # One MultiLineString feature, coordinates to ~1 m: the basemap stays small.
        lines = shapely.line_merge(shapely.multilinestrings(list(net.edge_geometry)))
        streets = _wgs(gpd.GeoDataFrame(geometry=[lines], crs=net.crs), simplify_m=3.0, grid_deg=1e-5)
        folium.GeoJson(
            _geojson(streets, []),
            name=L["streets"],
            style_function=lambda _f: {"color": COLORS["street"], "weight": 1, "opacity": 0.9},
            interactive=False,
            control=True,
        ).add_to(m)
    if boundary is not None and len(boundary):
        folium.GeoJson(
            _geojson(_wgs(boundary[["geometry"]], simplify_m=5.0), []),
            name=L["boundary"],
            style_function=lambda _f: {
                "color": COLORS["boundary"],
                "weight": 2,
                "fill": False,
                "dashArray": "6 4",
            },
            interactive=False,
        ).add_to(m)

    if service is not None:
        main = (
            service.areas[service.areas["radius_m"] == radius]
            if (service.areas["radius_m"] == radius).any()
            else service.areas
        )
        per_hall = _wgs(main[["site_id", "name", "reached_length_m", "geometry"]], simplify_m=4.0)
        fg = folium.FeatureGroup(name=L["areas"], show=show_hall_areas)
        folium.GeoJson(
            _geojson(per_hall, ["name", "reached_length_m"]),
            style_function=lambda _f: {"color": COLORS["area"], "weight": 1, "fillOpacity": 0.12},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(fg)
        fg.add_to(m)
        union = (
            service.union[service.union["radius_m"] == radius]
            if (service.union["radius_m"] == radius).any()
            else service.union
        )
        folium.GeoJson(
            _geojson(_wgs(union[["geometry"]], simplify_m=4.0), []),
            name=L["union"].format(r=r_text),
            style_function=lambda _f: {"color": COLORS["union"], "weight": 1.5, "fillOpacity": 0.18},
            interactive=False,
        ).add_to(m)

    if coverage is not None:
        _residents_layers(m, coverage, L, max_resident_points)
        if len(coverage.gaps):
            gaps = coverage.gaps[coverage.gaps["group"] == _main_group(coverage)]
            gaps = gaps.assign(population=gaps["population"].round(0))
            fg = folium.FeatureGroup(name=L["gaps"], show=True)
            folium.GeoJson(
                _geojson(
                    _wgs(gaps[["gap_id", "population", "nearest_hall_m", "geometry"]], simplify_m=2.0),
                    ["gap_id", "population", "nearest_hall_m"],
                ),
                style_function=lambda _f: {
                    "color": COLORS["gap"],
                    "weight": 1.5,
                    "dashArray": "4 3",
                    "fillOpacity": 0.06,
                },
                tooltip=folium.GeoJsonTooltip(fields=["gap_id", "population"], aliases=[L["gap"], L["population"]]),
            ).add_to(fg)
            fg.add_to(m)

    hall_frame = service.sites if service is not None else halls
    if hall_frame is not None and len(hall_frame):
        _halls_layer(m, hall_frame, coverage, service, radius, L)
        _circles_layer(m, hall_frame, radius, L, r_text)

    if plan is not None and len(plan.sites):
        if plan.areas is not None:
            folium.GeoJson(
                _geojson(_wgs(plan.areas.areas[["name", "geometry"]], simplify_m=4.0), ["name"]),
                name=L["proposed_areas"],
                style_function=lambda _f: {"color": COLORS["proposed"], "weight": 1.5, "fillOpacity": 0.12},
                interactive=False,
            ).add_to(m)
        fg = folium.FeatureGroup(name=L["proposed"], show=True)
        sites = _wgs(plan.sites[["rank", "candidate_id", "marginal_population", "geometry"]])
        for row in sites.itertuples():
            popup = (
                f"<b>{L['rank']}: {row.rank}</b><br>{L['adds']}: {row.marginal_population:,.0f}"
                f"<br><small>{html.escape(str(row.candidate_id))}</small>"
            )
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=9,
                color="white",
                weight=2,
                fill=True,
                fill_color=COLORS["proposed"],
                fill_opacity=1.0,
                popup=folium.Popup(popup, max_width=260, min_width=160),
                tooltip=f"{L['rank']} {row.rank}",
            ).add_to(fg)
            folium.Marker(
                [row.geometry.y, row.geometry.x],
                icon=folium.DivIcon(
                    html=f'<div style="font:bold 11px sans-serif;color:white;text-align:center;'
                    f'width:18px;margin:-7px 0 0 -9px">{row.rank}</div>'
                ),
            ).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    _boxes(m, L, title, subtitle, coverage, plan, lang)
    return m


def _main_group(coverage: CoverageResult) -> str:
    groups = coverage.summary["group"].tolist()
    return "residents" if "residents" in groups else str(groups[0])


def _bounds(*parts: Any) -> tuple[float, float, float, float]:
    net, service, coverage, halls, boundary = parts
    frames = []
    if net is not None:
        frames.append(gpd.GeoSeries(net.edge_geometry, crs=net.crs))
    elif coverage is not None:
        frames.append(coverage.units.geometry)
    elif service is not None:
        frames.append(service.areas.geometry)
    elif halls is not None and len(halls):
        frames.append(halls.geometry)
    elif boundary is not None:
        frames.append(boundary.geometry)
    if not frames:
        raise CoverageInputError("coverage_map needs something to draw: a network, service areas, coverage or halls.")
    b = frames[0].to_crs("EPSG:4326").total_bounds
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _residents_layers(m: folium.Map, coverage: CoverageResult, L: dict[str, str], max_points: int) -> None:
    import folium

    group = _main_group(coverage)
    units = coverage.units[coverage.units["group"] == group]
    units = units[["status", "population", "distance_m", "geometry"]]
    if len(units) > max_points:  # aggregate to 100 m cells per status
        xy = np.column_stack([units.geometry.x, units.geometry.y])
        cell = np.floor(xy / 100.0).astype(np.int64)
        frame = pd.DataFrame(
            {
                "cx": cell[:, 0],
                "cy": cell[:, 1],
                "status": units["status"].astype(str),
                "population": units["population"],
                "x": xy[:, 0],
                "y": xy[:, 1],
                "distance_m": units["distance_m"],
            }
        )
        agg = frame.groupby(["status", "cx", "cy"], sort=True).agg(
            population=("population", "sum"),
            x=("x", "mean"),
            y=("y", "mean"),
            distance_m=("distance_m", "min"),
        )
        agg = agg.reset_index()
        units = gpd.GeoDataFrame(
            agg[["status", "population", "distance_m"]],
            geometry=gpd.points_from_xy(agg["x"], agg["y"]),
            crs=coverage.units.crs,
        )
    peak = float(units["population"].max()) if len(units) else 1.0
    totals = coverage.summary.set_index("group").loc[group]
    for status in ("covered", "uncovered", "unreachable"):
        sub = units[units["status"].astype(str) == status]
        if len(sub) == 0:
            continue
        sub = _wgs(
            sub.assign(
                population=sub["population"].round(1),
                distance_m=sub["distance_m"].replace([np.inf], np.nan).round(0),
            )
        )
        color = COLORS[status]
        fg = folium.FeatureGroup(
            name=f"{L[status]} ({float(cast(float, totals[status])):,.0f})", show=status != "covered"
        )
        folium.GeoJson(
            _geojson(sub, ["population", "distance_m"]),
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_color=color, fill_opacity=0.7),
            style_function=lambda f, peak=peak: {
                "radius": 1.5 + 3.5 * float(np.sqrt((f["properties"]["population"] or 0.0) / peak)),
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["population", "distance_m"], aliases=[L["population"], L["distance"] + " (m)"]
            ),
        ).add_to(fg)
        fg.add_to(m)


def _halls_layer(
    m: folium.Map,
    sites: gpd.GeoDataFrame,
    coverage: CoverageResult | None,
    service: ServiceAreas | None,
    radius: float,
    L: dict[str, str],
) -> None:
    import folium

    table = sites[["site_id", "name", "geometry"]].copy()
    if coverage is not None:
        served = coverage.halls.set_index("site_id")["population_served"]
        table["served"] = table["site_id"].astype(str).map(served).fillna(0.0).to_numpy()
    if service is not None:
        areas = service.areas[service.areas["radius_m"] == radius]
        reach = areas.set_index("site_id")["reached_length_m"]
        table["reached"] = table["site_id"].astype(str).map(reach).to_numpy()
    fg = folium.FeatureGroup(name=f"{L['halls']} ({len(table)})", show=True)
    for row in _wgs(table).itertuples():
        lines = [f"<b>{html.escape(str(row.name))}</b>"]
        if hasattr(row, "served"):
            lines.append(f"{L['served']}: {row.served:,.0f}")
        if hasattr(row, "reached") and pd.notna(row.reached):
            lines.append(f"{L['street']}: {row.reached / 1000:,.2f} km")
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=6,
            color="white",
            weight=1.5,
            fill=True,
            fill_color=COLORS["hall"],
            fill_opacity=1.0,
            popup=folium.Popup("<br>".join(lines), max_width=280, min_width=180),
            tooltip=html.escape(str(row.name)),
        ).add_to(fg)
    fg.add_to(m)


def _circles_layer(m: folium.Map, sites: gpd.GeoDataFrame, radius: float, L: dict[str, str], r_text: str) -> None:
    import folium

    fg = folium.FeatureGroup(name=L["circles"].format(r=r_text), show=False)
    for geom in _wgs(sites[["geometry"]]).geometry:
        folium.Circle(
            [geom.y, geom.x],
            radius=radius,
            color=COLORS["circle"],
            weight=1,
            fill=False,
            dash_array="3 4",
            interactive=False,
        ).add_to(fg)
    fg.add_to(m)


def _boxes(
    m: folium.Map,
    L: dict[str, str],
    title: str | None,
    subtitle: str | None,
    coverage: CoverageResult | None,
    plan: SitePlan | None,
    lang: str,
) -> None:
    """Title, legend and summary boxes, and the OSM attribution."""
    from branca.element import Element, MacroElement
    from jinja2 import Template

    box = (
        "position:fixed;z-index:9999;background:rgba(255,255,255,0.93);padding:8px 12px;"
        "border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,0.3);font:13px/1.45 sans-serif;"
    )
    parts = []
    if title:
        sub = f"<div style='font-size:12px;color:#495057'>{html.escape(subtitle)}</div>" if subtitle else ""
        parts.append(
            f"<div style='{box}top:10px;left:60px;max-width:46%'><b style='font-size:16px'>"
            f"{html.escape(title)}</b>{sub}</div>"
        )
    legend_items = [
        (COLORS["hall"], L["halls"], "circle"),
        (COLORS["union"], L["union"].format(r=f"{coverage.radius_m:g}" if coverage else "500"), "square"),
        (COLORS["covered"], L["covered"], "circle"),
        (COLORS["uncovered"], L["uncovered"], "circle"),
        (COLORS["unreachable"], L["unreachable"], "circle"),
        (COLORS["gap"], L["gaps"], "square"),
        (COLORS["proposed"], L["proposed"], "circle"),
    ]
    rows = "".join(
        f"<div><span style='display:inline-block;width:11px;height:11px;margin-right:6px;background:{c};"
        f"border-radius:{'50%' if shape == 'circle' else '2px'}'></span>{html.escape(text)}</div>"
        for c, text, shape in legend_items
    )
    parts.append(f"<div class='coverage-legend' style='{box}bottom:30px;right:10px'><b>{L['legend']}</b>{rows}</div>")
    if coverage is not None:
        group = _main_group(coverage)
        s = coverage.summary.set_index("group").loc[group]
        lines = [
            f"{L['covered_now']}: <b>{s.covered:,.0f}</b> / {s.total:,.0f} {L['residents']} "
            f"(<b>{s.covered_share:.1%}</b>)",
            f"{L['circle_claim']}: {s.circle_covered:,.0f} ({s.circle_share:.1%})",
        ]
        if plan is not None:
            a = plan.after.summary.set_index("group").loc[group]
            lines.append(
                f"{L['covered_after']} (+{len(plan.sites)}): <b>{a.covered:,.0f}</b> (<b>{a.covered_share:.1%}</b>)"
            )
        if coverage.estimate:
            lines.append(f"<span style='color:#c92a2a'><b>{L['estimate']}</b></span>")
        parts.append(
            f"<div class='coverage-summary' style='{box}bottom:30px;left:10px;max-width:40%'>"
            f"<b>{L['summary']}</b><br>{'<br>'.join(lines)}</div>"
        )
    cast(Any, m.get_root()).html.add_child(Element("".join(parts)))
    attribution = MacroElement()
    attribution._template = Template(
        "{% macro script(this, kwargs) %}"
        f"{{{{ this._parent.get_name() }}}}.attributionControl.addAttribution({json.dumps(ATTRIBUTION)});"
        "{% endmacro %}"
    )
    m.add_child(attribution)
    cast(Any, m.get_root()).header.add_child(Element(f'<meta name="language" content="{lang}">'))


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> Path:
    """Write the map as one HTML file (offline by default: no network needed to open it)."""
    from ._offline import save_html

    return save_html(m, path, offline=offline)
