"""Layer data of the coverage map: GeoJSON features with popup rows, in display coordinates.

Each builder returns a plain ``dict`` (a layer spec read by ``_map_app.js``):
``name`` (layer-control label), ``kind`` (``shapes``, ``points``, ``ranks``,
``circles``, ``labels``), ``show``, ``style`` and ``features``. Feature
properties hold only what the page shows: ``title``, ``rows`` (label, value
pairs, already formatted), ``tip`` and numbers for styling. User text is
passed as data and cleaned here; the page writes it with ``textContent``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._format import fmt_km2, fmt_lonlat, fmt_m, fmt_people, fmt_share, group_name
from ._text import MAX_LABEL_CHARS, display

if TYPE_CHECKING:
    from .assess import CoverageResult
    from .network import WalkNetwork

COLORS = {
    "hall": "#1f4e9c",
    "unsnapped": "#c92a2a",
    "area": "#4a90d9",
    "union": "#2c7fb8",
    "covered": "#2b8a3e",
    "uncovered": "#e8590c",
    "unreachable": "#868e96",
    "gap": "#d9480f",
    "proposed": "#ae3ec9",
    "circle": "#343a40",
    "boundary": "#212529",
    "street": "#c8cdd2",
    "major": "#a5adb5",
    "areas": "#7950f2",
}

MAJOR_HIGHWAYS = frozenset(
    {"trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link"}
)

Shift = Callable[[np.ndarray], np.ndarray]


def to_display(gdf: gpd.GeoDataFrame | gpd.GeoSeries, shift: Shift | None, *, simplify_m: float = 0.0) -> Any:
    """Project to WGS-84 (then into GCJ-02 for Amap tiles), optionally simplified in metres."""
    out = gdf
    if simplify_m > 0:
        if out.crs is not None and out.crs.is_geographic:
            out = out.to_crs(out.estimate_utm_crs())
        out = (
            out.simplify(simplify_m, preserve_topology=True)
            if isinstance(out, gpd.GeoSeries)
            else out.assign(geometry=out.geometry.simplify(simplify_m, preserve_topology=True))
        )
    out = out.to_crs("EPSG:4326")
    geoms = out.geometry.to_numpy() if isinstance(out, gpd.GeoDataFrame) else out.to_numpy()
    if shift is not None:
        geoms = shapely.transform(geoms, shift)
    geoms = shapely.set_precision(geoms, 1e-6)
    if isinstance(out, gpd.GeoDataFrame):
        return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326"))
    return gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326")


def features(geoms: Sequence[Any] | np.ndarray, props: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection from shapely geometries and property dicts."""
    arr = np.asarray(geoms, dtype=object)
    texts = shapely.to_geojson(arr) if len(arr) else []
    props = props if props is not None else [{}] * len(arr)
    out = []
    for text, p in zip(texts, props, strict=True):
        if text is None or text == "null":
            continue
        out.append({"type": "Feature", "geometry": json.loads(text), "properties": p})
    return {"type": "FeatureCollection", "features": out}


def layer(
    name: str | None, kind: str, feats: dict[str, Any], *, show: bool, style: dict[str, Any], **extra: Any
) -> dict:
    """One layer spec for the page script."""
    return {"name": name, "kind": kind, "show": show, "style": style, "features": feats, **extra}


def lonlat_rows(lon: float, lat: float, L: dict[str, str]) -> list[list[str]]:
    """Popup rows with WGS-84 and GCJ-02 coordinates of a WGS-84 point."""
    from .crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02([lon], [lat])
    return [
        [L["wgs84"], f"{fmt_lonlat(lon)}, {fmt_lonlat(lat)}"],
        [L["gcj02"], f"{fmt_lonlat(glon[0])}, {fmt_lonlat(glat[0])}"],
    ]


