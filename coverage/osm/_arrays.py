"""Read highway ways of OSM XML, PBF or Overpass JSON straight into arrays (no graph).

The array path of the loader: no networkx graph and no per-node Python
dictionaries. pyosmium hands over each highway way; its node ids are
collected into one flat array and its coordinates come from one WKB line per
way (built in C++), decoded in bulk by shapely. Tags are kept only for the
keys a pedestrian filter reads (:data:`FILTER_TAGS`), as a code per way into
the few distinct combinations found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import osmium
import osmium.filter
import shapely

from coverage._types import FloatArray, IntArray

from ._osmfile import _no_highways, _osmium_errors
from ._overpass import _read_overpass
from ._sources import _resolve

__all__ = ["FILTER_TAGS", "WayArrays", "ways_from_file"]

FILTER_TAGS: Final = ("highway", "foot", "access", "area", "service")
"""The way tags :func:`coverage.network.exclusion_reason` reads."""


@dataclass(frozen=True)
class WayArrays:
    """Highway ways and the coordinates of their nodes, as arrays.

    Attributes
    ----------
    way_id : IntArray
        OSM id of each way, in file order.
    way_offsets : IntArray
        Way ``i`` holds ``way_refs[way_offsets[i]:way_offsets[i + 1]]``.
    way_refs : IntArray
        OSM node ids of all ways, concatenated.
    way_tags : IntArray
        Per way, an index into ``tag_sets``.
    tag_sets : tuple of dict
        The distinct combinations of :data:`FILTER_TAGS` values found.
    node_id : IntArray
        Sorted OSM ids of the nodes the ways use that have coordinates.
    node_lon, node_lat : FloatArray
        Their WGS-84 coordinates.
    description : str
        The source, for messages.
    notes : tuple of str
        Warnings of the reader (Overpass merge conflicts and remarks).
    """

    way_id: IntArray
    way_offsets: IntArray
    way_refs: IntArray
    way_tags: IntArray
    tag_sets: tuple[dict[str, str], ...]
    node_id: IntArray
    node_lon: FloatArray
    node_lat: FloatArray
    description: str
    notes: tuple[str, ...] = ()


class _Collector:
    """Accumulate ways as flat lists while reading."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.offsets: list[int] = [0]
        self.refs: list[int] = []
        self.codes: list[int] = []
        self.tag_codes: dict[tuple[str | None, ...], int] = {}

    def add(self, way_id: int, refs: list[int], values: tuple[str | None, ...]) -> None:
        self.ids.append(way_id)
        self.refs.extend(refs)
        self.offsets.append(len(self.refs))
        self.codes.append(self.tag_codes.setdefault(values, len(self.tag_codes)))

    def tag_sets(self) -> tuple[dict[str, str], ...]:
        return tuple(
            {key: value for key, value in zip(FILTER_TAGS, values, strict=True) if value is not None}
            for values in self.tag_codes
        )


def ways_from_file(source: Sequence[Path] | Path, *, kind: str, description: str) -> WayArrays:
    """Read the highway ways of an OSM XML/PBF file or of Overpass JSON files.

    Parameters
    ----------
    source
        One OSM XML or PBF path (``kind`` ``"osm"`` or ``"pbf"``), or the
        Overpass JSON paths to merge (``kind`` ``"json"``).
    kind
        The source kind from :func:`coverage.osm._sources._resolve`.
    description
        The source, for messages.

    Raises
    ------
    CoverageInputError
        As the graph readers do: damaged files, invalid coordinates, no
        highway ways.
    """
    if kind == "json":
        paths = [source] if isinstance(source, Path) else list(source)
        return _overpass_arrays(paths, description=description)
    path = source if isinstance(source, Path) else source[0]
    return _osmium_arrays(path, file_format=_resolve(path).osmium_format, description=description)


