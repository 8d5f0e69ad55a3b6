"""Read raw Overpass API JSON responses and merge several of them without duplicates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from coverage._errors import CoverageInputError

from ._common import (
    _bad_coordinate,
    _OsmData,
    ox,
)


def _load_overpass_json(path: Path) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """Return a file's elements, its ``osm3s.timestamp_osm_base`` and its ``remark``."""
    try:
        payload = json.loads(path.read_bytes())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        msg = (
            f"{path}: not valid JSON ({exc}). The download was probably cut off or is an "
            "error page; run the Overpass query again and save the raw [out:json] response."
        )
        raise CoverageInputError(msg) from exc
    except RecursionError as exc:
        msg = (
            f"{path}: the JSON is nested too deeply to be an Overpass response (elements "
            "are at most three levels deep). Save the raw response of an Overpass query "
            "with [out:json]."
        )
        raise CoverageInputError(msg) from exc
    if isinstance(payload, dict) and (payload.get("type") in _GEOJSON_TYPES or "features" in payload):
        msg = (
            f"{path}: this is GeoJSON ({payload.get('type') or 'features'}), not an Overpass "
            "API response, so it has no OSM ways and node ids to build a network from. Pass "
            "the raw Overpass [out:json] response, an OSM .osm.pbf/.osm extract, or an OSMnx "
            ".graphml of the streets."
        )
        raise CoverageInputError(msg)
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        msg = (
            f"{path}: not an Overpass API JSON response (no 'elements' list at the top). "
            "Save the raw response of an Overpass query with [out:json], not GeoJSON or "
            "another export."
        )
        raise CoverageInputError(msg)
    elements: list[dict[str, Any]] = payload["elements"]
    for index, element in enumerate(elements):
        if not (
            isinstance(element, dict) and isinstance(element.get("type"), str) and isinstance(element.get("id"), int)
        ):
            msg = (
                f"{path}: element {index} has no valid 'type' and integer 'id' "
                f"({str(element)[:80]}). The file is not a raw Overpass response; download "
                "it again."
            )
            raise CoverageInputError(msg)
        _check_element_coordinates(element, path=path)
    osm3s = payload.get("osm3s")
    base = osm3s.get("timestamp_osm_base") if isinstance(osm3s, dict) else None
    remark = payload.get("remark")
    return (
        elements,
        base if isinstance(base, str) else None,
        remark if isinstance(remark, str) else None,
    )


_GEOJSON_TYPES: Final = frozenset(
    {"FeatureCollection", "Feature", "LineString", "MultiLineString", "Point", "Polygon", "GeometryCollection"}
)


def _check_element_coordinates(element: dict[str, Any], *, path: Path) -> None:
    """Raise if an Overpass node (or a way's ``out geom`` point) has a bad coordinate."""
    points: list[tuple[object, object]] = []
    if element["type"] == "node" and ("lat" in element or "lon" in element):
        points.append((element.get("lon"), element.get("lat")))
    geometry = element.get("geometry") if element["type"] == "way" else None
    if isinstance(geometry, list):
        points.extend((p.get("lon"), p.get("lat")) for p in geometry if isinstance(p, dict))
    for lon, lat in points:
        problem = _bad_coordinate(lon, lat)
        if problem is not None:
            msg = (
                f"{path}: {element['type']} {element['id']} has a {problem}. Fix or remove "
                "it in the file, or download the data again from Overpass."
            )
            raise CoverageInputError(msg)


def _newer(new: dict[str, Any], new_base: str | None, old: dict[str, Any], old_base: str | None) -> bool | None:
    """Say whether ``new`` is a newer copy than ``old`` (``None``: cannot tell).

    Element ``version`` first, then element ``timestamp``, then the
    ``timestamp_osm_base`` of the files the copies come from.
    """
    for new_value, old_value in (
        (new.get("version"), old.get("version")),
        (new.get("timestamp"), old.get("timestamp")),
        (new_base, old_base),
    ):
        if new_value is not None and old_value is not None and new_value != old_value:
            try:
                return bool(new_value > old_value)
            except TypeError:
                continue
    return None


