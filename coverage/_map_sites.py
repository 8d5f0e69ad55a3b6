"""Site layers of the web map: walking areas of the halls, the halls themselves and the proposed sites.

Halls and proposed sites are clickable (rank, residents added, WGS-84 and
GCJ-02 coordinates, nearest named street); halls more than ``max_snap_m``
from a street are drawn in a layer of their own with the reason. The
per-hall walking areas (off by default) and their union share a vertex
budget (:data:`coverage._map_layers.MAX_AREA_VERTICES` each): on a city map
their small holes and detail go first, and the layer says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from . import _map_layers as ml
from ._format import fmt_people
from ._map_geo import features, fit_budget, to_display

if TYPE_CHECKING:
    from .assess import CoverageResult
    from .network import WalkNetwork
    from .plan import SitePlan
    from .service_areas import ServiceAreas

__all__ = ["hall_layers", "plan_layers", "service_layers"]


def _budgeted(frame: gpd.GeoDataFrame, shift: Any, *, base_m: float, max_vertices: int) -> tuple[Any, Any]:
    """Simplify each polygon on its own (in metres) within the budget; return display geometries and the reduction."""
    geoms = frame.geometry
    if geoms.crs is not None and geoms.crs.is_geographic:
        geoms = geoms.to_crs(geoms.estimate_utm_crs())
    simple, reduced = fit_budget(geoms.to_numpy(), base_m=base_m, max_vertices=max_vertices, polygons=True)
    return to_display(gpd.GeoSeries(simple, index=frame.index, crs=geoms.crs), shift).to_numpy(), reduced


def service_layers(
    service: ServiceAreas,
    radius: float,
    shift: Any,
    L: dict[str, str],
    r_text: str,
    show: bool,
    *,
    max_vertices: int | None = None,
) -> list[dict]:
    """Return the walking area of each hall (hidden unless ``show``) and their union."""
    max_vertices = ml.MAX_AREA_VERTICES if max_vertices is None else max_vertices
    at = service.areas["radius_m"] == radius
    main = service.areas[at] if at.any() else service.areas
    per_hall, reduced_hall = _budgeted(main, shift, base_m=4.0, max_vertices=max_vertices)
    props = [{"tip": ml.label_text(n)} for n in main["name"]]
    at_u = service.union["radius_m"] == radius
    union = service.union[at_u] if at_u.any() else service.union
    shown, reduced_union = _budgeted(union, shift, base_m=4.0, max_vertices=max_vertices)
    return [
        ml.with_note(
            ml.layer(
                L["areas"].format(r=r_text),
                "shapes",
                features(per_hall, props),
                show=show,
                style={"color": ml.COLORS["area"], "weight": 1, "fillOpacity": 0.1},
            ),
            reduced_hall,
            L,
        ),
        ml.with_note(
            ml.layer(
                L["union"].format(r=r_text),
                "shapes",
                features(shown),
                show=True,
                interactive=False,
                style={"color": ml.COLORS["union"], "weight": 1.5, "fillOpacity": 0.15},
            ),
            reduced_union,
            L,
        ),
    ]


def hall_layers(
    sites: gpd.GeoDataFrame,
    net: WalkNetwork | None,
    coverage: CoverageResult | None,
    service: ServiceAreas | None,
    radius: float,
    shift: Any,
    L: dict[str, str],
    lang: str,
    hall_label: str,
    max_snap_m: float,
) -> list[dict]:
    table = sites.copy()
    served = reach = None
    if coverage is not None:
        served = coverage.halls.drop_duplicates("site_id").set_index("site_id")["population_served"]
    if service is not None:
        at = service.areas[service.areas["radius_m"] == radius]
        reach = at.set_index("site_id")["reached_length_m"]
    projected = table.to_crs(net.crs) if net is not None else None
    dist = np.zeros(len(table))
    if net is not None and projected is not None:
        _, dist = ml.nearest_edges(net, np.column_stack([projected.geometry.x, projected.geometry.y]))
    snapped = table["snapped"].astype(bool).to_numpy() if "snapped" in table.columns else dist <= max_snap_m
    addr = ml.address_column([c for c in table.columns if c not in ("site_id", "name", "geometry")])
    wgs = table.to_crs("EPSG:4326")
    shown = to_display(table.geometry, shift)
    props = []
    for i, (sid, name) in enumerate(zip(table["site_id"], table["name"], strict=True)):
        rows = [[L["id"], ml.label_text(sid)]]
        if addr is not None:
            rows.append([L["address"], ml.label_text(table[addr].iloc[i])])
        if not snapped[i]:
            rows.append(["", L["unsnapped_reason"].format(d=f"{dist[i]:,.0f}", limit=f"{max_snap_m:g}")])
        else:
            if served is not None:
                rows.append([L["served"], fmt_people(served.get(str(sid), 0.0))])
            if reach is not None and str(sid) in reach.index:
                rows.append([L["street"], f"{float(reach[str(sid)]) / 1000:,.2f} {L['km']}"])
        rows += ml.lonlat_rows(wgs.geometry.x.iloc[i], wgs.geometry.y.iloc[i], L)
        props.append({"title": ml.label_text(name), "rows": rows, "tip": ml.label_text(name)})
    geoms = shown.to_numpy()
    out = []
    for mask, name, style, flag in (
        (
            snapped,
            f"{hall_label}（{int(snapped.sum())}）" if lang == "zh" else f"{hall_label} ({int(snapped.sum())})",
            {
                "radius": 6,
                "color": "#ffffff",
                "weight": 1.5,
                "fill": True,
                "fillColor": ml.COLORS["hall"],
                "fillOpacity": 1.0,
            },
            False,
        ),
        (
            ~snapped,
            f"{L['unsnapped']}（{int((~snapped).sum())}）"
            if lang == "zh"
            else f"{L['unsnapped']} ({int((~snapped).sum())})",
            {
                "radius": 7,
                "color": ml.COLORS["unsnapped"],
                "weight": 3,
                "fill": True,
                "fillColor": "#ffffff",
                "fillOpacity": 1.0,
                "dashArray": "2 2",
            },
            True,
        ),
    ):
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            continue
        out.append(
            ml.layer(
                name, "points", features(geoms[idx], [props[i] for i in idx]), show=True, style=style, unsnapped=flag
            )
        )
    return out


def plan_layers(
    plan: SitePlan, net: WalkNetwork | None, shift: Any, L: dict[str, str], lang: str, names: Any
) -> list[dict]:
    out = []
    if plan.areas is not None:
        shown, reduced = _budgeted(plan.areas.areas, shift, base_m=4.0, max_vertices=ml.MAX_AREA_VERTICES // 2)
        spec = ml.layer(
            L["proposed_areas"],
            "shapes",
            features(shown),
            show=True,
            interactive=False,
            style={"color": ml.COLORS["proposed"], "weight": 1.5, "fillOpacity": 0.1},
        )
        out.append(ml.with_note(spec, reduced, L))
    sites = plan.sites
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    streets = ml.nearest_named_street(net, xy, names=names) if net is not None else [""] * len(sites)
    wgs = sites.to_crs("EPSG:4326")
    props = []
    for i, row in enumerate(sites.itertuples()):
        rows = [
            [L["adds"], f"{fmt_people(row.marginal_population)} {L['residents']}"],
            [L["cumulative"], f"{fmt_people(getattr(row, 'cumulative_population', float('nan')))} {L['residents']}"],
            [L["nearest_street"], streets[i] or "—"],
            *ml.lonlat_rows(wgs.geometry.x.iloc[i], wgs.geometry.y.iloc[i], L),
            [L["id"], ml.label_text(row.candidate_id)],
        ]
        props.append(
            {
                "title": f"{L['proposed']} · {L['rank']} {row.rank}",
                "rows": rows,
                "label": int(row.rank),
                "tip": f"{L['rank']} {row.rank}" + (f" · {streets[i]}" if streets[i] else ""),
            }
        )
    shown = to_display(sites.geometry, shift)
    out.append(
        ml.layer(
            f"{L['proposed']}（{len(sites)}）" if lang == "zh" else f"{L['proposed']} ({len(sites)})",
            "ranks",
            features(shown.to_numpy(), props),
            show=True,
            style={"fillColor": ml.COLORS["proposed"]},
        )
    )
    return out