def _osmium_arrays(path: Path, *, file_format: str, description: str) -> WayArrays:
    ways = _Collector()
    factory = osmium.geom.WKBFactory()
    lines: list[str | None] = []
    fallback: dict[int, list[tuple[float, float]]] = {}
    with _osmium_errors(path, file_format):
        processor = (
            osmium.FileProcessor(osmium.io.File(str(path), file_format), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not isinstance(way, osmium.osm.Way):  # the entity filter lets only ways through
                continue
            tags = way.tags
            nodes = way.nodes
            # indexing is about a third faster than iterating a WayNodeList
            ways.add(way.id, [nodes[i].ref for i in range(len(nodes))], tuple(tags.get(key) for key in FILTER_TAGS))
            try:
                lines.append(factory.create_linestring(nodes, use_nodes=osmium.geom.use_nodes.ALL))
            except (RuntimeError, osmium.InvalidLocationError):  # a missing node, or fewer than 2 nodes
                lines.append(None)
                fallback[len(lines) - 1] = [
                    (node.lon, node.lat) if node.location.valid() else (math.nan, math.nan) for node in nodes
                ]
        refs = np.asarray(ways.refs, dtype=np.int64)
        lonlat = _coordinates(lines, fallback, np.asarray(ways.offsets, dtype=np.int64))
        node_id, lon, lat = _node_table(refs, lonlat)
        missing = _missing(refs, node_id)
        if missing.size:
            # nodes after the ways (an unsorted file) or outside a clipped extract: look them up
            node_id, lon, lat = _look_up(path, file_format, missing, node_id, lon, lat)
    if not ways.ids:
        raise _no_highways(path, file_format)
    return WayArrays(
        way_id=np.asarray(ways.ids, dtype=np.int64),
        way_offsets=np.asarray(ways.offsets, dtype=np.int64),
        way_refs=refs,
        way_tags=np.asarray(ways.codes, dtype=np.int64),
        tag_sets=ways.tag_sets(),
        node_id=node_id,
        node_lon=lon,
        node_lat=lat,
        description=description,
    )


def _coordinates(
    lines: list[str | None], fallback: dict[int, list[tuple[float, float]]], offsets: IntArray
) -> FloatArray:
    """Return the lon/lat of every way node, aligned with the flat node-id array."""
    out = np.full((int(offsets[-1]), 2), np.nan)
    whole = np.array([line is not None for line in lines], dtype=bool)
    if whole.any():
        # bytes decode about 5x faster than hex strings in shapely
        geoms = shapely.from_wkb([bytes.fromhex(line) for line in lines if line is not None])
        coords = shapely.get_coordinates(geoms)
        starts, ends = offsets[:-1][whole], offsets[1:][whole]
        counts = ends - starts
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        out[np.repeat(starts, counts) + within] = coords
    for index, points in fallback.items():
        out[offsets[index] : offsets[index + 1]] = points
    return out


def _node_table(refs: IntArray, lonlat: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Return sorted unique node ids with coordinates, and their lon/lat."""
    known = np.isfinite(lonlat[:, 0])
    node_id, first = np.unique(refs[known], return_index=True)
    located = lonlat[known][first]
    return node_id, located[:, 0].copy(), located[:, 1].copy()


def _missing(refs: IntArray, node_id: IntArray) -> IntArray:
    """Return the sorted distinct ids in ``refs`` that are not in the sorted ``node_id``."""
    if node_id.size == 0:
        return np.unique(refs)
    pos = np.searchsorted(node_id, refs).clip(max=node_id.size - 1)
    return np.unique(refs[node_id[pos] != refs])


def _look_up(
    path: Path, file_format: str, missing: IntArray, node_id: IntArray, lon: FloatArray, lat: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Add the coordinates of nodes that the ways met before the nodes (a second pass)."""
    found: dict[int, tuple[float, float]] = {}
    nodes = osmium.FileProcessor(osmium.io.File(str(path), file_format), osmium.osm.NODE)
    for node in nodes.with_filter(osmium.filter.IdFilter(missing.tolist())):
        if isinstance(node, osmium.osm.Node) and node.location.valid():
            found[node.id] = (node.location.lon, node.location.lat)
    if not found:
        return node_id, lon, lat
    extra_id = np.fromiter(found, dtype=np.int64, count=len(found))
    extra = np.asarray(list(found.values()), dtype=np.float64)
    all_id = np.concatenate([node_id, extra_id])
    order = np.argsort(all_id, kind="stable")
    return all_id[order], np.concatenate([lon, extra[:, 0]])[order], np.concatenate([lat, extra[:, 1]])[order]


def _overpass_arrays(paths: list[Path], *, description: str) -> WayArrays:
    notes: list[str] = []
    data, _ = _read_overpass(paths, notes=notes, way_keys=FILTER_TAGS, node_keys=())
    ways = _Collector()
    for way_id, refs, tags in data.ways:
        ways.add(way_id, list(refs), tuple(tags.get(key) for key in FILTER_TAGS))
    node_id = np.asarray(sorted(data.node_lonlat), dtype=np.int64)
    coords = np.asarray([data.node_lonlat[int(node)] for node in node_id], dtype=np.float64).reshape(-1, 2)
    return WayArrays(
        way_id=np.asarray(ways.ids, dtype=np.int64),
        way_offsets=np.asarray(ways.offsets, dtype=np.int64),
        way_refs=np.asarray(ways.refs, dtype=np.int64),
        way_tags=np.asarray(ways.codes, dtype=np.int64),
        tag_sets=ways.tag_sets(),
        node_id=node_id,
        node_lon=coords[:, 0].copy(),
        node_lat=coords[:, 1].copy(),
        description=description,
        notes=tuple(notes),
    )