def nearest_edges(net: WalkNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest edge of each point (projected) and its distance in metres."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    tree = shapely.STRtree(net.edge_geometry)
    pts = shapely.points(xy[:, 0], xy[:, 1])
    (ip, ie), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    edge = np.full(len(xy), -1, dtype=np.int64)
    d = np.full(len(xy), np.inf)
    edge[ip] = ie
    d[ip] = dist
    return edge, d


def edge_names(net: WalkNetwork, names: Any = None) -> np.ndarray | None:
    """Return street names per edge (``names``, else the network's ``edge_name`` if any), or None."""
    names = names if names is not None else getattr(net, "edge_name", None)
    return None if names is None else np.asarray(names, dtype=object)


def nearest_named_street(net: WalkNetwork, xy: np.ndarray, *, names: Any = None, within_m: float = 300.0) -> list[str]:
    """Return the name of the nearest street with a name within ``within_m`` of each point ("" if none)."""
    names = edge_names(net, names)
    if names is None or len(xy) == 0:
        return [""] * len(xy)
    named = np.flatnonzero([bool(n) and n == n for n in names])
    if named.size == 0:
        return [""] * len(xy)
    tree = shapely.STRtree(net.edge_geometry[named])
    (ip, ie), _dist = tree.query_nearest(
        shapely.points(xy[:, 0], xy[:, 1]), return_distance=True, all_matches=False, max_distance=within_m
    )
    out = [""] * len(xy)
    for p, e in zip(ip, ie, strict=True):
        out[int(p)] = display(names[named[e]])
    return out


def street_layers(net: WalkNetwork, shift: Shift | None, L: dict[str, str], names: Any = None) -> list[dict]:
    """Return the offline basemap: all walkable streets, major roads heavier, and major road names."""
    hw = np.asarray([str(h) for h in net.edge_highway], dtype=object)
    major = np.isin(hw, list(MAJOR_HIGHWAYS))
    out = []
    for mask, key, style in (
        (~major, "streets", {"color": COLORS["street"], "weight": 1, "opacity": 0.9}),
        (major, "major_roads", {"color": COLORS["major"], "weight": 2.5, "opacity": 0.9}),
    ):
        if not mask.any():
            continue
        lines = shapely.line_merge(shapely.multilinestrings(list(net.edge_geometry[mask])))
        shown = to_display(gpd.GeoSeries([lines], crs=net.crs), shift, simplify_m=3.0)
        out.append(layer(L[key], "shapes", features(shown.to_numpy()), show=True, style=style, interactive=False))
    names = edge_names(net, names)
    if names is not None and major.any():
        labels, pts = road_labels(net, names)
        if len(labels):
            shown = to_display(pts, shift)
            props = [{"label": n} for n in labels]
            out.append(
                layer(
                    None,
                    "labels",
                    features(shown.to_numpy(), props),
                    show=True,
                    style={},
                    className="cov-road-label",
                    minZoom=15,
                )
            )
    return out


def road_labels(net: WalkNetwork, names: np.ndarray, *, min_length_m: float = 300.0) -> tuple[list[str], Any]:
    """Return the names of the major roads at least ``min_length_m`` long and a point midway along each."""
    hw = np.asarray([str(h) for h in net.edge_highway], dtype=object)
    major = np.isin(hw, list(MAJOR_HIGHWAYS))
    frame = gpd.GeoDataFrame(
        {"name": [display(n, 40) for n in names[major]]}, geometry=list(net.edge_geometry[major]), crs=net.crs
    )
    frame = frame[frame["name"] != ""]
    if not len(frame):
        return [], gpd.GeoSeries([], crs=net.crs)
    merged = frame.dissolve(by="name", sort=True)
    merged = merged[merged.geometry.length >= min_length_m]
    pts = gpd.GeoSeries(shapely.line_interpolate_point(merged.geometry.to_numpy(), 0.5, normalized=True), crs=net.crs)
    return [str(n) for n in merged.index], pts


def analysis_extent(net: WalkNetwork, boundary: gpd.GeoDataFrame | None) -> Any:
    """Return the area the analysis covers: the network's hull, clipped to ``boundary`` if given."""
    hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
    if boundary is not None and len(boundary):
        clip = shapely.intersection(boundary.to_crs(net.crs).union_all(), hull)
        if not clip.is_empty:
            return clip
    return hull


def area_layers(
    areas: gpd.GeoDataFrame, name_col: str, extent: Any, crs: Any, shift: Shift | None, L: dict[str, str]
) -> list[dict]:
    """Outlines and names of the reporting areas (sub-districts, communities) inside the extent."""
    frame = areas[[name_col, "geometry"]].to_crs(crs)
    frame = frame[frame.intersects(extent)]
    if not len(frame):
        return []
    clipped = frame.assign(geometry=frame.geometry.intersection(extent))
    shown = to_display(clipped, shift, simplify_m=5.0)
    props = [{"tip": display(n)} for n in clipped[name_col]]
    outline = layer(
        L["area_names"],
        "shapes",
        features(shown.geometry.to_numpy(), props),
        show=True,
        style={"color": COLORS["areas"], "weight": 1.2, "fill": False, "opacity": 0.6, "dashArray": "8 4"},
        interactive=False,
    )
    pts = to_display(gpd.GeoSeries(clipped.geometry.representative_point().to_numpy(), crs=crs), shift)
    labels = layer(
        None,
        "labels",
        features(pts.to_numpy(), [{"label": display(n, 40)} for n in clipped[name_col]]),
        show=True,
        style={},
        className="cov-place-label",
    )
    return [outline, labels]


def resident_cells(
    coverage: CoverageResult,
    group: str,
    shift: Shift | None,
    L: dict[str, str],
    lang: str,
    *,
    cell_m: float,
    main: bool,
) -> list[dict]:
    """Residents by status aggregated to square cells (opacity by population)."""
    units = coverage.units[coverage.units["group"] == group]
    if not len(units):
        return []
    x = units.geometry.x.to_numpy()
    y = units.geometry.y.to_numpy()
    frame = pd.DataFrame(
        {
            "cx": np.floor(x / cell_m).astype(np.int64),
            "cy": np.floor(y / cell_m).astype(np.int64),
            "status": units["status"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=float),
        }
    )
    agg = frame.groupby(["status", "cx", "cy"], sort=True)["population"].sum().reset_index()
    agg = agg[agg["population"] > 0]
    peak = float(agg["population"].max()) if len(agg) else 1.0
    out = []
    gname = group_name(group, lang)
    for status in ("covered", "uncovered", "unreachable"):
        sub = agg[agg["status"] == status]
        if not len(sub):
            continue
        x0 = sub["cx"].to_numpy() * cell_m
        y0 = sub["cy"].to_numpy() * cell_m
        boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
        shown = to_display(gpd.GeoSeries(boxes, crs=coverage.units.crs), shift)
        opacity = 0.12 + 0.6 * np.sqrt(sub["population"].to_numpy() / peak)
        props = [
            {"tip": f"{L[status]}{L['colon']}{fmt_people(p)} {L['residents']}", "o": round(float(o), 3)}
            for p, o in zip(sub["population"], opacity, strict=True)
        ]
        total = float(coverage.summary.loc[coverage.summary["group"] == group, status].sum())
        label = L[status] if main else f"{L[status]}（{gname}）" if lang == "zh" else f"{L[status]} ({gname})"
        name = L["cells"].format(label=f"{label} {fmt_people(total)}", c=f"{cell_m:g}")
        out.append(
            layer(
                name,
                "shapes",
                features(shown.to_numpy(), props),
                show=main,
                style={"color": COLORS[status], "weight": 0, "fillColor": COLORS[status], "fillOpacity": 0.4},
                opacityKey="o",
            )
        )
    return out


def resident_dots(
    coverage: CoverageResult, group: str, shift: Shift | None, L: dict[str, str], lang: str, *, max_points: int
) -> list[dict]:
    """Residents as points (off by default); above ``max_points`` merged to 20 m cells."""
    units = coverage.units[coverage.units["group"] == group]
    if not len(units):
        return []
    x = units.geometry.x.to_numpy()
    y = units.geometry.y.to_numpy()
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "status": units["status"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=float),
            "distance_m": units["distance_m"].replace([np.inf], np.nan).to_numpy(dtype=float),
        }
    )
    if len(frame) > max_points:
        frame["cx"] = np.floor(frame["x"] / 20.0)
        frame["cy"] = np.floor(frame["y"] / 20.0)
        frame = (
            frame.groupby(["status", "cx", "cy"], sort=True)
            .agg(x=("x", "mean"), y=("y", "mean"), population=("population", "sum"), distance_m=("distance_m", "min"))
            .reset_index()
        )
    peak = float(frame["population"].max()) if len(frame) else 1.0
    out = []
    for status in ("covered", "uncovered", "unreachable"):
        sub = frame[frame["status"] == status]
        if not len(sub):
            continue
        pts = to_display(gpd.GeoSeries(gpd.points_from_xy(sub["x"], sub["y"]), crs=coverage.units.crs), shift)
        props = [
            {
                "r": round(1.5 + 3.5 * float(np.sqrt(p / peak)), 2),
                "tip": f"{fmt_people(p)} {L['residents']}"
                + (f"；{L['distance']}{L['colon']}{fmt_m(d, lang)}" if np.isfinite(d) else ""),
            }
            for p, d in zip(sub["population"], sub["distance_m"], strict=True)
        ]
        out.append(
            layer(
                L["dots"].format(label=L[status]),
                "points",
                features(pts.to_numpy(), props),
                show=False,
                style={"radius": 3, "weight": 0, "fillColor": COLORS[status], "fillOpacity": 0.75, "fill": True},
                radiusKey="r",
            )
        )
    return out


