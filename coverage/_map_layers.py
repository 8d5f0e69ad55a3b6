"""Layer data of the coverage map: GeoJSON features with popup rows, in display coordinates.

Each builder returns a plain ``dict`` (a layer spec read by ``_map_app.js``):
``name`` (layer-control label), ``kind`` (``shapes``, ``points``, ``ranks``,
``circles``, ``labels``), ``show``, ``style`` and ``features``. Feature
properties hold only what the page shows: ``title``, ``rows`` (label, value
pairs, already formatted), ``tip`` and numbers for styling. User text is
passed as data and cleaned here; the page writes it with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import shapely

from ._format import fmt_km2, fmt_lonlat, fmt_m, fmt_people, fmt_share
from ._map_geo import Reduction, Shift, features, fit_budget, to_display
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

#: Vertex budgets of the big layers (about 10 bytes each in map.html): a whole
#: city stays a file a browser opens; smaller maps never reach them.
MAX_STREET_VERTICES: Final = 600_000
MAX_AREA_VERTICES: Final = 200_000
MAX_GAP_VERTICES: Final = 80_000


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


def major_roads(net: WalkNetwork) -> np.ndarray:
    """Boolean mask of the edges that are major roads (trunk ... tertiary)."""
    hw = np.asarray([str(h) for h in net.edge_highway], dtype=object)
    return np.isin(hw, list(MAJOR_HIGHWAYS))


def street_layers(
    net: WalkNetwork,
    shift: Shift | None,
    L: dict[str, str],
    names: Any = None,
    *,
    max_vertices: int | None = None,
) -> list[dict]:
    """Return the offline basemap: all walkable streets, major roads heavier, and major road names.

    Streets are merged where they meet end to end and each is simplified on
    its own (3 m); above ``max_vertices`` the tolerance grows and the layer
    says so (``note``).
    """
    major = major_roads(net)
    out = []
    budget = MAX_STREET_VERTICES if max_vertices is None else max_vertices
    for mask, key, style in (
        (major, "major_roads", {"color": COLORS["major"], "weight": 2.5, "opacity": 0.9}),
        (~major, "streets", {"color": COLORS["street"], "weight": 1, "opacity": 0.9}),
    ):
        if not mask.any():
            continue
        merged = shapely.line_merge(shapely.multilinestrings(net.edge_geometry[mask]))
        parts = shapely.get_parts(merged)
        simple, reduced = fit_budget(parts, base_m=3.0, max_vertices=max(budget, 1), polygons=False)
        budget -= int(shapely.get_num_coordinates(simple).sum())
        shown = to_display(gpd.GeoSeries([shapely.multilinestrings(simple)], crs=net.crs), shift)
        spec = layer(L[key], "shapes", features(shown.to_numpy()), show=True, style=style, interactive=False)
        out.append(with_note(spec, reduced, L))
    out.reverse()  # minor streets under the major roads, as before
    names = edge_names(net, names)
    if names is not None and major.any():
        labels, pts = road_labels(net, names, major=major)
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


def with_note(spec: dict, reduced: Reduction | None, L: dict[str, str]) -> dict:
    """Attach the text of a budget reduction to a layer spec (shown in the summary box)."""
    if reduced is None:
        return spec
    parts = []
    if reduced.min_hole_m2 > 0:
        parts.append(L["reduced_holes"].format(a=f"{reduced.min_hole_m2 / 10_000:g}"))
    parts.append(L["reduced_tolerance"].format(t=f"{reduced.tolerance_m:g}"))
    return {**spec, "note": f"{spec['name']}{L['colon']}{L['list_sep'].join(parts)}"}


def road_labels(
    net: WalkNetwork, names: np.ndarray, *, min_length_m: float = 300.0, major: np.ndarray | None = None
) -> tuple[list[str], Any]:
    """Return the names of the major roads at least ``min_length_m`` long and a point midway along each."""
    major = major_roads(net) if major is None else major
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
    simple, reduced = fit_budget(
        clipped.geometry.to_numpy(), base_m=5.0, max_vertices=MAX_AREA_VERTICES // 2, polygons=True
    )
    shown = to_display(gpd.GeoSeries(simple, crs=crs), shift)
    props = [{"tip": display(n)} for n in clipped[name_col]]
    outline = layer(
        L["area_names"],
        "shapes",
        features(shown.to_numpy(), props),
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
    return [with_note(outline, reduced, L), labels]


def gap_layer(coverage: CoverageResult, group: str, shift: Shift | None, L: dict[str, str], lang: str) -> list[dict]:
    """Gap areas with their residents, centre coordinates and distance to the nearest hall."""
    gaps = coverage.gaps[coverage.gaps["group"] == group]
    if not len(gaps):
        return []
    simple, reduced = fit_budget(gaps.geometry.to_numpy(), base_m=2.0, max_vertices=MAX_GAP_VERTICES, polygons=True)
    shown = to_display(gpd.GeoSeries(simple, index=gaps.index, crs=gaps.crs), shift)
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
    spec = layer(
        L["gaps"],
        "shapes",
        features(shown.to_numpy(), props),
        show=True,
        style={
            "color": COLORS["gap"],
            "weight": 2,
            "dashArray": "5 3",
            "fillOpacity": 0.08,
            "fillColor": COLORS["gap"],
        },
    )
    return [with_note(spec, reduced, L)]


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