def _merge_overpass(paths: Sequence[Path], *, notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Merge Overpass responses into one element list without duplicate (type, id).

    When two copies of an element differ, the newer one is kept (see
    :func:`_newer`), else the first one read, so the result depends only on the
    order of ``paths``.
    """
    merged: dict[tuple[str, int], tuple[dict[str, Any], str | None]] = {}
    read = identical = newer_kept = first_kept = 0
    undecided: list[str] = []
    for path in paths:
        elements, base, remark = _load_overpass_json(path)
        if remark:
            notes.append(
                f"{path}: the Overpass server added the remark {remark!r}; the response may "
                "be incomplete. Run the query again (a smaller area or a longer [timeout:])."
            )
        read += len(elements)
        for element in elements:
            key = (element["type"], element["id"])
            kept = merged.get(key)
            if kept is None:
                merged[key] = (element, base)
            elif kept[0] == element:
                identical += 1
            else:
                is_newer = _newer(element, base, kept[0], kept[1])
                if is_newer is None:
                    first_kept += 1
                    if len(undecided) < 3:
                        undecided.append(f"{key[0]} {key[1]}")
                else:
                    newer_kept += 1
                    if is_newer:
                        merged[key] = (element, base)
    if first_kept:
        notes.append(
            f"{first_kept:,} OSM elements differ between the Overpass files with no version "
            f"or timestamp to tell which is newer (e.g. {', '.join(undecided)}); the copy in the "
            "first file was kept. Download the files again at one time, or query with "
            "`out meta;` so elements carry versions."
        )
    stats = {
        "files": len(paths),
        "elements_read": read,
        "elements_merged": len(merged),
        "duplicates_identical": identical,
        "duplicates_newer_kept": newer_kept,
        "duplicates_first_kept": first_kept,
    }
    return [element for element, _ in merged.values()], stats


def _read_overpass(
    paths: Sequence[Path],
    *,
    notes: list[str],
    way_keys: Sequence[str] | None = None,
    node_keys: Sequence[str] | None = None,
) -> tuple[_OsmData, dict[str, int]]:
    """Read and merge Overpass JSON files into highway ways and their nodes.

    ``way_keys`` and ``node_keys`` are the tags kept (by default osmnx's
    ``useful_tags_way`` and ``useful_tags_node``).
    """
    elements, stats = _merge_overpass(paths, notes=notes)
    node_keys = list(ox.settings.useful_tags_node) if node_keys is None else list(node_keys)
    way_keys = list(ox.settings.useful_tags_way) if way_keys is None else list(way_keys)
    data = _OsmData()
    lonlat: dict[int, tuple[float, float]] = {}
    where = paths[0] if len(paths) == 1 else paths[0].parent
    for element in elements:
        kind = element["type"]
        tags = element.get("tags") or {}
        if kind == "node":
            lat, lon = element.get("lat"), element.get("lon")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                lonlat[element["id"]] = (float(lon), float(lat))
            if tags:
                data.node_tags[element["id"]] = {k: str(tags[k]) for k in node_keys if k in tags}
        elif kind == "way" and "highway" in tags:
            refs = element.get("nodes")
            if not isinstance(refs, list) or not all(isinstance(ref, int) for ref in refs):
                msg = (
                    f"{where}: way {element['id']} has no list of node ids ('nodes'). Query "
                    "Overpass with `out body;` or `out geom;`, not `out ids;` or `out tags;`."
                )
                raise CoverageInputError(msg)
            geometry = element.get("geometry")
            if isinstance(geometry, list) and len(geometry) == len(refs):
                # `out geom;` responses carry the node coordinates on the way
                for ref, point in zip(refs, geometry, strict=True):
                    if isinstance(point, dict) and "lat" in point and "lon" in point:
                        lonlat.setdefault(ref, (float(point["lon"]), float(point["lat"])))
            data.ways.append((element["id"], refs, {k: str(tags[k]) for k in way_keys if k in tags}))
    if not data.ways:
        msg = (
            f"{where}: the Overpass JSON holds no ways with a 'highway' tag. Query streets "
            "and paths, e.g. `[out:json]; way[highway](bbox); (._;>;); out body;`."
        )
        raise CoverageInputError(msg)
    used = {ref for _, refs, _ in data.ways for ref in refs}
    data.node_lonlat = {node: xy for node, xy in lonlat.items() if node in used}
    return data, stats