def gap_layer(coverage: CoverageResult, group: str, shift: Shift | None, L: dict[str, str], lang: str) -> list[dict]:
    """Gap areas with their residents, centre coordinates and distance to the nearest hall."""
    gaps = coverage.gaps[coverage.gaps["group"] == group]
    if not len(gaps):
        return []
    shown = to_display(gaps, shift, simplify_m=2.0)
    centres = gaps.geometry.representative_point().to_crs("EPSG:4326")
    props = []
    for row, c in zip(gaps.itertuples(), centres, strict=True):
        rows = [[L["population"], f"{fmt_people(row.population)} {L['residents']}"]]
        if "area_km2" in gaps.columns:
            rows.append(["面积" if lang == "zh" else "Area", fmt_km2(row.area_km2, lang)])
        if "nearest_hall_m" in gaps.columns:
            rows.append([L["nearest_hall"], fmt_m(row.nearest_hall_m, lang)])
        rows += lonlat_rows(c.x, c.y, L)
        props.append(
            {
                "title": f"{L['gap']} {display(row.gap_id)}",
                "rows": rows,
                "tip": f"{L['gap']} {display(row.gap_id)}{L['colon']}{fmt_people(row.population)}",
            }
        )
    return [
        layer(
            L["gaps"],
            "shapes",
            features(shown.geometry.to_numpy(), props),
            show=True,
            style={
                "color": COLORS["gap"],
                "weight": 2,
                "dashArray": "5 3",
                "fillOpacity": 0.08,
                "fillColor": COLORS["gap"],
            },
        )
    ]


def share_text(covered: float, total: float, L: dict[str, str]) -> str:
    """Return the text "covered of total residents (share)"."""
    share = covered / total if total > 0 else float("nan")
    left, right = ("（", "）") if L["colon"] == "：" else (" (", ")")
    return f"{fmt_people(covered)} {L['of']} {fmt_people(total)} {L['residents']}{left}{fmt_share(share)}{right}"


def address_column(columns: Sequence[str]) -> str | None:
    """Return the first column that looks like an address (``address``, ``addr``, ``地址``)."""
    for col in columns:
        low = str(col).lower()
        if "address" in low or low in ("addr", "地址") or "地址" in low:
            return str(col)
    return None


def label_text(value: Any) -> str:
    """User text for a popup title or row (one line, cut to the label length)."""
    return display(value, MAX_LABEL_CHARS)
